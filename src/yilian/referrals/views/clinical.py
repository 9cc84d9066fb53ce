"""Clinical referral pages: the lists, writing and sending a referral, the referral with its actions,
the down-referral worklist and the closed-loop duties.

Thin adapters: every read goes through ``referrals.selectors`` and every
change through ``referrals.services`` with ``actor=request.user``. The
action panel offers only ``selectors.available_actions``; each action form
carries the version the user saw, so a stale page gets the service's
Conflict message instead of overwriting someone else's answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.core.audit import action_label
from yilian.core.exceptions import Conflict, Invalid, NotFound
from yilian.core.icd10 import parse_icd10
from yilian.core.ui.forms import add_domain_errors, invalid_message
from yilian.core.ui.http import PAGE_SIZE, domain_errors, paginate, require
from yilian.encounters import policies as encounter_policies
from yilian.encounters import selectors as encounter_selectors
from yilian.encounters import services as encounter_services
from yilian.institutions import selectors as institution_selectors
from yilian.institutions.models import Department, Institution
from yilian.people import selectors as people_selectors
from yilian.people import services as people_services
from yilian.people.identifiers import mask_name
from yilian.referrals import forms, policies, selectors, services, workflow
from yilian.referrals.choices import (
    ENDED_STATUSES,
    KIND_CAPACITY,
    Material,
    RecoveryPhase,
    ReferralDirection,
    ReferralSide,
    ReferralStatus,
)
from yilian.referrals.models import Referral
from yilian.referrals.services import criteria

BOXES = (
    ("inbox", gettext_lazy("转入")),
    ("outbox", gettext_lazy("转出")),
    ("all", gettext_lazy("全部")),
)

ACTION_LABELS = {
    "submit": gettext_lazy("提交转诊"),
    "cancel": gettext_lazy("撤销转诊"),
    "accept": gettext_lazy("接收"),
    "decline": gettext_lazy("拒绝"),
    "redirect": gettext_lazy("改派"),
    "schedule": gettext_lazy("预约"),
    "arrive": gettext_lazy("患者已到诊"),
    "no_show": gettext_lazy("患者未到诊"),
    "complete": gettext_lazy("回传诊疗结果"),
    "close": gettext_lazy("确认闭环"),
    "request_cancel": gettext_lazy("申请撤销"),
    "confirm_cancel": gettext_lazy("同意撤销"),
    "decline_cancel": gettext_lazy("不同意撤销"),
}
"""Button labels of the workflow actions."""

DANGER_ACTIONS = frozenset({"cancel", "decline", "no_show", "request_cancel", "confirm_cancel"})

DONE_MESSAGES = {
    "submit": gettext_lazy("已提交转诊，等待接收方响应。"),
    "redirect": gettext_lazy("已改派，已生成新的转诊单。"),
    "cancel": gettext_lazy("转诊单 %(number)s 已撤销。"),
    "accept": gettext_lazy("转诊单 %(number)s 已接收。"),
    "decline": gettext_lazy("转诊单 %(number)s 已拒绝。"),
    "schedule": gettext_lazy("转诊单 %(number)s 已预约。"),
    "arrive": gettext_lazy("转诊单 %(number)s：已登记患者到诊。"),
    "no_show": gettext_lazy("转诊单 %(number)s：已登记患者未到诊。"),
    "complete": gettext_lazy("转诊单 %(number)s 的诊疗结果已回传。"),
    "close": gettext_lazy("转诊单 %(number)s 已确认闭环。"),
    "request_cancel": gettext_lazy("转诊单 %(number)s 的撤销申请已发出，等待对方确认。"),
    "confirm_cancel": gettext_lazy("已同意撤销，转诊单 %(number)s 已撤销。"),
    "decline_cancel": gettext_lazy("已不同意撤销，转诊单 %(number)s 继续办理。"),
}
"""What the page says after each action, naming the referral (those without %(number)s need none)."""

OVERDUE_PAGE_SIZE = PAGE_SIZE
"""Rows per page of the overdue duties on the follow-ups page."""

# Down-referrals go first to a general-practice or rehabilitation department of the primary institution.
DOWN_SPECIALTIES = ("02", "21")


def referral_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _patient_label(actor: Any, referral: Referral) -> str:
    if policies.sees_patient(actor, referral):
        return referral.person.name
    return mask_name(referral.person.name) or "—"


def _mark_overdue(referral: Referral, now: Any) -> Referral:
    """Flag a referral whose receiver has not answered in time."""
    referral.answer_overdue = bool(  # type: ignore[attr-defined]
        referral.status == ReferralStatus.SUBMITTED
        and referral.answer_due_at
        and referral.answer_due_at < now
    )
    return referral


# Lists --------------------------------------------------------------------------------------


@referral_view
@require_GET
def referral_list(request: HttpRequest, box: str = "") -> HttpResponse:
    """Received (by priority then deadline; open ones unless the filter says otherwise), sent, or all
    visible referrals, filtered and paginated.

    Readers who are not one of the two ends (office, regulator) see masked patient names.
    """
    actor = request.user
    require(policies.can_use_referrals(actor))
    is_end = bool(policies.end_institutions(actor))
    tabs = BOXES if is_end else BOXES[2:]
    box = box or request.GET.get("box") or tabs[0][0]
    if box not in dict(tabs):
        box = tabs[0][0]
    params = request.GET
    if box == "inbox" and not params:
        # 转入待办 is a to-do list: it opens on what is still in flight; ended ones are a click away.
        params = QueryDict("open_only=on")
    form = forms.ReferralFilterForm(params or None, box=box)
    page_obj = paginate(request, selectors.referral_list(actor, form.filters(box)), keys_first=True)
    now = timezone.now()
    rows = list(page_obj.object_list)
    for referral in rows:
        _mark_overdue(referral, now)
        referral.patient_label = _patient_label(actor, referral)  # type: ignore[attr-defined]
    page_obj.object_list = rows
    return render(
        request,
        "referrals/referral_list.html",
        {
            "box": box,
            "tabs": [(key, label, reverse(f"referrals:{key}")) for key, label in tabs],
            "form": form,
            "page_obj": page_obj,
            "may_write": policies.can_write_referrals(actor),
        },
    )


# Writing a referral -------------------------------------------------------------------------


def _sending_institutions(actor: Any) -> list[Institution]:
    """Institutions where the actor may write referrals."""
    ids = policies.sending_institutions(actor)
    if not ids:
        return []
    return list(institution_selectors.institution_list(actor).filter(pk__in=ids).order_by("name"))


def _pick_institution(institutions: list[Institution], value: Any) -> Institution | None:
    """The institution with that public id among the actor's, else the first."""
    for institution in institutions:
        if str(institution.public_id) == str(value or ""):
            return institution
    return institutions[0] if institutions else None


def _department_or_none(value: Any) -> Department | None:
    if not value:
        return None
    try:
        return selectors.department_for_referral(str(value))
    except Invalid:
        return None


def _booking_days(department: Department | None, kind: str) -> list[Any]:
    if department is None or kind not in KIND_CAPACITY:
        return []
    return selectors.bookable_days(department, KIND_CAPACITY[kind])


def _from_departments(actor: Any, institutions: list[Institution]) -> QuerySet[Department]:
    """Active clinical departments of the actor's sending institutions (the service checks the pairing)."""
    departments = Department.objects.none()
    for institution in institutions:
        departments |= institution_selectors.department_list(actor, institution).filter(is_clinical=True)
    return departments.select_related("institution")


def _visible_person(actor: Any, value: Any) -> Any:
    if not value:
        return None
    try:
        return people_selectors.person_get_for(actor, value)
    except NotFound:
        return None


def _value(data: Any, name: str) -> str:
    value = data.get(name) if data is not None else None
    return "" if value is None else str(value)


def _content_kwargs(actor: Any, data: Any, institutions: list[Institution]) -> dict[str, Any]:
    """Choices of the content form computed from the raw values (posted or initial)."""
    institution = _pick_institution(institutions, _value(data, "from_institution"))
    code = _value(data, "diagnosis_code").strip()
    receiving = selectors.receiving_options(actor, institution, code) if institution else []
    current = _department_or_none(_value(data, "to_department"))
    if current is not None and all(d.pk != current.pk for d in receiving):
        receiving.append(current)  # a draft's receiver outside the suggestions stays selectable
    return {
        "from_departments": _from_departments(actor, institutions),
        "receiving": receiving,
        "matches": selectors.diagnosis_matches(receiving, _valid_code(code)),
    }


def _valid_code(raw: str) -> str:
    """The normalised ICD-10 code, or "" when it does not parse."""
    try:
        return parse_icd10(raw).code if raw else ""
    except Invalid:
        return ""


def _new_form(actor: Any, data: Any, initial: dict[str, Any]) -> forms.ReferralNewForm:
    institutions = _sending_institutions(actor)
    values = data if data is not None else initial
    person = _visible_person(actor, _value(values, "person"))
    department = _department_or_none(_value(values, "to_department"))
    return forms.ReferralNewForm(
        data,
        initial=initial,
        persons=people_selectors.person_visible_to(actor),
        person_options=[person] if person else [],
        institutions=institution_selectors.institution_list(actor).filter(
            pk__in=[i.pk for i in institutions]
        ),
        booking_days=_booking_days(department, _value(values, "kind") or "outpatient"),
        **_content_kwargs(actor, values, institutions),
    )


def _down_referral_initial(request: HttpRequest, encounter_id: str) -> dict[str, Any]:
    """Values of a down-referral started from the worklist: patient, stay, reason from the phase, and a
    general-practice or rehabilitation department of the suggested primary institution."""
    actor = request.user
    row = next(
        (r for r in selectors.down_referral_worklist(actor) if str(r.encounter.public_id) == encounter_id),
        None,
    )
    if row is None:
        messages.warning(request, _("该患者不在下转工作台中（可能已出院），请手动填写转诊单。"))
        return {}
    stay = row.encounter
    phase = stay.recovery_phase or RecoveryPhase.RECOVERY
    initial: dict[str, Any] = {
        "person": str(stay.person.public_id),
        "from_institution": str(stay.institution.public_id),
        "from_department": str(stay.department.public_id) if stay.department_id else "",
        "encounter": str(stay.public_id),
        "diagnosis_code": stay.diagnosis_code,
        "diagnosis_name": stay.diagnosis_name,
        "recovery_phase": phase,
        "reason": _("%(phase)s，转回基层继续治疗与康复") % {"phase": RecoveryPhase(phase).label},
        "kind": "outpatient",
    }
    if row.suggested_institution is not None:
        options = [
            d
            for d in selectors.receiving_options(actor, stay.institution, stay.diagnosis_code)
            if d.institution_id == row.suggested_institution.pk
        ]
        options.sort(key=lambda d: d.specialty not in DOWN_SPECIALTIES)
        if options:
            initial["to_department"] = str(options[0].public_id)
    return initial


def _encounter(actor: Any, public_id: Any) -> Any:
    """A current inpatient stay at one of the actor's sending institutions, or None."""
    if not public_id:
        return None
    stays = encounter_selectors.current_inpatients(policies.sending_institutions(actor))
    return stays.filter(public_id=public_id).first()


@referral_view
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest) -> HttpResponse:
    """Write a referral: save it as a draft or send it at once. Invalid input saves nothing."""
    actor = request.user
    require(policies.can_write_referrals(actor))
    initial: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "kind": "outpatient",
        "priority": "routine",
    }
    if request.method == "GET":
        if request.GET.get("encounter"):
            initial.update(_down_referral_initial(request, request.GET["encounter"]))
        elif request.GET.get("person"):
            initial["person"] = request.GET["person"]
        if "from_institution" not in initial:
            first = _pick_institution(_sending_institutions(actor), "")
            initial["from_institution"] = str(first.public_id) if first else ""
    form = _new_form(actor, _posted(request), initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            encounter = _encounter(actor, data.get("encounter"))
            if data.get("encounter") and encounter is None:
                form.add_error(None, _("来源住院记录不存在或患者已出院。"))
            else:
                submit = request.POST.get("intent") == "submit"
                try:
                    referral, created = services.referral_create(
                        actor=actor,
                        person=data["person"],
                        from_institution=data["from_institution"],
                        submit=submit,
                        booking=data.get("booking"),
                        acknowledge_missing=data.get("acknowledge_missing", False),
                        idempotency_key=data.get("idempotency_key") or "",
                        encounter=encounter,
                        **form.content(),
                    )
                except Invalid as error:
                    add_domain_errors(form, error)
                except Conflict as error:
                    form.add_error(None, str(error.message))
                    status = 409
                else:
                    if not created:
                        messages.info(request, _("该转诊单已保存过，未重复创建。"))
                    elif submit:
                        messages.success(request, DONE_MESSAGES["submit"])
                    else:
                        messages.success(request, _("已保存草稿，可继续修改或上传资料后提交。"))
                    return redirect("referrals:detail", public_id=referral.public_id)
    return render(
        request,
        "referrals/referral_form.html",
        {"form": form, "referral": None, "from_institution_value": ""},
        status=status,
    )


@referral_view
@require_http_methods(["GET", "POST"])
def referral_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Change a draft's content (the sender); a concurrent change shows the service's conflict message."""
    actor = request.user
    referral = selectors.referral_get_for(actor, public_id)
    sender_roles = policies.sides_of(actor, referral).get(ReferralSide.SENDER, frozenset())
    require(bool(sender_roles & workflow.SENDING_ROLES))
    if referral.status != ReferralStatus.DRAFT:
        messages.warning(request, _("只能修改草稿状态的转诊单。"))
        return redirect("referrals:detail", public_id=referral.public_id)
    initial = {
        "expected_version": referral.version,
        "from_department": referral.from_department.public_id if referral.from_department_id else None,
        "to_department": str(referral.to_department.public_id),
        "from_institution": str(referral.from_institution.public_id),
        **{
            name: getattr(referral, name)
            for name in (
                "kind",
                "priority",
                "diagnosis_code",
                "diagnosis_name",
                "reason",
                "recovery_phase",
                "patient_consented",
                *forms.ReferralContentForm.SUMMARY_FIELDS,
            )
        },
    }
    data = _posted(request)
    institutions = [referral.from_institution]
    values = data.copy() if data is not None else dict(initial)
    values["from_institution"] = str(referral.from_institution.public_id)
    form = forms.ReferralEditForm(data, initial=initial, **_content_kwargs(actor, values, institutions))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.referral_update(
                    actor=actor,
                    referral=referral,
                    expected_version=form.cleaned_data["expected_version"],
                    **form.content(),
                )
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                form.add_error(None, str(error.message))
                status = 409
            else:
                messages.success(request, _("草稿已保存。"))
                return redirect("referrals:detail", public_id=referral.public_id)
    return render(
        request,
        "referrals/referral_form.html",
        {
            "form": form,
            "referral": referral,
            "from_institution_value": str(referral.from_institution.public_id),
        },
        status=status,
    )


# htmx helpers of the referral form ----------------------------------------------------------


def _options(request: HttpRequest, choices: list[tuple[Any, Any]], selected: str) -> HttpResponse:
    groups = django_forms.Select(choices=choices).optgroups("options", [selected])
    return render(request, "referrals/_options.html", {"groups": groups})


@require_GET
@referral_view
def department_options(request: HttpRequest) -> HttpResponse:
    """Options of the receiving department select for the chosen sending institution and diagnosis."""
    actor = request.user
    require(policies.can_write_referrals(actor))
    institutions = _sending_institutions(actor)
    institution = _pick_institution(institutions, request.GET.get("from_institution"))
    code = (request.GET.get("diagnosis_code") or "").strip()
    receiving = selectors.receiving_options(actor, institution, code) if institution else []
    choices = forms.department_choices(receiving, selectors.diagnosis_matches(receiving, _valid_code(code)))
    return _options(request, choices, request.GET.get("to_department") or "")


@require_GET
@referral_view
def booking_options(request: HttpRequest) -> HttpResponse:
    """Options of the booking select: pools with free reserved places at the department for the kind."""
    require(policies.can_write_referrals(request.user))
    department = _department_or_none(request.GET.get("to_department"))
    days = _booking_days(department, request.GET.get("kind") or "")
    return _options(request, forms.booking_choices(days), request.GET.get("booking") or "")


def _check_context(
    check: criteria.CriteriaCheck, *, direction: str = "", inside: bool | None = None, code_error: str = ""
) -> dict[str, Any]:
    missing = [str(Material(m).label) if m in Material.values else m for m in check.missing]
    return {
        "check": check,
        "direction": ReferralDirection(direction).label if direction else "",
        "inside": inside,
        "code_error": code_error,
        "missing": missing,
        "triggers": list(check.criterion.triggers) if check.criterion else [],
    }


@require_POST
@referral_view
def criteria_check(request: HttpRequest) -> HttpResponse:
    """How the referral being written stands against the consortium's catalogue (nothing is saved).

    Direction and consortium come from the two ends as the service derives
    them on submit; the summary sections typed so far count as materials,
    and on a draft's edit page (``referral`` names it) so do the files
    already attached to it.
    """
    actor = request.user
    require(policies.can_write_referrals(actor))
    data = request.POST
    attached = _draft_attachments(actor, data.get("referral"))
    institution = _pick_institution(_sending_institutions(actor), data.get("from_institution"))
    department = _department_or_none(data.get("to_department"))
    raw = (data.get("diagnosis_code") or "").strip()
    code, code_error = "", ""
    if raw:
        try:
            code = parse_icd10(raw).code
        except Invalid as error:
            code_error = next(iter(error.as_text().values()))[0]
    values = {name: data.get(name, "") for name in Material.values}
    urgent = data.get("priority", "routine") != "routine" or data.get("kind") == "emergency"
    direction, inside, check = "", None, services.CriteriaCheck()
    if institution is not None and department is not None:
        preview = services.referral_preview(
            institution, department, code, values, urgent=urgent, attached=attached
        )
        direction, inside, check = preview.direction, preview.inside_consortium, preview.check
    context = _check_context(check, direction=direction, inside=inside, code_error=code_error)
    context.update(
        preview=True,
        on_draft=attached is not None,
        has_department=department is not None,
        has_code=bool(code),
    )
    return render(request, "referrals/_criteria_check.html", context)


def _draft_attachments(actor: Any, public_id: Any) -> set[str] | None:
    """Materials of the files attached to the draft being edited (None for a new referral).

    Only a draft whose sender the actor writes for counts: the check is what submitting would find.
    """
    if not public_id:
        return None
    referral = selectors.referral_get_for(actor, public_id)
    if referral.status != ReferralStatus.DRAFT or not _held(
        actor, referral, ReferralSide.SENDER, workflow.SENDING_ROLES
    ):
        return None
    return set(selectors.referral_attachments(referral).values_list("material", flat=True))


# One referral -------------------------------------------------------------------------------


def _redirect_departments(actor: Any, referral: Referral) -> list[Department]:
    """Where the receiver may redirect: its own other clinical departments, then the consortium's (never
    the sending institution: the service refuses a redirect back to it)."""
    own = [
        d
        for d in institution_selectors.department_list(actor, referral.to_institution).filter(
            is_clinical=True
        )
        if d.pk not in (referral.to_department_id, referral.from_department_id)
    ]
    for department in own:
        department.institution = referral.to_institution
    others = selectors.receiving_options(actor, referral.to_institution, referral.diagnosis_code)
    return own + [d for d in others if d.institution_id != referral.from_institution_id]


def _action_form(actor: Any, referral: Referral, action: str, data: Any = None) -> django_forms.Form:
    """The form of one action, bound to ``data`` or showing the referral's current version."""
    form_class = forms.ACTION_FORMS[action]
    kwargs: dict[str, Any] = {"initial": {"expected_version": referral.version}, "prefix": action}
    if action == "redirect":
        kwargs["departments"] = departments = _redirect_departments(actor, referral)
        kwargs["matches"] = selectors.diagnosis_matches(departments, referral.diagnosis_code)
    elif action == "submit":
        kwargs["booking_days"] = (
            _booking_days(referral.to_department, referral.kind) if referral.inside_consortium else []
        )
        kwargs["needs_consent"] = not referral.patient_consented
    elif action == "complete":
        kwargs["initial"].update(
            outcome_diagnosis_code=referral.diagnosis_code, outcome_diagnosis_name=referral.diagnosis_name
        )
    elif action == "schedule" and referral.scheduled_for:
        kwargs["initial"]["scheduled_for"] = referral.scheduled_for
    return form_class(data, **kwargs)


def _held(actor: Any, referral: Referral, side: str, roles: frozenset[str]) -> bool:
    return bool(policies.sides_of(actor, referral).get(side, frozenset()) & roles)


def _detail_context(
    request: HttpRequest,
    referral: Referral,
    *,
    bound: dict[str, django_forms.Form] | None = None,
    action_error: str = "",
) -> dict[str, Any]:
    """Everything the referral page shows; ``bound`` replaces forms with posted ones (showing errors)."""
    actor = request.user
    bound = bound or {}
    now = timezone.now()
    _mark_overdue(referral, now)
    sees = policies.sees_patient(actor, referral)
    actions = selectors.available_actions(actor, referral)
    action_forms = [
        {
            "name": name,
            "label": ACTION_LABELS[name],
            "danger": name in DANGER_ACTIONS,
            "form": bound.get(f"action:{name}") or _action_form(actor, referral, name),
        }
        for name in actions
        if name in forms.ACTION_FORMS
    ]
    ended = referral.status in ENDED_STATUSES
    may_attach = not ended and (
        _held(actor, referral, ReferralSide.SENDER, workflow.SENDING_ROLES)
        or _held(actor, referral, ReferralSide.RECEIVER, workflow.RECEIVING_ROLES)
    )
    may_record = _held(actor, referral, ReferralSide.RECEIVER, workflow.ARRIVAL_ROLES)
    tasks = []
    for task in selectors.follow_up_tasks(referral):
        task.overdue = task.done_at is None and task.due_at < now  # type: ignore[attr-defined]
        task.form = bound.get(f"task:{task.pk}") or forms.FollowUpForm(prefix=f"task-{task.pk}")  # type: ignore[attr-defined]
        tasks.append(task)
    check_context: dict[str, Any] = {}
    if referral.status == ReferralStatus.DRAFT:
        check_context = _check_context(
            services.referral_check(referral),
            direction=referral.direction,
            inside=referral.inside_consortium,
        )
        check_context.update(has_department=True, has_code=bool(referral.diagnosis_code))
    sender_writes = _held(actor, referral, ReferralSide.SENDER, workflow.SENDING_ROLES)
    attachments = _attachments(referral) if sees else []
    return {
        "referral": referral,
        "sees_patient": sees,
        "patient_label": referral.person.name if sees else (mask_name(referral.person.name) or "—"),
        "age": people_services.age_on(referral.person) if sees else None,
        "timeline": _timeline(actor, referral),
        "attachments": attachments,
        # Every reader learns what was sent (material and count); names and files only the two ends.
        "attachment_kinds": [
            (_label(Material, material), count)
            for material, count in selectors.attachment_kinds(referral, attachments if sees else None)
        ],
        "recovery_phase_label": _phase_label(referral.recovery_phase),
        "tasks": tasks,
        "may_record": may_record,
        "action_forms": action_forms,
        "action_error": action_error,
        "may_attach": may_attach and sees,
        "attach_form": bound.get("attach") or forms.AttachmentForm(),
        "may_edit": referral.status == ReferralStatus.DRAFT and sender_writes,
        "may_print": policies.can_print(actor, referral),
        "criterion": referral.criterion if referral.criterion_id else None,
        "missing_labels": [
            str(Material(m).label) if m in Material.values else m for m in referral.missing_materials
        ],
        "successor": _successor(actor, referral),
        **check_context,
    }


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _phase_label(value: str) -> str:
    return _label(RecoveryPhase, value) if value else ""


def _timeline(actor: Any, referral: Referral) -> list[Any]:
    """The steps as the actor may read them, with readable labels of the action and the state reached."""
    steps = selectors.referral_timeline_for(actor, referral)
    for step in steps:
        step.label = action_label(f"referral.{step.action}")  # type: ignore[attr-defined]
        step.to_status_label = _label(ReferralStatus, step.to_status)  # type: ignore[attr-defined]
    return steps


def _attachments(referral: Referral) -> list[Any]:
    files = list(selectors.referral_attachments(referral))
    for attachment in files:
        attachment.material_label = _label(Material, attachment.material)  # type: ignore[attr-defined]
    return files


def _successor(actor: Any, referral: Referral) -> Referral | None:
    """The referral a redirect created, when the actor may see it."""
    if referral.status != ReferralStatus.REDIRECTED:
        return None
    return selectors.referral_visible_to(actor).filter(redirected_from=referral).first()


@referral_view
@require_GET
def referral_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One referral: header, patient (as the actor may see it), both ends, summary, criteria, booking,
    outcome, attachments, closed-loop duties, the timeline, and the actions the actor may take now."""
    referral = selectors.referral_get_for(request.user, public_id)
    return render(request, "referrals/referral_detail.html", _detail_context(request, referral))


@require_POST
@referral_view
def referral_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Take one workflow action. Refused (403) unless the actor holds the acting side's role; a stale
    page or a state that moved on shows the service's conflict message and changes nothing."""
    actor = request.user
    referral = selectors.referral_get_for(actor, public_id)
    transition = workflow.transition_for(action)
    if transition is None or action not in forms.ACTION_FORMS:
        raise Http404
    require(_held(actor, referral, transition.side, transition.roles))
    form = _action_form(actor, referral, action, request.POST)
    if form.is_valid():
        version = form.cleaned_data["expected_version"]
        try:
            if action == "submit":
                services.referral_submit(
                    actor=actor,
                    referral=referral,
                    expected_version=version,
                    booking=form.cleaned_data.get("booking"),
                    acknowledge_missing=form.cleaned_data.get("acknowledge_missing", False),
                    patient_consented=form.cleaned_data.get("patient_consented", False),
                )
            else:
                services.referral_act(
                    actor=actor,
                    referral=referral,
                    action=action,
                    expected_version=version,
                    **form.fields_for_service(),  # type: ignore[attr-defined]
                )
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            current = selectors.referral_get_for(actor, public_id)
            context = _detail_context(request, current, action_error=str(error.message))
            return render(request, "referrals/referral_detail.html", context, status=409)
        else:
            messages.success(request, DONE_MESSAGES[action] % {"number": referral.number})
            return redirect("referrals:detail", public_id=referral.public_id)
    context = _detail_context(request, referral, bound={f"action:{action}": form})
    return render(request, "referrals/referral_detail.html", context, status=400)


@require_POST
@referral_view
def attachment_upload(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Attach a file (either end while the referral is open)."""
    actor = request.user
    referral = selectors.referral_get_for(actor, public_id)
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.referral_attach(
                actor=actor,
                referral=referral,
                material=form.cleaned_data["material"],
                upload=form.cleaned_data.get("file"),
            )
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            # The referral ended while this page was open: the upload URL takes POST only, so go
            # back to the referral page (not to this URL, as the generic conflict handler would).
            messages.error(request, str(error.message))
            return redirect("referrals:detail", public_id=referral.public_id)
        else:
            messages.success(request, _("资料已上传。"))
            return redirect("referrals:detail", public_id=referral.public_id)
    context = _detail_context(request, referral, bound={"attach": form})
    return render(request, "referrals/referral_detail.html", context, status=400)


@referral_view
@require_GET
def attachment_download(request: HttpRequest, public_id: Any) -> FileResponse:
    """Stream an attachment to those who see the referral's patient (404 for everyone else)."""
    attachment = selectors.attachment_get_for(request.user, public_id)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as error:
        raise Http404 from error
    filename = attachment.original_filename or PurePath(attachment.file.name).name
    response = FileResponse(handle, as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@referral_view
def follow_up_record(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Record a down-referral's follow-up or first rehabilitation record (the receiving institution)."""
    actor = request.user
    task = selectors.follow_up_task_get_for(actor, public_id)
    form = forms.FollowUpForm(request.POST, prefix=f"task-{task.pk}")
    if form.is_valid():
        try:
            services.follow_up_record(actor=actor, task=task, note=form.cleaned_data["note"])
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            # Recorded meanwhile (a second tab, a double click): back to the referral page with the
            # message; redirecting to this POST-only URL would end on a blank 405.
            messages.error(request, str(error.message))
            return redirect("referrals:detail", public_id=task.referral.public_id)
        else:
            messages.success(request, _("已登记。"))
            return redirect("referrals:detail", public_id=task.referral.public_id)
    referral = selectors.referral_get_for(actor, task.referral.public_id)
    context = _detail_context(request, referral, bound={f"task:{task.pk}": form})
    return render(request, "referrals/referral_detail.html", context, status=400)


def _printable(request: HttpRequest, public_id: Any) -> Referral:
    referral = selectors.referral_get_for(request.user, public_id)
    require(policies.can_print(request.user, referral))
    return referral


@referral_view
@require_GET
def referral_slip(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The printable referral slip (PDF) with a QR code linking back to the referral."""
    from yilian.referrals.documents import referral_slip_pdf

    referral = _printable(request, public_id)
    verify_url = request.build_absolute_uri(reverse("referrals:detail", args=[referral.public_id]))
    response = HttpResponse(
        referral_slip_pdf(referral, verify_url=verify_url), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{referral.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@referral_view
@require_GET
def referral_ws445(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The referral as the WS 445.16 data set (JSON download)."""
    from yilian.referrals.documents import referral_ws445 as ws445

    referral = _printable(request, public_id)
    response = JsonResponse(ws445(referral), json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{referral.number}-ws445.json"'
    response["Cache-Control"] = "private, no-store"
    return response


# Down-referral worklist and closed-loop duties ----------------------------------------------


@referral_view
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """Inpatients who may go down: flagged by a doctor or matching a down-referral rule, with the
    suggested home primary institution; doctors flag or unflag the recovery phase here."""
    actor = request.user
    require(policies.can_write_referrals(actor))
    departments = list(_from_departments(actor, _sending_institutions(actor)))
    chosen = next((d for d in departments if str(d.public_id) == request.GET.get("department")), None)
    rows = selectors.down_referral_worklist(actor, chosen.pk if chosen else None)
    for row in rows:
        row.may_flag = encounter_policies.can_flag_recovery_at(actor, row.encounter.institution_id)  # type: ignore[attr-defined]
        row.phase_label = (  # type: ignore[attr-defined]
            RecoveryPhase(row.encounter.recovery_phase).label
            if row.encounter.recovery_phase in RecoveryPhase.values
            else ""
        )
    return render(
        request,
        "referrals/worklist.html",
        {
            "rows": rows,
            "departments": departments,
            "chosen": chosen,
            "flag_form": forms.RecoveryFlagForm(),
            "phases": RecoveryPhase.choices,
        },
    )


@require_POST
@referral_view
def worklist_flag(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A doctor marks an inpatient ready to go down, or clears the mark."""
    actor = request.user
    require(policies.can_write_referrals(actor))
    stay = _encounter(actor, public_id)
    if stay is None:
        raise Http404
    form = forms.RecoveryFlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("无效的下转阶段。"))
    else:
        phase = form.cleaned_data["recovery_phase"]
        try:
            encounter_services.encounter_flag_recovery(actor=actor, encounter=stay, recovery_phase=phase)
        except Invalid as error:
            # Whole messages, not list items: the punctuation-context ；, "; " in English.
            messages.error(request, invalid_message(error))
        else:
            if phase:
                messages.success(request, _("已标记 %(name)s 为可下转。") % {"name": stay.person.name})
            else:
                messages.success(request, _("已取消 %(name)s 的可下转标记。") % {"name": stay.person.name})
    query = request.GET.urlencode()
    return redirect(f"{reverse('referrals:worklist')}?{query}" if query else reverse("referrals:worklist"))


@referral_view
@require_GET
def follow_ups(request: HttpRequest) -> HttpResponse:
    """Closed-loop duties: pending ones of down-referrals received here, overdue ones of either end."""
    actor = request.user
    require(policies.can_use_referrals(actor))
    now = timezone.now()
    page_obj = paginate(request, selectors.pending_follow_ups(actor))
    pending = list(page_obj.object_list)
    # Paged on its own parameter, so turning one list's page keeps the other's; every overdue duty is
    # reachable and the page says how many there are (it used to stop at 100 silently).
    overdue_page = Paginator(selectors.overdue_follow_ups(actor), OVERDUE_PAGE_SIZE).get_page(
        request.GET.get("overdue_page")
    )
    overdue = list(overdue_page.object_list)
    for task in [*pending, *overdue]:
        task.overdue = task.due_at < now  # type: ignore[attr-defined]
        task.patient_label = _patient_label(actor, task.referral)  # type: ignore[attr-defined]
    page_obj.object_list = pending
    overdue_page.object_list = overdue
    return render(
        request,
        "referrals/follow_ups.html",
        {"page_obj": page_obj, "pending": pending, "overdue": overdue, "overdue_page": overdue_page},
    )


def _box(name: str) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        return referral_list(request, box=name)

    view.__name__ = f"referral_{name}"
    view.__doc__ = f"The referral list opened on the {name} tab."
    return view


urlpatterns: list[URLPattern] = [
    path("", referral_list, name="list"),
    path("inbox/", _box("inbox"), name="inbox"),
    path("outbox/", _box("outbox"), name="outbox"),
    path("all/", _box("all"), name="all"),
    path("new/", referral_new, name="new"),
    path("new/departments/", department_options, name="department-options"),
    path("new/booking-days/", booking_options, name="booking-options"),
    path("new/check/", criteria_check, name="check"),
    path("worklist/", worklist, name="worklist"),
    path("worklist/<uuid:public_id>/flag/", worklist_flag, name="worklist-flag"),
    path("follow-ups/", follow_ups, name="follow-ups"),
    path("follow-ups/<uuid:public_id>/record/", follow_up_record, name="follow-up-record"),
    path("attachments/<uuid:public_id>/", attachment_download, name="attachment"),
    path("<uuid:public_id>/", referral_detail, name="detail"),
    path("<uuid:public_id>/edit/", referral_edit, name="edit"),
    path("<uuid:public_id>/act/<slug:action>/", referral_action, name="act"),
    path("<uuid:public_id>/attach/", attachment_upload, name="attach"),
    path("<uuid:public_id>/slip.pdf", referral_slip, name="slip"),
    path("<uuid:public_id>/ws445.json", referral_ws445, name="ws445"),
]
