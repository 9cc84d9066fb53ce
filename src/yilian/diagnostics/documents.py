"""Diagnostic documents: the report PDF for the patient and the specimen barcode label.

Both use the standard CJK font STSong-Light (Adobe-GB1), which PDF viewers
supply, so Chinese renders with no CJK font installed. The patient's ID
number is never printed.
"""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from yilian.diagnostics.models import DiagnosticOrder, DiagnosticReport
from yilian.people.services import age_on

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
LABEL_SIZE = (50 * mm, 30 * mm)


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Break text into lines no wider than ``width`` points (character by character: Chinese has no spaces)."""
    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        line = ""
        for char in paragraph:
            if pdfmetrics.stringWidth(line + char, FONT, size) > width:
                lines.append(line)
                line = char
            else:
                line += char
        lines.append(line)
    return lines


def _name(user: object | None) -> str:
    if user is None:
        return "—"
    return getattr(user, "full_name", "") or user.get_username()  # type: ignore[attr-defined]


def _when(value: object) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"  # type: ignore[arg-type]


def report_pdf(order: DiagnosticOrder, report: DiagnosticReport) -> bytes:
    """The printable report: patient, item, centre, findings, conclusion, signers, version, amendment note."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{order.number} {order.item_name}")
    left, right = 18 * mm, A4[0] - 18 * mm
    y = A4[1] - 22 * mm

    def need(height: float) -> None:
        nonlocal y
        if y - height < 20 * mm:
            canvas.showPage()
            y = A4[1] - 20 * mm

    def text(value: str, size: float = 10.5, x: float = left) -> None:
        nonlocal y
        for line in _wrap(value, right - x, size):
            need(size * 1.6)
            canvas.setFont(FONT, size)
            canvas.drawString(x, y, line)
            y -= size * 1.6

    def heading(value: str) -> None:
        nonlocal y
        need(12 * mm)
        y -= 3 * mm
        canvas.setFont(FONT, 12)
        canvas.drawString(left, y, value)
        canvas.setLineWidth(0.5)
        canvas.line(left, y - 1.5 * mm, right, y - 1.5 * mm)
        y -= 7 * mm

    canvas.setFont(FONT, 16)
    canvas.drawCentredString(A4[0] / 2, y, order.centre.name)
    y -= 8 * mm
    canvas.setFont(FONT, 13)
    canvas.drawCentredString(A4[0] / 2, y, _("{item} 报告单").format(item=order.item_name))
    y -= 10 * mm
    person = order.person
    age = age_on(person)
    text(
        _("姓名：{name}　性别：{gender}　年龄：{age}　申请单号：{number}").format(
            name=person.name,
            gender=person.get_gender_display(),
            age=f"{age}" if age is not None else "—",
            number=order.number,
        )
    )
    text(
        _("开单机构：{institution}　开单医生：{doctor}　开单时间：{ordered}").format(
            institution=order.ordering_institution.name,
            doctor=_name(order.ordering_doctor),
            ordered=_when(order.ordered_at),
        )
    )
    text(_("临床诊断：{code} {name}").format(code=order.diagnosis_code, name=order.diagnosis_name))
    heading(_("检查所见"))
    text(report.findings or "—")
    heading(_("诊断意见"))
    text(report.conclusion or "—")
    if report.is_abnormal:
        text(_("（结果异常）"))
    heading(_("签发"))
    text(
        _("报告医生：{doctor}　签发时间：{when}").format(
            doctor=_name(report.author), when=_when(report.signed_at)
        )
    )
    if report.second_reader_id:
        text(
            _("审核医生：{doctor}　审核时间：{when}").format(
                doctor=_name(report.second_reader), when=_when(report.second_signed_at)
            )
        )
    text(_("报告版本：第 {version} 版").format(version=report.version))
    if report.amendment_reason:
        text(_("修订说明：{reason}").format(reason=report.amendment_reason))
    need(12 * mm)
    canvas.setFont(FONT, 8.5)
    canvas.drawString(left, 14 * mm, _("本报告仅供临床参考；在医联体结果互认范围及有效期内可互认。"))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def label_pdf(order: DiagnosticOrder) -> bytes:
    """A 50×30 mm specimen label: the Code 128 barcode, its digits, patient name, item and order number."""
    if not order.barcode:
        raise ValueError("order has no barcode")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LABEL_SIZE)
    canvas.setTitle(order.barcode)
    width, height = LABEL_SIZE
    barcode = Code128(order.barcode, barHeight=11 * mm, barWidth=0.26 * mm, quiet=False)
    barcode.drawOn(canvas, max((width - barcode.width) / 2, 1 * mm), height - 14 * mm)
    canvas.setFont("Helvetica", 7)
    canvas.drawCentredString(width / 2, height - 17 * mm, order.barcode)
    canvas.setFont(FONT, 7.5)
    canvas.drawString(2 * mm, 8 * mm, f"{order.person.name}  {order.item_name}"[:24])
    canvas.drawString(2 * mm, 4 * mm, f"{order.number}  {order.item.specimen}"[:30])
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
