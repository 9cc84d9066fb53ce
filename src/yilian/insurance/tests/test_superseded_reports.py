"""A superseded settlement version's PDF and Excel say which version replaced it and when, so a reader of an old
file can tell it is not the settlement in force; the version in force carries no such line."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from yilian.core.api.testing import api_client
from yilian.insurance import services
from yilian.insurance.models import GlobalBudget, Settlement

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def _pdf_text(content: bytes) -> str:
    # The title block's lines; pypdf may break a long line, so join without separators.
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).replace("\n", "")


def _summary(content: bytes) -> dict[Any, Any]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return {row[0].value: row[1].value for row in sheet.iter_rows(max_col=2)}


def _freeze(iw: Any, rule: Any) -> Settlement:
    return services.settlement_freeze(
        actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), rule=rule
    )


def _when(settlement: Settlement) -> str:
    return timezone.localtime(settlement.frozen_at).strftime("%Y-%m-%d %H:%M")


def test_a_superseded_versions_pdf_and_excel_name_the_version_that_replaced_it(iw):
    v1 = _freeze(iw, iw.rule)
    officer = _client(iw.officer)
    pdf_url = f"/insurance/settlements/{v1.public_id}/report.pdf"
    xlsx_url = f"/insurance/settlements/{v1.public_id}/report.xlsx"
    # In force: no status line.
    assert "取代" not in _pdf_text(officer.get(pdf_url).content)
    before = _summary(officer.get(xlsx_url).content)
    assert "状态" not in before

    v2 = _freeze(iw, iw.rule_433)
    text = _pdf_text(officer.get(pdf_url).content)
    assert f"已被第2版取代（第2版冻结于{_when(v2)}）" in text and "本版本不再生效" in text
    after = _summary(officer.get(xlsx_url).content)
    assert after["状态"].startswith(f"已被第2版取代（第2版冻结于{_when(v2)}）")
    # The figures are as frozen: only the status row is new.
    assert {k: v for k, v in after.items() if k != "状态"} == before

    # The version in force says nothing of the kind; a third version names the latest on the first.
    assert "取代" not in _pdf_text(officer.get(f"/insurance/settlements/{v2.public_id}/report.pdf").content)
    assert "状态" not in _summary(officer.get(f"/insurance/settlements/{v2.public_id}/report.xlsx").content)
    _freeze(iw, iw.rule)
    assert "已被第2版取代" in _summary(officer.get(xlsx_url).content)["状态"]
    assert "最新为第3版" in _summary(officer.get(xlsx_url).content)["状态"]


def test_the_api_reports_and_a_member_administrators_reports_say_so_too(iw):
    v1 = _freeze(iw, iw.rule)
    v2 = _freeze(iw, iw.rule_433)
    client = api_client(iw.officer)
    pdf = client.get(f"/api/v1/settlements/{v1.public_id}.pdf")
    assert pdf.status_code == 200 and f"已被第2版取代（第2版冻结于{_when(v2)}）" in _pdf_text(pdf.content)
    xlsx = client.get(f"/api/v1/settlements/{v1.public_id}.xlsx")
    assert xlsx.status_code == 200 and "已被第2版取代" in _summary(xlsx.content)["状态"]

    member = _client(iw.world.township_admin)
    short_pdf = member.get(f"/insurance/settlements/{v1.public_id}/report.pdf")
    assert short_pdf.status_code == 200 and "已被第2版取代" in _pdf_text(short_pdf.content)
    short_xlsx = member.get(f"/insurance/settlements/{v1.public_id}/report.xlsx")
    assert short_xlsx.status_code == 200 and "已被第2版取代" in _summary(short_xlsx.content)["状态"]


def test_a_reopened_then_superseded_version_says_both(iw):
    v1 = _freeze(iw, iw.rule)
    services.settlement_reopen(actor=iw.officer, settlement=v1, reason="扣除项漏填")
    _freeze(iw, iw.rule)
    status = _summary(_client(iw.officer).get(f"/insurance/settlements/{v1.public_id}/report.xlsx").content)[
        "状态"
    ]
    assert "已重新开放" in status and "扣除项漏填" in status and "已被第2版取代" in status
