"""The settlement workbook: the summary sheet holds numbers (summable), formatted like the monthly sheet."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from yilian.insurance import services
from yilian.insurance.documents import MONEY_FORMAT

pytestmark = pytest.mark.django_db


def test_settlement_summary_sheet_holds_numbers(iw):
    settlement = services.settlement_freeze(actor=iw.officer, budget=iw.budget, rule=iw.rule)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(iw.world.office)
    response = client.get(f"/insurance/settlements/{settlement.public_id}/report.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    summary = {row[0].value: row[1] for row in workbook.worksheets[0].iter_rows(min_row=1, max_col=2)}
    pool = summary["医共体基金池"]
    assert isinstance(pool.value, (int, float)) and Decimal(str(pool.value)) == settlement.pool
    assert pool.number_format == MONEY_FORMAT
    for label in (
        "计入支出合计",
        "结余（负数为超支）",
        "起付线差价补贴",
        "医共体所得（负数为承担）",
        "县域外",
    ):
        assert isinstance(summary[label].value, (int, float)), label
        assert summary[label].number_format == MONEY_FORMAT, label
    assert Decimal(str(summary["计入支出合计"].value)) == settlement.spent == Decimal("350000.00")
    assert Decimal(str(summary["县域外"].value)) == Decimal("40000.00")
    # Rates are numbers too; the name and the tier ratio stay text.
    assert Decimal(str(summary["结余留用比例 α"].value)) == Decimal("1")
    assert summary["牵头医院 : 乡镇卫生院 : 村卫生室"].value == "6 : 3 : 1"
    assert summary["年度"].value == 2026
