"""A freeze reads what it keeps as one snapshot, in the transaction that writes it, under the budget's lock.

Claims changed on another connection while a freeze computes either wait for it (SQLite: the freeze holds the
write lock) or are not seen by it (PostgreSQL: REPEATABLE READ): the freeze keeps the figures of one state
and succeeds; before, its two reads (before and after the change) disagreed and it answered 409 — or, had the
change come between its check and its write, kept figures the check had not compared.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections
from django.db.models import F

from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.insurance import calculation, selectors, services
from yilian.insurance.models import Claim, GlobalBudget, MemberTier, Settlement
from yilian.insurance.tests.factories import InsuranceWorld

pytestmark = pytest.mark.django_db(transaction=True)

MOVED = Decimal("10000")


def _move_on_another_connection(source: Any, target: Any) -> threading.Thread:
    """Move fund payment from ``source``'s claims to ``target``'s on a connection of its own (committed)."""

    def move() -> None:
        try:
            from django.db import transaction

            with transaction.atomic():
                Claim.objects.filter(pk=Claim.objects.filter(provider_institution=source).first().pk).update(
                    fund_paid=F("fund_paid") - MOVED
                )
                Claim.objects.filter(pk=Claim.objects.filter(provider_institution=target).first().pk).update(
                    fund_paid=F("fund_paid") + MOVED
                )
        finally:
            connections.close_all()

    thread = threading.Thread(target=move)
    thread.start()
    return thread


def _shares(settlement: Settlement) -> dict[int, Decimal]:
    return dict(settlement.shares.values_list("institution_id", "amount"))


def test_claims_changed_on_another_connection_while_freezing_do_not_split_its_reads(world, monkeypatch):
    iw = InsuranceWorld(world)
    expected = calculation.settle(
        selectors.settlement_aggregates(iw.budget, {}), selectors.rule_parameters(iw.rule)
    )
    paid_before = dict(Claim.objects.values_list("pk", "fund_paid"))
    months = selectors.budget_monthly
    threads: list[threading.Thread] = []

    def change_while_computing(*args: Any, **kwargs: Any) -> Any:
        # The freeze has read the claims once; another connection moves money between two members now. On
        # PostgreSQL it commits at once; on SQLite it waits for the freeze's write lock (hence the timeout).
        threads.append(_move_on_another_connection(iw.world.township, iw.village))
        threads[-1].join(timeout=2)
        return months(*args, **kwargs)

    monkeypatch.setattr(selectors, "budget_monthly", change_while_computing)
    settlement = services.settlement_freeze(
        actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), rule=iw.rule
    )
    for thread in threads:
        thread.join(timeout=30)
    # The freeze kept the state before the move, whole; the move landed afterwards.
    assert _shares(settlement) == {share.institution_id: share.amount for share in expected.shares}
    assert settlement.spent == expected.spent
    paid_after = dict(Claim.objects.values_list("pk", "fund_paid"))
    assert sum(paid_after.values()) == sum(paid_before.values()) and paid_after != paid_before


def test_a_tier_change_and_a_freeze_at_once_never_freeze_the_old_tier_after_the_change(world):
    iw = InsuranceWorld(world)
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)

    def change_tier() -> Any:
        return services.member_tiers_set(
            actor=iw.officer,
            budget=GlobalBudget.objects.get(pk=iw.budget.pk),
            tiers={str(iw.world.township.public_id): "village"},
        )

    def freeze() -> Any:
        return services.settlement_freeze(actor=iw.officer, budget=budget, rule=iw.rule)

    results = race(change_tier, freeze)
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
    changed = MemberTier.objects.filter(budget=iw.budget, institution=iw.world.township).exists()
    settlement = Settlement.objects.filter(budget=iw.budget).first()
    if settlement is not None and changed:
        # Both went through: the change came first and the freeze kept it.
        assert settlement.shares.get(institution=iw.world.township).tier == "village"
    assert settlement is not None or changed, results
