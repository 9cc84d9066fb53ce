"""Capacity-building pages: courses and sign-ins, fellowships, techniques, devices, repairs, figures.

Thin adapters: every read goes through ``capacity_building.selectors`` and
every change through ``capacity_building.services`` with
``actor=request.user``. A record's page offers the actions the actor may take
now; each action posts one form to ``.../act/<name>/``; bad input re-renders
the page with the messages inline (400), a conflict returns to the page with
the service's message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.accounts.selectors import scope_for
from yilian.capacity_building import documents, forms, policies, selectors, services
from yilian.capacity_building.choices import (
    FELLOWSHIP_OPEN,
    CourseStatus,
    MaintenanceStatus,
    SupportKind,
    TechniqueStatus,
)
from yilian.core.audit import action_label
from yilian.core.exceptions import Conflict, Invalid
from yilian.core.permissions import Role
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, paginate, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def capacity_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


@dataclass(frozen=True)
class Action:
    """One action offered on a record's page."""

    name: str
    label: Any
    allowed: Callable[[Any, Any], bool]
    form: Callable[[Any, Any, Any], django_forms.Form]
    run: Callable[[HttpRequest, Any, dict[str, Any]], Any]
    done: Any
    danger: bool = False


def _action_forms(
    actor: Any, obj: Any, actions: list[Action], failed: tuple[str, Any] | None = None
) -> list[dict[str, Any]]:
    items = []
    for action in actions:
        if not action.allowed(actor, obj):
            continue
        form = failed[1] if failed and failed[0] == action.name else action.form(actor, obj, None)
        items.append({"name": action.name, "label": action.label, "form": form, "danger": action.danger})
    return items


def _run_action(
    request: HttpRequest,
    obj: Any,
    actions: list[Action],
    name: str,
    render_detail: Callable[[tuple[str, Any]], HttpResponse],
    detail_url: str,
) -> HttpResponse:
    """Validate the posted form of ``name`` and call its service; re-render with errors on bad input."""
    action = next((a for a in actions if a.name == name), None)
    if action is None:
        raise Http404
    require(action.allowed(request.user, obj))
    form = action.form(request.user, obj, request.POST)
    if form.is_valid():
        try:
            action.run(request, obj, form.cleaned_data)
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            messages.error(request, str(error.message))
            return redirect(detail_url)
        else:
            messages.success(request, str(action.done))
            return redirect(detail_url)
    response = render_detail((name, form))
    response.status_code = 400
    return response


def _history(obj: Any) -> list[dict[str, Any]]:
    return [
        {
            "at": event.occurred_at,
            "who": event.actor_label,
            "what": action_label(event.action),
            "details": event.details,
        }
        for event in selectors.record_history(obj)
    ]


def _institutions(ids: set[int]) -> Any:
    return selectors.institutions_by_ids(ids)


# Courses -----------------------------------------------------------------------------------------

COURSE_BOXES = (
    ("all", gettext_lazy("全部培训")),
    ("organised", gettext_lazy("本机构主办")),
    ("attended", gettext_lazy("我参加的")),
)


@capacity_view
@require_GET
def course_list(request: HttpRequest) -> HttpResponse:
    """Courses the actor may read, by tab (all, organised by their institutions, attended by them)."""
    actor = request.user
    require(policies.can_use_capacity(actor))
    box = request.GET.get("box") or "all"
    if box not in dict(COURSE_BOXES):
        box = "all"
    form = forms.CourseFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    filters = selectors.CourseFilters(
        box=box,
        kind=values.get("kind") or "",
        status=values.get("status") or "",
        year=values.get("year"),
        query=values.get("q") or "",
    )
    page_obj = paginate(request, selectors.course_list(actor, filters))
    tabs = [
        (key, label)
        for key, label in COURSE_BOXES
        if key != "organised" or policies.organiser_institutions(actor)
    ]
    return render(
        request,
        "capacity_building/course_list.html",
        {
            "box": box,
            "tabs": tabs,
            "form": form,
            "page_obj": page_obj,
            "may_organise": bool(policies.organiser_institutions(actor)),
        },
    )


def _course_form(
    actor: Any, data: Any, initial: dict[str, Any] | None = None, course: Any = None
) -> forms.CourseForm:
    organiser_ids = policies.organiser_institutions(actor)
    if course is not None:
        organiser_ids = {course.organiser_id}
    organisers = _institutions(organiser_ids)
    departments = selectors.organiser_departments(organiser_ids)
    members = selectors.fellow_institutions(organiser_ids)
    return forms.CourseForm(
        data, initial=initial or {}, organisers=organisers, departments=departments, members=members
    )


def _course_values(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": data["kind"],
        "title": data["title"],
        "topic": data.get("topic") or "",
        "trainers": data["trainers"],
        "mode": data["mode"],
        "place": data.get("place") or "",
        "venue": data.get("venue"),
        "starts_on": data["starts_on"],
        "ends_on": data.get("ends_on") or data["starts_on"],
        "hours": data.get("hours"),
        "credits": data.get("credits"),
        "open_to_all_members": bool(data.get("open_to_all_members")),
        "organiser_department": data.get("organiser_department"),
        "audience": list(data.get("audience") or []),
    }


@capacity_view
@require_http_methods(["GET", "POST"])
def course_new(request: HttpRequest) -> HttpResponse:
    """Publish a course. Invalid input saves nothing."""
    actor = request.user
    require(bool(policies.organiser_institutions(actor)))
    initial = {
        "open_to_all_members": True,
        "starts_on": timezone.localdate(),
        "kind": "teaching_round",
        "hours": 2,
    }
    organisers = policies.organiser_institutions(actor)
    if len(organisers) == 1:
        initial["organiser"] = _institutions(organisers).first().public_id
    form = _course_form(actor, _posted(request), initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                course = services.course_create(
                    actor=actor, organiser=form.cleaned_data["organiser"], **_course_values(form.cleaned_data)
                )
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("培训已发布。"))
                return redirect("capacity_building:course", public_id=course.public_id)
    return render(
        request, "capacity_building/course_form.html", {"form": form, "course": None}, status=status
    )


@capacity_view
@require_http_methods(["GET", "POST"])
def course_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Change a published course."""
    actor = request.user
    course = selectors.course_get_for(actor, public_id)
    require(policies.can_manage_course(actor, course))
    initial = {
        name: getattr(course, name)
        for name in (
            "kind",
            "title",
            "topic",
            "trainers",
            "mode",
            "place",
            "starts_on",
            "ends_on",
            "hours",
            "credits",
            "open_to_all_members",
        )
    }
    initial.update(
        organiser=course.organiser.public_id,
        organiser_department=course.organiser_department.public_id if course.organiser_department else None,
        venue=course.venue.public_id if course.venue else None,
        audience=[i.public_id for i in selectors.course_audience(course)],
        version=course.version,
    )
    form = _course_form(actor, _posted(request), initial, course=course)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            values = _course_values(form.cleaned_data)
            try:
                services.course_update(
                    actor=actor, course=course, expected_version=_version(request), **values
                )
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                messages.error(request, str(error.message))
                return redirect("capacity_building:course", public_id=course.public_id)
            else:
                messages.success(request, _("培训信息已保存。"))
                return redirect("capacity_building:course", public_id=course.public_id)
    return render(
        request, "capacity_building/course_form.html", {"form": form, "course": course}, status=status
    )


def _sign_in_form(actor: Any, course: Any, data: Any) -> forms.SignInForm:
    return forms.SignInForm(data, candidates=selectors.sign_in_candidates(actor, course), prefix="sign_in")


def _sign_in(request: HttpRequest, course: Any, data: dict[str, Any]) -> None:
    if data.get("users"):
        services.attendance_record_many(actor=request.user, course=course, users=list(data["users"]))
    if data.get("name") or data.get("institution_name"):
        services.attendance_record(
            actor=request.user,
            course=course,
            name=data.get("name") or "",
            institution_name=data.get("institution_name") or "",
        )


COURSE_ACTIONS = [
    Action(
        "sign_in",
        gettext_lazy("记录签到"),
        lambda actor, c: (
            policies.can_manage_course(actor, c)
            and c.status == CourseStatus.PLANNED
            and c.starts_on <= timezone.localdate()
        ),
        _sign_in_form,
        _sign_in,
        gettext_lazy("签到已记录。"),
    ),
    Action(
        "close",
        gettext_lazy("结束签到（培训已举办）"),
        lambda actor, c: (
            policies.can_manage_course(actor, c)
            and c.status == CourseStatus.PLANNED
            and c.starts_on <= timezone.localdate()
        ),
        lambda actor, c, data: django_forms.Form(data, prefix="close"),
        lambda request, c, data: services.course_close(actor=request.user, course=c),
        gettext_lazy("已结束签到。"),
    ),
    Action(
        "cancel",
        gettext_lazy("取消培训"),
        lambda actor, c: policies.can_manage_course(actor, c) and c.status == CourseStatus.PLANNED,
        lambda actor, c, data: forms.ReasonForm(data, prefix="cancel"),
        lambda request, c, data: services.course_cancel(actor=request.user, course=c, reason=data["reason"]),
        gettext_lazy("培训已取消。"),
        danger=True,
    ),
]


def _course_page(request: HttpRequest, course: Any, failed: tuple[str, Any] | None = None) -> HttpResponse:
    actor = request.user
    manages = policies.can_manage_course(actor, course)
    return render(
        request,
        "capacity_building/course_detail.html",
        {
            "course": course,
            "audience": selectors.course_audience(course),
            "attendances": list(selectors.course_attendances(course)),
            "summary": selectors.attendance_summary(course),
            "action_forms": _action_forms(actor, course, COURSE_ACTIONS, failed),
            "manages": manages,
            "removable": manages and course.status == CourseStatus.PLANNED,
            "history": _history(course) if manages or not scope_for(actor).institutions_with() else [],
        },
    )


@capacity_view
@require_GET
def course_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A course: details, who it is open to, sign-ins per institution, and the organiser's actions."""
    return _course_page(request, selectors.course_get_for(request.user, public_id))


@capacity_view
@require_POST
def course_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Take one action on a course."""
    course = selectors.course_get_for(request.user, public_id)
    return _run_action(
        request,
        course,
        COURSE_ACTIONS,
        action,
        lambda failed: _course_page(request, course, failed),
        reverse("capacity_building:course", args=[course.public_id]),
    )


@capacity_view
@require_POST
def attendance_remove(request: HttpRequest, public_id: Any, attendance_id: Any) -> HttpResponse:
    """Remove a sign-in recorded by mistake."""
    course = selectors.course_get_for(request.user, public_id)
    attendance = selectors.attendance_get(course, attendance_id)
    try:
        services.attendance_remove(actor=request.user, attendance=attendance)
    except Conflict as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("签到记录已删除。"))
    return redirect("capacity_building:course", public_id=course.public_id)


@capacity_view
@require_GET
def course_sign_in_sheet(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The course's sign-in sheet as Excel."""
    course = selectors.course_get_for(request.user, public_id)
    content = documents.sign_in_workbook(course, list(selectors.course_attendances(course)))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="sign-in-{course.starts_on:%Y%m%d}.xlsx"'
    return response


# Fellowships -------------------------------------------------------------------------------------


@capacity_view
@require_GET
def fellowship_list(request: HttpRequest) -> HttpResponse:
    """Fellowships the actor may read, filtered."""
    actor = request.user
    require(policies.can_use_capacity(actor))
    form = forms.FellowshipFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    filters = selectors.FellowshipFilters(
        status=values.get("status") or "", year=values.get("year"), query=values.get("q") or ""
    )
    return render(
        request,
        "capacity_building/fellowship_list.html",
        {
            "form": form,
            "page_obj": paginate(request, selectors.fellowship_list(actor, filters)),
            "may_apply": bool(policies.admin_institutions(actor))
            and selectors.host_departments(actor).exists(),
        },
    )


def _fellowship_form(actor: Any, data: Any, initial: dict[str, Any]) -> forms.FellowshipForm:
    homes = policies.admin_institutions(actor)
    departments = selectors.host_departments(actor)
    hosts = set(departments.values_list("institution_id", flat=True))
    return forms.FellowshipForm(
        data,
        initial=initial,
        homes=_institutions(homes),
        trainees=selectors.staff_of(homes),
        departments=departments,
        supervisors=selectors.staff_of(hosts, roles=(Role.DOCTOR, Role.NURSE, Role.TECHNICIAN)),
    )


@capacity_view
@require_http_methods(["GET", "POST"])
def fellowship_new(request: HttpRequest) -> HttpResponse:
    """A member's administrator applies for a fellowship of one of its staff."""
    actor = request.user
    homes = policies.admin_institutions(actor)
    require(bool(homes))
    initial: dict[str, Any] = {"planned_months": 6}
    if len(homes) == 1:
        initial["home_institution"] = _institutions(homes).first().public_id
    form = _fellowship_form(actor, _posted(request), initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                fellowship = services.fellowship_apply(actor=actor, **form.cleaned_data)
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                form.add_error(None, str(error.message))
                status = 409
            else:
                messages.success(request, _("进修申请已提交。"))
                return redirect("capacity_building:fellowship", public_id=fellowship.public_id)
    return render(request, "capacity_building/fellowship_form.html", {"form": form}, status=status)


def _versioned(form: django_forms.Form, version: int) -> django_forms.Form:
    form.fields["version"] = django_forms.IntegerField(
        widget=django_forms.HiddenInput, required=False, initial=version
    )
    return form


FELLOWSHIP_ACTIONS = [
    Action(
        "start",
        gettext_lazy("办理报到（开始进修）"),
        lambda actor, f: f.status == "planned" and policies.can_run_fellowship(actor, f),
        lambda actor, f, data: _versioned(forms.StartForm(data, prefix="start"), f.version),
        lambda request, f, data: services.fellowship_start(
            actor=request.user,
            fellowship=f,
            started_on=data["started_on"],
            expected_version=data.get("version"),
        ),
        gettext_lazy("已办理报到。"),
    ),
    Action(
        "complete",
        gettext_lazy("办理结业"),
        lambda actor, f: f.status == "in_progress" and policies.can_run_fellowship(actor, f),
        lambda actor, f, data: _versioned(forms.CompleteForm(data, prefix="complete"), f.version),
        lambda request, f, data: services.fellowship_complete(
            actor=request.user,
            fellowship=f,
            assessment=data["assessment"],
            certificate_number=data.get("certificate_number") or "",
            assessment_note=data.get("assessment_note") or "",
            ended_on=data["ended_on"],
            expected_version=data.get("version"),
        ),
        gettext_lazy("已办理结业。"),
    ),
    Action(
        "withdraw",
        gettext_lazy("退出进修"),
        lambda actor, f: f.status in FELLOWSHIP_OPEN and policies.can_withdraw_fellowship(actor, f),
        lambda actor, f, data: _versioned(forms.ReasonForm(data, prefix="withdraw"), f.version),
        lambda request, f, data: services.fellowship_withdraw(
            actor=request.user, fellowship=f, reason=data["reason"], expected_version=data.get("version")
        ),
        gettext_lazy("已办理退出。"),
        danger=True,
    ),
]


def _fellowship_page(
    request: HttpRequest, fellowship: Any, failed: tuple[str, Any] | None = None
) -> HttpResponse:
    return render(
        request,
        "capacity_building/fellowship_detail.html",
        {
            "fellowship": fellowship,
            "action_forms": _action_forms(request.user, fellowship, FELLOWSHIP_ACTIONS, failed),
            "history": _history(fellowship),
        },
    )


@capacity_view
@require_GET
def fellowship_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A fellowship with its timeline and the actions the actor may take."""
    return _fellowship_page(request, selectors.fellowship_get_for(request.user, public_id))


@capacity_view
@require_POST
def fellowship_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Take one action on a fellowship."""
    fellowship = selectors.fellowship_get_for(request.user, public_id)
    return _run_action(
        request,
        fellowship,
        FELLOWSHIP_ACTIONS,
        action,
        lambda failed: _fellowship_page(request, fellowship, failed),
        reverse("capacity_building:fellowship", args=[fellowship.public_id]),
    )


# Techniques --------------------------------------------------------------------------------------


@capacity_view
@require_GET
def technique_list(request: HttpRequest) -> HttpResponse:
    """Techniques the actor may read, filtered; the office sees those waiting for it first in the filter."""
    actor = request.user
    require(policies.can_use_capacity(actor))
    form = forms.TechniqueFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    filters = selectors.TechniqueFilters(
        status=values.get("status") or "",
        category=values.get("category") or "",
        year=values.get("year"),
        query=values.get("q") or "",
    )
    return render(
        request,
        "capacity_building/technique_list.html",
        {
            "form": form,
            "page_obj": paginate(request, selectors.technique_list(actor, filters)),
            "may_record": bool(policies.admin_institutions(actor))
            and selectors.supporting_departments(actor).exists(),
            "reviews": policies.reviews_some_techniques(actor),
        },
    )


@capacity_view
@require_http_methods(["GET", "POST"])
def technique_new(request: HttpRequest) -> HttpResponse:
    """A member's administrator records a technique introduced there."""
    actor = request.user
    administered = policies.admin_institutions(actor)
    require(bool(administered))
    departments = selectors.supporting_departments(actor)
    hosts = set(departments.values_list("institution_id", flat=True))
    initial: dict[str, Any] = {"introduced_on": timezone.localdate(), "cases_to_date": 0}
    if len(administered) == 1:
        initial["institution"] = _institutions(administered).first().public_id
    form = forms.TechniqueForm(
        _posted(request),
        initial=initial,
        institutions=_institutions(administered),
        departments=departments,
        experts=selectors.staff_of(hosts, roles=(Role.DOCTOR, Role.NURSE, Role.TECHNICIAN)),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["cases_to_date"] = data.get("cases_to_date") or 0
            try:
                technique = services.technique_record(actor=actor, **data)
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("已登记，等待医联体办公室确认。"))
                return redirect("capacity_building:technique", public_id=technique.public_id)
    return render(request, "capacity_building/technique_form.html", {"form": form}, status=status)


TECHNIQUE_ACTIONS = [
    Action(
        "review",
        gettext_lazy("审核"),
        lambda actor, t: t.status == TechniqueStatus.RECORDED and policies.can_review_technique(actor, t),
        lambda actor, t, data: _versioned(forms.ReviewForm(data, prefix="review"), t.version),
        lambda request, t, data: services.technique_review(
            actor=request.user,
            technique=t,
            confirm=data["decision"] == "confirm",
            note=data.get("note") or "",
            expected_version=data.get("version"),
        ),
        gettext_lazy("审核意见已保存。"),
    ),
    Action(
        "cases",
        gettext_lazy("更新开展例数"),
        lambda actor, t: t.status != TechniqueStatus.REJECTED and policies.can_report_cases(actor, t),
        lambda actor, t, data: forms.CasesForm(
            data, prefix="cases", initial={"cases_to_date": t.cases_to_date}
        ),
        lambda request, t, data: services.technique_report_cases(
            actor=request.user,
            technique=t,
            cases_to_date=data["cases_to_date"],
            as_of=data["as_of"],
            note=data.get("note") or "",
        ),
        gettext_lazy("开展例数已更新。"),
    ),
]


def _technique_page(
    request: HttpRequest, technique: Any, failed: tuple[str, Any] | None = None
) -> HttpResponse:
    return render(
        request,
        "capacity_building/technique_detail.html",
        {
            "technique": technique,
            "updates": list(selectors.technique_case_updates(technique)),
            "action_forms": _action_forms(request.user, technique, TECHNIQUE_ACTIONS, failed),
            "history": _history(technique),
        },
    )


@capacity_view
@require_GET
def technique_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A technique with its case reports and actions."""
    return _technique_page(request, selectors.technique_get_for(request.user, public_id))


@capacity_view
@require_POST
def technique_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Take one action on a technique."""
    technique = selectors.technique_get_for(request.user, public_id)
    return _run_action(
        request,
        technique,
        TECHNIQUE_ACTIONS,
        action,
        lambda failed: _technique_page(request, technique, failed),
        reverse("capacity_building:technique", args=[technique.public_id]),
    )


# Devices ------------------------------------------------------------------------------------------


@capacity_view
@require_GET
def device_list(request: HttpRequest) -> HttpResponse:
    """Devices the actor may read (donated or received by their institutions), filtered."""
    actor = request.user
    require(policies.can_use_capacity(actor))
    form = forms.DeviceFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    filters = selectors.DeviceFilters(
        device_type=values.get("device_type") or "",
        support_kind=values.get("support_kind") or "",
        in_service=bool(values.get("in_service")),
        query=values.get("q") or "",
    )
    return render(
        request,
        "capacity_building/device_list.html",
        {
            "form": form,
            "page_obj": paginate(request, selectors.device_list(actor, filters)),
            "may_register": selectors.recipient_choices(actor).exists(),
            "today": timezone.localdate(),
        },
    )


@capacity_view
@require_http_methods(["GET", "POST"])
def device_new(request: HttpRequest) -> HttpResponse:
    """The donor registers a device it donated or lent to a member."""
    actor = request.user
    recipients = selectors.recipient_choices(actor)
    require(recipients.exists())
    donors = policies.device_manager_institutions(actor)
    initial: dict[str, Any] = {"delivered_on": timezone.localdate(), "support_kind": SupportKind.DONATED}
    if len(donors) == 1:
        initial["donor"] = _institutions(donors).first().public_id
    form = forms.DeviceForm(
        _posted(request), initial=initial, donors=_institutions(donors), recipients=recipients
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                device = services.device_register(actor=actor, **data)
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("设备已登记。"))
                return redirect("capacity_building:device", public_id=device.public_id)
    return render(request, "capacity_building/device_form.html", {"form": form}, status=status)


def _request_repair(request: HttpRequest, device: Any, data: dict[str, Any]) -> None:
    services.maintenance_request(
        actor=request.user, device=device, fault_description=data["fault_description"]
    )


DEVICE_ACTIONS = [
    Action(
        "report",
        gettext_lazy("报修"),
        lambda actor, d: d.returned_on is None and policies.can_report_fault(actor, d),
        lambda actor, d, data: forms.FaultForm(data, prefix="report"),
        _request_repair,
        gettext_lazy("已报修，等待支持单位工程师接单。"),
    ),
    Action(
        "return",
        gettext_lazy("登记归还"),
        lambda actor, d: (
            d.support_kind == SupportKind.LENT
            and d.returned_on is None
            and policies.can_manage_device(actor, d.donor_id)
        ),
        lambda actor, d, data: forms.ReturnForm(data, prefix="return"),
        lambda request, d, data: services.device_return(
            actor=request.user, device=d, returned_on=data["returned_on"]
        ),
        gettext_lazy("已登记归还。"),
    ),
]


def _device_page(request: HttpRequest, device: Any, failed: tuple[str, Any] | None = None) -> HttpResponse:
    return render(
        request,
        "capacity_building/device_detail.html",
        {
            "device": device,
            "repairs": list(selectors.device_maintenance(device)),
            "action_forms": _action_forms(request.user, device, DEVICE_ACTIONS, failed),
            "history": _history(device),
            "overdue": device.lent_until is not None
            and device.returned_on is None
            and device.lent_until < timezone.localdate(),
        },
    )


@capacity_view
@require_GET
def device_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A device with its repair history and actions."""
    return _device_page(request, selectors.device_get_for(request.user, public_id))


@capacity_view
@require_POST
def device_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Take one action on a device."""
    device = selectors.device_get_for(request.user, public_id)
    return _run_action(
        request,
        device,
        DEVICE_ACTIONS,
        action,
        lambda failed: _device_page(request, device, failed),
        reverse("capacity_building:device", args=[device.public_id]),
    )


# Maintenance -------------------------------------------------------------------------------------

MAINTENANCE_TABS = {
    "worklist": gettext_lazy("维修工单"),
    "requests": gettext_lazy("本机构报修"),
    "all": gettext_lazy("全部"),
}


@capacity_view
@require_GET
def maintenance_list(request: HttpRequest) -> HttpResponse:
    """The engineers' worklist, the member's requests, or every visible request."""
    actor = request.user
    require(policies.can_use_capacity(actor))
    boxes = selectors.maintenance_boxes(actor)
    box = request.GET.get("box") or boxes[0]
    if box not in boxes:
        box = boxes[0]
    form = forms.MaintenanceFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    filters = selectors.MaintenanceFilters(
        box=box,
        status=values.get("status") or "",
        open_only=bool(values.get("open_only")),
        query=values.get("q") or "",
    )
    return render(
        request,
        "capacity_building/maintenance_list.html",
        {
            "box": box,
            "tabs": [(key, MAINTENANCE_TABS[key]) for key in boxes],
            "form": form,
            "page_obj": paginate(request, selectors.maintenance_list(actor, filters), capped=True),
        },
    )


MAINTENANCE_ACTIONS = [
    Action(
        "take",
        gettext_lazy("接单"),
        lambda actor, m: (
            m.status == MaintenanceStatus.REQUESTED and policies.is_engineer_of(actor, m.device.donor_id)
        ),
        lambda actor, m, data: django_forms.Form(data, prefix="take"),
        lambda request, m, data: services.maintenance_take(actor=request.user, request=m),
        gettext_lazy("已接单。"),
    ),
    Action(
        "assign",
        gettext_lazy("派工"),
        lambda actor, m: (
            m.status in (MaintenanceStatus.REQUESTED, MaintenanceStatus.ASSIGNED)
            and policies.can_dispatch(actor, m.device.donor_id)
        ),
        lambda actor, m, data: _versioned(
            forms.AssignForm(data, prefix="assign", engineers=selectors.engineers_of(m.device.donor_id)),
            m.version,
        ),
        lambda request, m, data: services.maintenance_assign(
            actor=request.user, request=m, engineer=data["engineer"], expected_version=data.get("version")
        ),
        gettext_lazy("已派工。"),
    ),
    Action(
        "complete",
        gettext_lazy("填写维修结果"),
        lambda actor, m: (
            m.status == MaintenanceStatus.ASSIGNED
            and (
                (m.engineer_id == actor.pk and policies.is_engineer_of(actor, m.device.donor_id))
                or policies.can_dispatch(actor, m.device.donor_id)
            )
        ),
        lambda actor, m, data: _versioned(forms.RepairForm(data, prefix="complete"), m.version),
        lambda request, m, data: services.maintenance_complete(
            actor=request.user,
            request=m,
            outcome=data["outcome"],
            work_done=data["work_done"],
            parts=data.get("parts") or "",
            cost=data.get("cost"),
            completed_on=data["completed_on"],
            expected_version=data.get("version"),
        ),
        gettext_lazy("维修结果已保存。"),
    ),
    Action(
        "cancel",
        gettext_lazy("撤销报修"),
        lambda actor, m: (
            m.status == MaintenanceStatus.REQUESTED and policies.can_report_fault(actor, m.device)
        ),
        lambda actor, m, data: forms.ReasonForm(data, prefix="cancel"),
        lambda request, m, data: services.maintenance_cancel(
            actor=request.user, request=m, reason=data["reason"]
        ),
        gettext_lazy("报修已撤销。"),
        danger=True,
    ),
]


def _maintenance_page(request: HttpRequest, item: Any, failed: tuple[str, Any] | None = None) -> HttpResponse:
    return render(
        request,
        "capacity_building/maintenance_detail.html",
        {
            "item": item,
            "action_forms": _action_forms(request.user, item, MAINTENANCE_ACTIONS, failed),
            "history": _history(item),
        },
    )


@capacity_view
@require_GET
def maintenance_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A repair request with its actions."""
    return _maintenance_page(request, selectors.maintenance_get_for(request.user, public_id))


@capacity_view
@require_POST
def maintenance_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Take one action on a repair request."""
    item = selectors.maintenance_get_for(request.user, public_id)
    return _run_action(
        request,
        item,
        MAINTENANCE_ACTIONS,
        action,
        lambda failed: _maintenance_page(request, item, failed),
        reverse("capacity_building:maintenance-detail", args=[item.public_id]),
    )


# Statistics --------------------------------------------------------------------------------------


def _report(request: HttpRequest) -> tuple[forms.StatisticsForm, Any]:
    actor = request.user
    require(policies.can_view_statistics(actor))
    consortia = selectors.statistics_consortia(actor)
    first = consortia.first()
    if first is None:
        raise Http404(_("没有可查看统计的医联体。"))
    data = request.GET if request.GET.get("consortium") else None
    form = forms.StatisticsForm(
        data, consortia=consortia, initial={"consortium": first.public_id, "year": timezone.localdate().year}
    )
    if form.is_valid():
        consortium, year = form.cleaned_data["consortium"], form.cleaned_data["year"]
    else:
        consortium, year = first, timezone.localdate().year
    institutions = selectors.figures_scope(actor, consortium)
    report = selectors.capacity_statistics(consortium, year, institutions, selectors.member_roles(consortium))
    return form, report


@capacity_view
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Figures per member and year (trainees, person-times, fellows, techniques, devices, repairs)."""
    form, report = _report(request)
    return render(
        request,
        "capacity_building/statistics.html",
        {
            "form": form,
            "report": report,
            "columns": documents.figure_columns(),
            "query": request.GET.urlencode(),
        },
    )


@capacity_view
@require_GET
def statistics_export(request: HttpRequest) -> HttpResponse:
    """The same figures as Excel."""
    _form, report = _report(request)
    response = HttpResponse(documents.statistics_workbook(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="capacity-building-{report.year}.xlsx"'
    return response


urlpatterns: list[URLPattern] = [
    path("", course_list, name="courses"),
    path("courses/new/", course_new, name="course-new"),
    path("courses/<uuid:public_id>/", course_detail, name="course"),
    path("courses/<uuid:public_id>/edit/", course_edit, name="course-edit"),
    path("courses/<uuid:public_id>/act/<slug:action>/", course_action, name="course-act"),
    path(
        "courses/<uuid:public_id>/sign-ins/<uuid:attendance_id>/remove/",
        attendance_remove,
        name="sign-in-remove",
    ),
    path("courses/<uuid:public_id>/sign-in-sheet.xlsx", course_sign_in_sheet, name="sign-in-sheet"),
    path("fellowships/", fellowship_list, name="fellowships"),
    path("fellowships/new/", fellowship_new, name="fellowship-new"),
    path("fellowships/<uuid:public_id>/", fellowship_detail, name="fellowship"),
    path("fellowships/<uuid:public_id>/act/<slug:action>/", fellowship_action, name="fellowship-act"),
    path("techniques/", technique_list, name="techniques"),
    path("techniques/new/", technique_new, name="technique-new"),
    path("techniques/<uuid:public_id>/", technique_detail, name="technique"),
    path("techniques/<uuid:public_id>/act/<slug:action>/", technique_action, name="technique-act"),
    path("devices/", device_list, name="devices"),
    path("devices/new/", device_new, name="device-new"),
    path("devices/<uuid:public_id>/", device_detail, name="device"),
    path("devices/<uuid:public_id>/act/<slug:action>/", device_action, name="device-act"),
    path("maintenance/", maintenance_list, name="maintenance"),
    path("maintenance/<uuid:public_id>/", maintenance_detail, name="maintenance-detail"),
    path("maintenance/<uuid:public_id>/act/<slug:action>/", maintenance_action, name="maintenance-act"),
    path("statistics/", statistics, name="statistics"),
    path("statistics/export.xlsx", statistics_export, name="statistics-export"),
]
