"""Referral documents: the referral slip PDF with a QR code, the WS 445.16 data set, Excel workbooks.

The slip uses the standard CJK font STSong-Light (Adobe-GB1), which PDF
viewers supply, so Chinese renders on a machine with no CJK font installed
and nothing is embedded. The patient's ID number is never printed in full.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from yilian.people.identifiers import mask_name
from yilian.people.services import age_on
from yilian.referrals.choices import DepartmentGroup, Grade, RecoveryPhase, ReferralDirection
from yilian.referrals.models import Referral
from yilian.referrals.selectors import statistics

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

SLIP_TITLES = {
    ReferralDirection.UP: gettext_lazy("双向转诊单（上转）"),
    ReferralDirection.DOWN: gettext_lazy("双向转诊单（下转）"),
    ReferralDirection.LATERAL: gettext_lazy("转诊单（平转）"),
}


def _labelled(label: str, value: str = "") -> str:
    """A label and its value joined by the language's colon (full-width in Chinese, ": " in English)."""
    return f"{label}{pgettext('punctuation', '：')}{value}"


def _slip_title(referral: Referral) -> str:
    return str(SLIP_TITLES.get(referral.direction, _("转诊单")))


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Break text into lines no wider than ``width`` points (character by character, as Chinese has no spaces)."""
    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        line = ""
        for char in paragraph:
            if pdfmetrics.stringWidth(line + char, FONT, size) > width:
                # English breaks at the last space of the line rather than inside a word.
                head, space, tail = line.rpartition(" ")
                if space and head and char != " ":
                    lines.append(head)
                    line = tail + char
                else:
                    lines.append(line)
                    line = char.lstrip()
            else:
                line += char
        lines.append(line)
    return lines


class _Slip:
    """A small layout helper: writes labelled rows top-down and starts a new page when full."""

    left = 18 * mm
    right = A4[0] - 18 * mm

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.y = A4[1] - 20 * mm

    def need(self, height: float) -> None:
        if self.y - height < 20 * mm:
            self.canvas.showPage()
            self.y = A4[1] - 20 * mm

    def heading(self, text: str) -> None:
        self.need(10 * mm)
        self.y -= 4 * mm
        self.canvas.setFont(FONT, 11.5)
        self.canvas.drawString(self.left, self.y, text)
        self.canvas.setLineWidth(0.5)
        self.canvas.line(self.left, self.y - 1.5 * mm, self.right, self.y - 1.5 * mm)
        self.y -= 6 * mm

    def row(self, label: str, value: str, *, size: float = 10) -> None:
        label_width = 28 * mm
        lines = _wrap(value or "—", self.right - self.left - label_width, size)
        self.need(len(lines) * size * 1.45)
        self.canvas.setFont(FONT, size)
        self.canvas.drawString(self.left, self.y, _labelled(label))
        for line in lines:
            self.canvas.drawString(self.left + label_width, self.y, line)
            self.y -= size * 1.45
        self.y -= 1.2 * mm

    def pairs(self, items: list[tuple[str, str]], *, size: float = 10) -> None:
        """Two label/value pairs per line."""
        half = (self.right - self.left) / 2
        for index in range(0, len(items), 2):
            self.need(size * 1.6)
            self.canvas.setFont(FONT, size)
            for offset, (label, value) in enumerate(items[index : index + 2]):
                self.canvas.drawString(self.left + offset * half, self.y, _labelled(label, value or "—"))
            self.y -= size * 1.6


def _person_line(referral: Referral) -> list[tuple[str, str]]:
    person = referral.person
    age = age_on(person, referral.submitted_at.date() if referral.submitted_at else None)
    return [
        (_("姓名"), person.name),
        (_("性别"), person.get_gender_display()),
        (_("年龄"), pgettext("age in years", "%(age)s 岁") % {"age": age} if age is not None else ""),
        (_("身份证号"), person.id_number_masked),
        (_("联系电话"), person.phone),
        (_("参保类型"), person.get_insurance_scheme_display()),
    ]


def referral_slip_pdf(referral: Referral, *, verify_url: str) -> bytes:
    """The printable referral slip: both ends, patient (masked ID), diagnosis, summary, appointment, and a
    QR code of ``verify_url`` the receiving desk scans to open the referral. Returns PDF bytes."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"{_slip_title(referral)} {referral.number}")
    canvas.setAuthor(referral.from_institution.name)
    slip = _Slip(canvas)

    qr_size = 30 * mm
    widget = QrCodeWidget(verify_url)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, slip.right - qr_size, A4[1] - 14 * mm - qr_size)

    canvas.setFont(FONT, 18)
    canvas.drawString(slip.left, slip.y - 4 * mm, _slip_title(referral))
    canvas.setFont(FONT, 10)
    canvas.drawString(slip.left, slip.y - 12 * mm, _labelled(_("转诊单号"), referral.number))
    submitted = (
        timezone.localtime(referral.submitted_at).strftime("%Y-%m-%d %H:%M") if referral.submitted_at else ""
    )
    canvas.drawString(slip.left, slip.y - 18 * mm, _labelled(_("转诊日期"), submitted or _("草稿")))
    badges = f"{referral.get_kind_display()} · {referral.get_priority_display()}"
    if referral.inside_consortium:
        badges += f" · {_('医联体内转诊')}"
    canvas.drawString(slip.left, slip.y - 24 * mm, badges)
    slip.y -= 36 * mm

    slip.heading(_("患者信息"))
    slip.pairs(_person_line(referral))
    slip.heading(_("转出与接收"))
    doctor = referral.from_doctor.full_name if referral.from_doctor_id else ""
    slip.pairs(
        [
            (_("转出机构"), referral.from_institution.name),
            (_("转出科室"), referral.from_department.name if referral.from_department_id else ""),
            (_("转诊医生"), doctor),
            (_("联系电话"), referral.from_institution.phone),
            (_("接收机构"), referral.to_institution.name),
            (_("接收科室"), referral.to_department.name),
        ]
    )
    if referral.scheduled_for:
        slip.row(
            _("预约就诊"),
            f"{referral.scheduled_for:%Y-%m-%d}" + (_("（绿色通道预留号源）") if referral.booking_id else ""),
        )
    slip.heading(_("诊断与转诊原因"))
    slip.row(
        _("初步诊断"),
        _("%(name)s（ICD-10 %(code)s）") % {"name": referral.diagnosis_name, "code": referral.diagnosis_code},
    )
    slip.row(_("转诊原因"), referral.reason)
    if referral.recovery_phase:
        slip.row(_("下转阶段"), _phase_label(referral.recovery_phase))
    slip.heading(_("病情摘要"))
    for field_name in ("history", "exam_results", "medications", "procedures", "treatment", "plan"):
        slip.row(str(Referral._meta.get_field(field_name).verbose_name), getattr(referral, field_name))
    if referral.completed_at:
        slip.heading(_("接诊结果"))
        slip.row(_("诊断"), f"{referral.outcome_diagnosis_name} {referral.outcome_diagnosis_code}".strip())
        slip.row(_("诊疗经过"), referral.outcome_summary)
        slip.row(_("随访计划"), referral.follow_up_plan)
    slip.need(22 * mm)
    slip.y -= 8 * mm
    canvas.setFont(FONT, 10)
    canvas.drawString(slip.left, slip.y, _labelled(_("转出机构（盖章）")))
    canvas.drawString(slip.left + 90 * mm, slip.y, _labelled(_("医生签名")))
    slip.y -= 10 * mm
    canvas.setFont(FONT, 8.5)
    footer = _("请患者持本单及既往病历资料到接收科室就诊；扫描二维码可查看转诊单状态（需登录）。")
    for line in _wrap(footer, slip.right - slip.left, 8.5):
        canvas.drawString(slip.left, slip.y, line)
        slip.y -= 8.5 * 1.45
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _phase_label(value: str) -> str:
    return str(RecoveryPhase(value).label) if value in RecoveryPhase.values else value


def _organisation_code(credit_code: str) -> str:
    """The 9-character organisation code inside an 18-character unified credit code, as "XXXXXXXX-X"."""
    if len(credit_code) != 18:
        return ""
    body = credit_code[8:17]
    return f"{body[:8]}-{body[8]}"


def _element(identifier: str, name: str, value: Any) -> dict[str, Any]:
    return {"id": identifier, "name": name, "value": value if value not in ("", None) else None}


def referral_ws445(referral: Referral) -> dict[str, Any]:
    """The referral as the WS 445.16-2014 转诊（院）记录 data set: data elements with their DE identifiers.

    Institutions appear twice (转出 and 转入) as the standard repeats the
    elements; the ID number is not part of the set and is not exported.
    """
    person = referral.person
    region = person.address_region
    encounter = referral.encounter
    elements = [
        _element("DE01.00.009.00", "健康档案编号", None),
        _element("DE01.00.004.00", "病案号", encounter.his_number if encounter else None),
        _element("DE02.01.039.00", "姓名", person.name),
        _element("DE02.01.040.00", "性别代码", person.gender),
        _element(
            "DE02.01.005.01", "出生日期", person.birth_date.strftime("%Y%m%d") if person.birth_date else None
        ),
        _element("DE02.01.009.01", "地址", person.address or (region.name if region else None)),
        _element("DE02.01.010.00", "电话号码", person.phone),
        _element("DE08.10.013.00", "机构名称（转出）", referral.from_institution.name),
        _element(
            "DE08.10.052.00",
            "组织机构代码（转出）",
            _organisation_code(referral.from_institution.credit_code),
        ),
        _element(
            "DE08.10.026.00",
            "科室名称（转出）",
            referral.from_department.name if referral.from_department_id else None,
        ),
        _element("DE08.10.013.00", "机构名称（转入）", referral.to_institution.name),
        _element(
            "DE08.10.052.00", "组织机构代码（转入）", _organisation_code(referral.to_institution.credit_code)
        ),
        _element("DE08.10.026.00", "科室名称（转入）", referral.to_department.name),
        _element(
            "DE06.00.176.00",
            "转诊日期",
            timezone.localtime(referral.submitted_at).strftime("%Y%m%d") if referral.submitted_at else None,
        ),
        _element("DE06.00.177.00", "转诊原因", referral.reason),
        _element("DE02.10.026.00", "疾病史(含外伤)", referral.history[:100] or None),
        _element("DE05.01.025.00", "疾病诊断名称", referral.diagnosis_name),
        _element("DE05.01.024.00", "疾病诊断代码", referral.diagnosis_code),
        _element("DE04.30.015.04", "检查/检验项目名称（结果摘要）", referral.exam_results or None),
        _element("DE08.50.022.00", "药物名称（用药摘要）", referral.medications or None),
        _element("DE06.00.094.00", "手术/操作名称", referral.procedures or None),
        _element("DE06.00.087.00", "其他医学处置", referral.treatment[:200] or None),
        _element("DE06.00.159.00", "今后治疗方案", (referral.plan or referral.follow_up_plan)[:200] or None),
        _element(
            "DE02.01.039.00",
            "姓名（转诊医生）",
            referral.from_doctor.full_name if referral.from_doctor_id else None,
        ),
        _element(
            "DE02.01.039.00",
            "姓名（接诊医生）",
            referral.answered_by.full_name if referral.answered_by_id else None,
        ),
    ]
    return {
        "standard": "WS 445.16-2014",
        "title": "转诊（院）记录",
        "referral_number": referral.number,
        "direction": referral.direction,
        "status": referral.status,
        # Local time with its offset (+08:00), as every other time the product shows.
        "exported_at": timezone.localtime().isoformat(timespec="seconds"),
        "data_elements": elements,
    }


# --- Excel ---------------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")
GRADE_FILLS = {
    Grade.EXCELLENT: "C6EFCE",
    Grade.GOOD: "DDEBF7",
    Grade.FAIR: "FFF2CC",
    Grade.POOR: "F8CBAD",
}


def _sheet(
    workbook: Workbook, title: str, header: list[str], rows: list[list[Any]], *, first: bool = False
) -> Any:
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    for row in rows:
        sheet.append(row)
    for index, label in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(str(label)) * 2 + 4))
    sheet.freeze_panes = "A2"
    return sheet


def _grade_label(value: str) -> str:
    return str(Grade(value).label) if value in Grade.values else ""


def _colour_grades(sheet: Any, column: int) -> None:
    for row in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
        for cell in row:
            for grade, colour in GRADE_FILLS.items():
                if cell.value == str(grade.label):
                    cell.fill = PatternFill("solid", fgColor=colour)


def statistics_workbook(consortium: Any, first: datetime.date, last: datetime.date) -> bytes:
    """The referral statistics of a consortium and period as an .xlsx: summary, by month, up-referral
    rates of members, down-referral rates of lead-hospital departments (medicine and surgery apart).

    Sheet names and headers are in the request's language, as the page is (the grades already were)."""
    summary = statistics.referral_summary(consortium, first, last)
    workbook = Workbook()
    percent = lambda value: "" if value is None else value  # noqa: E731 — keeps empty cells empty
    _sheet(
        workbook,
        _("汇总"),
        [_("指标"), _("数值")],
        [
            [_("医联体"), consortium.name],
            [
                _("统计期间"),
                _("{first} 至 {last}").format(first=f"{first:%Y-%m-%d}", last=f"{last:%Y-%m-%d}"),
            ],
            [_("转诊总数"), summary.submitted],
            [_("上转"), summary.up],
            [_("下转"), summary.down],
            [_("平转"), summary.lateral],
            [_("医联体内转诊占比（%）"), percent(summary.inside_share)],
            [_("接收率（%）"), percent(summary.acceptance_rate)],
            [_("完成率（%）"), percent(summary.completion_rate)],
            [_("闭环率（%）"), percent(summary.closed_loop_rate)],
            [_("超时未响应"), summary.expired],
            [_("规范转诊率（符合标准，%）"), percent(summary.standard_rate)],
            [_("响应时间中位数（小时）"), percent(summary.response_hours_median)],
            [_("响应时间均值（小时）"), percent(summary.response_hours_mean)],
            [_("起付线差价补贴合计（元）"), float(summary.subsidy_total)],
        ],
        first=True,
    )
    _sheet(
        workbook,
        _("按月"),
        [_("月份"), _("转诊数"), _("上转"), _("下转"), _("已回传结果"), _("补贴（元）")],
        [
            [
                f"{row['month']:%Y-%m}",
                row["submitted"],
                row["up"],
                row["down"],
                row["completed"],
                float(row["subsidy"]),
            ]
            for row in summary.by_month
        ],
    )
    up_rows = statistics.up_referral_rates(consortium, first, last)
    sheet = _sheet(
        workbook,
        _("成员单位上转率"),
        [_("月份"), _("机构"), _("上转人次"), _("门急诊+入院人次"), _("上转率（%）"), _("等级"), _("排名")],
        [
            [
                f"{r.month:%Y-%m}",
                r.institution_name,
                r.referrals,
                r.denominator,
                percent(r.rate),
                _grade_label(r.grade),
                r.rank or "",
            ]
            for r in up_rows
        ],
    )
    _colour_grades(sheet, 6)
    down_rows = statistics.down_referral_rates(consortium, first, last)
    for group, title in (
        (DepartmentGroup.MEDICINE, _("内科系统下转率")),
        (DepartmentGroup.SURGERY, _("外科系统下转率")),
    ):
        sheet = _sheet(
            workbook,
            title,
            [
                _("月份"),
                _("机构"),
                _("科室"),
                _("下转人次"),
                _("出院人次"),
                _("下转率（%）"),
                _("等级"),
                _("排名"),
            ],
            [
                [
                    f"{r.month:%Y-%m}",
                    r.institution_name,
                    r.department_name,
                    r.referrals,
                    r.denominator,
                    percent(r.rate),
                    _grade_label(r.grade),
                    r.rank or "",
                ]
                for r in down_rows
                if r.group == group
            ],
        )
        _colour_grades(sheet, 7)
    return _save(workbook)


def subsidy_workbook(consortium: Any, month: datetime.date) -> bytes:
    """The month's deductible difference subsidies as an .xlsx (masked patient names, a total row)."""
    rows = list(statistics.subsidy_report(consortium, month))
    body = [
        [
            r.number,
            timezone.localtime(r.completed_at).strftime("%Y-%m-%d"),
            mask_name(r.person.name),
            r.person.get_insurance_scheme_display(),
            r.get_direction_display(),
            r.from_institution.name,
            r.to_institution.name,
            float(r.subsidy_amount),
        ]
        for r in rows
    ]
    body.append([_("合计"), "", "", "", "", "", "", float(sum(r.subsidy_amount for r in rows))])
    workbook = Workbook()
    _sheet(
        workbook,
        _("{month} 差价补贴").format(month=f"{month:%Y-%m}"),
        [
            _("转诊单号"),
            _("完成日期"),
            _("患者"),
            _("参保类型"),
            _("方向"),
            _("转出机构"),
            _("接收机构"),
            _("补贴金额（元）"),
        ],
        body,
        first=True,
    )
    return _save(workbook)


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
