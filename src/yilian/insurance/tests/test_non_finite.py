"""Non-finite numbers (NaN, sNaN, ±Infinity) and overlong ones in every decimal input: a field error, never a 500."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from yilian.core.api.testing import error_of
from yilian.core.audit import AuditEvent
from yilian.core.exceptions import Invalid
from yilian.insurance import calculation, services
from yilian.insurance.models import Claim, GlobalBudget, Settlement, SettlementRule
from yilian.insurance.tests.test_services import budget_data

pytestmark = pytest.mark.django_db

NON_FINITE = ["NaN", "nan", "sNaN", "-NaN", "Infinity", "-Infinity", "inf", "-inf"]


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def api_client(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    "raw", [*NON_FINITE, "abc", "", None, Decimal("NaN"), Decimal("-sNaN"), float("inf")]
)
def test_to_decimal_accepts_only_finite_numbers(raw):
    with pytest.raises(ValueError):
        calculation.to_decimal(raw)


def test_to_decimal_reads_plain_numbers():
    assert calculation.to_decimal(" 0.95 ") == Decimal("0.95")
    assert calculation.to_decimal(3) == Decimal(3)
    assert calculation.to_decimal(Decimal("-1.5")) == Decimal("-1.5")


# --- services ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", NON_FINITE)
@pytest.mark.parametrize("field", ["consortium_share", "prepayment_rate"])
def test_budget_rates_reject_non_finite(iw, raw, field):
    with pytest.raises(Invalid) as caught:
        services.budget_create(
            actor=iw.officer, consortium=iw.world.consortium, data=budget_data(**{field: raw})
        )
    assert caught.value.as_text()[field] == [
        ("打包比例" if field == "consortium_share" else "月度预付比例") + "须为数字"
    ]
    assert not GlobalBudget.objects.filter(year=2027).exists()


@pytest.mark.parametrize("raw", NON_FINITE)
def test_per_capita_fund_and_deductions_reject_non_finite(iw, raw):
    headcounts = [{"scheme": "resident", "insured_count": 1000, "per_capita_fund": raw}]
    with pytest.raises(Invalid) as caught:
        services.budget_create(
            actor=iw.officer, consortium=iw.world.consortium, data=budget_data(headcounts=headcounts)
        )
    assert caught.value.as_text()["headcounts"] == ["人均基金须为数字"]
    with pytest.raises(Invalid) as caught:
        services.budget_create(
            actor=iw.officer,
            consortium=iw.world.consortium,
            data=budget_data(deductions=[{"name": "大病保险", "amount": raw}]),
        )
    assert caught.value.as_text()["deductions"] == ["扣除金额须为数字"]
    assert not GlobalBudget.objects.filter(year=2027).exists()


@pytest.mark.parametrize("raw", ["1e30", "1e999999", "1000000000000"])
def test_amounts_too_large_for_the_columns_are_refused(iw, raw):
    headcounts = [{"scheme": "resident", "insured_count": 1, "per_capita_fund": raw}]
    with pytest.raises(Invalid) as caught:
        services.budget_create(
            actor=iw.officer, consortium=iw.world.consortium, data=budget_data(headcounts=headcounts)
        )
    assert "headcounts" in caught.value.errors


def test_fund_total_too_large_for_the_columns_is_refused(iw):
    headcounts = [{"scheme": "resident", "insured_count": 10**9, "per_capita_fund": "999999"}]
    with pytest.raises(Invalid) as caught:
        services.budget_create(
            actor=iw.officer,
            consortium=iw.world.consortium,
            data=budget_data(headcounts=headcounts, deductions=[]),
        )
    assert caught.value.as_text()["headcounts"] == ["基金总额过大"]


@pytest.mark.parametrize("raw", NON_FINITE)
@pytest.mark.parametrize("field", ["surplus_retained", "overspend_borne"])
def test_rule_rates_reject_non_finite(iw, raw, field):
    data = {"name": "坏", "surplus_retained": "1", "overspend_borne": "0.5", field: raw}
    with pytest.raises(Invalid) as caught:
        services.settlement_rule_save(actor=iw.officer, budget=iw.budget, data=data)
    assert caught.value.as_text()[field][0].endswith("须为数字")
    assert not SettlementRule.objects.filter(name="坏").exists()


@pytest.mark.parametrize("raw", [*NON_FINITE, "abc", None])
def test_unreasonable_amount_rejects_non_finite(iw, raw):
    claim = iw.claims[0]
    with pytest.raises(Invalid) as caught:
        services.claim_mark_unreasonable(actor=iw.officer, claim=claim, amount=raw, reason="重复")
    assert caught.value.as_text()["amount"] == ["不合理费用须为数字"]
    assert Claim.objects.get(pk=claim.pk).unreasonable_amount == 0


@pytest.mark.parametrize("raw", [*NON_FINITE, "abc", "1e999999"])
def test_freeze_scores_reject_non_finite(iw, raw):
    with pytest.raises(Invalid) as caught:
        services.settlement_freeze(
            actor=iw.officer, budget=iw.budget, rule=iw.rule, scores={iw.world.hospital.pk: raw}
        )
    assert "scores" in caught.value.errors
    assert not Settlement.objects.exists()
    assert not AuditEvent.objects.filter(action="settlement.freeze").exists()


# --- pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", NON_FINITE)
@pytest.mark.parametrize("key", ["share_0", "alpha_0", "gamma_1"])
def test_whatif_page_reports_non_finite_parameters(iw, raw, key):
    query = {
        "share_0": "0.95",
        "alpha_0": "1",
        "gamma_0": "0.5",
        "lead_0": "6",
        "township_0": "3",
        "village_0": "1",
        "share_1": "0.95",
        "alpha_1": "1",
        "gamma_1": "0.5",
        "lead_1": "4",
        "township_1": "3",
        "village_1": "3",
        key: raw,
    }
    response = client_for(iw.world.office).get(f"/insurance/budgets/{iw.budget.public_id}/whatif/", query)
    assert response.status_code == 200
    # The field is marked; the other column is still calculated.
    assert response.context["error"] == "有1列参数有误，见标出的输入框；其余各列已计算。"
    html = response.content.decode()
    assert f'data-testid="whatif-error-{key}">须为数字<' in html
    assert len(response.context["outcomes"]) == 1


@pytest.mark.parametrize("raw", ["NaN", "Infinity"])
def test_rules_page_reports_non_finite_alpha(iw, raw):
    response = client_for(iw.officer).post(
        f"/insurance/budgets/{iw.budget.public_id}/rules/",
        {
            "name": "NaN方案",
            "surplus_retained": raw,
            "overspend_borne": "0.5",
            "lead_parts": "6",
            "township_parts": "3",
            "village_parts": "1",
        },
    )
    assert response.status_code == 200
    assert "结余留用比例 α须为数字" in response.content.decode()
    assert not iw.budget.rules.filter(name="NaN方案").exists()


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("consortium_share", "NaN", "打包比例须为数字"),
        ("consortium_share", "-Infinity", "打包比例须为数字"),
        ("prepayment_rate", "sNaN", "月度预付比例须为数字"),
        ("fund_resident", "NaN", "人均基金须为数字"),
        ("fund_resident", "Infinity", "人均基金须为数字"),
        ("deduction_amount_0", "NaN", "扣除金额须为数字"),
    ],
)
def test_budget_edit_reports_non_finite_and_saves_nothing(iw, field, raw, message):
    posted = {
        "version": "1",
        "year": "2026",
        "consortium_share": "0.9",
        "prepayment_rate": "0.9",
        "counts_members": "on",
        "count_resident": "10000",
        "fund_resident": "1000",
        "deduction_name_0": "大病保险",
        "deduction_amount_0": "1000",
        field: raw,
    }
    response = client_for(iw.officer).post(f"/insurance/budgets/{iw.budget.public_id}/edit/", posted)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and "不能为负数" not in page
    budget = GlobalBudget.objects.get(pk=iw.budget.pk)
    assert budget.version == 1 and budget.consortium_share == Decimal("0.95")
    assert not budget.deductions.exists() and budget.headcounts.get().per_capita_fund == Decimal("1000.00")


def test_the_message_is_translated(iw):
    with translation.override("en"):
        errors: dict[str, list[str]] = {}
        services._rate({"x": "NaN"}, "x", "打包比例", errors)
    assert errors["x"] == ["打包比例 must be a number"]


# --- API ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_api_refuses_non_finite_numbers_with_400(iw, raw):
    officer = api_client(iw.officer)
    base = f"/api/v1/budgets/{iw.budget.public_id}"
    rule = officer.post(
        f"{base}/rules", {"name": "API", "surplus_retained": raw, "overspend_borne": "0.5"}, format="json"
    )
    assert rule.status_code == 400 and "surplus_retained" in error_of(rule)["fields"]
    parameters = {
        "consortium_share": raw,
        "surplus_retained": "1",
        "overspend_borne": "0.5",
        "lead_parts": 6,
        "township_parts": 3,
        "village_parts": 1,
    }
    whatif = officer.post(f"{base}/whatif", {"rules": [parameters]}, format="json")
    assert whatif.status_code == 400
    freeze = officer.post(
        f"{base}/settlements", {"rule": str(iw.rule.public_id), "scores": {"1": raw}}, format="json"
    )
    assert freeze.status_code == 400 and not Settlement.objects.exists()
    budget = officer.put(
        base,
        {
            "version": 1,
            "year": 2026,
            "consortium_share": "0.95",
            "prepayment_rate": "0.95",
            "headcounts": [{"scheme": "resident", "insured_count": 10, "per_capita_fund": raw}],
            "deductions": [],
        },
        format="json",
    )
    assert budget.status_code == 400 and GlobalBudget.objects.get(pk=iw.budget.pk).version == 1
    claim = iw.claims[0]
    marked = officer.post(
        f"/api/v1/claims/{claim.source_record_id}/unreasonable", {"amount": raw, "reason": "x"}, format="json"
    )
    assert marked.status_code == 400
