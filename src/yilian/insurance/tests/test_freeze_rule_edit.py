"""A freeze keeps the parameters of the rule the officer confirmed: a rule edit committed since the page was
loaded, since the caller read the rule, or while the freeze waited for the budget's lock answers 409 instead
of freezing parameters nobody confirmed. Rule saves take the budget's lock, as freezes do."""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.insurance import selectors, services
from yilian.insurance.models import GlobalBudget, Settlement, SettlementRule
from yilian.insurance.tests.factories import InsuranceWorld

EDITED = {
    "name": "默认6:3:1",
    "surplus_retained": "0.40",
    "overspend_borne": "0.20",
    "lead_parts": "5",
    "township_parts": "3",
    "village_parts": "2",
    "is_adopted": "on",
}


def _edit(iw: Any) -> SettlementRule:
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    return services.settlement_rule_save(
        actor=iw.officer, budget=budget, data=EDITED, rule=SettlementRule.objects.get(pk=iw.rule.pk)
    )


@pytest.mark.django_db
def test_a_rule_edited_after_the_caller_read_it_is_not_frozen(iw):
    stale = SettlementRule.objects.get(pk=iw.rule.pk)
    _edit(iw)
    with pytest.raises(Conflict) as refused:
        services.settlement_freeze(
            actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), rule=stale
        )
    assert "默认6:3:1" in str(refused.value.message) and "已被修改" in str(refused.value.message)
    assert not Settlement.objects.filter(budget=iw.budget).exists()
    # Read again, it freezes with the new parameters.
    fresh = selectors.rule_get(GlobalBudget.objects.get(pk=iw.budget.pk), iw.rule.public_id)
    settlement = services.settlement_freeze(
        actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), rule=fresh
    )
    assert Decimal(settlement.figures["parameters"]["surplus_retained"]) == Decimal("0.4")


@pytest.mark.django_db
def test_a_rule_edited_after_the_page_was_loaded_is_refused_on_the_page(iw):
    officer = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    officer.force_login(iw.officer)
    rules_url = f"/insurance/budgets/{iw.budget.public_id}/rules/"
    page = officer.get(rules_url).content.decode()
    field = f"rule_at_{iw.rule.public_id}"
    seen = re.search(rf'name="{field}" value="([^"]+)"', page).group(1)
    post = {"rule": str(iw.rule.public_id), "confirm": "yes", "latest": "0", field: seen}
    _edit(iw)  # another officer, between the page load and the confirmation
    refused = officer.post(f"/insurance/budgets/{iw.budget.public_id}/freeze/", post, follow=True)
    assert refused.redirect_chain == [(rules_url, 302)]
    assert "在您确认后已被修改" in refused.content.decode()
    assert not Settlement.objects.filter(budget=iw.budget).exists()
    # The reloaded page shows the new parameters and its timestamp: the freeze goes through.
    page = refused.content.decode()
    post[field] = re.search(rf'name="{field}" value="([^"]+)"', page).group(1)
    done = officer.post(f"/insurance/budgets/{iw.budget.public_id}/freeze/", post)
    assert done.status_code == 302 and Settlement.objects.filter(budget=iw.budget).count() == 1
    # A garbled timestamp is ignored (the rule is still re-read under the lock).
    post.update(latest="1", **{field: "yesterday"})
    assert officer.post(f"/insurance/budgets/{iw.budget.public_id}/freeze/", post).status_code == 302
    assert Settlement.objects.filter(budget=iw.budget).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_rule_save_waits_for_a_freeze_in_progress(world, monkeypatch):
    iw = InsuranceWorld(world)
    months = selectors.budget_monthly
    saved: list[Any] = []
    threads: list[threading.Thread] = []

    def save() -> None:
        try:
            saved.append(_edit(iw))
        finally:
            connections.close_all()

    def edit_while_computing(*args: Any, **kwargs: Any) -> Any:
        # The freeze holds the budget's lock: the save must wait for it (before, on PostgreSQL, it committed
        # at once and the freeze kept parameters that were no longer the rule's).
        threads.append(threading.Thread(target=save))
        threads[-1].start()
        threads[-1].join(timeout=2)
        assert not saved, "the rule save did not wait for the freeze"
        return months(*args, **kwargs)

    monkeypatch.setattr(selectors, "budget_monthly", edit_while_computing)
    settlement = services.settlement_freeze(
        actor=iw.officer,
        budget=GlobalBudget.objects.get(pk=iw.budget.pk),
        rule=SettlementRule.objects.get(pk=iw.rule.pk),
    )
    for thread in threads:
        thread.join(timeout=30)
    assert saved and saved[0].updated_at > settlement.frozen_at  # the edit came after the freeze
    assert SettlementRule.objects.get(pk=iw.rule.pk).lead_parts == 5


@pytest.mark.django_db(transaction=True)
def test_a_rule_edit_and_a_freeze_at_once_never_freeze_the_old_parameters_after_the_edit(world):
    iw = InsuranceWorld(world)
    rule = SettlementRule.objects.get(pk=iw.rule.pk)  # what the freezing officer's request read

    def freeze() -> Any:
        return services.settlement_freeze(
            actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), rule=rule
        )

    results = race(lambda: _edit(iw), freeze)
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
    edited, frozen = results
    assert isinstance(edited, SettlementRule), results  # the edit never waits in vain
    if isinstance(frozen, Settlement):
        # Both went through: the freeze came first and the edit after it.
        assert edited.updated_at > frozen.frozen_at, results
        assert int(frozen.figures["parameters"]["lead_parts"]) == 6
