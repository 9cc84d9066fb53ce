"""慢病管理 pages: cases, enrolment, the case with its follow-ups and trend, the follow-up form, the
suggestion and its one-action referral, the overdue and suggestion lists, the rates and the registries.

Thin adapters: reads through ``chronic_care.selectors``, writes through ``chronic_care.services`` with
``actor=request.user``; service messages show inline on the forms.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.chronic_care import documents, forms, policies, selectors, services
from yilian.chronic_care.choices import CaseStatus, Control, Suggestion, SuggestionState
from yilian.chronic_care.models import FollowUp
from yilian.chronic_care.selectors.rates import DEFINITIONS, GROUPS, period_of, rates, total
from yilian.core.exceptions import Conflict, Invalid
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, paginate, require
from yilian.institutions.models import Institution
from yilian.people import selectors as people_selectors

TREND_POINTS = 12
CASE_FOLLOW_UPS = 50


def chronic_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def _teams_of_actor(actor: Any) -> list[Any]:
    """Care teams offered in filters: of the actor's institutions and the teams they belong to."""
    from yilian.family_doctors.models import CareTeam

    institutions = policies.patient_institutions(actor)
    teams = policies.team_ids_of(actor)
    return list(
        CareTeam.objects.filter(is_active=True)
        .filter(_or(institution_id__in=institutions, pk__in=teams))
        .select_related("institution")
        .order_by("institution__name", "name")
    )


def _or(**lookups: Any) -> Any:
    from django.db.models import Q

    combined = Q(pk__in=[])
    for key, value in lookups.items():
        combined |= Q(**{key: value})
    return combined


def _registry_tabs() -> list[Any]:
    return list(selectors.registry_list())


# Cases ---------------------------------------------------------------------------------------------


@chronic_view
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """Cases under management the viewer reads, filtered by registry, team, control and name."""
    actor = request.user
    if not policies.can_see_cases(actor):
        require(policies.can_see_rates(actor))
        return redirect("chronic_care:rates")
    params = request.GET
    status = params.get("status", CaseStatus.ACTIVE)
    cases = selectors.case_list(
        actor,
        registry=params.get("registry", ""),
        status=status if status in CaseStatus.values else "",
        team=_uuid(params.get("team")),
        control=params.get("control", "") if params.get("control") in Control.values else "",
        query=params.get("q", "").strip()[:50],
    )
    return render(
        request,
        "chronic_care/case_list.html",
        {
            "page_obj": paginate(request, cases),
            "registries": _registry_tabs(),
            "teams": _teams_of_actor(actor),
            "controls": Control.choices,
            "statuses": CaseStatus.choices,
            "params": params,
            "status": status,
            "may_enrol": policies.can_enrol(actor),
            "today": timezone.localdate(),
            "open_suggestions": selectors.suggestion_list(actor).count(),
        },
    )


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _enrol_form(request: HttpRequest, data: Any, initial: dict[str, Any]) -> forms.EnrolForm:
    from yilian.family_doctors.models import CareTeam

    actor = request.user
    institution_ids = policies.enrolling_institutions(actor)
    institutions = [
        i for i in Institution.objects.filter(pk__in=institution_ids).order_by("name") if i.is_primary
    ]
    teams = list(
        CareTeam.objects.filter(institution__in=institutions, is_active=True)
        .select_related("institution")
        .order_by("name")
    )
    return forms.EnrolForm(
        data,
        initial=initial,
        persons=people_selectors.person_visible_to(actor),
        registries=_registry_tabs(),
        institutions=institutions,
        teams=teams,
    )


@chronic_view
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Enrol a resident (建档/纳入管理); then straight to the first follow-up."""
    actor = request.user
    require(policies.can_enrol(actor))
    initial = {
        "person": request.GET.get("person", ""),
        "registry": request.GET.get("registry", "hypertension"),
        "enrolled_on": timezone.localdate(),
    }
    form = _enrol_form(request, request.POST if request.method == "POST" else None, initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                case = services.case_enrol(actor=actor, **form.for_service())
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                form.add_error(None, str(error.message))
                status = 409
            else:
                messages.success(request, _("已纳入管理，请记录首次随访。"))
                return redirect("chronic_care:follow-up-new", public_id=case.public_id)
    return render(request, "chronic_care/enrol.html", {"form": form}, status=status)


def trend_points(follow_ups: list[FollowUp]) -> dict[str, Any] | None:
    """An inline-SVG sparkline of systolic/diastolic pressure (oldest left), or None under two points."""
    points = [f for f in reversed(follow_ups) if f.systolic is not None][-TREND_POINTS:]
    if len(points) < 2:
        return None
    width, height, low, high = 320, 90, 50, 200
    step = width / (len(points) - 1)

    def y(value: int) -> float:
        return round(height - (min(max(value, low), high) - low) / (high - low) * height, 1)

    systolic = " ".join(f"{round(i * step, 1)},{y(f.systolic or 0)}" for i, f in enumerate(points))
    diastolic = " ".join(f"{round(i * step, 1)},{y(f.diastolic or 0)}" for i, f in enumerate(points))
    return {
        "width": width,
        "height": height,
        "systolic": systolic,
        "diastolic": diastolic,
        "target": y(140),
        "dots": [
            {
                "x": round(i * step, 1),
                "y": y(f.systolic or 0),
                "label": f"{f.visited_on} {f.blood_pressure}",
                "bad": f.control == Control.UNCONTROLLED,
            }
            for i, f in enumerate(points)
        ],
        "first": points[0].visited_on,
        "last": points[-1].visited_on,
    }


@chronic_view
@require_GET
def case_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A case: the patient, registry, team, schedule, the follow-ups with control and suggestions, the
    blood-pressure trend, and the actions the viewer may take."""
    actor = request.user
    case = selectors.case_get_for(actor, public_id)
    follow_ups = list(selectors.follow_ups_of(case, limit=CASE_FOLLOW_UPS))
    today = timezone.localdate()
    return render(
        request,
        "chronic_care/case_detail.html",
        {
            "case": case,
            "follow_ups": follow_ups,
            "trend": trend_points(follow_ups),
            "today": today,
            "days_overdue": case.days_overdue(today),
            "may_record": case.is_active and policies.can_record_follow_up(actor, case),
            "may_close": case.is_active and policies.can_close_case(actor, case),
            "close_form": forms.CloseForm(initial={"closed_on": today}),
        },
    )


@chronic_view
@require_POST
def case_close(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Close the case with a reason."""
    actor = request.user
    case = selectors.case_get_for(actor, public_id)
    form = forms.CloseForm(request.POST)
    if form.is_valid():
        try:
            services.case_close(
                actor=actor,
                case=case,
                reason=form.cleaned_data["reason"],
                closed_on=form.cleaned_data["closed_on"],
                note=form.cleaned_data.get("note") or "",
            )
        except Invalid as error:
            for message in error.as_text().values():
                messages.error(request, pgettext("punctuation", "；").join(message))
        else:
            messages.success(request, _("档案已结案。"))
    else:
        messages.error(request, _("请选择结案原因和日期。"))
    return redirect("chronic_care:case", public_id=case.public_id)


@chronic_view
@require_http_methods(["GET", "POST"])
def follow_up_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Record a follow-up. Impossible values come back inline naming the field and range; nothing saved."""
    actor = request.user
    case = selectors.case_get_for(actor, public_id)
    require(case.is_active and policies.can_record_follow_up(actor, case))
    last = selectors.follow_ups_of(case, limit=1)
    last_visit = last[0] if last else None
    initial: dict[str, Any] = {
        "visited_on": timezone.localdate(),
        "method": "clinic",
        "adherence": "regular",
        # One key per form: posted twice (a double click), it records the visit once.
        "idempotency_key": uuid.uuid4().hex,
    }
    if last_visit is not None:
        initial.update(
            medication=last_visit.medication,
            height_cm=last_visit.height_cm or "",
            adherence=last_visit.adherence,
        )
    form = forms.FollowUpForm(
        request.POST if request.method == "POST" else None, initial=initial, measures=case.registry.measures
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                follow_up = services.follow_up_record(actor=actor, case=case, **form.for_service())
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                form.add_error(None, str(error.message))
                status = 409
            else:
                if follow_up.suggestion == Suggestion.REFER_EMERGENCY:
                    messages.error(request, _("血压≥180/110 mmHg 且有危险征象：请立即转诊！"))
                elif follow_up.suggestion == Suggestion.REFER:
                    messages.warning(request, _("随访已保存。根据随访规则建议转诊，请确认。"))
                else:
                    messages.success(request, _("随访已保存。"))
                return redirect("chronic_care:follow-up", public_id=follow_up.public_id)
    return render(
        request,
        "chronic_care/follow_up_form.html",
        {"form": form, "case": case, "last_visit": last_visit},
        status=status,
    )


def _outcome(follow_up: FollowUp, today: Any) -> dict[str, Any] | None:
    """The outcome check of a suggestion: shown once the referral completed or the two weeks passed."""
    if follow_up.outcome_check_due_on is None:
        return None
    referral = follow_up.referral
    completed = referral is not None and referral.status in ("completed", "closed")
    later = (
        FollowUp.objects.filter(case_id=follow_up.case_id, visited_on__gt=follow_up.visited_on)
        .order_by("visited_on", "id")
        .first()
    )
    return {
        "due_on": follow_up.outcome_check_due_on,
        "show": completed or today >= follow_up.outcome_check_due_on or later is not None,
        "referral_completed": completed,
        "checked_by": later,
        "overdue": later is None and today > follow_up.outcome_check_due_on,
    }


@chronic_view
@require_GET
def follow_up_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A follow-up with its control status, the rule's suggestion and what became of it."""
    actor = request.user
    follow_up = selectors.follow_up_get_for(actor, public_id)
    today = timezone.localdate()
    handles = follow_up.suggestion_state == SuggestionState.OPEN and policies.can_refer(actor, follow_up.case)
    return render(
        request,
        "chronic_care/follow_up_detail.html",
        {
            "follow_up": follow_up,
            "case": follow_up.case,
            "reasons": _reason_labels(follow_up),
            "danger_labels": _danger_labels(follow_up),
            "may_handle": handles,
            "dismiss_form": forms.DismissForm(),
            "outcome": _outcome(follow_up, today),
        },
    )


def _reason_labels(follow_up: FollowUp) -> list[str]:
    from yilian.chronic_care.choices import SuggestionReason

    return [
        str(SuggestionReason(r).label) for r in follow_up.suggestion_reasons if r in SuggestionReason.values
    ]


def _danger_labels(follow_up: FollowUp) -> list[str]:
    from yilian.chronic_care.choices import DangerSign

    return [str(DangerSign(s).label) for s in follow_up.danger_signs if s in DangerSign.values]


@chronic_view
@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The confirm page of the suggested referral, prefilled; one button creates and submits it."""
    actor = request.user
    follow_up = selectors.follow_up_get_for(actor, public_id)
    require(policies.can_refer(actor, follow_up.case))
    if follow_up.suggestion_state != SuggestionState.OPEN:
        if follow_up.referral_id:
            messages.info(request, _("该建议已转诊。"))
            return redirect("referrals:detail", public_id=follow_up.referral.public_id)
        messages.info(request, _("该转诊建议已处理。"))
        return redirect("chronic_care:follow-up", public_id=follow_up.public_id)
    proposal = selectors.referral_proposal(follow_up)
    departments = proposal.departments
    initial = {
        "to_department": str(proposal.department.public_id) if proposal.department else "",
        "kind": proposal.kind,
        "priority": proposal.priority,
        "diagnosis_code": proposal.diagnosis_code,
        "diagnosis_name": proposal.diagnosis_name,
        "reason": proposal.reason,
        "history": proposal.history,
        "exam_results": proposal.exam_results,
        "medications": proposal.medications,
        "idempotency_key": uuid.uuid4().hex,
    }
    form = forms.ReferForm(
        request.POST if request.method == "POST" else None, initial=initial, departments=departments
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                referral = services.suggestion_refer(
                    actor=actor,
                    follow_up=follow_up,
                    to_department=form.offered.get(data["to_department"]),
                    kind=data["kind"],
                    priority=data["priority"],
                    diagnosis_code=data["diagnosis_code"],
                    diagnosis_name=data["diagnosis_name"],
                    reason=data["reason"],
                    history=data.get("history") or "",
                    exam_results=data.get("exam_results") or "",
                    medications=data.get("medications") or "",
                    patient_consented=bool(data.get("patient_consented")),
                    acknowledge_missing=bool(data.get("acknowledge_missing")),
                    idempotency_key=data.get("idempotency_key") or "",
                )
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                form.add_error(None, str(error.message))
                status = 409
            else:
                messages.success(
                    request,
                    _("转诊单 {number} 已提交至 {institution}。").format(
                        number=referral.number, institution=referral.to_institution.name
                    ),
                )
                return redirect("referrals:detail", public_id=referral.public_id)
    return render(
        request,
        "chronic_care/refer.html",
        {
            "form": form,
            "follow_up": follow_up,
            "case": follow_up.case,
            "proposal": proposal,
            "reasons": _reason_labels(follow_up),
        },
        status=status,
    )


@chronic_view
@require_POST
def dismiss(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Decide not to refer, with the reason."""
    actor = request.user
    follow_up = selectors.follow_up_get_for(actor, public_id)
    try:
        services.suggestion_dismiss(actor=actor, follow_up=follow_up, note=request.POST.get("note", ""))
    except Invalid as error:
        for message in error.as_text().values():
            messages.error(request, pgettext("punctuation", "；").join(message))
    else:
        messages.success(request, _("已记录不转诊的理由。"))
    return redirect("chronic_care:follow-up", public_id=follow_up.public_id)


# Lists ---------------------------------------------------------------------------------------------


@chronic_view
@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    """建议转诊: follow-ups whose rule suggests a referral and nobody has acted on yet."""
    actor = request.user
    require(policies.can_see_cases(actor))
    page_obj = paginate(request, selectors.suggestion_list(actor))
    rows = list(page_obj.object_list)
    for row in rows:
        row.reason_labels = _reason_labels(row)  # type: ignore[attr-defined]
        # Team specialists and nurses see the suggestion but only the managing institution's doctors send it.
        row.may_refer = policies.can_refer(actor, row.case)  # type: ignore[attr-defined]
    page_obj.object_list = rows
    return render(
        request,
        "chronic_care/suggestions.html",
        {"page_obj": page_obj, "today": timezone.localdate()},
    )


@chronic_view
@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    """Overdue follow-ups, most overdue first; filters by registry, team, village; one query per page."""
    from yilian.institutions.models import Grid

    actor = request.user
    require(policies.can_see_cases(actor))
    params = request.GET
    today = timezone.localdate()
    order = params.get("order", "days")
    within = params.get("within", "0")
    cases = selectors.overdue_list(
        actor,
        today=today,
        registry=params.get("registry", ""),
        team=_uuid(params.get("team")),
        village=_uuid(params.get("village")),
        order=order,
        within_days=int(within) if within.isdigit() and int(within) <= 60 else 0,
    )
    page_obj = paginate(request, cases, capped=True)
    rows = list(page_obj.object_list)
    for case in rows:
        case.overdue_days = case.days_overdue(today)  # type: ignore[attr-defined]
    page_obj.object_list = rows
    teams = _teams_of_actor(actor)
    grid_ids = {t.grid_id for t in teams if t.grid_id}
    villages = list(Grid.objects.filter(pk__in=grid_ids).order_by("name")) if grid_ids else []
    return render(
        request,
        "chronic_care/overdue.html",
        {
            "page_obj": page_obj,
            "registries": _registry_tabs(),
            "teams": teams,
            "villages": villages,
            "params": params,
            "order": order,
            "today": today,
        },
    )


# Rates ---------------------------------------------------------------------------------------------


@chronic_view
@require_GET
def rate_page(request: HttpRequest) -> HttpResponse:
    """Rates per team, institution or consortium for a year or quarter, with the definitions; Excel."""
    actor = request.user
    require(policies.can_see_rates(actor))
    params = request.GET
    today = timezone.localdate()
    year = (
        int(params["year"])
        if params.get("year", "").isdigit() and 2000 <= int(params["year"]) <= 2100
        else today.year
    )
    quarter = int(params["quarter"]) if params.get("quarter") in ("1", "2", "3", "4") else None
    group = params.get("group") if params.get("group") in GROUPS else "institution"
    registry = params.get("registry", "")
    period = period_of(year, quarter)
    rows = rates(actor, period=period, group=group, registry=registry)
    summary = total(rows)
    if params.get("format") == "xlsx":
        title = _("慢病管理指标 {period}").format(period=period.label)
        response = HttpResponse(
            documents.rates_xlsx(title=title, rows=rows, total=summary, definitions=DEFINITIONS),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="chronic-care-rates-{period.label}.xlsx"'
        return response
    return render(
        request,
        "chronic_care/rates.html",
        {
            "rows": rows,
            "total": summary,
            "period": period,
            "year": year,
            "quarter": quarter,
            "group": group,
            "registry": registry,
            "registries": _registry_tabs(),
            "years": list(range(today.year, today.year - 5, -1)),
            "definitions": DEFINITIONS,
            "query": request.GET.urlencode(),
            "rates_only": not policies.can_see_cases(actor),
        },
    )


# Registries ----------------------------------------------------------------------------------------


@chronic_view
@require_GET
def registry_list(request: HttpRequest) -> HttpResponse:
    """The registries with their schedules, thresholds and sources."""
    actor = request.user
    require(policies.can_use_chronic_care(actor))
    return render(
        request,
        "chronic_care/registries.html",
        {
            "registries": list(selectors.registry_list(active_only=False)),
            "may_manage": policies.can_manage_registries(actor),
            "rates_only": not policies.can_see_cases(actor),
        },
    )


@chronic_view
@require_http_methods(["GET", "POST"])
def registry_edit(request: HttpRequest, code: str = "") -> HttpResponse:
    """Add a registry, or edit one (consortium office, platform administrator)."""
    actor = request.user
    require(policies.can_manage_registries(actor))
    registry = selectors.registry_get(code) if code else None
    initial: dict[str, Any] = {"follow_ups_per_year": 4, "is_active": True, "measures": ["blood_pressure"]}
    if registry is not None:
        initial = {name: getattr(registry, name) for name in services.REGISTRY_FIELDS}
        initial["icd10_ranges"] = ", ".join(
            first if first == last else f"{first}-{last}" for first, last in registry.icd10_ranges
        )
    form = forms.RegistryForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.registry_save(actor=actor, registry=registry, **form.cleaned_data)
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                form.add_error(None, str(error.message))
                status = 409
            else:
                messages.success(request, _("病种已保存。"))
                return redirect("chronic_care:registries")
    return render(
        request, "chronic_care/registry_form.html", {"form": form, "registry": registry}, status=status
    )


urlpatterns: list[URLPattern] = [
    path("", case_list, name="list"),
    path("enrol/", enrol, name="enrol"),
    path("cases/<uuid:public_id>/", case_detail, name="case"),
    path("cases/<uuid:public_id>/close/", case_close, name="case-close"),
    path("cases/<uuid:public_id>/follow-up/", follow_up_new, name="follow-up-new"),
    path("follow-ups/<uuid:public_id>/", follow_up_detail, name="follow-up"),
    path("follow-ups/<uuid:public_id>/refer/", refer, name="refer"),
    path("follow-ups/<uuid:public_id>/dismiss/", dismiss, name="dismiss"),
    path("suggestions/", suggestions, name="suggestions"),
    path("overdue/", overdue, name="overdue"),
    path("rates/", rate_page, name="rates"),
    path("registries/", registry_list, name="registries"),
    path("registries/new/", registry_edit, name="registry-new"),
    path("registries/<slug:code>/", registry_edit, name="registry-edit"),
]
