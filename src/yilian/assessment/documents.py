"""Documents of an assessment round: the PDF report (Chinese, with charts) and Excel workbooks of its tables.

Chinese text uses reportlab's built-in STSong-Light CID font (as the
insurance documents do); charts are ``reportlab.graphics`` bar charts.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from yilian.assessment.choices import Grade, RoundKind, Verdict
from yilian.assessment.models import AssessmentRound, Judgement, RoundResult, RoundTotal
from yilian.indicators.choices import PeriodType
from yilian.indicators.models import with_unit

CHART_BARS = 30
"""The chart shows at most this many best-ranked subjects; the table lists all."""
FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
GRADE_FILL = {
    "excellent": colors.HexColor("#2e7d32"),
    "good": colors.HexColor("#1565c0"),
    "fair": colors.HexColor("#f9a825"),
    "poor": colors.HexColor("#c62828"),
}


def grade_label(grade: str) -> str:
    """优/良/中/差 for a stored grade value."""
    try:
        return str(Grade(grade).label)
    except ValueError:
        return grade


def verdict_label(verdict: str) -> str:
    """The verdict's label, or 待评判 when none was recorded."""
    try:
        return str(Verdict(verdict).label)
    except ValueError:
        return _("待评判")


def period_label(round_: AssessmentRound) -> str:
    """The round's period in words (2025年3月, 2025年上半年, 2025年第1季度, 2025年度)."""
    start = round_.period_start
    if round_.period_type == PeriodType.MONTH:
        return _("%(y)s年%(m)s月") % {"y": start.year, "m": start.month}
    if round_.period_type == PeriodType.QUARTER:
        return _("%(y)s年第%(q)s季度") % {"y": start.year, "q": (start.month - 1) // 3 + 1}
    if round_.period_type == PeriodType.HALF_YEAR:
        return (
            _("%(y)s年上半年") % {"y": start.year}
            if start.month == 1
            else _("%(y)s年下半年") % {"y": start.year}
        )
    return _("%(y)s年度") % {"y": start.year}


def round_scope(round_: AssessmentRound) -> str:
    """Consortium (or region), scheme and period: what the round assesses."""
    owner = (
        round_.consortium.name if round_.consortium_id else (round_.region.name if round_.region_id else "")
    )
    return _("%(owner)s %(scheme)s（%(period)s）") % {
        "owner": owner,
        "scheme": round_.scheme.name,
        "period": period_label(round_),
    }


def round_heading(round_: AssessmentRound) -> str:
    """The report title: the title typed for the round, or else consortium (or region), scheme and period."""
    return round_.title or round_scope(round_)


def _mark_width(mark: str, result: Any) -> float:
    """The room the working-definition mark and the version take after an indicator's name (8 pt)."""
    return pdfmetrics.stringWidth(f"{mark} v{result.indicator_version}", FONT, 8)


def fit(text: str, width: float, size: float) -> str:
    """``text`` cut to ``width`` points at ``size`` in the report's font, ending in "…" when cut.

    By width, not by characters: an English name takes about half the room of a Chinese one, so a
    character count either cuts English names short or lets Chinese ones run into the next column.
    """
    if pdfmetrics.stringWidth(text, FONT, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", FONT, size) > width:
        text = text[:-1]
    return text + "…"


def _number(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}"


PERCENT = "%"
DEFAULT_DECIMALS = 2
"""Decimals of a figure whose indicator is gone (results keep its unit, not its decimals)."""


def figure_decimals(result: Any) -> int:
    """How many decimals ``result``'s value shows: its indicator's (``round_results`` annotates them)."""
    decimals = getattr(result, "decimals", None)
    return DEFAULT_DECIMALS if decimals is None else int(decimals)


def format_figure(value: Decimal | None, unit: str, decimals: int) -> str:
    """An indicator value as read: rounded half up to ``decimals``, thousands grouped, with its unit as
    shown to the reader (0.208106 % → "0.21%", 12 人次 → "12人次" or "12 person-times", as the indicator
    pages write them); "—" for none."""
    if value is None:
        return "—"
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return with_unit(f"{rounded:,f}", unit)


def format_count(value: Decimal | None) -> str:
    """A numerator or denominator: whole numbers without decimals (9,431), others with two."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def result_value(result: Any) -> str:
    """The result's value with its unit and its indicator's decimals."""
    return format_figure(result.value, result.display_unit, figure_decimals(result))


def _decimals_format(decimals: int) -> str:
    return "0." + "0" * decimals if decimals else "0"


def _value_cell(sheet: Any, row: int, column: int, result: Any) -> None:
    """The value as a number with a number format: a percentage as Excel's own (0.208106 % is stored as
    0.00208106 and shown 0.21%), any other unit as the number rounded for display."""
    cell = sheet.cell(row=row, column=column)
    if result.value is None:
        return
    decimals = figure_decimals(result)
    if result.unit == PERCENT:
        cell.value = result.value / 100
        cell.number_format = _decimals_format(decimals) + "%"
    else:
        cell.value = result.value
        cell.number_format = "#,##" + _decimals_format(decimals)


SCORE_FORMAT = "0.00"
"""Scores and totals: two decimals."""


def _formats(sheet: Any, first_row: int, columns: dict[int, str]) -> None:
    """Give ``columns`` (1-based) of every row from ``first_row`` on their number format."""
    for row in sheet.iter_rows(min_row=first_row):
        for column, number_format in columns.items():
            row[column - 1].number_format = number_format


def _count_format(value: Decimal | None) -> str:
    return "#,##0" if value is None or value == value.to_integral_value() else "#,##0.00"


CHART_LABEL_CHARACTERS = 8
"""Characters of a subject's name under its bar (more overlap the next bar's label)."""


def chart_labels(names: Sequence[str]) -> list[str]:
    """Short labels of the subjects' names: the prefix they all share dropped ("金寨县"), then the start kept.

    The names' tails are alike ("镇中心卫生院" five times in one consortium), so the part that tells
    the subjects apart is the one right after the shared prefix.
    """
    shared = 0
    if len(names) > 1:
        for letters in zip(*names, strict=False):
            if len(set(letters)) > 1:
                break
            shared += 1
    labels = []
    for name in names:
        rest = name[shared:] or name
        labels.append(
            rest if len(rest) <= CHART_LABEL_CHARACTERS else rest[: CHART_LABEL_CHARACTERS - 1] + "…"
        )
    return labels


def _totals_chart(totals: Sequence[RoundTotal], width: float) -> Drawing:
    """A bar chart of total scores, one bar per subject (names shortened)."""
    height = 60 * mm
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 14 * mm
    chart.width, chart.height = width - 20 * mm, height - 22 * mm
    chart.data = [[float(total.score) for total in totals] or [0.0]]
    chart.categoryAxis.categoryNames = chart_labels([total.subject_name for total in totals]) or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    for index, total in enumerate(totals):
        chart.bars[(0, index)].fillColor = GRADE_FILL.get(total.grade, colors.grey)
    drawing.add(chart)
    drawing.add(String(12 * mm, height - 5 * mm, _("总分（颜色表示等级）"), fontName=FONT, fontSize=8))
    return drawing


def round_pdf(
    round_: AssessmentRound,
    version: int,
    totals: Iterable[RoundTotal],
    results: Iterable[RoundResult],
    judgements: Iterable[Judgement],
) -> bytes:
    """The round's report as PDF: scheme, period, version, a chart and table of totals, grades and ranks,
    per-indicator figures (working definitions marked ※) and the qualitative judgements."""
    totals = list(totals)
    results = list(results)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(round_heading(round_))
    width, height = A4
    y = height - 20 * mm

    def room(needed: float) -> None:
        nonlocal y
        if y - needed < 18 * mm:
            canvas.showPage()
            y = height - 20 * mm

    def line(text: str, size: int = 9, x: float = 18 * mm, gap: float = 5.5 * mm) -> None:
        nonlocal y
        room(gap)
        canvas.setFont(FONT, size)
        canvas.drawString(x, y, text)
        y -= gap

    def row(cells: Sequence[str], positions: Sequence[float], size: int = 8) -> None:
        nonlocal y
        room(5 * mm)
        canvas.setFont(FONT, size)
        # Each cell keeps to its column: up to the next column's start (the last one to the right margin).
        ends = [*positions[1:], width - 12 * mm]
        for text, x, end in zip(cells, positions, ends, strict=False):
            canvas.drawString(x, y, fit(text, end - x - 2 * mm, size))
        y -= 5 * mm

    line(round_heading(round_), 14, gap=9 * mm)
    if round_.title:
        line(round_scope(round_), 10, gap=6 * mm)
    # After "版本：" the English header reads "Version: 2", not "Version: Version 2".
    status = _("草稿") if version == 0 else pgettext("report header", "第 %(v)s 版") % {"v": version}
    line(
        _("考核类型：%(kind)s　考核周期：%(period)s　版本：%(status)s")
        % {"kind": RoundKind(round_.kind).label, "period": period_label(round_), "status": status}
    )
    if round_.frozen_at and version:
        line(_("冻结时间：%(t)s") % {"t": timezone.localtime(round_.frozen_at).strftime("%Y-%m-%d %H:%M")})
    if round_.published_version == version and round_.published_at:
        line(_("发布时间：%(t)s") % {"t": timezone.localtime(round_.published_at).strftime("%Y-%m-%d %H:%M")})
    if round_.scheme.description:
        line(_("方案说明：%(d)s") % {"d": round_.scheme.description[:80]})
    y -= 2 * mm
    line(_("一、总分、等级与排名"), 12, gap=7 * mm)
    ranked = [total for total in totals if total.rank is not None][:CHART_BARS]
    if ranked:
        chart = _totals_chart(ranked, width - 36 * mm)
        room(chart.height)
        renderPDF.draw(chart, canvas, 18 * mm, y - chart.height)
        y -= chart.height + 4 * mm
    columns = [18 * mm, 30 * mm, 100 * mm, 125 * mm, 145 * mm, 160 * mm]
    row([_("排名"), _("单位"), _("分组"), _("总分"), _("等级"), _("奖惩")], columns, 9)
    for total in totals:
        row(
            [
                str(total.rank or "—"),
                total.subject_name,
                total.group,
                _number(total.score),
                grade_label(total.grade),
                total.reward,
            ],
            columns,
        )
    y -= 3 * mm
    line(_("二、分项指标"), 12, gap=7 * mm)
    # The value column has room for an English unit ("12.00 person-times"); longer text ends in "…".
    columns = [18 * mm, 54 * mm, 96 * mm, 120 * mm, 144 * mm, 176 * mm, 190 * mm]
    name_room = columns[2] - columns[1] - 2 * mm
    row(
        [_("单位"), _("指标"), _("分子"), _("分母"), pgettext("one figure", "指标值"), _("得分"), _("排名")],
        columns,
        9,
    )
    for result in results:
        if result.is_qualitative:
            continue
        mark = "※" if result.is_working_definition else ""
        row(
            [
                result.subject_name,
                # The mark and the version stay whole however long the name is.
                fit(result.display_indicator_name, name_room - _mark_width(mark, result), 8)
                + f"{mark} v{result.indicator_version}",
                format_count(result.numerator),
                format_count(result.denominator),
                result_value(result),
                _number(result.score),
                str(result.rank or "—"),
            ],
            columns,
        )
    line(_("※ 工作定义：口径待核实。"), 8)
    y -= 3 * mm
    line(_("三、定性指标评判"), 12, gap=7 * mm)
    comments = {(j.indicator_id, j.subject_id): j.comment for j in judgements}
    qualitative = [result for result in results if result.is_qualitative]
    if not qualitative:
        line(_("本方案无定性指标。"))
    for result in qualitative:
        comment = comments.get((result.indicator_id, result.subject_id), "")
        line(
            _("%(subject)s · %(indicator)s：%(verdict)s（得分 %(score)s）%(comment)s")
            % {
                "subject": result.subject_name[:20],
                "indicator": fit(result.display_indicator_name, 70 * mm, 8),
                "verdict": verdict_label(result.verdict),
                "score": _number(result.score),
                "comment": comment[:30],
            },
            8,
        )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _sheet(sheet: Any, headers: list[str], rows: Iterable[list[Any]]) -> None:
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append(values)


def round_workbook(
    round_: AssessmentRound,
    version: int,
    totals: Iterable[RoundTotal],
    results: Iterable[RoundResult],
    comparison: Sequence[dict[str, Any]] | None = None,
) -> bytes:
    """The round's tables as Excel: totals, per-indicator results and (if given) the year-on-year comparison."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("总分")
    # A typed title is followed by what the round assesses, in the same row: the tables start on row 3.
    sheet.append([round_heading(round_), round_scope(round_)] if round_.title else [round_heading(round_)])
    # The draft is version 0 inside; a reader is told it is the draft, as the page and the PDF say.
    sheet.append([_("版本"), _("草稿") if version == 0 else version])
    totals = list(totals)
    _sheet(
        sheet,
        [_("排名"), _("单位"), _("分组"), _("总分"), _("等级"), _("奖惩")],
        ([t.rank, t.subject_name, t.group, t.score, grade_label(t.grade), t.reward] for t in totals),
    )
    _formats(sheet, first_row=sheet.max_row - len(totals) + 1, columns={4: SCORE_FORMAT})
    results = list(results)
    figures = workbook.create_sheet(_("分项指标"))
    _sheet(
        figures,
        [
            _("单位"),
            _("分组"),
            _("指标编码"),
            _("指标"),
            _("指标版本"),
            _("工作定义"),
            _("分子"),
            _("分母"),
            pgettext("one figure", "指标值"),
            _("计量单位"),
            _("评判"),
            _("分值"),
            _("得分"),
            _("排名"),
        ],
        (
            [
                r.subject_name,
                r.group,
                r.indicator_code,
                r.display_indicator_name,
                r.indicator_version,
                _("是") if r.is_working_definition else "",
                r.numerator,
                r.denominator,
                None,  # written by _value_cell with its number format
                r.display_unit,
                verdict_label(r.verdict) if r.is_qualitative else "",
                r.weight,
                r.score,
                r.rank,
            ]
            for r in results
        ),
    )
    for row, r in enumerate(results, start=2):
        figures.cell(row=row, column=7).number_format = _count_format(r.numerator)
        figures.cell(row=row, column=8).number_format = _count_format(r.denominator)
        _value_cell(figures, row, 9, r)
    _formats(figures, first_row=2, columns={12: SCORE_FORMAT, 13: SCORE_FORMAT})
    if comparison is not None:
        _sheet(
            workbook.create_sheet(_("同比")),
            [_("单位"), _("总分"), _("等级"), _("上年总分"), _("上年等级"), _("变化")],
            (
                [
                    c["subject_name"],
                    c["score"],
                    grade_label(c["grade"]),
                    c["previous_score"],
                    grade_label(c["previous_grade"]) if c["previous_grade"] else "",
                    c["change"],
                ]
                for c in comparison
            ),
        )
        _formats(
            workbook[_("同比")], first_row=2, columns={2: SCORE_FORMAT, 4: SCORE_FORMAT, 6: SCORE_FORMAT}
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
