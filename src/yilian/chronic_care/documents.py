"""Excel export of the management rates (openpyxl, as ``referrals.documents``)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter


def rates_xlsx(*, title: str, rows: list[Any], total: Any, definitions: dict[str, Any]) -> bytes:
    """One sheet of rates (counts and percentages per group, then the total) and one of definitions."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("管理率")
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    header = [
        _("名称"),
        _("所属"),
        _("管理人数"),
        _("规范管理人数"),
        _("规范管理率（%）"),
        _("控制满意人数"),
        _("控制率（%）"),
        _("应随访次数"),
        _("按时随访次数"),
        _("随访及时率（%）"),
    ]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF7")
    for row in [*rows, total]:
        sheet.append(
            [
                row.label or _("合计"),
                row.parent,
                row.managed,
                row.standard,
                row.standard_rate,
                row.controlled,
                row.control_rate,
                row.due,
                row.on_time,
                row.on_time_rate,
            ]
        )
    for index, width in enumerate([28, 22, 10, 12, 14, 12, 10, 10, 12, 14], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    notes = workbook.create_sheet(_("指标定义"))
    for value in definitions.values():
        notes.append([str(value)])
    notes.column_dimensions["A"].width = 120
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
