"""指标值 pages under /indicators/figures/: the table of units, its Excel, and the drill-downs."""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook
from openpyxl.styles import Font

from yilian.core.exceptions import Conflict, Invalid, NotFound
from yilian.core.ui.forms import invalid_message
from yilian.core.ui.http import paginate, require
from yilian.indicators import drilldown, policies, selectors, services
from yilian.indicators.choices import PeriodType, UnitKind
from yilian.indicators.models import Indicator
from yilian.indicators.tasks import enqueue_refresh
from yilian.indicators.views.catalogue import indicators_view

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECORDS_PAGE = 50


def _choice(value: str, choices: list[str], default: str) -> str:
    return value if value in choices else default


def _selection(request: HttpRequest) -> dict[str, Any]:
    """Indicator, unit kind, period type and period from the query string, with defaults."""
    actor = request.user
    indicators = list(selectors.indicator_list(actor).filter(kind="quantitative"))
    wanted = request.GET.get("indicator", "")
    indicator: Indicator | None = next((i for i in indicators if str(i.public_id) == wanted), None)
    if indicator is None and wanted:
        indicator = selectors.indicator_get(actor, wanted)
    unit_kind = _choice(request.GET.get("unit_kind", ""), UnitKind.values, UnitKind.INSTITUTION)
    if indicator is None and indicators:
        indicator = selectors.first_with_values(actor, indicators, unit_kind=unit_kind) or indicators[0]
    default_type = indicator.period_type if indicator else PeriodType.MONTH
    period_type = _choice(request.GET.get("period_type", ""), PeriodType.values, default_type)
    starts = drilldown.periods(period_type)
    period: datetime.date | None = None
    if request.GET.get("period"):
        try:
            period = drilldown.parse_period(period_type, request.GET["period"])
        except Invalid:
            period = None
    if period is None and starts:
        # The latest complete period: a period still running has partial figures that read as a drop.
        today = timezone.localdate()
        period = next(
            (start for start in starts if drilldown.period_end(period_type, start) < today), starts[0]
        )
    return {
        "indicators": indicators,
        "indicator": indicator,
        "unit_kind": unit_kind,
        "period_type": period_type,
        "period": period,
        "periods": [(start, drilldown.period_label(period_type, start)) for start in starts],
        "unit_kinds": UnitKind.choices,
        "period_types": PeriodType.choices,
    }


def _table(request: HttpRequest, chosen: dict[str, Any]) -> list[drilldown.FigureRow]:
    if chosen["indicator"] is None or chosen["period"] is None:
        return []
    return drilldown.figure_table(
        request.user,
        chosen["indicator"],
        unit_kind=chosen["unit_kind"],
        period_type=chosen["period_type"],
        period_start=chosen["period"],
        sort=request.GET.get("sort", "value"),
    )


@indicators_view
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    """Choose indicator, unit kind, period type and period: the units the actor sees, with legend and growth."""
    require(policies.can_view_figures(request.user))
    chosen = _selection(request)
    rows = _table(request, chosen)
    return render(
        request,
        "indicators/figures.html",
        {
            **chosen,
            "rows": rows,
            "sort": request.GET.get("sort", "value"),
            "period_text": chosen["period"].isoformat() if chosen["period"] else "",
        },
    )


def figures_workbook(indicator: Indicator, period_label: str, kind_label: str, rows: list[Any]) -> bytes:
    """The figures table as an Excel workbook (numbers as numbers, the legend band as text)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("指标值")
    title = _("%(name)s（%(code)s）") % {"name": indicator.display_name, "code": indicator.code}
    sheet.append([title, period_label, kind_label])
    sheet.append([])
    header = [
        _("单元"),
        _("分子"),
        _("分母"),
        (
            _("%(name)s（%(unit)s）")
            % {"name": pgettext("one figure", "指标值"), "unit": indicator.display_unit}
            if indicator.unit
            else pgettext("one figure", "指标值")
        ),
        _("分段"),
        _("上年同期"),
        _("同比增长（%）"),
    ]
    sheet.append(header)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(
            [
                row.unit.name,
                row.numerator,
                row.denominator,
                drilldown.quantize(indicator, row.value),
                drilldown.band_label(row.band_label) or row.color,
                drilldown.quantize(indicator, row.previous_value),
                row.growth,
            ]
        )
    sheet.column_dimensions["A"].width = 36
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@indicators_view
@require_GET
def figures_export(request: HttpRequest) -> HttpResponse:
    """The figures table as .xlsx."""
    require(policies.can_view_figures(request.user))
    chosen = _selection(request)
    if chosen["indicator"] is None or chosen["period"] is None:
        raise NotFound("indicator")
    rows = _table(request, chosen)
    label = drilldown.period_label(chosen["period_type"], chosen["period"])
    content = figures_workbook(chosen["indicator"], label, str(UnitKind(chosen["unit_kind"]).label), rows)
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{chosen["indicator"].code}-{label}.xlsx"'
    return response


def _cell(request: HttpRequest) -> dict[str, Any]:
    """Indicator, unit, period type and period of a drill-down, from the query string."""
    actor = request.user
    indicator = selectors.indicator_get(actor, request.GET.get("indicator", ""))
    unit_kind = request.GET.get("unit_kind", "")
    unit = drilldown.unit_resolve(actor, unit_kind, request.GET.get("unit", ""))
    period_type = request.GET.get("period_type", "")
    if period_type not in PeriodType.values:
        raise NotFound("period")
    try:
        period = drilldown.parse_period(period_type, request.GET.get("period", ""))
    except Invalid as error:
        raise NotFound("period") from error
    return {
        "indicator": indicator,
        "unit": unit,
        "unit_kind": unit_kind,
        "period_type": period_type,
        "period": period,
        "period_label": drilldown.period_label(period_type, period),
    }


@indicators_view
@require_GET
def parts(request: HttpRequest) -> HttpResponse:
    """A unit's figure and its parts' figures, and whether the parts add up to the whole."""
    cell = _cell(request)
    found = drilldown.unit_parts(
        request.user,
        cell["indicator"],
        unit_kind=cell["unit_kind"],
        unit_id=cell["unit"].id,
        period_type=cell["period_type"],
        period_start=cell["period"],
    )
    items = drilldown.items_for_cell(
        cell["indicator"],
        unit_kind=cell["unit_kind"],
        unit_id=cell["unit"].id,
        period_type=cell["period_type"],
        period_start=cell["period"],
    )
    part_label = UnitKind(found.part_kind).label if found.part_kind else ""
    return render(
        request,
        "indicators/parts.html",
        {**cell, "parts": found, "items": items, "part_label": part_label},
    )


@indicators_view
@require_GET
def records(request: HttpRequest) -> HttpResponse:
    """The records behind one data item of a figure, as the source module lets the actor see them."""
    cell = _cell(request)
    found = drilldown.item_records(
        request.user,
        cell["indicator"],
        request.GET.get("item", ""),
        unit_kind=cell["unit_kind"],
        unit_id=cell["unit"].id,
        period_type=cell["period_type"],
        period_start=cell["period"],
    )
    page = None
    table: list[dict[str, Any]] = []
    if found.rows is not None:
        # The figure itself says how many records there are; a county's year holds millions, so the
        # page counts at most a thousand and reads its keys before its joined rows.
        page = paginate(request, found.rows, RECORDS_PAGE, capped=True, keys_first=True)
        for row in page.object_list:
            url = ""
            if found.detail_url and row.get("public_id"):
                try:
                    url = reverse(found.detail_url, args=[row["public_id"]])
                except NoReverseMatch:
                    url = ""
            table.append({"cells": found.cells(row), "url": url})
    # An empty table reads differently when the unit has records the source's policy keeps from this
    # reader (an office sees encounter counts, never the patients behind them) than when it has none.
    hidden = found.rows is not None and not table and found.hidden_by_policy()
    return render(
        request,
        "indicators/records.html",
        {**cell, "records": found, "page_obj": page, "table": table, "hidden_by_policy": hidden},
    )


@indicators_view
@require_http_methods(["GET", "POST"])
def refresh_runs(request: HttpRequest) -> HttpResponse:
    """Refresh runs, newest first; assessors request a full refresh (queued as a background job)."""
    actor = request.user
    if request.method == "POST":
        try:
            first = _month(request.POST.get("first_month", ""))
            last = _month(request.POST.get("last_month", ""))
            run = services.refresh_request(actor=actor, first_month=first, last_month=last)
        except Invalid as error:
            messages.error(request, invalid_message(error))
        except Conflict as error:
            messages.warning(request, str(error))
        else:
            enqueue_refresh(run)
            messages.success(request, _("已提交计算任务，稍后刷新本页查看结果"))
        return redirect("indicators:refresh_runs")
    page = paginate(request, selectors.refresh_runs(actor))
    return render(request, "indicators/refresh_runs.html", {"page_obj": page})


def _month(text: str) -> datetime.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.date(int(text[:4]), int(text[5:7]), 1)
    except ValueError as error:
        raise Invalid({"month": [_("月份格式应为 YYYY-MM")]}) from error


@indicators_view
@require_http_methods(["GET", "POST"])
def ranking_policy(request: HttpRequest) -> HttpResponse:
    """排名公开设置: a consortium office decides whether members see the ranking and each other's values."""
    actor = request.user
    consortia = drilldown.office_consortia(actor)
    require(bool(consortia))
    wanted = request.POST.get("consortium") or request.GET.get("consortium") or ""
    consortium = next((c for c in consortia if str(c.public_id) == wanted), consortia[0])
    if request.method == "POST":
        services.ranking_policy_update(
            actor=actor,
            consortium=consortium,
            members_see_ranking=request.POST.get("members_see_ranking") == "on",
            members_see_others_values=request.POST.get("members_see_others_values") == "on",
        )
        messages.success(request, _("排名公开设置已保存"))
        return redirect(f"{request.path}?consortium={consortium.public_id}")
    policy = drilldown.ranking_policy_of(consortium)
    return render(
        request,
        "indicators/ranking_policy.html",
        {"consortia": consortia, "consortium": consortium, "policy": policy},
    )


urlpatterns: list[URLPattern] = [
    path("figures/", figures, name="figures"),
    path("figures/export.xlsx", figures_export, name="figures_export"),
    path("figures/parts/", parts, name="parts"),
    path("figures/records/", records, name="records"),
    path("refresh/", refresh_runs, name="refresh_runs"),
    path("ranking/", ranking_policy, name="ranking_policy"),
]
