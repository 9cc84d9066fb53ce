"""绩效考核 pages under /assessment/: schemes (list, detail, form), rounds (list, new, detail with results,
qualitative items, freeze/publish, versions, year-on-year), Excel and PDF downloads, evidence files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.assessment import documents, policies, selectors, services
from yilian.assessment.choices import (
    GradingMethod,
    GroupBy,
    RoundKind,
    SchemeSubject,
    ScoringRule,
    Verdict,
)
from yilian.core.exceptions import Invalid, NotFound
from yilian.core.ui.forms import invalid_message
from yilian.core.ui.http import domain_errors, paginate, require
from yilian.indicators.choices import PeriodType
from yilian.indicators.selectors import indicator_list

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ITEM_ROWS = 10
GRADES = ("excellent", "good", "fair", "poor")


def assessment_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def _download(content: bytes, filename: str, content_type: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


# --- schemes ------------------------------------------------------------------------------------------


@assessment_view
@require_GET
def scheme_list(request: HttpRequest) -> HttpResponse:
    """Schemes the actor reaches; assessors get the “new scheme” button."""
    page = paginate(request, selectors.scheme_list(request.user))
    return render(
        request,
        "assessment/scheme_list.html",
        {"page_obj": page, "may_create": policies.can_create_scheme(request.user)},
    )


@assessment_view
@require_GET
def scheme_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A scheme: subject, period, grading, rewards and items."""
    scheme = selectors.scheme_get(request.user, public_id)
    return render(
        request,
        "assessment/scheme_detail.html",
        {
            "scheme": scheme,
            "items": selectors.scheme_items(scheme),
            "bands": [
                (grade, scheme.grade_bands.get(grade, ""), scheme.rewards.get(grade, "")) for grade in GRADES
            ],
        },
    )


def _scheme_post(request: HttpRequest) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    post = request.POST
    data: dict[str, Any] = {
        key: post.get(key, "")
        for key in ("name", "description", "subject", "period_type", "grading", "group_by")
    }
    data["grade_bands"] = {g: post.get(f"band_{g}") for g in GRADES[:-1] if post.get(f"band_{g}", "").strip()}
    data["rewards"] = {g: post.get(f"reward_{g}", "").strip() for g in GRADES}
    codes = [post.get(f"item_indicator_{i}", "").strip() for i in range(ITEM_ROWS)]
    indicators = {
        i.code: i for i in indicator_list(request.user, include_inactive=True).filter(code__in=codes)
    }
    items = []
    for index, code in enumerate(codes):
        if not code:
            continue
        items.append(
            {
                "indicator": indicators.get(code),
                "weight": post.get(f"item_weight_{index}", "0"),
                "rule": post.get(f"item_rule_{index}", ScoringRule.TARGET),
                "sort_order": index,
            }
        )
    return data, items


def _scheme_form(
    request: HttpRequest, scheme: Any, values: dict[str, Any], items: list[Any], errors: Any
) -> HttpResponse:
    rows = list(items) + [None] * max(0, ITEM_ROWS - len(items))
    return render(
        request,
        "assessment/scheme_form.html",
        {
            "scheme": scheme,
            "values": values,
            "consortia": selectors.round_targets(request.user)[0] if scheme is None else [],
            "rows": [(index, row) for index, row in enumerate(rows[:ITEM_ROWS])],
            "errors": errors,
            "indicators": indicator_list(request.user).select_related(None).only("code", "name"),
            "subjects": SchemeSubject.choices,
            "period_types": PeriodType.choices,
            "gradings": GradingMethod.choices,
            "group_bys": GroupBy.choices,
            "rules": ScoringRule.choices,
            "grades": [
                (g, values.get("grade_bands", {}).get(g, ""), values.get("rewards", {}).get(g, ""))
                for g in GRADES
            ],
        },
        status=400 if errors else 200,
    )


def _item_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"code": getattr(item["indicator"], "code", ""), "weight": item["weight"], "rule": item["rule"]}
        for item in items
    ]


@assessment_view
@require_http_methods(["GET", "POST"])
def scheme_new(request: HttpRequest) -> HttpResponse:
    """Create a scheme (assessors); ``consortium`` picks a consortium the office keeps, empty = shared."""
    require(policies.can_create_scheme(request.user))
    consortia, _regions = selectors.round_targets(request.user)
    if request.method == "POST":
        data, items = _scheme_post(request)
        consortium = next((c for c in consortia if str(c.public_id) == request.POST.get("consortium")), None)
        try:
            scheme = services.scheme_create(actor=request.user, consortium=consortium, data=data, items=items)
        except Invalid as error:
            return _scheme_form(request, None, data, _item_rows(items), error.as_text())
        messages.success(request, _("考核方案已创建"))
        return redirect("assessment:scheme", scheme.public_id)
    values = {
        "grading": GradingMethod.BANDS,
        "grade_bands": {"excellent": "90", "good": "80", "fair": "60"},
        "rewards": {},
        "consortia": consortia,
    }
    return _scheme_form(request, None, values, [], None)


@assessment_view
@require_http_methods(["GET", "POST"])
def scheme_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Edit a scheme as version n + 1 (409-style message when somebody saved first)."""
    scheme = selectors.scheme_get(request.user, public_id)
    require(scheme.may_edit)
    if request.method == "POST":
        data, items = _scheme_post(request)
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = -1
        try:
            services.scheme_update(
                actor=request.user, scheme=scheme, expected_version=version, data=data, items=items
            )
        except Invalid as error:
            return _scheme_form(request, scheme, data, _item_rows(items), error.as_text())
        messages.success(request, _("考核方案已保存"))
        return redirect("assessment:scheme", scheme.public_id)
    values = {
        key: getattr(scheme, key)
        for key in (
            "name",
            "description",
            "subject",
            "period_type",
            "grading",
            "group_by",
            "grade_bands",
            "rewards",
        )
    }
    items = [
        {"code": item.indicator.code, "weight": item.weight, "rule": item.rule}
        for item in selectors.scheme_items(scheme)
    ]
    return _scheme_form(request, scheme, values, items, None)


# --- rounds -------------------------------------------------------------------------------------------


@assessment_view
@require_GET
def round_list(request: HttpRequest) -> HttpResponse:
    """Rounds the actor reads, newest period first."""
    page = paginate(request, selectors.round_list(request.user))
    return render(
        request,
        "assessment/round_list.html",
        {"page_obj": page, "may_create": policies.can_start_rounds(request.user)},
    )


@assessment_view
@require_http_methods(["GET", "POST"])
def round_new(request: HttpRequest) -> HttpResponse:
    """Open a draft round: scheme, consortium (or region for consortia), kind, period start."""
    consortia, regions = selectors.round_targets(request.user)
    require(bool(consortia or regions))
    schemes = list(selectors.scheme_list(request.user).filter(is_active=True))
    errors: dict[str, list[str]] = {}
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        scheme = next((s for s in schemes if str(s.public_id) == request.POST.get("scheme")), None)
        consortium = next((c for c in consortia if str(c.public_id) == request.POST.get("consortium")), None)
        region = next((r for r in regions if r.code == request.POST.get("region")), None)
        if scheme is None:
            errors["scheme"] = [_("请选择考核方案")]
        else:
            try:
                round_ = services.round_create(
                    actor=request.user,
                    scheme=scheme,
                    kind=request.POST.get("kind", ""),
                    period_start=request.POST.get("period_start", ""),
                    consortium=consortium,
                    region=region,
                    title=request.POST.get("title", ""),
                )
            except Invalid as error:
                errors = error.as_text()
            else:
                messages.success(request, _("考核轮次已创建"))
                return redirect("assessment:round", round_.public_id)
    return render(
        request,
        "assessment/round_form.html",
        {
            "schemes": schemes,
            "consortia": consortia,
            "regions": regions,
            "kinds": RoundKind.choices,
            "values": values,
            "errors": errors,
            # Errors of these fields are shown next to them; any other above the form.
            "field_names": ROUND_FORM_FIELDS,
        },
        status=400 if errors else 200,
    )


ROUND_FORM_FIELDS = ("scheme", "consortium", "kind", "period_start")


def _version_param(request: HttpRequest) -> int | None:
    raw = request.GET.get("v", "")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as error:
        raise NotFound("version") from error


@assessment_view
@require_GET
def round_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A round: version switcher, totals (rank, grade, reward), per-indicator figures, qualitative items with
    evidence and judgements, actions (compute, freeze, publish) and the year-on-year comparison."""
    round_ = selectors.round_get(request.user, public_id)
    versions = selectors.round_versions(round_)
    version = _version_param(request)
    shown = version if version is not None else selectors.default_version(round_)
    totals = list(selectors.round_totals(round_, version)) if shown is not None else []
    results = list(selectors.round_results(round_, version)) if shown is not None else []
    indicators: list[tuple[str, str]] = []
    for result in results:
        shown_pair = (result.indicator_code, result.display_indicator_name)
        if not result.is_qualitative and shown_pair not in indicators:
            indicators.append(shown_pair)
    by_subject: dict[int, dict[str, Any]] = {}
    for result in results:
        if not result.is_qualitative:
            result.display_value = documents.result_value(result)
            by_subject.setdefault(result.subject_id, {})[result.indicator_code] = result
    figure_rows = [
        (total, [by_subject.get(total.subject_id, {}).get(code) for code, _name in indicators])
        for total in totals
    ]
    qualitative = [result for result in results if result.is_qualitative]
    files: dict[tuple[int, int], list[Any]] = {}
    for file in selectors.round_evidence(round_):
        files.setdefault((file.indicator_id, file.subject_id), []).append(file)
    judgements = {(j.indicator_id, j.subject_id): j for j in selectors.round_judgements(round_)}
    for result in qualitative:
        result.files = files.get((result.indicator_id, result.subject_id), [])
        result.judgement = judgements.get((result.indicator_id, result.subject_id))
    qualitative_filters = _qualitative_filters(request)
    # The draft is version 0: its totals are shown too (``if shown`` would hide them).
    comparison = selectors.year_on_year(request.user, round_, version) if shown is not None else None
    return render(
        request,
        "assessment/round_detail.html",
        {
            "round": round_,
            "access": round_.access,
            "versions": versions,
            "shown": shown,
            "totals": totals,
            "indicators": indicators,
            "figure_rows": figure_rows,
            "qualitative": qualitative,
            "qualitative_page": paginate(
                request, _filter_qualitative(qualitative, qualitative_filters), QUALITATIVE_PAGE_SIZE
            ),
            "qualitative_filters": qualitative_filters,
            "qualitative_indicators": list(
                dict.fromkeys((r.indicator_code, r.display_indicator_name) for r in qualitative)
            ),
            "qualitative_pending": sum(1 for r in qualitative if r.judgement is None),
            "back": _back_query(request.GET).urlencode(),
            "verdicts": Verdict.choices,
            "is_open": selectors.round_is_open(round_),
            "comparison": comparison,
            "chart": [
                {"name": t.subject_name, "score": float(t.score), "grade": t.grade}
                for t in totals
                if t.rank is not None
            ][: documents.CHART_BARS],
            "period": documents.period_label(round_),
        },
    )


QUALITATIVE_PAGE_SIZE = 50
"""Qualitative rows per page: a county's self-assessment has a row per member and item (hundreds)."""

BACK_PARAMETERS = ("v", "indicator", "state", "q", "page")
"""What of the round page's query a judgement or an upload returns to (the version, filters and page)."""


def _qualitative_filters(request: HttpRequest) -> dict[str, str]:
    state = request.GET.get("state", "")
    return {
        "indicator": request.GET.get("indicator", "")[:60],
        "state": state if state in ("pending", "judged") else "",
        "q": request.GET.get("q", "").strip()[:50],
    }


def _filter_qualitative(rows: list[Any], filters: dict[str, str]) -> list[Any]:
    """The qualitative rows of one item, judged or not, whose subject's name holds the search text."""
    return [
        row
        for row in rows
        if (not filters["indicator"] or row.indicator_code == filters["indicator"])
        and (not filters["q"] or filters["q"] in row.subject_name)
        and (filters["state"] != "pending" or row.judgement is None)
        and (filters["state"] != "judged" or row.judgement is not None)
    ]


def _back_query(query: Any) -> QueryDict:
    """The round page's own parameters from ``query`` (nothing else travels in a redirect)."""
    kept = QueryDict(mutable=True)
    for name in BACK_PARAMETERS:
        value = query.get(name, "")
        if value:
            kept[name] = value[:60]
    return kept


def _back(round_: Any, version: int | None = None, back: str = "") -> HttpResponse:
    """The round page again: at ``version`` when given, with the filters and page the form came from."""
    kept = _back_query(QueryDict(back))
    if version is not None:
        kept["v"] = str(version)
    url = reverse("assessment:round", args=[round_.public_id])
    return redirect(f"{url}?{kept.urlencode()}" if kept else url)


@assessment_view
@require_POST
def round_action(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    """compute / freeze / publish from the round page (freeze and publish carry the version the page showed)."""
    round_ = selectors.round_get(request.user, public_id)
    try:
        expected = int(request.POST.get("version", ""))
    except ValueError:
        expected = None
    if action == "compute":
        services.round_compute(actor=request.user, round_=round_)
        messages.success(request, _("草稿已重新计算"))
        return _back(round_, 0)
    if action == "freeze":
        frozen = services.round_freeze(actor=request.user, round_=round_, expected_version=expected)
        messages.success(request, _("已冻结为第 %(v)s 版") % {"v": frozen.version})
        unjudged = selectors.unjudged_count(frozen, frozen.version)
        if unjudged:
            # Freezing before judging is allowed (a snapshot), but its totals count those items as 0.
            messages.warning(
                request,
                _("第 %(v)s 版有 %(n)s 项定性指标尚未评判，按 0 分计入总分；评判后请重新冻结。")
                % {"v": frozen.version, "n": unjudged},
            )
        return _back(frozen)
    if action == "publish":
        services.round_publish(actor=request.user, round_=round_, expected_version=expected)
        messages.success(request, _("考核结果已发布"))
        return _back(round_)
    raise NotFound("action")


@assessment_view
@require_POST
def round_judge(request: HttpRequest, public_id: str) -> HttpResponse:
    """Record a judgement of a qualitative item (assessors)."""
    round_ = selectors.round_get(request.user, public_id)
    indicator = (
        indicator_list(request.user, include_inactive=True)
        .filter(code=request.POST.get("indicator", ""))
        .first()
    )
    try:
        if indicator is None:
            raise Invalid({"indicator": [_("指标不存在")]})
        services.judgement_record(
            actor=request.user,
            round_=round_,
            indicator=indicator,
            subject_id=request.POST.get("subject_id"),
            verdict=request.POST.get("verdict", ""),
            comment=request.POST.get("comment", ""),
        )
    except Invalid as error:
        messages.error(request, invalid_message(error))
    else:
        messages.success(request, _("评判已保存，重新计算草稿后计入得分"))
    return _back(round_, 0 if round_.access.manage else None, request.POST.get("back", ""))


@assessment_view
@require_POST
def round_evidence(request: HttpRequest, public_id: str) -> HttpResponse:
    """Upload an evidence file for a qualitative item."""
    round_ = selectors.round_get(request.user, public_id)
    indicator = (
        indicator_list(request.user, include_inactive=True)
        .filter(code=request.POST.get("indicator", ""))
        .first()
    )
    upload = request.FILES.get("file")
    try:
        if indicator is None or upload is None:
            raise Invalid({"file": [_("请选择指标和文件")]})
        services.evidence_upload(
            actor=request.user,
            round_=round_,
            indicator=indicator,
            subject_id=request.POST.get("subject_id"),
            upload=upload,
        )
    except Invalid as error:
        messages.error(request, invalid_message(error))
    else:
        messages.success(request, _("佐证材料已上传"))
    return _back(round_, back=request.POST.get("back", ""))


@assessment_view
@require_GET
def evidence_download(request: HttpRequest, public_id: str) -> FileResponse:
    """An evidence file, for readers of its round who see its subject."""
    evidence = selectors.evidence_get(request.user, public_id)
    return FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )


@assessment_view
@require_GET
def round_xlsx(request: HttpRequest, public_id: str) -> HttpResponse:
    """Every table of the round page as Excel."""
    round_ = selectors.round_get(request.user, public_id)
    version = _version_param(request)
    shown = version if version is not None else selectors.default_version(round_)
    content = documents.round_workbook(
        round_,
        shown or 0,
        selectors.round_totals(round_, version),
        selectors.round_results(round_, version),
        selectors.year_on_year(request.user, round_, version).rows,
    )
    return _download(content, f"assessment-v{shown}.xlsx", XLSX)


@assessment_view
@require_GET
def round_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    """The round's PDF report."""
    round_ = selectors.round_get(request.user, public_id)
    version = _version_param(request)
    shown = version if version is not None else selectors.default_version(round_)
    content = documents.round_pdf(
        round_,
        shown or 0,
        selectors.round_totals(round_, version),
        selectors.round_results(round_, version),
        selectors.round_judgements(round_),
    )
    return _download(content, f"assessment-v{shown}.pdf", "application/pdf", inline=True)


urlpatterns: list[URLPattern] = [
    path("", round_list, name="rounds"),
    path("rounds/new/", round_new, name="round_new"),
    path("rounds/<uuid:public_id>/", round_detail, name="round"),
    path("rounds/<uuid:public_id>/report.xlsx", round_xlsx, name="round_xlsx"),
    path("rounds/<uuid:public_id>/report.pdf", round_pdf, name="round_pdf"),
    path("rounds/<uuid:public_id>/judge/", round_judge, name="round_judge"),
    path("rounds/<uuid:public_id>/evidence/", round_evidence, name="round_evidence"),
    path("rounds/<uuid:public_id>/<str:action>/", round_action, name="round_action"),
    path("evidence/<uuid:public_id>/", evidence_download, name="evidence"),
    path("schemes/", scheme_list, name="schemes"),
    path("schemes/new/", scheme_new, name="scheme_new"),
    path("schemes/<uuid:public_id>/", scheme_detail, name="scheme"),
    path("schemes/<uuid:public_id>/edit/", scheme_edit, name="scheme_edit"),
]
