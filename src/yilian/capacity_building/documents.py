"""Capacity-building workbooks: the yearly figures per member (the seeds' report form) and a course's sign-in sheet."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from yilian.capacity_building.selectors.statistics import CapacityCounts, StatisticsReport

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _sheet(
    workbook: Workbook, title: str, header: list[str], rows: list[list[Any]], *, first: bool = False
) -> Any:
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for row in rows:
        sheet.append(row)
    for index, label in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(str(label)) * 2 + 4))
    sheet.freeze_panes = "A2"
    return sheet


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def figure_columns() -> list[tuple[str, str]]:
    """(CapacityCounts field, column heading) in report order."""
    return [
        ("courses", _("培训期数")),
        ("course_person_times", _("培训人次")),
        ("course_trainees", _("培训人数")),
        ("fellows_started", _("进修开始人数")),
        ("fellows_completed", _("进修结业人数")),
        ("techniques_introduced", _("新技术新项目（项）")),
        ("devices_donated", _("捐赠设备（台）")),
        ("devices_lent", _("借用设备（台）")),
        ("maintenance_completed", _("维修完成（次）")),
    ]


def _values(counts: CapacityCounts) -> list[int]:
    return [getattr(counts, name) for name, _label in figure_columns()]


def statistics_workbook(report: StatisticsReport) -> bytes:
    """The year's figures per member with a total row, and the courses by kind, as an .xlsx."""
    workbook = Workbook()
    header = [_("成员单位"), _("角色")] + [label for _name, label in figure_columns()]
    body = [[row.institution.name, row.role, *_values(row.counts)] for row in report.rows]
    body.append([_("合计"), "", *_values(report.total)])
    _sheet(workbook, _("{year}年按成员单位").format(year=report.year), header, body, first=True)
    _sheet(
        workbook,
        _("按培训形式"),
        [_("培训形式"), pgettext("number of courses held", "期数"), _("人次"), _("学时")],
        [
            [str(row["label"]), row["sessions"], row["person_times"], float(row["hours"])]
            for row in report.by_kind
        ],
    )
    return _save(workbook)


def sign_in_workbook(course: Any, attendances: list[Any]) -> bytes:
    """A course's sign-in sheet as an .xlsx."""
    workbook = Workbook()
    rows = [
        [
            index,
            row.name,
            row.institution_name,
            _("账号") if row.user_id else _("外部人员"),
            timezone.localtime(row.signed_in_at).strftime("%Y-%m-%d %H:%M"),
        ]
        for index, row in enumerate(attendances, start=1)
    ]
    sheet = _sheet(
        workbook,
        _("签到表"),
        [_("序号"), _("姓名"), _("所在机构"), _("来源"), _("签到时间")],
        rows,
        first=True,
    )
    sheet.insert_rows(1)
    sheet["A1"] = _("%(name)s（%(title)s）") % {"name": course.title, "title": f"{course.starts_on:%Y-%m-%d}"}
    sheet["A1"].font = HEADER_FONT
    return _save(workbook)
