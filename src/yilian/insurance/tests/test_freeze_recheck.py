"""A freeze reads what the settlement is computed from twice: the totals (against the months) and, per member,
its spend, its unreasonable amount and its share. Money moved between members while it computed — the total
unchanged — stops the freeze with 409 and nothing saved, like a change of the total."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from yilian.core.audit import AuditEvent
from yilian.core.exceptions import Conflict
from yilian.insurance import selectors, services
from yilian.insurance.models import Claim, Settlement
from yilian.insurance.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_township(iw: Any) -> Any:
    """A second township centre of the consortium with 20 000 of claims: two members share the township tier."""
    from yilian.institutions.tests.factories import ConsortiumMemberFactory, InstitutionFactory

    centre = InstitutionFactory(name="霍邱县新店镇卫生院", region=iw.world.regions["town_a"], category="C210")
    ConsortiumMemberFactory(consortium=iw.world.consortium, institution=centre)
    ClaimFactory(
        person=iw.patient,
        provider_institution=centre,
        fund_paid=Decimal("20000"),
        total_cost=Decimal("25000"),
    )
    return centre


def _claim_at(institution: Any) -> Claim:
    return Claim.objects.get(provider_institution=institution)


def _while_computing(monkeypatch: Any, change: Any) -> None:
    """Run ``change`` after the freeze has computed the shares, while it reads the months."""
    monthly = selectors.budget_monthly

    def changed_in_between(*args: Any, **kwargs: Any) -> Any:
        change()
        return monthly(*args, **kwargs)

    monkeypatch.setattr(selectors, "budget_monthly", changed_in_between)


def _move(source: Any, target: Any, amount: str) -> None:
    """Move ``amount`` of fund payment from ``source``'s claim to ``target``'s: the year's total is unchanged."""
    moved = Decimal(amount)
    Claim.objects.filter(pk=_claim_at(source).pk).update(fund_paid=_claim_at(source).fund_paid - moved)
    Claim.objects.filter(pk=_claim_at(target).pk).update(fund_paid=_claim_at(target).fund_paid + moved)


def test_money_moved_between_members_of_one_tier_stops_the_freeze(iw, second_township, monkeypatch):
    """Their shares of the township tier follow their spend: the frozen shares would be stale."""
    total = sum(Claim.objects.values_list("fund_paid", flat=True))
    _while_computing(monkeypatch, lambda: _move(iw.world.township, second_township, "30000"))
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as refused:
        services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    assert "请重试" in str(refused.value.message)
    assert sum(Claim.objects.values_list("fund_paid", flat=True)) == total
    assert not Settlement.objects.exists() and AuditEvent.objects.count() == events


def test_money_moved_between_tiers_stops_the_freeze_though_no_share_changes(iw, monkeypatch):
    """Township and village are alone in their tiers (their shares do not move), but the spend kept is stale."""
    _while_computing(monkeypatch, lambda: _move(iw.world.township, iw.village, "10000"))
    with pytest.raises(Conflict):
        services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    assert not Settlement.objects.exists()


def test_an_unreasonable_amount_moved_between_members_stops_the_freeze(iw, monkeypatch):
    """In an overspend the unreasonable amounts are borne by the members that incurred them."""
    Claim.objects.filter(pk=_claim_at(iw.world.township).pk).update(
        unreasonable_amount=Decimal("5000"), unreasonable_reason="重复收费"
    )

    def move_unreasonable() -> None:
        Claim.objects.filter(pk=_claim_at(iw.world.township).pk).update(unreasonable_amount=Decimal("0"))
        Claim.objects.filter(pk=_claim_at(iw.village).pk).update(unreasonable_amount=Decimal("5000"))

    _while_computing(monkeypatch, move_unreasonable)
    with pytest.raises(Conflict):
        services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    assert not Settlement.objects.exists()


def test_a_changed_total_still_stops_the_freeze(iw, monkeypatch):
    _while_computing(
        monkeypatch, lambda: ClaimFactory(person=iw.patient, provider_institution=iw.village, fund_paid=1)
    )
    with pytest.raises(Conflict):
        services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    assert not Settlement.objects.exists()


def test_a_move_before_the_freeze_is_frozen_as_it_stands(iw, second_township):
    """Nothing changes while it computes: the freeze keeps the shares of the data as it is."""
    _move(iw.world.township, second_township, "30000")
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    shares = dict(settlement.shares.values_list("institution_id", "amount"))
    township_tier = shares[iw.world.township.pk] + shares[second_township.pk]
    # 50 000 : 50 000 of the township tier's part, to the cent.
    assert shares[iw.world.township.pk] == shares[second_township.pk] == township_tier / 2
