"""A frozen settlement settles the year's rule: its budget's year, rates, switches, headcounts, deductions
and members' tiers can no longer change (409 naming the version, nothing saved), in the service, the pages
and the API; the notes still can. A freeze and an edit at once end with one winner."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from yilian.core.api.testing import api_client
from yilian.core.audit import AuditEvent
from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.insurance import services
from yilian.insurance.models import BudgetHeadcount, GlobalBudget, MemberTier, Settlement

pytestmark = pytest.mark.django_db


def stored(budget: GlobalBudget, **overrides: Any) -> dict[str, Any]:
    """The budget's current data as the service takes it, with ``overrides``."""
    data = {
        "year": budget.year,
        "consortium_share": str(budget.consortium_share),
        "prepayment_rate": str(budget.prepayment_rate),
        "counts_members": budget.counts_members,
        "counts_in_county_others": budget.counts_in_county_others,
        "counts_out_of_county": budget.counts_out_of_county,
        "counts_pharmacies": budget.counts_pharmacies,
        "notes": budget.notes,
        "headcounts": [
            {
                "scheme": row.scheme,
                "insured_count": row.insured_count,
                "per_capita_fund": str(row.per_capita_fund),
            }
            for row in budget.headcounts.all()
        ],
        "deductions": [{"name": row.name, "amount": str(row.amount)} for row in budget.deductions.all()],
    }
    data.update(overrides)
    return data


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.fixture
def frozen(iw) -> Settlement:
    return services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)


FIGURE_CHANGES = {
    "year": {"year": 2027},
    "share": {"consortium_share": "0.9"},
    "prepayment": {"prepayment_rate": "0.8"},
    "switch": {"counts_pharmacies": True},
    "per_capita": {"headcounts": [{"scheme": "resident", "insured_count": 10000, "per_capita_fund": "1100"}]},
    "insured": {"headcounts": [{"scheme": "resident", "insured_count": 9000, "per_capita_fund": "1000"}]},
    "deduction": {"deductions": [{"name": "大病保险", "amount": "1000"}]},
}


@pytest.mark.parametrize("change", list(FIGURE_CHANGES))
def test_the_service_refuses_a_figure_change_after_a_freeze_and_saves_nothing(iw, frozen, change):
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as refused:
        services.budget_update(
            actor=iw.officer, budget=iw.budget, version=1, data=stored(iw.budget, **FIGURE_CHANGES[change])
        )
    message = str(refused.value.message)
    assert "第1版结算" in message and "不能再修改" in message
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    assert (budget.version, budget.year, budget.consortium_share, budget.counts_pharmacies) == (
        1,
        2026,
        Decimal("0.9500"),
        False,
    )
    assert list(budget.headcounts.values_list("insured_count", "per_capita_fund")) == [
        (10000, Decimal("1000.00"))
    ]
    assert not budget.deductions.exists()
    assert AuditEvent.objects.count() == events


def test_before_a_freeze_the_figures_change_and_after_it_the_notes_still_do(iw):
    services.budget_update(
        actor=iw.officer, budget=iw.budget, version=1, data=stored(iw.budget, consortium_share="0.9")
    )
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    services.settlement_freeze(actor=iw.officer, budget=budget, rule=iw.rule)
    updated = services.budget_update(
        actor=iw.officer, budget=budget, version=2, data=stored(budget, notes="年终结算已确认")
    )
    assert (updated.version, updated.notes, updated.consortium_share) == (3, "年终结算已确认", Decimal("0.9"))


def test_tiers_are_settled_with_the_freeze(iw, frozen):
    with pytest.raises(Conflict) as refused:
        services.member_tiers_set(
            actor=iw.officer, budget=iw.budget, tiers={str(iw.world.township.public_id): "village"}
        )
    assert "第1版结算" in str(refused.value.message)
    assert not MemberTier.objects.filter(budget=iw.budget).exists()


def test_a_new_freeze_is_still_a_new_version(iw, frozen):
    again = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule_433)
    assert again.version == 2


def test_a_freeze_refuses_figures_an_edit_changed_while_it_computed(iw, monkeypatch):
    """The budget passed to the freeze is stale: an edit committed after it was read."""
    stale = GlobalBudget.objects.get(pk=iw.budget.pk)
    services.budget_update(
        actor=iw.officer, budget=iw.budget, version=1, data=stored(iw.budget, consortium_share="0.9")
    )
    with pytest.raises(Conflict):
        services.settlement_freeze(actor=iw.officer, budget=stale, rule=iw.rule)
    assert not Settlement.objects.exists()


def test_a_freeze_refuses_tiers_changed_while_it_computed(iw, monkeypatch):
    from yilian.insurance import selectors

    aggregates = selectors.settlement_aggregates

    def tier_changed_in_between(*args: Any, **kwargs: Any) -> Any:
        result = aggregates(*args, **kwargs)
        MemberTier.objects.create(budget=iw.budget, institution=iw.world.township, tier="village")
        return result

    monkeypatch.setattr(selectors, "settlement_aggregates", tier_changed_in_between)
    with pytest.raises(Conflict):
        services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    assert not Settlement.objects.exists()


def test_pages_explain_and_refuse(iw, frozen):
    officer = client_for(iw.officer)
    page = officer.get(f"/insurance/budgets/{iw.budget.public_id}/").content.decode()
    assert 'data-testid="budget-frozen"' in page and "第1版结算" in page and "修改说明" in page
    edit_url = f"/insurance/budgets/{iw.budget.public_id}/edit/"
    form = officer.get(edit_url).content.decode()
    assert 'data-testid="budget-frozen"' in form
    assert 'name="year" id="id_year" value="2026" disabled' in form
    assert 'name="notes" id="id_notes" value="" maxlength="300">' in form

    # A crafted post of a figure: back to the form with the message, nothing saved.
    changed = officer.post(
        edit_url,
        {
            "version": 1,
            "year": 2027,
            "consortium_share": "0.95",
            "prepayment_rate": "0.95",
            "counts_members": "on",
            "count_resident": "10000",
            "fund_resident": "1000",
        },
    )
    assert changed.status_code == 302 and changed["Location"] == edit_url
    assert any("第1版结算" in str(m) for m in get_messages(changed.wsgi_request))
    assert GlobalBudget.objects.get(pk=iw.budget.pk).year == 2026

    # The form as the browser posts it (the figure fields disabled): only the notes change.
    notes = officer.post(edit_url, {"version": 1, "notes": "已结算"})
    assert notes.status_code == 302 and notes["Location"] == f"/insurance/budgets/{iw.budget.public_id}/"
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    assert (budget.notes, budget.year, budget.version) == ("已结算", 2026, 2)
    assert BudgetHeadcount.objects.filter(budget=budget).count() == 1

    tiers_url = f"/insurance/budgets/{iw.budget.public_id}/tiers/"
    tiers = officer.get(tiers_url).content.decode()
    assert 'data-testid="budget-frozen"' in tiers and "<select" not in tiers
    refused = officer.post(tiers_url, {f"tier-{iw.world.township.public_id}": "village"})
    assert refused.status_code == 302 and refused["Location"] == tiers_url
    assert any("第1版结算" in str(m) for m in get_messages(refused.wsgi_request))
    assert not MemberTier.objects.filter(budget=iw.budget).exists()


def test_api_answers_409_naming_the_frozen_version(iw, frozen):
    client = api_client(iw.officer)
    body = stored(iw.budget, year=2027)
    response = client.put(f"/api/v1/budgets/{iw.budget.public_id}", {**body, "version": 1}, format="json")
    assert response.status_code == 409 and "第1版结算" in response.content.decode()
    notes = client.put(
        f"/api/v1/budgets/{iw.budget.public_id}",
        {**stored(iw.budget, notes="备注"), "version": 1},
        format="json",
    )
    assert notes.status_code == 200 and notes.json()["notes"] == "备注"
    tiers = client.put(
        f"/api/v1/budgets/{iw.budget.public_id}/tiers",
        {"tiers": [{"institution": str(iw.world.township.public_id), "tier": "village"}]},
        format="json",
    )
    assert tiers.status_code == 409 and "第1版结算" in tiers.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_freeze_and_an_edit_at_once_end_with_one_winner(world):
    from yilian.insurance.tests.factories import InsuranceWorld

    iw = InsuranceWorld(world)
    data = stored(iw.budget, consortium_share="0.9")

    def freeze() -> Any:
        return services.settlement_freeze(
            actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), rule=iw.rule
        )

    def edit() -> Any:
        return services.budget_update(
            actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), version=1, data=data
        )

    results = race(freeze, edit)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    settlement = Settlement.objects.filter(budget=budget).first()
    if isinstance(winners[0], Settlement):
        # The edit lost: the budget is as frozen.
        assert budget.consortium_share == Decimal("0.95") and budget.version == 1
        assert settlement.pool == Decimal("9500000.00")
    else:
        assert budget.consortium_share == Decimal("0.9") and settlement is None
