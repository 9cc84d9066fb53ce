"""Nobody sees what is not theirs: a member institution's administrator gets from a settlement's PDF, Excel
and API exactly what its page shows them (the header, the pool, spend and result of the versions list, their
own share), while insurance officers, the consortium office, regulators and the lead hospital's
administrators keep the full report. The budget's own page and exports are refused to member
administrators alike."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from yilian.accounts.models import Membership
from yilian.accounts.tests.factories import user_with_role
from yilian.core.api.testing import api_client
from yilian.core.permissions import Role
from yilian.insurance import services
from yilian.insurance.models import Settlement

pytestmark = pytest.mark.django_db

FULL = ("officer", "office", "regulator", "hospital_admin")


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def users(iw) -> dict:
    if not hasattr(iw, "users"):
        iw.users = _users(iw)
    return iw.users


def _users(iw) -> dict:
    return {
        "officer": iw.officer,
        "office": iw.world.office,
        "regulator": iw.world.regulator,
        "hospital_admin": iw.world.hospital_admin,
        "township_admin": iw.world.township_admin,
        "outsider_admin": user_with_role(
            Role.INSTITUTION_ADMIN, username="outsider_admin", institution=iw.world.outsider
        ),
        "hospital_doctor": iw.world.hospital_doctor,
    }


@pytest.fixture
def frozen(iw) -> Settlement:
    return services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def cells(content: bytes) -> dict[str, list[tuple]]:
    workbook = load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}


def others(settlement: Settlement, own_institution_id: int) -> list:
    """The shares of every member but ``own_institution_id``."""
    return list(settlement.shares.exclude(institution_id=own_institution_id))


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("officer", 200),
        ("office", 200),
        ("regulator", 200),
        ("hospital_admin", 200),
        ("township_admin", 200),
        ("outsider_admin", 404),
        ("hospital_doctor", 404),
    ],
)
def test_settlement_page_pdf_excel_and_api_matrix(iw, frozen, who, status):
    user = users(iw)[who]
    client, api = client_for(user), api_client(user)
    base = f"/insurance/settlements/{frozen.public_id}/"
    answers = {
        "page": client.get(base),
        "pdf": client.get(base + "report.pdf"),
        "xlsx": client.get(base + "report.xlsx"),
        "api": api.get(f"/api/v1/settlements/{frozen.public_id}"),
        "api_pdf": api.get(f"/api/v1/settlements/{frozen.public_id}.pdf"),
        "api_xlsx": api.get(f"/api/v1/settlements/{frozen.public_id}.xlsx"),
        "api_versions": api.get(f"/api/v1/budgets/{iw.budget.public_id}/settlements"),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, status)
    if status != 200:
        return
    full = who in FULL
    assert answers["page"].context["full"] is full
    assert answers["api"].json()["full_report"] is full
    assert answers["api_versions"].json()["results"][0]["full_report"] is full
    sheets = cells(answers["xlsx"].content)
    assert ("月度" in sheets) is full
    assert len(sheets["分配"]) - 1 == (3 if full else 1)
    assert len(answers["api"].json()["shares"]) == (3 if full else 1)
    # The API's PDF and Excel are the UI's.
    assert pdf_text(answers["api_pdf"].content) == pdf_text(answers["pdf"].content)
    assert cells(answers["api_xlsx"].content) == sheets


def test_member_admins_reports_hold_no_other_members_names_or_amounts(iw, frozen):
    township = iw.world.township
    own = frozen.shares.get(institution=township)
    rest = others(frozen, township.pk)
    assert rest and all(share.amount != own.amount for share in rest)
    client = client_for(iw.world.township_admin)
    base = f"/insurance/settlements/{frozen.public_id}/"

    text = pdf_text(client.get(base + "report.pdf").content)
    assert township.name in text and f"{own.amount:,.2f}" in text
    for share in rest:
        # The lead hospital's name is also the start of the consortium's name in the title.
        assert f"{share.institution_name} ·" not in text and f"{share.amount:,.2f}" not in text
    for hidden in ("三、结算方案参数", "支出去向", "基金承担", "不合理费用", "结余留用比例"):
        assert hidden not in text
    assert f"{frozen.pool:,.2f}" in text and f"{frozen.result:,.2f}" in text
    assert "医共体所得" not in text

    sheets = cells(client.get(base + "report.xlsx").content)
    assert list(sheets) == ["汇总", "分配"]
    values = [value for rows in sheets.values() for row in rows for value in row if value is not None]
    assert township.name in values and own.amount in values
    for share in rest:
        assert share.institution_name not in values and share.amount not in values
    assert not any(
        isinstance(value, str) and ("医共体所得" in value or "基金承担" in value) for value in values
    )
    summary = {row[0]: row[1] for row in sheets["汇总"]}
    assert summary["医共体基金池"] == frozen.pool and summary["结余（负数为超支）"] == frozen.result
    assert "基金承担" not in summary and "打包比例" not in summary

    answer = api_client(iw.world.township_admin).get(f"/api/v1/settlements/{frozen.public_id}").json()
    assert answer["figures"] == {"consortium_name": "霍邱县人民医院医共体", "year": 2026}
    assert answer["consortium_amount"] is None and answer["fund_amount"] is None
    assert Decimal(answer["pool"]) == frozen.pool
    serialised = str({key: value for key, value in answer.items() if key != "figures"})
    for share in rest:
        assert share.institution_name not in serialised and str(share.amount) not in serialised
        assert str(share.institution.public_id) not in serialised
    versions = api_client(iw.world.township_admin).get(f"/api/v1/budgets/{iw.budget.public_id}/settlements")
    row = versions.json()["results"][0]
    assert row["consortium_amount"] is None and row["fund_amount"] is None
    assert Decimal(row["pool"]) == frozen.pool


@pytest.mark.parametrize("who", FULL)
def test_full_readers_keep_every_member_and_the_monthly_sheet(iw, frozen, who):
    client = client_for(users(iw)[who])
    base = f"/insurance/settlements/{frozen.public_id}/"
    text = pdf_text(client.get(base + "report.pdf").content)
    sheets = cells(client.get(base + "report.xlsx").content)
    values = [value for rows in sheets.values() for row in rows for value in row if value is not None]
    for share in frozen.shares.all():
        assert f"{share.institution_name} ·" in text and f"{share.amount:,.2f}" in text
        assert share.institution_name in values and share.amount in values
    assert list(sheets) == ["汇总", "月度", "分配"] and "三、结算方案参数" in text
    answer = api_client(users(iw)[who]).get(f"/api/v1/settlements/{frozen.public_id}").json()
    assert Decimal(answer["consortium_amount"]) == frozen.consortium_amount
    assert "monthly" in answer["figures"] and "parameters" in answer["figures"]


def test_a_member_admin_of_two_members_sees_both_shares_only(iw, frozen):
    both = user_with_role(Role.INSTITUTION_ADMIN, username="two_members", institution=iw.world.township)
    Membership.objects.create(user=both, role=Role.INSTITUTION_ADMIN, institution=iw.village)
    sheets = cells(client_for(both).get(f"/insurance/settlements/{frozen.public_id}/report.xlsx").content)
    assert sorted(row[0] for row in sheets["分配"][1:]) == sorted([iw.world.township.name, iw.village.name])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("officer", 200),
        ("office", 200),
        ("regulator", 200),
        ("hospital_admin", 200),
        ("township_admin", 403),
        ("outsider_admin", 404),
    ],
)
def test_budget_page_and_its_exports_follow_one_policy(iw, who, status):
    user = users(iw)[who]
    client, api = client_for(user), api_client(user)
    budget = f"/insurance/budgets/{iw.budget.public_id}/"
    answers = {
        "page": client.get(budget),
        "monthly_xlsx": client.get(budget + "monthly.xlsx"),
        "api": api.get(f"/api/v1/budgets/{iw.budget.public_id}"),
        "api_monthly": api.get(f"/api/v1/budgets/{iw.budget.public_id}/monthly"),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, status)


@pytest.mark.parametrize(
    ("who", "full"),
    [("officer", True), ("office", True), ("hospital_admin", True), ("township_admin", False)],
)
def test_budget_list_api_leaves_out_the_budget_pages_figures_for_member_admins(
    iw, who, full, django_assert_max_num_queries
):
    iw.budget.deductions.create(name="风险调剂金", amount=Decimal("1000.00"))
    type(iw.budget).objects.filter(pk=iw.budget.pk).update(notes="内部说明")
    client = api_client(users(iw)[who])
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/budgets")
    (row,) = response.json()["results"]
    assert row["full_report"] is full
    assert bool(row["headcounts"]) is full and bool(row["deductions"]) is full
    assert (row["notes"] == "内部说明") is full
    assert row["consortium_share"] == "0.9500"
