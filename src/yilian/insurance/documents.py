"""Documents of the global budget: the settlement report (PDF, Excel) and the budget's monthly Excel export.

A settlement's report reads only what the settlement kept at freeze (its
figures, months and shares with their names), never the budget's current
data; a version frozen before its months were kept says so on its sheets.
Chinese text in the PDF uses reportlab's built-in STSong-Light CID font, as
the prescription documents do; no font file ships with the project.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from yilian.core.text import sentence
from yilian.insurance.choices import ProviderPlace, SettlementTier
from yilian.insurance.models import Settlement, SettlementShare
from yilian.insurance.selectors import (
    BudgetMonthly,
    MonthRow,
    SettlementMonthly,
    Supersession,
    counted_places,
    tiers_recorded,
)

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00##"


def _amount(value: Any) -> Decimal:
    """A figure kept as a string in ``Settlement.figures`` (or a Decimal) as a Decimal."""
    return Decimal(str(value))


def _yuan(value: Any) -> str:
    return f"{_amount(value):,.2f}"


def _place_label(place: str) -> str:
    try:
        return str(ProviderPlace(place).label)
    except ValueError:
        return place


def _rate(value: Any) -> Decimal | str:
    try:
        return _amount(value)
    except ArithmeticError:
        return str(value or "")


def _parameter_rows(figures: dict[str, Any]) -> list[tuple[str, Decimal | str]]:
    """The rule's parameters: rates as Decimals (numbers in Excel), the name and tier ratio as text."""
    parameters = figures.get("parameters", {})
    return [
        (_("方案"), str(parameters.get("name", ""))),
        (_("打包比例"), _rate(parameters.get("consortium_share", ""))),
        (_("结余留用比例 α"), _rate(parameters.get("surplus_retained", ""))),
        (_("合理超支医共体承担比例 γ"), _rate(parameters.get("overspend_borne", ""))),
        (
            _("牵头医院 : 乡镇卫生院 : 村卫生室"),
            f"{parameters.get('lead_parts')} : {parameters.get('township_parts')} : {parameters.get('village_parts')}",
        ),
        (_("按考核得分加权"), _("是") if parameters.get("weighted_by_score") else _("否")),
    ]


def _summary_rows(settlement: Settlement) -> list[tuple[str, Decimal]]:
    """The settlement's money figures as Decimals: the PDF formats them, the workbook writes numbers."""
    figures = settlement.figures
    return [
        (_("基金总额（扣除后）"), _amount(figures.get("fund_base", "0"))),
        (_("医共体基金池"), _amount(settlement.pool)),
        (_("计入的医保基金支付"), _amount(figures.get("charged_claims", "0"))),
        (_("起付线差价补贴"), _amount(figures.get("subsidies", "0"))),
        (_("计入支出合计"), _amount(settlement.spent)),
        (_("结余（负数为超支）"), _amount(settlement.result)),
        (_("不合理费用"), _amount(figures.get("unreasonable", "0"))),
        (_("医共体所得（负数为承担）"), _amount(settlement.consortium_amount)),
        (_("基金承担"), _amount(settlement.fund_amount)),
    ]


def _member_summary_rows(settlement: Settlement) -> list[tuple[str, Decimal]]:
    """What a member administrator's versions list shows of a settlement: pool, spend, result."""
    return [
        (_("医共体基金池"), _amount(settlement.pool)),
        (_("计入支出合计"), _amount(settlement.spent)),
        (_("结余（负数为超支）"), _amount(settlement.result)),
    ]


def _member_note() -> str:
    """Why a member administrator's report is short (the settlement page shows them the same)."""
    return _("本报告仅含贵单位的分配；其他成员单位的分配、方案参数和月度明细不在本报告中。")


def _reopened_note(settlement: Settlement) -> str:
    """The line a reopened version's reports carry: it is history, no longer in force (figures as frozen)."""
    user = settlement.reopened_by
    who = (getattr(user, "full_name", "") or user.get_username()) if user is not None else "—"
    return _(
        "已重新开放（%(time)s，%(who)s），原因：%(reason)s本版本不再生效，数字为冻结时的原样，仅作历史记录。"
    ) % {
        "time": timezone.localtime(settlement.reopened_at).strftime("%Y-%m-%d %H:%M"),
        "who": who,
        "reason": sentence(settlement.reopen_reason),  # its own 。/！/? kept, no second one
    }


def _superseded_note(superseded: Supersession) -> str:
    """The line a superseded version's reports carry: which version replaced it and when (figures as frozen)."""
    note = _(
        "已被第%(version)s版取代（第%(version)s版冻结于%(time)s）。本版本不再生效，数字为冻结时的原样，仅作历史记录。"
    ) % {
        "version": superseded.version,
        "time": timezone.localtime(superseded.frozen_at).strftime("%Y-%m-%d %H:%M"),
    }
    if superseded.latest_version != superseded.version:
        note += _("最新为第%(latest)s版。") % {"latest": superseded.latest_version}
    return note


def _status_note(settlement: Settlement, superseded: Supersession | None) -> str:
    """The status line of a version no longer in force (reopened, superseded or both); empty when in force."""
    parts = []
    if settlement.is_reopened:
        parts.append(_reopened_note(settlement))
    if superseded is not None:
        parts.append(_superseded_note(superseded))
    return " ".join(parts)


def settlement_pdf(
    settlement: Settlement,
    shares: Iterable[SettlementShare],
    *,
    full: bool = True,
    superseded: Supersession | None = None,
) -> bytes:
    """The settlement report as PDF: pool, spend by destination, result, rule parameters, shares, version.

    ``superseded`` (``selectors.settlement_supersession``) names the version that replaced this one: the
    title block says so, as it says a reopened version is no longer in force. ``full`` False (a member administrator, ``selectors.settlement_is_full``)
    gives what their settlement page shows: the header, the pool, spend and
    result of the versions list, the rule's name and ``shares`` (their own).
    """
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    width, height = A4
    y = height - 20 * mm

    def line(text: str, size: int = 10, x: float = 20 * mm, gap: float = 6 * mm) -> None:
        nonlocal y
        if y < 20 * mm:
            canvas.showPage()
            y = height - 20 * mm
        canvas.setFont(FONT, size)
        canvas.drawString(x, y, text)
        y -= gap

    def pair(label: str, value: str) -> None:
        nonlocal y
        if y < 20 * mm:
            canvas.showPage()
            y = height - 20 * mm
        canvas.setFont(FONT, 10)
        canvas.drawString(20 * mm, y, label)
        canvas.drawRightString(width - 20 * mm, y, value)
        y -= 6 * mm

    line(
        _("%(consortium)s %(year)s年度医保总额付费结算")
        % {"consortium": settlement.consortium_name, "year": settlement.year},
        15,
        gap=9 * mm,
    )
    line(
        _("版本 v%(version)s · 冻结时间 %(time)s")
        % {
            "version": settlement.version,
            "time": timezone.localtime(settlement.frozen_at).strftime("%Y-%m-%d %H:%M"),
        },
        9,
    )
    status = _status_note(settlement, superseded)
    if status:
        canvas.setFillColorRGB(0.71, 0.14, 0.09)
        for part in simpleSplit(status, FONT, 9, width - 40 * mm):
            line(part, 9)
        canvas.setFillColorRGB(0, 0, 0)
    y -= 3 * mm
    recorded = tiers_recorded(settlement)
    if not full:
        for part in simpleSplit(_member_note(), FONT, 9, width - 40 * mm):
            line(part, 9)
        y -= 3 * mm
        line(_("一、基金池与结果"), 12, gap=7 * mm)
        pair(_("方案"), settlement.rule_name)
        for label, value in _member_summary_rows(settlement):
            pair(label, _yuan(value))
        y -= 3 * mm
        line(_("二、本单位分配"), 12, gap=7 * mm)
        for share in shares:
            _share_pair(pair, share, recorded)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()
    line(_("一、基金池与结果"), 12, gap=7 * mm)
    for label, value in _summary_rows(settlement):
        pair(label, _yuan(value))
    y -= 3 * mm
    line(_("二、支出去向（基金支付）"), 12, gap=7 * mm)
    for place, amount in settlement.figures.get("spent_by_place", {}).items():
        pair(_place_label(place), _yuan(amount))
    y -= 3 * mm
    line(_("三、结算方案参数"), 12, gap=7 * mm)
    for label, value in _parameter_rows(settlement.figures):
        pair(label, str(value))
    y -= 3 * mm
    line(_("四、成员单位分配"), 12, gap=7 * mm)
    for share in shares:
        _share_pair(pair, share, recorded)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _share_pair(pair: Any, share: SettlementShare, recorded: set[int]) -> None:
    """One share's line of the PDF: name, tier (chosen or default), score, amount."""
    score = f" （{_('得分')} {share.score}）" if share.score is not None else ""
    chosen = _("（指定）") if share.institution_id in recorded else ""
    pair(
        f"{share.institution_name} · {SettlementTier(share.tier).label}{chosen}{score}",
        _yuan(share.amount),
    )


def _bold_header(sheet: Any, headers: list[str]) -> None:
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)


def _monthly_not_recorded() -> str:
    """The note of a version frozen before its months were kept (the settlement page says the same)."""
    return _("本版本冻结时尚未保存月度明细：月度表按当前数据生成，可能与冻结时的结果不一致。")


def _monthly_sheet(sheet: Any, months: list[MonthRow], counted: list[str], *, recorded: bool = True) -> None:
    """The monthly table as the budget page shows it; places not counted (``counted``: the places whose
    payments count) say so in the header. ``recorded`` False adds the note that the months are today's."""
    not_counted = _("（不计入）")

    def place(label: str, counts: bool) -> str:
        return label if counts else f"{label}{not_counted}"

    _bold_header(
        sheet,
        [
            _("月份"),
            _("月度基金池"),
            place(_("医共体内"), ProviderPlace.MEMBER in counted),
            place(_("县域内其他机构"), ProviderPlace.IN_COUNTY in counted),
            place(_("县域外"), ProviderPlace.OUT_OF_COUNTY in counted),
            place(_("定点药店"), ProviderPlace.PHARMACY in counted),
            _("起付线差价补贴"),
            _("计入合计"),
            _("当月结余"),
            _("累计基金池"),
            _("累计计入"),
            _("累计结余"),
            _("月度预付"),
            _("暂扣"),
        ],
    )
    for row in months:
        sheet.append(
            [
                row.month,
                row.pool,
                row.members,
                row.in_county,
                row.out_of_county,
                row.pharmacy,
                row.subsidies,
                row.charged,
                row.remaining,
                row.cumulative_pool,
                row.cumulative_charged,
                row.cumulative_remaining,
                row.prepayment,
                row.withheld,
            ]
        )
    for cells in sheet.iter_rows(min_row=2, min_col=2):
        for cell in cells:
            cell.number_format = MONEY_FORMAT
    sheet.append([])
    sheet.append(
        [
            _(
                "计入合计 = 未标“不计入”的各就医去向的医保基金支付 + 起付线差价补贴（按转诊完成月份计）；"
                "标“不计入”的列按本预算“计入基金池的费用”的设置只作展示，不从基金池中扣除。"
                "当月结余 = 月度基金池 − 计入合计；12月的累计结余即本预算的结余（负数为超支）。"
            )
        ]
    )
    if not recorded:
        sheet.append([_monthly_not_recorded()])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, color="B42318")


def settlement_workbook(
    settlement: Settlement,
    shares: Iterable[SettlementShare],
    monthly: SettlementMonthly | None,
    *,
    superseded: Supersession | None = None,
) -> bytes:
    """The settlement as Excel: a summary sheet, the monthly sheet and the shares sheet, from what was frozen.

    A version no longer in force (reopened, or ``superseded`` by a later one) has a 状态 row on its summary.

    ``monthly`` is ``selectors.settlement_monthly(settlement)``; when it was
    not recorded at freeze, the summary and the monthly sheet say so. None
    (a member administrator's report) leaves out the monthly sheet and gives
    the summary only the header, the rule's name, pool, spend and result,
    as their settlement page and versions list do; ``shares`` are then their own.
    """
    workbook = Workbook()
    summary = workbook.active
    summary.title = _("汇总")
    summary.append([_("医联体"), settlement.consortium_name])
    summary.append([_("年度"), settlement.year])
    summary.append([_("版本"), settlement.version])
    summary.append([_("冻结时间"), timezone.localtime(settlement.frozen_at).strftime("%Y-%m-%d %H:%M")])
    status = _status_note(settlement, superseded)
    if status:
        summary.append([_("状态"), status])
        summary.cell(row=summary.max_row, column=2).font = Font(bold=True, color="B42318")
    if monthly is None:
        summary.append([_("说明"), _member_note()])
        summary.append([_("方案"), settlement.rule_name])
        for label, amount in _member_summary_rows(settlement):
            summary.append([label, amount])
            summary.cell(row=summary.max_row, column=2).number_format = MONEY_FORMAT
        _shares_sheet(workbook, settlement, shares)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    if not monthly.recorded:
        summary.append([_("月度表"), _monthly_not_recorded()])
        summary.cell(row=summary.max_row, column=2).font = Font(bold=True, color="B42318")
    # Numbers, not formatted text, so the sheet can be summed; the format shows the separators.
    for label, amount in _summary_rows(settlement):
        summary.append([label, amount])
        summary.cell(row=summary.max_row, column=2).number_format = MONEY_FORMAT
    for label, value in _parameter_rows(settlement.figures):
        summary.append([label, value])
        if isinstance(value, Decimal):
            summary.cell(row=summary.max_row, column=2).number_format = RATE_FORMAT
    for place, amount in settlement.figures.get("spent_by_place", {}).items():
        summary.append([_place_label(place), _amount(amount)])
        summary.cell(row=summary.max_row, column=2).number_format = MONEY_FORMAT
    _monthly_sheet(
        workbook.create_sheet(_("月度")),
        monthly.months,
        monthly.counted_places,
        recorded=monthly.recorded,
    )
    _shares_sheet(workbook, settlement, shares)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _shares_sheet(workbook: Any, settlement: Settlement, shares: Iterable[SettlementShare]) -> None:
    """The shares sheet: member, tier, score, amount and whether an officer chose the tier."""
    sheet = workbook.create_sheet(_("分配"))
    _bold_header(sheet, [_("成员单位"), _("层级"), _("考核得分"), _("金额（元）"), _("层级来源")])
    recorded = tiers_recorded(settlement)
    for share in shares:
        source = _("医保专员指定") if share.institution_id in recorded else _("默认")
        sheet.append(
            [share.institution_name, str(SettlementTier(share.tier).label), share.score, share.amount, source]
        )
        sheet.cell(row=sheet.max_row, column=4).number_format = MONEY_FORMAT


def budget_monthly_workbook(monthly: BudgetMonthly) -> bytes:
    """The budget page as Excel: the monthly sheet and the out-of-county destinations."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("月度")
    _monthly_sheet(sheet, monthly.months, counted_places(monthly.budget))
    destinations = workbook.create_sheet(_("县外去向"))
    _bold_header(destinations, [_("地区/机构"), _("基金支付（元）")])
    for row in monthly.out_of_county_by_region:
        destinations.append([row["provider_region__name"], row["paid"]])
    for row in monthly.out_of_county_by_institution:
        destinations.append([row["provider_name"], row["paid"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
