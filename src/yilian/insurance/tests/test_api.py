"""The insurance API: budgets with 409 on a stale version, monthly figures, rules, what-if, freezing,
settlement documents, claim rows (403 for non-insurance roles) and aggregates, query counts."""

from __future__ import annotations

import pytest

from yilian.core.api.testing import api_client
from yilian.insurance.models import GlobalBudget, Settlement

pytestmark = pytest.mark.django_db


def budget_body(iw, **extra):
    body = {
        "consortium": str(iw.world.consortium.public_id),
        "year": 2027,
        "consortium_share": "0.95",
        "prepayment_rate": "0.95",
        "headcounts": [{"scheme": "resident", "insured_count": 1000, "per_capita_fund": "900.00"}],
        "deductions": [{"name": "风险调剂金", "amount": "1000.00"}],
    }
    body.update(extra)
    return body


def test_budget_create_update_and_stale_version(iw):
    client = api_client(iw.officer)
    response = client.post("/api/v1/budgets", budget_body(iw), format="json")
    assert response.status_code == 201, response.json()
    budget_id = response.json()["public_id"]
    assert response["ETag"] == '"1"'
    body = budget_body(iw, consortium_share="0.9")
    body.pop("consortium")
    ok = client.put(f"/api/v1/budgets/{budget_id}", body, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.put(f"/api/v1/budgets/{budget_id}", {**body, "version": 1}, format="json")
    assert stale.status_code == 409
    bad = client.post("/api/v1/budgets", budget_body(iw, year=2028, consortium_share="2"), format="json")
    assert bad.status_code == 400
    duplicate = client.post("/api/v1/budgets", budget_body(iw), format="json")
    assert duplicate.status_code == 409
    assert (
        api_client(iw.world.office)
        .post("/api/v1/budgets", budget_body(iw, year=2029), format="json")
        .status_code
        == 403
    )
    assert GlobalBudget.objects.filter(year=2029).count() == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("officer", 200),
        ("office", 200),
        ("regulator", 200),
        ("hospital_admin", 200),
        ("township_admin", 403),
        ("hospital_doctor", 404),
    ],
)
def test_monthly_matrix(iw, who, status):
    user = {**iw.world.users(), "officer": iw.officer}[who]
    response = api_client(user).get(f"/api/v1/budgets/{iw.budget.public_id}/monthly")
    assert response.status_code == status
    if status == 200:
        data = response.json()
        assert data["pool"] == "9500000.00" and len(data["months"]) == 12
        assert data["out_of_county_by_region"][0]["name"] == "合肥市"


def test_budget_list_query_count(iw, django_assert_max_num_queries):
    client = api_client(iw.world.office)
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/budgets")
    assert response.status_code == 200 and response.json()["count"] == 1


def test_rules_whatif_and_freeze(iw, django_assert_max_num_queries):
    officer = api_client(iw.officer)
    created = officer.post(
        f"/api/v1/budgets/{iw.budget.public_id}/rules",
        {"name": "API方案", "preset": "4:3:3", "surplus_retained": "0.9", "overspend_borne": "0.4"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["lead_parts"] == 4
    assert len(officer.get(f"/api/v1/budgets/{iw.budget.public_id}/rules").json()["results"]) == 3
    rules = [
        {
            "name": "6:3:1",
            "consortium_share": "0.95",
            "surplus_retained": "1",
            "overspend_borne": "0.5",
            "lead_parts": 6,
            "township_parts": 3,
            "village_parts": 1,
        },
        {
            "name": "4:3:3",
            "consortium_share": "0.95",
            "surplus_retained": "1",
            "overspend_borne": "0.5",
            "lead_parts": 4,
            "township_parts": 3,
            "village_parts": 3,
        },
    ]
    office = api_client(iw.world.office)
    with django_assert_max_num_queries(40):
        whatif = office.post(f"/api/v1/budgets/{iw.budget.public_id}/whatif", {"rules": rules}, format="json")
    assert whatif.status_code == 200
    outcomes = whatif.json()
    assert (
        outcomes[0]["tier_totals"]["lead"] == "5490000.00"
        and outcomes[1]["tier_totals"]["lead"] == "3660000.00"
    )
    assert (outcomes[0]["charged"], outcomes[0]["subsidies"], outcomes[0]["spent"]) == (
        "350000.00",
        "0.00",
        "350000.00",
    )
    monthly = office.get(f"/api/v1/budgets/{iw.budget.public_id}/monthly").json()
    assert (
        monthly["counted_total"],
        monthly["subsidies"],
        monthly["spent_total"],
        monthly["result_to_date"],
    ) == (
        "350000.00",
        "0.00",
        "350000.00",
        "9150000.00",
    )
    december = monthly["months"][-1]
    assert december["cumulative_remaining"] == monthly["result_to_date"]
    assert (december["subsidies"], december["charged"]) == ("0.00", december["counted"])
    frozen = officer.post(
        f"/api/v1/budgets/{iw.budget.public_id}/settlements", {"rule": str(iw.rule.public_id)}, format="json"
    )
    assert frozen.status_code == 201 and frozen.json()["version"] == 1
    assert (
        office.post(
            f"/api/v1/budgets/{iw.budget.public_id}/settlements",
            {"rule": str(iw.rule.public_id)},
            format="json",
        ).status_code
        == 403
    )
    settlement = Settlement.objects.get()
    detail = office.get(f"/api/v1/settlements/{settlement.public_id}")
    assert len(detail.json()["shares"]) == 3
    own = api_client(iw.world.township_admin).get(f"/api/v1/settlements/{settlement.public_id}")
    assert [s["institution"] for s in own.json()["shares"]] == [str(iw.world.township.public_id)]
    assert office.get(f"/api/v1/settlements/{settlement.public_id}.pdf").content.startswith(b"%PDF")
    assert office.get(f"/api/v1/settlements/{settlement.public_id}.xlsx").status_code == 200
    versions = office.get(f"/api/v1/budgets/{iw.budget.public_id}/settlements")
    assert versions.json()["count"] == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("officer", 200),
        ("regulator", 200),
        ("office", 403),
        ("hospital_admin", 403),
        ("hospital_doctor", 403),
        ("admin", 403),
    ],
)
def test_claim_rows_matrix(iw, who, status, django_assert_max_num_queries):
    client = api_client({**iw.world.users(), "officer": iw.officer}[who])
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/claims")
    assert response.status_code == status
    if status == 200:
        assert response.json()["count"] == 6 and response.json()["results"][0]["person_name"] == "王*"


def test_claim_aggregates_and_marking(iw):
    office = api_client(iw.world.office)
    rows = office.get("/api/v1/claims/aggregates", {"year": 2026}).json()
    assert {row["place"] for row in rows} == {"member", "in_county", "out_of_county", "pharmacy"}
    # Money to the cent on every database (SQLite sums decimals as floats).
    assert all(len(row["fund_paid"].rpartition(".")[2]) == 2 for row in rows)
    assert api_client(iw.world.hospital_doctor).get("/api/v1/claims/aggregates").status_code == 403
    claim = iw.claims[0]
    marked = api_client(iw.officer).post(
        f"/api/v1/claims/{claim.source_record_id}/unreasonable",
        {"amount": "10.00", "reason": "重复"},
        format="json",
    )
    assert marked.status_code == 200 and marked.json()["unreasonable_amount"] == "10.00"
    too_much = api_client(iw.officer).post(
        f"/api/v1/claims/{claim.source_record_id}/unreasonable",
        {"amount": "9999999.00", "reason": "x"},
        format="json",
    )
    assert too_much.status_code == 400
