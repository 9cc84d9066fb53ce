"""A frozen settlement's page, PDF, Excel (every sheet) and API say what was frozen, whatever happens later:
more claims, another member tier, renamed members, changed budget switches. Versions frozen before the
months were kept say that their monthly sheet is today's."""

from __future__ import annotations

import datetime
import importlib
import io
import re
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from pypdf import PdfReader

from yilian.core.api.testing import api_client
from yilian.core.audit import AuditEvent
from yilian.core.exceptions import Conflict
from yilian.institutions.models import Consortium, Institution
from yilian.insurance import selectors, services
from yilian.insurance.choices import ProviderPlace
from yilian.insurance.models import Claim, GlobalBudget, MemberTier, Settlement, SettlementShare
from yilian.insurance.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db
D = Decimal
NOTE = "本版本冻结时尚未保存月度明细"


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def page_text(client: Client, settlement: Settlement) -> str:
    """The page's content (the frame around it holds a per-request CSRF token)."""
    response = client.get(f"/insurance/settlements/{settlement.public_id}/")
    assert response.status_code == 200
    return re.search(r"<main.*</main>", response.content.decode(), re.DOTALL).group(0)


def pdf_text(client: Client, settlement: Settlement) -> str:
    response = client.get(f"/insurance/settlements/{settlement.public_id}/report.pdf")
    assert response.status_code == 200
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def workbook_cells(client: Client, settlement: Settlement) -> dict[str, list[tuple]]:
    response = client.get(f"/insurance/settlements/{settlement.public_id}/report.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}


def api_answer(user, settlement: Settlement) -> dict:
    response = api_client(user).get(f"/api/v1/settlements/{settlement.public_id}")
    assert response.status_code == 200
    return response.json()


def outputs(iw, settlement: Settlement) -> tuple:
    client = client_for(iw.world.office)
    return (
        page_text(client, settlement),
        pdf_text(client, settlement),
        workbook_cells(client, settlement),
        api_answer(iw.world.office, settlement),
    )


def change_everything_after_the_freeze(iw) -> None:
    """More claims (members, out of county), another tier, renamed members and consortium, other switches."""
    ClaimFactory(
        person=iw.patient,
        provider_institution=iw.world.township,
        fund_paid=D("55000"),
        total_cost=D("60000"),
        started_on=datetime.date(2026, 5, 20),
    )
    ClaimFactory(
        person=iw.patient,
        provider_institution=iw.world.hospital,
        fund_paid=D("12345.67"),
        total_cost=D("15000"),
        started_on=datetime.date(2026, 3, 2),
    )
    ClaimFactory(
        person=iw.patient,
        provider_name="复旦大学附属华山医院",
        provider_region=iw.world.regions["province"],
        provider_place=ProviderPlace.OUT_OF_COUNTY,
        fund_paid=D("30000"),
        total_cost=D("40000"),
        started_on=datetime.date(2026, 11, 3),
    )
    # Written directly: the service refuses tier changes once a settlement is frozen.
    MemberTier.objects.update_or_create(
        budget=iw.budget, institution=iw.world.township, defaults={"tier": "village"}
    )
    Institution.objects.filter(pk=iw.world.hospital.pk).update(name="霍邱县第一人民医院")
    Institution.objects.filter(pk=iw.village.pk).update(name="东湖社区卫生服务站")
    Consortium.objects.filter(pk=iw.world.consortium.pk).update(name="霍邱县健康共同体")
    GlobalBudget.objects.filter(pk=iw.budget.pk).update(
        counts_pharmacies=True, counts_out_of_county=False, prepayment_rate=D("0.8")
    )


def test_page_pdf_excel_and_api_of_a_frozen_settlement_do_not_move(iw):
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    before = outputs(iw, settlement)
    live_before = selectors.budget_monthly(iw.budget).months[2].members

    change_everything_after_the_freeze(iw)

    # The live figures did move (the test would prove nothing otherwise) ...
    assert (
        selectors.budget_monthly(GlobalBudget.objects.get(pk=iw.budget.pk)).months[2].members != live_before
    )
    # ... the frozen settlement's outputs did not.
    after = outputs(iw, Settlement.objects.get(pk=settlement.pk))
    for name, old, new in zip(("page", "pdf", "excel", "api"), before, after, strict=True):
        assert new == old, name
    page, pdf, sheets, api = after
    assert "霍邱县人民医院医共体 2026年度结算 第1版" in page and "霍邱县第一人民医院" not in page
    assert NOTE not in page
    assert "霍邱县人民医院" in pdf and "东湖村卫生室" in pdf and "霍邱县健康共同体" not in pdf
    assert {share["institution_name"] for share in api["shares"]} == {
        "霍邱县人民医院",
        "霍邱县城关镇卫生院",
        "东湖村卫生室",
    }
    # The monthly sheet is the one frozen: March's members, the places counted then, December = the result.
    monthly = sheets["月度"]
    assert monthly[0][4] == "县域外" and monthly[0][5] == "定点药店（不计入）"
    assert D(str(monthly[3][2])) == D("300000.00")
    assert D(str(monthly[3][12])) == D("285000.00")  # 95 % pre-payment, as when frozen
    assert D(str(monthly[12][11])) == settlement.result
    assert len(api["figures"]["monthly"]["months"]) == 12
    assert {row[0] for row in sheets["分配"][1:]} == {"霍邱县人民医院", "霍邱县城关镇卫生院", "东湖村卫生室"}
    assert not any(NOTE in str(cell) for rows in sheets.values() for row in rows for cell in row)


def test_a_frozen_settlements_outputs_never_read_claims_and_keep_their_query_counts(
    iw, django_assert_max_num_queries
):
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    client = client_for(iw.world.office)
    api = api_client(iw.world.office)
    base = f"/insurance/settlements/{settlement.public_id}"
    for url, get, most in (
        (f"{base}/", client.get, 10),
        (f"{base}/report.pdf", client.get, 10),
        (f"{base}/report.xlsx", client.get, 10),
        (f"/api/v1/settlements/{settlement.public_id}", api.get, 10),
        (f"/api/v1/settlements/{settlement.public_id}.xlsx", api.get, 10),
    ):
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(most):
            assert get(url).status_code == 200, url
        tables = " ".join(query["sql"] for query in queries.captured_queries)
        for live in ("insurance_claim", "insurance_membertier", "referrals_", "insurance_budgetheadcount"):
            assert live not in tables, (url, live)


def test_a_version_frozen_before_the_months_were_kept_says_its_monthly_sheet_is_todays(iw):
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    figures = dict(settlement.figures)
    del figures["monthly"]
    Settlement.objects.filter(pk=settlement.pk).update(figures=figures)
    ClaimFactory(
        person=iw.patient,
        provider_institution=iw.world.township,
        fund_paid=D("55000"),
        total_cost=D("60000"),
        started_on=datetime.date(2026, 5, 20),
    )
    client = client_for(iw.world.office)
    page = client.get(f"/insurance/settlements/{settlement.public_id}/").content.decode()
    assert 'data-testid="monthly-not-recorded"' in page and NOTE in page
    # A member administrator gets no monthly table, so no note about it either.
    member_page = client_for(iw.world.township_admin).get(f"/insurance/settlements/{settlement.public_id}/")
    assert NOTE not in member_page.content.decode()
    sheets = workbook_cells(client, settlement)
    summary = {row[0]: row[1] for row in sheets["汇总"]}
    assert NOTE in summary["月度表"]
    assert any(row[0] and NOTE in str(row[0]) for row in sheets["月度"])
    # Today's months, as the note says: May's claim is in.
    assert D(str(sheets["月度"][5][2])) == D("55000.00")
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(iw.world.office)
    assert (
        "frozen before monthly figures were kept"
        in english.get(f"/insurance/settlements/{settlement.public_id}/").content.decode()
    )


def test_claims_imported_while_freezing_give_a_conflict_and_save_nothing(iw, monkeypatch):
    totals = selectors.settlement_aggregates

    def import_in_between(*args, **kwargs):
        aggregates = totals(*args, **kwargs)
        ClaimFactory(person=iw.patient, provider_institution=iw.world.hospital, fund_paid=D("1000"))
        return aggregates

    monkeypatch.setattr(selectors, "settlement_aggregates", import_in_between)
    with pytest.raises(Conflict):
        services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    assert not Settlement.objects.exists() and not SettlementShare.objects.exists()
    assert not AuditEvent.objects.filter(action="settlement.freeze").exists()
    # The simulated import ran on the freeze's own connection, inside its transaction, so it is rolled back
    # with it; a real import runs on another connection (tests/…test_freeze_snapshot.py).
    assert Claim.objects.count() == len(iw.claims)


def test_migration_backfills_names_and_year_but_not_the_months(iw):
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    figures = {k: v for k, v in settlement.figures.items() if k not in ("consortium_name", "year", "monthly")}
    Settlement.objects.filter(pk=settlement.pk).update(figures=figures)
    SettlementShare.objects.update(institution_name="")
    migration = importlib.import_module(
        "yilian.insurance.migrations.0003_settlement_share_name_and_frozen_report"
    )
    migration.backfill(django_apps, None)
    settlement.refresh_from_db()
    assert (
        settlement.figures["consortium_name"] == "霍邱县人民医院医共体" and settlement.figures["year"] == 2026
    )
    assert not settlement.monthly_recorded
    assert set(settlement.shares.values_list("institution_name", flat=True)) == {
        "霍邱县人民医院",
        "霍邱县城关镇卫生院",
        "东湖村卫生室",
    }
