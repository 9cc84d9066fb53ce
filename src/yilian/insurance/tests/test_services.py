"""Budget, rule, unreasonable-amount and freeze services: validation, authorization, versions, figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yilian.core.audit import AuditEvent
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.insurance import selectors, services
from yilian.insurance.models import GlobalBudget

pytestmark = pytest.mark.django_db
D = Decimal


def budget_data(**overrides):
    data = {
        "year": 2027,
        "consortium_share": "0.95",
        "prepayment_rate": "0.95",
        "counts_members": True,
        "counts_in_county_others": True,
        "counts_out_of_county": True,
        "counts_pharmacies": False,
        "headcounts": [
            {"scheme": "resident", "insured_count": 600000, "per_capita_fund": "900"},
            {"scheme": "employee", "insured_count": 50000, "per_capita_fund": "3000"},
        ],
        "deductions": [{"name": "大病保险", "amount": "30000000"}],
    }
    data.update(overrides)
    return data


def test_officer_creates_a_budget_with_rows_and_audit(iw):
    budget = services.budget_create(actor=iw.officer, consortium=iw.world.consortium, data=budget_data())
    assert budget.headcounts.count() == 2 and budget.deductions.count() == 1
    # (600 000 × 900 + 50 000 × 3 000 − 30 000 000) × 0.95
    assert selectors.budget_pool(budget) == D("627000000.00")
    assert AuditEvent.objects.filter(action="budget.create").count() == 1


def test_consortium_insurance_officer_manages_too(iw):
    services.budget_create(actor=iw.consortium_officer, consortium=iw.world.consortium, data=budget_data())


@pytest.mark.parametrize("who", ["office", "regulator", "hospital_admin", "hospital_doctor", "admin"])
def test_others_may_not_create(iw, who):
    with pytest.raises(NotAllowed):
        services.budget_create(
            actor=getattr(iw.world, who), consortium=iw.world.consortium, data=budget_data()
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consortium_share": "1.2"}, "consortium_share"),
        ({"prepayment_rate": "-0.1"}, "prepayment_rate"),
        ({"consortium_share": "abc"}, "consortium_share"),
        ({"year": "1900"}, "year"),
        ({"headcounts": [{"scheme": "resident", "insured_count": -1, "per_capita_fund": "9"}]}, "headcounts"),
        ({"headcounts": [{"scheme": "resident", "insured_count": 1, "per_capita_fund": "-9"}]}, "headcounts"),
        ({"headcounts": [{"scheme": "martian", "insured_count": 1, "per_capita_fund": "9"}]}, "headcounts"),
        ({"headcounts": []}, "headcounts"),
        ({"deductions": [{"name": "x", "amount": "-1"}]}, "deductions"),
        ({"deductions": [{"name": "x", "amount": "1e12"}]}, "deductions"),
    ],
)
def test_bad_budget_input(iw, overrides, field):
    with pytest.raises(Invalid) as caught:
        services.budget_create(
            actor=iw.officer, consortium=iw.world.consortium, data=budget_data(**overrides)
        )
    assert field in caught.value.errors


def test_one_budget_per_consortium_year(iw):
    with pytest.raises(Conflict):
        services.budget_create(actor=iw.officer, consortium=iw.world.consortium, data=budget_data(year=2026))


def test_update_with_stale_version_conflicts(iw):
    budget = iw.budget
    updated = services.budget_update(
        actor=iw.officer, budget=budget, version=1, data=budget_data(year=2026, consortium_share="0.9")
    )
    assert updated.version == 2 and updated.headcounts.count() == 2
    with pytest.raises(Conflict):
        services.budget_update(
            actor=iw.officer,
            budget=GlobalBudget.objects.get(pk=budget.pk),
            version=1,
            data=budget_data(year=2026),
        )
    assert AuditEvent.objects.filter(action="budget.update").count() == 1


def test_rule_presets_validation_and_single_adoption(iw):
    rule = services.settlement_rule_save(
        actor=iw.officer,
        budget=iw.budget,
        data={
            "name": "新方案",
            "preset": "4:3:3",
            "surplus_retained": "0.8",
            "overspend_borne": "0.5",
            "is_adopted": True,
        },
    )
    assert (rule.lead_parts, rule.township_parts, rule.village_parts) == (4, 3, 3)
    assert list(iw.budget.rules.filter(is_adopted=True)) == [rule]
    with pytest.raises(Invalid):
        services.settlement_rule_save(
            actor=iw.officer,
            budget=iw.budget,
            data={"name": "坏", "surplus_retained": "2", "overspend_borne": "0.5"},
        )
    with pytest.raises(Conflict):
        services.settlement_rule_save(
            actor=iw.officer,
            budget=iw.budget,
            data={"name": "新方案", "surplus_retained": "1", "overspend_borne": "0.5"},
        )
    with pytest.raises(NotAllowed):
        services.settlement_rule_save(
            actor=iw.world.office,
            budget=iw.budget,
            data={"name": "x", "surplus_retained": "1", "overspend_borne": "0.5"},
        )


def test_mark_unreasonable(iw):
    claim = iw.claims[0]
    services.claim_mark_unreasonable(actor=iw.officer, claim=claim, amount="1234.5", reason="重复收费")
    claim.refresh_from_db()
    assert claim.unreasonable_amount == D("1234.50")
    with pytest.raises(Invalid):
        services.claim_mark_unreasonable(actor=iw.officer, claim=claim, amount="999999", reason="超")
    with pytest.raises(Invalid):
        services.claim_mark_unreasonable(actor=iw.officer, claim=claim, amount="10", reason="")
    with pytest.raises(NotAllowed):
        services.claim_mark_unreasonable(actor=iw.world.regulator, claim=claim, amount="10", reason="x")


def test_freeze_makes_versions_with_shares_and_figures(iw):
    first = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    second = services.settlement_freeze(
        actor=iw.officer,
        budget=iw.budget,
        rule=iw.rule_433,
        scores={iw.world.hospital.pk: D("90"), iw.world.township.pk: D("80")},
    )
    assert (first.version, second.version) == (1, 2)
    # Counted: members 300 000 + in-county 10 000 + out of county 40 000 (pharmacies off).
    assert first.pool == D("9500000.00") and first.spent == D("350000.00")
    assert first.result == D("9150000.00")
    assert sum(s.amount for s in first.shares.all()) == first.consortium_amount
    assert first.figures["spent_by_place"]["out_of_county"] == "40000.00"
    assert second.shares.get(institution=iw.world.hospital).amount == D("3660000.00")
    assert AuditEvent.objects.filter(action="settlement.freeze").count() == 2


def test_freeze_denied_and_bad_scores(iw):
    with pytest.raises(NotAllowed):
        services.settlement_freeze(actor=iw.world.office, budget=iw.budget, rule=iw.rule)
    with pytest.raises(Invalid):
        services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule, scores={1: "120"})


def test_deductible_subsidies_of_completed_referrals_count_in_the_settlement(iw):
    import datetime

    from django.utils import timezone

    from yilian.referrals.models import Referral
    from yilian.referrals.tests.factories import referral_world, submitted

    referral = submitted(referral_world(iw.world))
    completed = timezone.make_aware(datetime.datetime(2026, 5, 10, 9, 0))
    Referral.objects.filter(pk=referral.pk).update(completed_at=completed, subsidy_amount=D("300.00"))
    aggregates = selectors.settlement_aggregates(iw.budget)
    assert aggregates.subsidies == D("300.00")
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    assert settlement.spent == D("350300.00")
    assert settlement.figures["subsidies"] == "300.00"


def test_overspend_settlement_with_unreasonable_items(iw):
    services.claim_mark_unreasonable(actor=iw.officer, claim=iw.claims[0], amount="5000", reason="分解住院")
    services.budget_update(
        actor=iw.officer,
        budget=iw.budget,
        version=1,
        data=budget_data(
            year=2026,
            headcounts=[{"scheme": "resident", "insured_count": 300, "per_capita_fund": "1000"}],
            deductions=[],
        ),
    )
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    # Pool 300 000 × 0.95 = 285 000; counted 350 000: overrun 65 000 = 5 000 unreasonable + 60 000 × 0.5.
    assert settlement.result == D("-65000.00")
    assert settlement.consortium_amount == D("-35000.00") and settlement.fund_amount == D("30000.00")
    shares = {s.institution_id: s.amount for s in settlement.shares.all()}
    assert sum(shares.values()) == D("-35000.00")
    assert shares[iw.world.hospital.pk] == D("-5000.00") + D("-18000.00")
