"""Family-doctor documents: the signed agreement as a PDF, the coverage table as Excel.

The PDF uses the standard CJK font STSong-Light (Adobe-GB1) like the
referral slip, so nothing is embedded. The resident's ID number is printed
masked only.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from yilian.core.text import join_list
from yilian.family_doctors.choices import PriorityGroup, TeamMemberRole
from yilian.family_doctors.models import FamilyDoctorContract
from yilian.family_doctors.selectors import CoverageRow

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
LEFT = 18 * mm
RIGHT = A4[0] - 18 * mm


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Break text into lines no wider than ``width`` points (character by character)."""
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


class _Page:
    """Writes rows top-down and starts a new page when full."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.y = A4[1] - 20 * mm

    def need(self, height: float) -> None:
        if self.y - height < 20 * mm:
            self.canvas.showPage()
            self.y = A4[1] - 20 * mm

    def heading(self, text: str) -> None:
        self.need(12 * mm)
        self.y -= 5 * mm
        self.canvas.setFont(FONT, 11.5)
        self.canvas.drawString(LEFT, self.y, text)
        self.canvas.setLineWidth(0.5)
        self.canvas.line(LEFT, self.y - 1.5 * mm, RIGHT, self.y - 1.5 * mm)
        self.y -= 6 * mm

    def row(self, label: str, value: str) -> None:
        lines = _wrap(value or "—", RIGHT - LEFT - 32 * mm, 10)
        self.need(6 * mm * len(lines))
        self.canvas.setFont(FONT, 10)
        self.canvas.drawString(LEFT, self.y, label)
        for line in lines:
            self.canvas.drawString(LEFT + 32 * mm, self.y, line)
            self.y -= 5.5 * mm

    def text(self, value: str, size: float = 10) -> None:
        for line in _wrap(value, RIGHT - LEFT, size):
            self.need(6 * mm)
            self.canvas.setFont(FONT, size)
            self.canvas.drawString(LEFT, self.y, line)
            self.y -= 5.5 * mm


def contract_pdf(
    contract: FamilyDoctorContract, members: list[Any], groups: list[str], terms: list[Any]
) -> bytes:
    """The signed family-doctor service agreement: parties, team, package and services, term, groups,
    terms history and signature lines."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(contract.number)
    page = _Page(canvas)
    canvas.setFont(FONT, 16)
    canvas.drawCentredString(A4[0] / 2, page.y, _("家庭医生签约服务协议书"))
    page.y -= 8 * mm
    canvas.setFont(FONT, 9.5)
    canvas.drawRightString(RIGHT, page.y, _("协议编号：%(number)s") % {"number": contract.number})
    page.y -= 4 * mm
    person = contract.person
    page.heading(_("甲方（签约居民）"))
    page.row(_("姓名"), person.name)
    page.row(_("性别"), person.get_gender_display())
    page.row(_("出生日期"), str(person.birth_date or "—"))
    page.row(_("身份证号"), person.id_number_masked or "—")
    page.row(_("联系电话"), person.phone or "—")
    page.row(_("现住址"), person.address or "—")
    page.row(_("重点人群"), join_list(PriorityGroup(g).label for g in groups) or _("无"))
    page.heading(_("乙方（签约团队）"))
    page.row(_("签约机构"), contract.institution.name)
    page.row(_("签约团队"), contract.team.name)
    for member in members:
        name = member.user.full_name or member.user.username
        role = str(TeamMemberRole(member.role).label)
        leader = _("（团队长）") if member.is_leader else ""
        page.row(role + leader, f"{name} · {member.institution.name}")
    page.heading(_("服务包与服务内容"))
    page.row(_("服务包"), contract.package.name)
    page.row(_("年服务费（元）"), str(contract.annual_price))
    for number, line in enumerate(contract.package.content_lines(), 1):
        page.text(f"{number}. {line}")
    page.heading(_("服务期限"))
    page.row(_("首次签约日期"), str(contract.starts_on))
    page.row(_("本期服务期"), f"{contract.term_starts_on} — {contract.ends_on}")
    page.row(_("状态"), contract.get_status_display())
    if len(terms) > 1:
        for term in terms:
            page.row(
                _("第 %(n)s 期") % {"n": term.sequence},
                f"{term.starts_on} — {term.ends_on} · {term.package.name}",
            )
    page.heading(_("双方约定"))
    page.text(
        _(
            "乙方为甲方提供约定的基本医疗、公共卫生和健康管理服务，签约居民转诊上级医院时经医联体绿色通道优先安排，"
            "牵头医院为签约居民预留专家号源；甲方如实提供健康信息，配合随访与健康管理。服务期满可续约；"
            "任一方可提出解约，解约后不影响甲方在其他团队重新签约。"
        )
    )
    page.need(30 * mm)
    page.y -= 10 * mm
    canvas.setFont(FONT, 10.5)
    canvas.drawString(LEFT, page.y, _("甲方签字："))
    canvas.drawString(A4[0] / 2, page.y, _("乙方（团队长）签字："))
    page.y -= 8 * mm
    signed = contract.created_at and timezone.localtime(contract.created_at).date()
    canvas.drawString(LEFT, page.y, _("日期：%(date)s") % {"date": signed or contract.starts_on})
    canvas.drawString(
        A4[0] / 2, page.y, _("签约机构（盖章）：%(name)s") % {"name": contract.institution.name}
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def coverage_workbook(rows: list[CoverageRow], title: str) -> bytes:
    """The coverage table: per unit, residents, signed, rate, then per priority group signed / size / rate."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("签约覆盖")
    header = [_("单位"), _("所属机构"), _("网格登记居民数"), _("签约人数"), _("签约率（%）")]
    for group in PriorityGroup:
        label = str(group.label)
        header += [
            _("%(group)s 签约") % {"group": label},
            _("%(group)s 人数") % {"group": label},
            _("%(group)s 覆盖率（%%）") % {"group": label},
        ]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        values: list[Any] = [row.label, row.institution, row.residents, row.signed, row.rate]
        for group in row.groups:
            values += [group.signed, group.denominator, group.rate]
        sheet.append(values)
    for index in range(1, len(header) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 26 if index <= 2 else 12
    sheet.freeze_panes = "C3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
