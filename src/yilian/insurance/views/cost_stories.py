"""Cost-story pages (下转患者费用对比): a consortium's year of down-referred patients with monthly totals,
one patient's comparison laid out like the seeds' example, and the Excel export.

Thin adapters: every read goes through ``insurance.cost_stories``; names are masked.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font

from yilian.core.api.views import parse_public_id
from yilian.core.exceptions import NotFound
from yilian.core.ui.http import PAGE_SIZE, domain_errors, require
from yilian.insurance import cost_stories
from yilian.insurance.cost_stories import CostStory, CostStoryReport, Totals
from yilian.people.identifiers import mask_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRST_YEAR = 2000
BASIS_LABELS = {
    cost_stories.BASIS_STAY: gettext_lazy("基层住院记录"),
    cost_stories.BASIS_OPEN: gettext_lazy("基层仍在住院"),
    cost_stories.BASIS_REFERRAL: gettext_lazy("无基层住院记录"),
}


def cost_story_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403."""
    return login_required(domain_errors(view))


class CostStoryFilterForm(forms.Form):
    """Which consortium (of those the actor reads) and which year."""

    consortium = forms.ChoiceField(label=gettext_lazy("医联体"))
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=FIRST_YEAR, max_value=2100)
    month = forms.IntegerField(
        label=gettext_lazy("月份（患者列表）"), min_value=1, max_value=12, required=False
    )

    def __init__(self, data: Any, *, consortia: list[Any]) -> None:
        """Bind ``data`` over the actor's consortia; the first consortium and this year are the defaults."""
        data = data.copy()
        if not data.get("consortium") and consortia:
            data["consortium"] = str(consortia[0].public_id)
        if not data.get("year"):
            data["year"] = str(timezone.localdate().year)
        super().__init__(data)
        self._consortia = {str(c.public_id): c for c in consortia}
        self.fields["consortium"].choices = [(key, c.name) for key, c in self._consortia.items()]  # type: ignore[attr-defined]

    def clean_consortium(self) -> Any:
        """The chosen consortium, from the list already read (no query)."""
        return self._consortia[self.cleaned_data["consortium"]]


def _report(request: HttpRequest) -> tuple[CostStoryFilterForm, CostStoryReport | None]:
    """The filter and the report it asks for (404 for a consortium the actor may not read)."""
    require(cost_stories.may_view_any(request.user))
    consortia = list(cost_stories.cost_story_consortia(request.user))
    require(bool(consortia))
    form = CostStoryFilterForm(request.GET, consortia=consortia)
    if not form.is_valid():
        if "consortium" in form.errors:
            raise Http404
        return form, None
    report = cost_stories.cost_story_report(
        request.user, form.cleaned_data["consortium"], form.cleaned_data["year"]
    )
    return form, report


def _chart(months: list[Totals]) -> dict[str, Any]:
    """Bar heights (percent of the largest month) of the fund and patient savings per month, and the same
    figures as plain data (``data``, rendered with ``json_script`` for a chart library once one is vendored)."""
    peak = max([abs(m.saving_fund) for m in months] + [abs(m.saving_self) for m in months] + [1])
    return {
        "bars": [
            {
                "month": m.label,
                "fund": m.saving_fund,
                "self": m.saving_self,
                "fund_height": int(abs(m.saving_fund) * 100 / peak),
                "self_height": int(abs(m.saving_self) * 100 / peak),
            }
            for m in months
        ],
        "data": {
            "months": [f"{m.label:%Y-%m}" for m in months],
            "fund": [str(m.saving_fund) for m in months],
            "self": [str(m.saving_self) for m in months],
        },
    }


@cost_story_view
@require_GET
def cost_story_list(request: HttpRequest) -> HttpResponse:
    """The year's monthly totals, totals per receiving member, a bar chart and the paginated stories."""
    form, report = _report(request)
    context: dict[str, Any] = {"form": form, "report": report}
    if report is not None:
        month = form.cleaned_data.get("month")
        listed = cost_stories.stories_of_month(report, month) if month else report.stories
        page_obj = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
        for story in page_obj.object_list:
            story.patient_label = mask_name(story.patient_name)  # type: ignore[attr-defined]
            story.basis_label = BASIS_LABELS[story.basis]  # type: ignore[attr-defined]
        context.update(
            page_obj=page_obj,
            chart=_chart(report.months),
            export_query=urlencode({"consortium": report.consortium.public_id, "year": report.year}),
            min_stays=cost_stories.MIN_CATEGORY_STAYS,
            window_months=cost_stories.WINDOW_MONTHS,
        )
    return render(request, "insurance/cost_stories.html", context)


@cost_story_view
@require_GET
def cost_story_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """One down-referred patient's comparison, laid out like the seeds' worked example."""
    try:
        referral_id = parse_public_id(public_id)
    except NotFound as error:
        raise Http404 from error
    story = cost_stories.cost_story_get(request.user, referral_id)
    story.patient_label = mask_name(story.patient_name)  # type: ignore[attr-defined]
    return render(
        request,
        "insurance/cost_story_detail.html",
        {
            "story": story,
            "basis_label": BASIS_LABELS[story.basis],
            "min_stays": cost_stories.MIN_CATEGORY_STAYS,
            "window_months": cost_stories.WINDOW_MONTHS,
        },
    )


def _money_columns() -> list[str]:
    return [
        _("如在牵头医院（元）"),
        _("其中医保基金（元）"),
        _("其中个人（元）"),
        _("基层实际（元）"),
        _("其中医保基金（元）"),
        _("其中个人（元）"),
        _("节约合计（元）"),
        _("医保基金节约（元）"),
        _("患者节约（元）"),
    ]


def _totals_row(totals: Totals) -> list[Any]:
    return [
        totals.count,
        totals.with_money,
        float(totals.counterfactual_total),
        float(totals.counterfactual_fund),
        float(totals.counterfactual_self),
        float(totals.actual_total),
        float(totals.actual_fund),
        float(totals.actual_self),
        float(totals.saving_total),
        float(totals.saving_fund),
        float(totals.saving_self),
    ]


def _story_row(story: CostStory) -> list[Any]:
    def number(value: Any) -> Any:
        # openpyxl writes Decimal as text; figures are exact to the cent so a float cell is faithful.
        return float(value) if value is not None else ""

    return [
        story.number,
        f"{story.month:%Y-%m}",
        mask_name(story.patient_name),
        f"{story.diagnosis_code} {story.diagnosis_name}",
        story.from_institution,
        story.to_institution,
        story.days,
        number(story.rate.daily_cost),
        _("是") if story.fallback else "",
        str(BASIS_LABELS[story.basis]),
        number(story.counterfactual_total),
        number(story.counterfactual_fund),
        number(story.counterfactual_self),
        number(story.actual_total),
        number(story.actual_fund),
        number(story.actual_self),
        number(story.saving_total),
        number(story.saving_fund),
        number(story.saving_self),
    ]


def report_workbook(report: CostStoryReport) -> bytes:
    """The monthly table, the per-member table and the story list as an Excel workbook (names masked)."""
    workbook = Workbook()
    bold = Font(bold=True)
    monthly = workbook.active
    monthly.title = _("月度汇总")
    monthly.append([f"{report.consortium.name} {report.year}", _("下转患者费用对比（工作口径）")])
    monthly.append([_("月份"), _("下转人次"), _("有费用记录"), *_money_columns()])
    for month in report.months:
        monthly.append([f"{month.label:%Y-%m}", *_totals_row(month)])
    monthly.append([_("合计"), *_totals_row(report.total)])
    members = workbook.create_sheet(_("接收机构汇总"))
    members.append([_("接收机构"), _("下转人次"), _("有费用记录"), *_money_columns()])
    for totals in report.institutions:
        members.append([str(totals.label), *_totals_row(totals)])
    stories = workbook.create_sheet(_("患者明细"))
    stories.append(
        [
            _("转诊单号"),
            _("月份"),
            _("患者"),
            _("诊断"),
            _("转出机构"),
            _("接收机构"),
            _("基层住院天数"),
            _("牵头医院日均费用（元）"),
            _("全院均值替代"),
            _("数据来源"),
            *_money_columns(),
        ]
    )
    for story in report.stories:
        stories.append(_story_row(story))
    for sheet in (monthly, members, stories):
        for cell in sheet[2 if sheet is monthly else 1]:
            cell.font = bold
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@cost_story_view
@require_GET
def cost_story_export(request: HttpRequest) -> HttpResponse:
    """The year's cost stories as an Excel workbook."""
    _form, report = _report(request)
    if report is None:
        raise Http404
    response = HttpResponse(report_workbook(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="cost-stories-{report.year}.xlsx"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("cost-stories/", cost_story_list, name="cost_stories"),
    path("cost-stories/export.xlsx", cost_story_export, name="cost_stories_export"),
    path("cost-stories/<str:public_id>/", cost_story_detail, name="cost_story_detail"),
]
