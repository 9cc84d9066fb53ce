"""Budget, rule, what-if, settlement and claim pages: the authorization matrix, forms and query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from yilian.insurance import services
from yilian.insurance.models import Claim, GlobalBudget, Settlement

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    if user is not None:
        client.force_login(user)
    return client


def users(iw):
    return {**iw.world.users(), "officer": iw.officer}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("officer", 200),
        ("office", 200),
        ("regulator", 200),
        ("hospital_admin", 200),
        ("township_admin", 403),
        ("hospital_doctor", 404),
        ("stranger", 404),
    ],
)
def test_budget_page_matrix(iw, who, status):
    response = client_for(users(iw)[who]).get(f"/insurance/budgets/{iw.budget.public_id}/")
    assert response.status_code == status
    if status == 200:
        assert "霍邱县人民医院医共体" in response.content.decode()


def test_budget_page_shows_months_leak_and_reconciles(iw, django_assert_max_num_queries):
    client = client_for(iw.officer)
    with django_assert_max_num_queries(20):
        response = client.get(f"/insurance/budgets/{iw.budget.public_id}/")
    monthly = response.context["monthly"]
    assert monthly.pool == Decimal("9500000.00")
    for row in monthly.months:
        assert row.pool == row.counted + row.subsidies + row.remaining
    assert sum(row.pool for row in monthly.months) == monthly.pool
    assert monthly.months[2].members == Decimal("300000.00")
    assert monthly.months[3].out_of_county == Decimal("40000.00")
    assert monthly.months[2].prepayment == Decimal("285000.00")
    assert monthly.leak_share == Decimal("0.1143")  # 40 000 / 350 000
    assert monthly.out_of_county_by_region[0]["provider_region__name"] == "合肥市"
    # Sums to the cent on every database (SQLite sums decimals as floats).
    assert monthly.out_of_county_by_region[0]["paid"].as_tuple().exponent == -2
    assert client.get(f"/insurance/budgets/{iw.budget.public_id}/monthly.xlsx").status_code == 200


def test_budget_list_query_count_and_scope(iw, django_assert_max_num_queries):
    client = client_for(iw.world.office)
    with django_assert_max_num_queries(12):
        response = client.get("/insurance/budgets/")
    assert response.status_code == 200 and len(response.context["page_obj"].object_list) == 1
    assert not client_for(iw.world.hospital_doctor).get("/insurance/budgets/").context["page_obj"].object_list


def test_officer_creates_and_edits_a_budget_through_the_form(iw):
    client = client_for(iw.officer)
    response = client.post(
        "/insurance/budgets/new/",
        {
            "consortium": str(iw.world.consortium.public_id),
            "year": "2027",
            "consortium_share": "0.95",
            "prepayment_rate": "0.95",
            "counts_members": "on",
            "count_resident": "500000",
            "fund_resident": "950",
            "deduction_name_0": "大病保险",
            "deduction_amount_0": "1000000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    budget = GlobalBudget.objects.get(year=2027)
    assert budget.deductions.get().name == "大病保险"
    bad = client.post(
        f"/insurance/budgets/{budget.public_id}/edit/",
        {
            "version": "1",
            "year": "2027",
            "consortium_share": "1.5",
            "prepayment_rate": "0.9",
            "count_resident": "1",
            "fund_resident": "1",
        },
    )
    assert bad.status_code == 200 and "打包比例须在0到1之间" in bad.content.decode()
    stale = client.post(
        f"/insurance/budgets/{budget.public_id}/edit/",
        {
            "version": "7",
            "year": "2027",
            "consortium_share": "0.9",
            "prepayment_rate": "0.9",
            "count_resident": "1",
            "fund_resident": "1",
        },
    )
    assert stale.status_code == 302
    assert GlobalBudget.objects.get(pk=budget.pk).version == 1
    assert client_for(iw.world.office).get("/insurance/budgets/new/").status_code == 403


def test_whatif_page_compares_631_and_433(iw, django_assert_max_num_queries):
    client = client_for(iw.world.office)
    with django_assert_max_num_queries(40):
        response = client.get(f"/insurance/budgets/{iw.budget.public_id}/whatif/")
    assert response.status_code == 200
    outcomes = response.context["outcomes"]
    # The page starts from the budget's saved rules, named as saved (the adopted one first).
    assert [o.parameters.name for o in outcomes] == ["默认6:3:1", "4:3:3"]
    assert outcomes[0].tier_totals["lead"] > outcomes[1].tier_totals["lead"]
    assert 'value="默认6:3:1"' in response.content.decode()


def test_whatif_marks_every_bad_input_and_still_computes_the_valid_columns(iw):
    client = client_for(iw.world.office)
    good = {"share": "0.95", "alpha": "1", "gamma": "0.5", "lead": "6", "township": "3", "village": "1"}
    query = {f"{key}_0": value for key, value in good.items()} | {"name_0": "省定"}
    query |= {f"{key}_1": value for key, value in good.items()} | {
        "name_1": "四三三",
        "lead_1": "4",
        "village_1": "3",
    }
    # Column 3: two bad rates and a bad part; column 4: a missing rate and all parts 0.
    query |= {
        "share_2": "abc",
        "alpha_2": "2",
        "gamma_2": "0.5",
        "lead_2": "x",
        "township_2": "3",
        "village_2": "1",
    }
    query |= {
        "share_3": "0.95",
        "alpha_3": "",
        "gamma_3": "0.5",
        "lead_3": "0",
        "township_3": "0",
        "village_3": "0",
    }
    response = client.get(f"/insurance/budgets/{iw.budget.public_id}/whatif/", query)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("share_2", "alpha_2", "lead_2", "alpha_3", "lead_3"):
        assert f'data-testid="whatif-error-{name}"' in html, name
    for name in ("gamma_2", "township_2", "share_3", "share_0", "lead_1"):
        assert f'data-testid="whatif-error-{name}"' not in html, name
    # The bad inputs are kept as typed.
    assert 'name="share_2" id="id_share_2" value="abc"' in html
    # The valid columns are computed and shown.
    outcomes = response.context["outcomes"]
    assert [o.parameters.name for o in outcomes] == ["省定", "四三三"]
    assert 'data-testid="whatif-results"' in html
    assert "2" in response.context["error"]

    # Fewer than two columns filled: say so, still show the one.
    one = client.get(
        f"/insurance/budgets/{iw.budget.public_id}/whatif/", {f"{k}_0": v for k, v in good.items()}
    )
    assert one.context["error"] and len(one.context["outcomes"]) == 1


def test_freeze_needs_confirmation_and_the_manager(iw):
    client = client_for(iw.officer)
    url = f"/insurance/budgets/{iw.budget.public_id}/freeze/"
    client.post(url, {"rule": str(iw.rule.public_id)})
    assert not Settlement.objects.exists()
    response = client.post(url, {"rule": str(iw.rule.public_id), "confirm": "yes"})
    settlement = Settlement.objects.get()
    assert response.status_code == 302 and str(settlement.public_id) in response["Location"]
    assert (
        client_for(iw.world.office).post(url, {"rule": str(iw.rule.public_id), "confirm": "yes"}).status_code
        == 403
    )


def test_settlement_detail_documents_and_member_sees_own_share(iw):
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    office = client_for(iw.world.office)
    response = office.get(f"/insurance/settlements/{settlement.public_id}/")
    assert len(response.context["shares"]) == 3 and response.context["full"]
    pdf = office.get(f"/insurance/settlements/{settlement.public_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert office.get(f"/insurance/settlements/{settlement.public_id}/report.xlsx").status_code == 200
    member = client_for(iw.world.township_admin).get(f"/insurance/settlements/{settlement.public_id}/")
    assert [s.institution_id for s in member.context["shares"]] == [iw.world.township.pk]
    assert not member.context["full"]
    assert (
        client_for(iw.world.hospital_doctor)
        .get(f"/insurance/settlements/{settlement.public_id}/")
        .status_code
        == 404
    )
    listing = client_for(iw.world.township_admin).get(
        f"/insurance/budgets/{iw.budget.public_id}/settlements/"
    )
    assert listing.status_code == 200


def test_rules_page_adds_a_rule(iw):
    client = client_for(iw.officer)
    response = client.post(
        f"/insurance/budgets/{iw.budget.public_id}/rules/",
        {
            "name": "α0.8",
            "surplus_retained": "0.8",
            "overspend_borne": "0.5",
            "lead_parts": "5",
            "township_parts": "3",
            "village_parts": "2",
        },
    )
    assert response.status_code == 302
    assert iw.budget.rules.filter(name="α0.8", lead_parts=5).exists()
    assert (
        client_for(iw.world.office)
        .post(f"/insurance/budgets/{iw.budget.public_id}/rules/", {"name": "x"})
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    ("who", "rows"), [("officer", True), ("regulator", True), ("office", False), ("hospital_admin", False)]
)
def test_claim_rows_only_for_insurance_and_oversight(iw, who, rows, django_assert_max_num_queries):
    client = client_for(users(iw)[who])
    with django_assert_max_num_queries(12):
        response = client.get("/insurance/claims/", follow=True)
    assert response.status_code == 200
    if rows:
        assert len(response.context["page_obj"].object_list) == 6
        assert "王五" not in response.content.decode() and "王*" in response.content.decode()
    else:
        assert response.redirect_chain and "aggregates" in response.redirect_chain[-1][0]
        assert response.context["rows"]


def test_claim_aggregates_denied_to_strangers(iw):
    assert client_for(iw.world.hospital_doctor).get("/insurance/claims/aggregates/").status_code == 403


def test_mark_unreasonable_from_the_list(iw):
    claim = iw.claims[0]
    client_for(iw.officer).post(
        f"/insurance/claims/{claim.source_record_id}/unreasonable/", {"amount": "100", "reason": "超标准收费"}
    )
    assert Claim.objects.get(pk=claim.pk).unreasonable_amount == Decimal("100.00")
    assert (
        client_for(iw.world.office)
        .post(f"/insurance/claims/{claim.source_record_id}/unreasonable/", {"amount": "1", "reason": "x"})
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/insurance/claims/?kind=inpatient&page=2", "/insurance/claims/?kind=inpatient&page=2"),
        ("https://evil.example/insurance/claims/", "/insurance/claims/"),
        ("//evil.example/", "/insurance/claims/"),
    ],
)
def test_marking_a_claim_returns_to_the_list_it_was_on_never_to_another_site(iw, next_url, location):
    claim = iw.claims[0]
    response = client_for(iw.officer).post(
        f"/insurance/claims/{claim.source_record_id}/unreasonable/",
        {"amount": "100", "reason": "超标准收费", "next": next_url},
    )
    assert response.status_code == 302 and response["Location"] == location


def test_forms_and_lists_render(iw, django_assert_max_num_queries):
    client = client_for(iw.officer)
    assert client.get("/insurance/budgets/new/").status_code == 200
    edit = client.get(f"/insurance/budgets/{iw.budget.public_id}/edit/")
    assert edit.status_code == 200 and 'value="10000"' in edit.content.decode()
    rules = client.get(f"/insurance/budgets/{iw.budget.public_id}/rules/")
    assert rules.status_code == 200 and "默认6:3:1" in rules.content.decode()
    assert (
        client.get(f"/insurance/budgets/{iw.budget.public_id}/rules/{iw.rule.public_id}/").status_code == 200
    )
    services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule_433)
    with django_assert_max_num_queries(12):
        versions = client.get(f"/insurance/budgets/{iw.budget.public_id}/settlements/")
    assert len(versions.context["page_obj"].object_list) == 2


def test_whatif_highlights_a_negative_lead(iw):
    services.budget_update(
        actor=iw.officer,
        budget=iw.budget,
        version=1,
        data={
            "year": 2026,
            "consortium_share": "0.95",
            "prepayment_rate": "0.95",
            "counts_members": True,
            "counts_in_county_others": True,
            "counts_out_of_county": True,
            "headcounts": [{"scheme": "resident", "insured_count": 300, "per_capita_fund": "1000"}],
        },
    )
    response = client_for(iw.world.office).get(f"/insurance/budgets/{iw.budget.public_id}/whatif/")
    assert 'data-testid="whatif-lead-negative"' in response.content.decode()


def test_menu_entries_follow_roles(iw):
    officer_page = client_for(iw.officer).get("/insurance/budgets/").content.decode()
    assert 'href="/insurance/claims/"' in officer_page
    office_page = client_for(iw.world.office).get("/insurance/budgets/").content.decode()
    assert 'href="/insurance/budgets/"' in office_page and 'href="/insurance/claims/"' not in office_page


def test_whatif_at_the_current_rules_reconciles_with_the_budget_page_to_the_cent(iw):
    """The 起付线差价补贴 is charged on both pages and shown as its own row on both."""
    import datetime

    from django.utils import timezone

    from yilian.referrals.models import Referral
    from yilian.referrals.tests.factories import referral_world, submitted

    referral = submitted(referral_world(iw.world))
    completed = timezone.make_aware(datetime.datetime(2026, 5, 10, 9, 0))
    Referral.objects.filter(pk=referral.pk).update(completed_at=completed, subsidy_amount=Decimal("300.00"))
    client = client_for(iw.world.office)
    page = client.get(f"/insurance/budgets/{iw.budget.public_id}/")
    monthly = page.context["monthly"]
    whatif = client.get(f"/insurance/budgets/{iw.budget.public_id}/whatif/")
    current = whatif.context["outcomes"][0]  # the adopted rule (6:3:1), first of the saved rules
    assert current.pool == monthly.pool == Decimal("9500000.00")
    assert current.charged == monthly.counted_total == Decimal("350000.00")
    assert current.subsidies == monthly.subsidies == Decimal("300.00")
    assert current.spent == monthly.spent_total == Decimal("350300.00")
    assert current.result == monthly.result_to_date == Decimal("9149700.00")
    # The projection charges the subsidies too.
    assert monthly.projected_result == monthly.pool - monthly.projected_year_end
    html = whatif.content.decode()
    assert "起付线差价补贴" in html and "300.00" in html
    budget_html = page.content.decode()
    assert "起付线差价补贴" in budget_html and "350300.00" in budget_html and "9149700.00" in budget_html
    frozen = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    assert (frozen.pool, frozen.spent, frozen.result) == (current.pool, current.spent, current.result)


def test_monthly_table_and_workbook_reconcile_with_the_headline_balance(iw):
    """The subsidies sit in the month the referral completed; December's cumulative balance is the headline's."""
    import datetime
    import io

    from django.utils import timezone
    from openpyxl import load_workbook

    from yilian.referrals.models import Referral
    from yilian.referrals.tests.factories import referral_world, submitted

    referral = submitted(referral_world(iw.world))
    completed = timezone.make_aware(datetime.datetime(2026, 5, 10, 9, 0))
    Referral.objects.filter(pk=referral.pk).update(completed_at=completed, subsidy_amount=Decimal("300.00"))
    client = client_for(iw.officer)
    page = client.get(f"/insurance/budgets/{iw.budget.public_id}/")
    monthly = page.context["monthly"]
    may = monthly.months[4]
    assert may.subsidies == Decimal("300.00") and may.charged == may.counted + Decimal("300.00")
    assert sum(row.subsidies for row in monthly.months) == monthly.subsidies
    december = monthly.months[-1]
    assert december.cumulative_remaining == monthly.result_to_date == Decimal("9149700.00")
    for row in monthly.months:
        assert row.pool == row.charged + row.remaining
    html = page.content.decode()
    # The pharmacy column is shown but not counted by this budget's switches, and the page says so.
    assert not iw.budget.counts_pharmacies
    assert "（不计入）" in html.split('data-testid="budget-month-head-pharmacy"')[1].split("</th>")[0]
    assert "（不计入）" not in html.split('data-testid="budget-month-head-members"')[1].split("</th>")[0]
    assert 'data-testid="budget-months-note"' in html

    response = client.get(f"/insurance/budgets/{iw.budget.public_id}/monthly.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert "定点药店（不计入）" in headers and "起付线差价补贴" in headers
    rows = {
        row[0]: dict(zip(headers, row, strict=True))
        for row in sheet.iter_rows(min_row=2, max_row=13, values_only=True)
    }
    assert Decimal(str(rows[5]["起付线差价补贴"])) == Decimal("300.00")
    assert Decimal(str(rows[12]["累计结余"])) == monthly.result_to_date
