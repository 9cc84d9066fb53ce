"""The annual outreach report as an Excel workbook (the seeds' report form, one row per member)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from yilian.outreach.selectors import REPORT_COLUMNS, ReportRow


def report_workbook(rows: Sequence[ReportRow], *, year: int, title: str = "") -> bytes:
    """One sheet: a title line, the headers, a row per member and the total row (the last of ``rows``)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("%(year)s年专家下沉") % {"year": year}
    heading = _("%(year)s年度专家下沉与能力建设工作统计") % {"year": year}
    if title:
        heading = f"{title} {heading}"
    headers = [_("成员单位"), *[str(label) for _key, label in REPORT_COLUMNS]]
    sheet.append([heading])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    sheet.append([_("生成时间：%(time)s") % {"time": f"{timezone.localtime():%Y-%m-%d %H:%M}"}])
    sheet.append(headers)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for column in range(1, len(headers) + 1):
        cell = sheet.cell(row=3, column=column)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for row in rows:
        name = row.institution_name or _("合计")
        sheet.append([name, *[row.get(key) for key, _label in REPORT_COLUMNS]])
        if not row.institution_name:
            for column in range(1, len(headers) + 1):
                sheet.cell(row=sheet.max_row, column=column).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 28
    for column in range(2, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 11
    sheet.row_dimensions[3].height = 45
    sheet.freeze_panes = "B4"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
