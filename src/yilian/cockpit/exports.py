"""Excel exports of the cockpit pages: every table on the page as a sheet."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from yilian.cockpit.selectors import Card, Cockpit, RegulatorView

COLOURS = {"green": gettext_lazy("绿"), "yellow": gettext_lazy("黄"), "red": gettext_lazy("红")}


def _header(sheet: Worksheet, titles: list[str]) -> None:
    sheet.append(titles)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


def _colour(code: str) -> str:
    return str(COLOURS[code]) if code in COLOURS else ""


def _number(value: Decimal | None) -> Any:
    return "" if value is None else value


def _card_row(card: Card) -> list[Any]:
    return [
        card.indicator.code,
        card.indicator.display_name,
        card.indicator.display_unit,
        _number(card.value),
        _number(card.indicator.target),
        _colour(card.colour),
        _number(card.previous_value),
        _number(card.change),
    ]


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _map_sheet(workbook: Workbook, data: dict[str, Any] | None) -> None:
    if not data:
        return
    sheet = workbook.create_sheet(_("地图"))
    _header(sheet, [_("区划代码"), _("区划"), data["indicator"]["name"], _("颜色")])
    for row in data["rows"]:
        sheet.append(
            [row["code"], row["name"], "" if row["value"] is None else row["value"], _colour(row["colour"])]
        )


def cockpit_workbook(view: Cockpit) -> bytes:
    """The cockpit as Excel: key figures, the 12-month trend, the member rankings and the township map values."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("关键指标")
    sheet.append([_("医联体"), view.consortium.name])
    sheet.append([_("统计单元"), view.unit_name])
    sheet.append([_("周期"), view.period.label if view.period else ""])
    _header(
        sheet,
        [
            _("指标编码"),
            _("指标"),
            _("单位"),
            _("指标值"),
            _("目标值"),
            _("颜色"),
            _("上年同期"),
            _("同比变化"),
        ],
    )
    for card in view.cards:
        sheet.append(_card_row(card))
    trend = workbook.create_sheet(_("趋势"))
    _header(trend, [_("指标"), *view.trend["months"]])
    for series in view.trend["series"]:
        trend.append([series["name"], *("" if value is None else value for value in series["values"])])
    if view.rankings:
        ranking = workbook.create_sheet(_("成员排名"))
        _header(ranking, [_("指标"), _("名次"), _("成员单位"), _("指标值"), _("颜色")])
        for table in view.rankings:
            for row in table.rows:
                ranking.append(
                    [
                        table.indicator.display_name,
                        row.rank,
                        row.name,
                        _number(row.value),
                        _colour(row.colour),
                    ]
                )
    _map_sheet(workbook, view.map)
    return _save(workbook)


def regulator_workbook(view: RegulatorView) -> bytes:
    """The regulator's view as Excel: consortia × key indicators, and the region map values."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("医联体对比")
    sheet.append([_("行政区划"), view.region_name])
    sheet.append([_("周期"), view.period.label if view.period else ""])
    _header(sheet, [_("医联体"), *(indicator.display_name for indicator in view.indicators)])
    for row in view.rows:
        sheet.append([row.consortium.name, *(_number(card.value) for card in row.cards)])
    _map_sheet(workbook, view.map)
    return _save(workbook)
