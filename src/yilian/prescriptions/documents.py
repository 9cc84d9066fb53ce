"""Printable prescription (处方笺, A5 PDF) and the Excel exports of the formulary gap and stock lists.

The workbooks are written in openpyxl's write-only mode: rows stream out, and only header cells are styled."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from yilian.core.pdf import set_document_info
from yilian.core.text import join_list
from yilian.people.identifiers import mask_name
from yilian.people.services import age_on
from yilian.prescriptions.choices import PrescriptionKind, PrescriptionStatus
from yilian.prescriptions.models import Prescription, PrescriptionItem

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

KIND_MARKS = {PrescriptionKind.LONG: "长处方", PrescriptionKind.EXTENDED: "延伸处方"}
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F6F8B")
HEADER_ALIGNMENT = Alignment(horizontal="center")
CHRONIC_FILL = PatternFill("solid", fgColor="FDE2E1")


def prescription_pdf(
    prescription: Prescription, items: list[PrescriptionItem], *, show_patient: bool
) -> bytes:
    """The prescription slip on A5: institution, kind mark (长处方 / 延伸处方 in a box), number, patient,
    diagnosis, Rp. items with dose, frequency, route, days and quantity, prescriber and validity. A voided
    prescription is stamped 作废. Returns PDF bytes.

    The slip is a Chinese document whatever the reader's page language: its labels are Chinese, so the
    values from choices (sex, insurance scheme, frequency, route…) are rendered in Chinese too — not
    "性别：Female"."""
    with translation.override("zh-hans"):
        return _prescription_slip(prescription, items, show_patient=show_patient)


def _prescription_slip(
    prescription: Prescription, items: list[PrescriptionItem], *, show_patient: bool
) -> bytes:
    buffer = io.BytesIO()
    width, height = A5
    canvas = Canvas(buffer, pagesize=A5, invariant=True)
    # No patient data in the document information: readers and indexes show it outside the page.
    set_document_info(
        canvas,
        title=f"处方笺 {prescription.number}",
        author=prescription.institution.name,
        subject=f"处方笺 · {KIND_MARKS.get(prescription.kind, '普通处方')}",
    )
    left, right = 12 * mm, width - 12 * mm
    y = height - 16 * mm
    canvas.setFont(FONT, 13)
    canvas.drawCentredString(width / 2, y, prescription.institution.name)
    y -= 8 * mm
    canvas.setFont(FONT, 16)
    canvas.drawCentredString(width / 2, y, "处 方 笺")
    mark = KIND_MARKS.get(prescription.kind)
    if mark:
        canvas.setFont(FONT, 11)
        box = pdfmetrics.stringWidth(mark, FONT, 11) + 4 * mm
        canvas.rect(right - box, y - 2 * mm, box, 8 * mm)
        canvas.drawString(right - box + 2 * mm, y, mark)
    y -= 9 * mm
    canvas.setFont(FONT, 9)
    canvas.drawString(left, y, f"处方编号：{prescription.number}")
    canvas.drawRightString(right, y, f"开具日期：{prescription.prescribed_on:%Y-%m-%d}")
    y -= 5 * mm
    canvas.line(left, y, right, y)
    y -= 6 * mm
    person = prescription.person
    name = person.name if show_patient else mask_name(person.name)
    age = age_on(person, prescription.prescribed_on)
    canvas.drawString(left, y, f"姓名：{name}")
    canvas.drawString(left + 45 * mm, y, f"性别：{person.get_gender_display()}")
    canvas.drawString(left + 75 * mm, y, f"年龄：{age if age is not None else '—'} 岁")
    y -= 6 * mm
    department = prescription.department.name if prescription.department_id else "—"
    canvas.drawString(left, y, f"科别：{department}")
    canvas.drawString(left + 45 * mm, y, f"医保类型：{person.get_insurance_scheme_display() or '—'}")
    y -= 6 * mm
    canvas.drawString(left, y, f"临床诊断：{prescription.diagnosis_name}（{prescription.diagnosis_code}）")
    y -= 5 * mm
    canvas.line(left, y, right, y)
    y -= 9 * mm
    canvas.setFont(FONT, 16)
    canvas.drawString(left, y, "Rp.")
    y -= 8 * mm
    for index, item in enumerate(items, start=1):
        drug = item.drug
        canvas.setFont(FONT, 10)
        canvas.drawString(left + 4 * mm, y, f"{index}. {drug.name}  {drug.strength}  {drug.package_label}")
        canvas.drawRightString(right, y, f"× {item.quantity}{drug.package_unit}")
        y -= 5 * mm
        canvas.setFont(FONT, 9)
        canvas.drawString(
            left + 8 * mm,
            y,
            f"用法：每次 {item.dose.normalize():f}{drug.dose_unit}  {item.get_frequency_display()}  "
            f"{item.get_route_display()}  共 {item.days} 天",
        )
        if item.delivered_by_consortium:
            canvas.drawRightString(right, y, "医联体配送")
        y -= 8 * mm
    if prescription.kind == PrescriptionKind.EXTENDED and prescription.source_id:
        canvas.setFont(FONT, 9)
        source = prescription.source
        canvas.drawString(
            left,
            y,
            f"延续原处方：{source.number}（{source.institution.name}，{source.prescribed_on:%Y-%m-%d}）",
        )
        y -= 6 * mm
    canvas.setFont(FONT, 9)
    canvas.drawString(left, 30 * mm, f"有效期至：{prescription.valid_until:%Y-%m-%d}")
    if prescription.note:
        canvas.drawString(left, 36 * mm, f"备注：{prescription.note[:60]}")
    canvas.line(left, 26 * mm, right, 26 * mm)
    canvas.drawString(left, 20 * mm, f"医师：{prescription.prescriber_name}")
    canvas.drawString(left + 45 * mm, 20 * mm, "审核药师：")
    canvas.drawString(left + 85 * mm, 20 * mm, "调配/核对：")
    canvas.setFont(FONT, 7)
    canvas.drawString(left, 12 * mm, f"打印时间：{timezone.localtime():%Y-%m-%d %H:%M}")
    if prescription.status == PrescriptionStatus.VOIDED:
        canvas.saveState()
        canvas.setFillColorRGB(0.8, 0.1, 0.1)
        canvas.setFont(FONT, 48)
        canvas.translate(width / 2, height / 2)
        canvas.rotate(30)
        canvas.drawCentredString(0, 0, "作废")
        canvas.restoreState()
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _sheet(
    workbook: Workbook, title: str, header: list[str], widths: list[int] | None = None, *, freeze: str = "A2"
) -> Any:
    """A write-only sheet with its styled header row, frozen below the header. Only the header cells are
    styled: per-cell styles on hundreds of thousands of cells made the gap export take minutes. The panes
    are frozen here because a write-only sheet writes its view with the first row."""
    sheet = workbook.create_sheet(title[:31])
    for index, label in enumerate(header, start=1):
        width = widths[index - 1] if widths else max(10, min(40, len(str(label)) * 2 + 6))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = freeze
    cells = []
    for label in header:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGNMENT
        cells.append(cell)
    sheet.append(cells)
    return sheet


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def gap_workbook(
    consortium: Any,
    gaps: list[Any],
    drugs: list[Any],
    missing: dict[int, set[int]],
    category_label: Any,
) -> bytes:
    """The gap report as .xlsx, in two sheets. 缺口汇总: one row per member with the figures of the page.
    缺少的药品: one row per reference-list drug that at least one member lacks (chronic-disease drugs first
    and highlighted), how many members lack it, then one column per member marked 缺 where that member
    lacks it — filter a member's column to get its list. ``drugs`` and ``missing`` (member institution id
    → ids of the drugs it lacks) come from ``selectors.missing_by_member``.

    One sheet per member listing its missing drugs made 271 sheets and 345 000 rows for a county community
    of village clinics, which each lack nearly the whole list; the grid holds the same in a row per drug."""
    workbook = Workbook(write_only=True)
    summary = _sheet(
        workbook,
        _("缺口汇总"),
        [
            _("机构"),
            _("基准目录药品数"),
            _("已配备"),
            _("缺少"),
            _("缺少慢病用药"),
            _("覆盖率"),
            _("本地增补"),
            _("未衔接"),
            _("缺口最多的类别"),
        ],
        [30, 14, 10, 10, 14, 10, 10, 10, 40],
    )
    for gap in gaps:
        summary.append(
            [
                gap.institution.name,
                gap.reference,
                gap.reference - gap.missing,
                gap.missing,
                gap.missing_chronic,
                gap.coverage_percent,
                gap.local_additions,
                gap.unaligned,
                join_list(f"{category_label(k)} {v}" for k, v in list(gap.missing_by_category.items())[:3]),
            ]
        )
    members = [gap.institution for gap in gaps]
    fixed = [
        _("医保药品代码"),
        _("通用名"),
        _("规格"),
        _("剂型"),
        _("类别"),
        _("慢病用药"),
        _("国家基本药物"),
        _("缺少的机构数"),
    ]
    grid = _sheet(
        workbook,
        _("缺少的药品"),
        fixed + [member.short_name or member.name for member in members],
        [26, 24, 12, 10, 12, 10, 12, 12] + [12] * len(members),
        freeze="C2",
    )
    last_row = len(drugs) + 1
    last_column = get_column_letter(len(fixed) + len(members))
    grid.auto_filter.ref = f"A1:{last_column}{last_row}"
    # One conditional format for the whole grid instead of a fill on each cell of each chronic row.
    # With nothing lacking (e.g. the lead hospital's own staff, whose list is the reference) there is no
    # row 2, and openpyxl refuses the backwards range "A2:…1" — so the empty grid gets no format.
    if drugs:
        grid.conditional_formatting.add(
            f"A2:{last_column}{last_row}", FormulaRule(formula=['$F2<>""'], fill=CHRONIC_FILL)
        )
    lacking = [missing.get(member.pk, set()) for member in members]
    yes, mark = _("是"), _("缺")
    for drug in drugs:
        marks = [mark if drug.pk in ids else None for ids in lacking]
        grid.append(
            [
                drug.code,
                drug.name,
                drug.strength,
                drug.get_dosage_form_display(),
                category_label(drug.category),
                yes if drug.is_chronic else "",
                yes if drug.is_essential else "",
                sum(1 for value in marks if value),
                *marks,
            ]
        )
    return _save(workbook)


def stock_workbook(institution: Any, rows: list[Any]) -> bytes:
    """An institution's stock list as .xlsx in the import template's columns (it can be edited and re-imported)."""
    workbook = Workbook(write_only=True)
    sheet = _sheet(
        workbook,
        _("机构药品目录"),
        ["医保药品代码", "通用名", "本地增补", _("规格"), _("剂型"), _("类别"), _("慢病用药")],
    )
    for row in rows:
        sheet.append(
            [
                row.drug.code,
                row.drug.name,
                "是" if row.is_local_addition else "否",
                row.drug.strength,
                row.drug.get_dosage_form_display(),
                row.drug.get_category_display(),
                _("是") if row.drug.is_chronic else "",
            ]
        )
    return _save(workbook)
