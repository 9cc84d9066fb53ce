"""Teleconsultation pages: the lists, the invitation, the teleconsultation with its actions, experts'
free times and the billing records.

Thin adapters: every read goes through ``telemedicine.selectors`` and every
change through ``telemedicine.services`` with ``actor=request.user``. The
action panel offers only ``selectors.available_actions``; each action form
carries the version the user saw, so a stale page gets the service's
Conflict message instead of overwriting someone else's answer.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.core.audit import action_label
from yilian.core.exceptions import Conflict, Invalid, NotFound
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, paginate, require
from yilian.institutions import selectors as institution_selectors
from yilian.institutions.choices import DepartmentSpecialty
from yilian.people import selectors as people_selectors
from yilian.people.identifiers import mask_name
from yilian.referrals import selectors as referral_selectors
from yilian.telemedicine import forms, policies, selectors, services, workflow
from yilian.telemedicine.choices import (
    ENDED_STATUSES,
    TeleconsultationKind,
    TeleconsultationSide,
    TeleconsultationStatus,
)
from yilian.telemedicine.models import Teleconsultation

FREE_TIMES_LIMIT = 50

BOXES = (
    ("incoming", gettext_lazy("受邀会诊")),
    ("outgoing", gettext_lazy("发起的会诊")),
    ("assigned", gettext_lazy("我的会诊任务")),
    ("all", gettext_lazy("全部")),
)

ACTION_LABELS = {
    "accept": gettext_lazy("接受邀请并指定专家"),
    "decline": gettext_lazy("谢绝邀请"),
    "assign": gettext_lazy("更换会诊专家"),
    "schedule": gettext_lazy("安排会诊时间"),
    "sign_opinion": gettext_lazy("签署会诊意见"),
    "conclude": gettext_lazy("记录诊疗决定"),
    "cancel": gettext_lazy("取消会诊"),
}
"""Button labels of the workflow actions."""

DONE_MESSAGES = {
    "accept": gettext_lazy("会诊单 %(number)s：已接受邀请并指定专家。"),
    "decline": gettext_lazy("会诊单 %(number)s：已谢绝邀请。"),
    "assign": gettext_lazy("会诊单 %(number)s：已更换会诊专家。"),
    "schedule": gettext_lazy("会诊单 %(number)s：会诊时间已安排。"),
    "sign_opinion": gettext_lazy("会诊单 %(number)s：会诊意见已签署。"),
    "conclude": gettext_lazy("会诊单 %(number)s：诊疗决定已记录。"),
    "cancel": gettext_lazy("会诊单 %(number)s 已取消。"),
}
"""What the page says after each action, naming the teleconsultation."""

DANGER_ACTIONS = frozenset({"decline", "cancel"})


def telemedicine_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _patient_label(actor: Any, tc: Teleconsultation) -> str:
    if tc.person_id is None:
        return "—"
    if policies.sees_patient(actor, tc):
        return tc.person.name
    return mask_name(tc.person.name) or "—"


def _tabs(actor: Any) -> list[tuple[str, Any]]:
    tabs = []
    if policies.incoming_institutions(actor):
        tabs.append(BOXES[0])
    if policies.outgoing_institutions(actor):
        tabs.append(BOXES[1])
    if policies.expert_institutions(actor):
        tabs.append(BOXES[2])
    tabs.append(BOXES[3])
    return tabs


# Lists --------------------------------------------------------------------------------------


@telemedicine_view
@require_GET
def teleconsultation_list(request: HttpRequest, box: str = "") -> HttpResponse:
    """Received, sent, assigned-to-me or all visible teleconsultations, filtered and paginated.

    Oversight readers (office, regulator, platform admin) see masked patient names.
    """
    actor = request.user
    require(policies.can_use_telemedicine(actor))
    tabs = _tabs(actor)
    box = box or request.GET.get("box") or tabs[0][0]
    if box not in dict(tabs):
        box = tabs[0][0]
    form = forms.FilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    filters = selectors.TeleconsultationFilters(
        box=box,
        status=values.get("status") or "",
        kind=values.get("kind") or "",
        open_only=bool(values.get("open_only")),
        query=values.get("q") or "",
    )
    teleconsultations = selectors.teleconsultation_list(actor, filters)
    if form.is_bound and not form.is_valid():
        # Filters that cannot run (a search too long) list nothing, not everything under their error.
        teleconsultations = teleconsultations.none()
    page_obj = paginate(request, teleconsultations)
    rows = list(page_obj.object_list)
    for tc in rows:
        tc.patient_label = _patient_label(actor, tc)  # type: ignore[attr-defined]
    page_obj.object_list = rows
    return render(
        request,
        "telemedicine/teleconsultation_list.html",
        {
            "box": box,
            "tabs": [(key, label, reverse(f"telemedicine:{key}")) for key, label in tabs],
            "form": form,
            "page_obj": page_obj,
            "may_invite": policies.can_invite(actor),
        },
    )


def _box(name: str) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        return teleconsultation_list(request, box=name)

    view.__name__ = f"teleconsultation_{name}"
    view.__doc__ = f"The teleconsultation list opened on the {name} tab."
    return view


# The invitation -----------------------------------------------------------------------------


def _inviting_institutions(actor: Any) -> list[Any]:
    ids = policies.inviting_institutions(actor)
    return (
        list(institution_selectors.institution_list(actor).filter(pk__in=ids).order_by("name")) if ids else []
    )


def _value(data: Any, name: str) -> str:
    value = data.get(name) if data is not None else None
    return "" if value is None else str(value)


def _free_times(actor: Any, values: Any) -> list[Any]:
    """Free times of qualified experts for the institution, specialty and title chosen so far."""
    institution_id = None
    chosen = _value(values, "invited_institution")
    if chosen:
        try:
            institution_id = institution_selectors.institution_get(actor, chosen).pk
        except NotFound:
            return []
    return list(
        selectors.free_times(
            institution_id=institution_id,
            specialty=_value(values, "required_specialty"),
            title=_value(values, "required_title"),
        )[:FREE_TIMES_LIMIT]
    )


def _new_form(request: HttpRequest, data: Any, initial: dict[str, Any]) -> forms.TeleconsultationNewForm:
    actor = request.user
    institutions = _inviting_institutions(actor)
    departments: list[Any] = []
    for institution in institutions:
        for department in institution_selectors.department_list(actor, institution).filter(is_clinical=True):
            department.institution = institution
            departments.append(department)
    values = data if data is not None else initial
    invited = list(
        institution_selectors.institution_list(actor, status="active").exclude(
            pk__in=[i.pk for i in institutions]
        )
    )
    return forms.TeleconsultationNewForm(
        data,
        initial=initial,
        institutions=institutions,
        departments=departments,
        persons=people_selectors.person_visible_to(actor),
        invited=invited,
        slots=_free_times(actor, values),
        free_times_url=reverse("telemedicine:free-times"),
    )


@telemedicine_view
@require_http_methods(["GET", "POST"])
def teleconsultation_new(request: HttpRequest) -> HttpResponse:
    """Record the written consent and send the invitation. Invalid input saves nothing."""
    actor = request.user
    require(policies.can_invite(actor))
    initial: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "kind": "consultation",
        "required_title": "associate_chief_physician",
        "person": request.GET.get("person", ""),
    }
    form = _new_form(request, _posted(request), initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                tc, created = services.teleconsultation_create(
                    actor=actor,
                    idempotency_key=form.cleaned_data.get("idempotency_key") or "",
                    **form.for_service(),
                )
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                form.add_error(None, str(error.message))
                status = 409
            else:
                if created:
                    messages.success(request, _("已发出远程会诊邀请，等待受邀方响应。"))
                else:
                    messages.info(request, _("该会诊邀请已发出过，未重复创建。"))
                return redirect("telemedicine:detail", public_id=tc.public_id)
    values = _posted(request) or {"kind": initial["kind"]}
    notice = _fee_notice(
        actor,
        values,
        list(form.offered["inviting_institution"].values()),
        form.offered["invited_institution"],
    )
    return render(
        request,
        "telemedicine/teleconsultation_form.html",
        {"form": form, "fee_notice_url": reverse("telemedicine:fee-notice"), **notice},
        status=status,
    )


def _fee_notice(
    actor: Any, values: Any, inviting: list[Any], invited: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the consent notice says about the fee: once both institutions (the only inviting one counts
    as chosen) and the kind are known, the fee that will apply, with its consortium; before, the fees of
    each consortium the inviting institutions belong to, by name."""
    chosen = _value(values, "inviting_institution")
    inviting_institution = next((i for i in inviting if str(i.public_id) == chosen), None)
    if inviting_institution is None and not chosen and len(inviting) == 1:
        inviting_institution = inviting[0]
    invited_institution = None
    chosen = _value(values, "invited_institution")
    if chosen:
        if invited is not None:
            invited_institution = invited.get(chosen)
        else:
            with contextlib.suppress(NotFound):
                invited_institution = institution_selectors.institution_get(actor, chosen)
    kind = _value(values, "kind")
    if (
        inviting_institution is not None
        and invited_institution is not None
        and invited_institution.pk != inviting_institution.pk
        and kind in TeleconsultationKind.values
    ):
        return {"applicable_fee": selectors.applicable_fee(inviting_institution, invited_institution, kind)}
    ids = [inviting_institution.pk] if inviting_institution is not None else [i.pk for i in inviting]
    return {"applicable_fee": None, "consortium_fees": selectors.fees_by_consortium(ids) if ids else []}


@telemedicine_view
@require_GET
def fee_notice(request: HttpRequest) -> HttpResponse:
    """The fee part of the consent notice for the institutions and kind chosen so far (htmx)."""
    actor = request.user
    require(policies.can_invite(actor))
    context = _fee_notice(actor, request.GET, _inviting_institutions(actor))
    return render(request, "telemedicine/_fee_notice.html", context)


@telemedicine_view
@require_GET
def free_time_options(request: HttpRequest) -> HttpResponse:
    """Options of the free-time select for the institution, specialty and title chosen (htmx)."""
    require(policies.can_invite(request.user))
    choices = forms.slot_choices(_free_times(request.user, request.GET))
    groups = django_forms.Select(choices=choices).optgroups(
        "options", [request.GET.get("proposed_slot") or ""]
    )
    return render(request, "telemedicine/_options.html", {"groups": groups})


# One teleconsultation -------------------------------------------------------------------------


def _action_form(actor: Any, tc: Teleconsultation, action: str, data: Any = None) -> django_forms.Form:
    """The form of one action, bound to ``data`` or showing the current version."""
    form_class = forms.ACTION_FORMS[action]
    kwargs: dict[str, Any] = {"initial": {"expected_version": tc.version}, "prefix": action}
    if action in ("accept", "assign"):
        experts = selectors.qualified_experts(
            tc.invited_institution_id, tc.required_specialty, tc.required_title
        )
        kwargs["experts"] = [e for e in experts if e.pk != tc.expert_id or action == "accept"]
        if action == "accept" and tc.proposed_slot_id:
            kwargs["initial"]["expert"] = str(tc.proposed_slot.expert.public_id)
    elif action == "schedule":
        slots = (
            list(selectors.free_times(institution_id=tc.invited_institution_id, expert_id=tc.expert_id))
            if tc.expert_id
            else []
        )
        kwargs["slots"] = slots
        if tc.proposed_slot_id and any(s.pk == tc.proposed_slot_id for s in slots):
            kwargs["initial"]["availability"] = str(tc.proposed_slot.public_id)
        kwargs["initial"]["meeting_link"] = tc.meeting_link
    elif action == "conclude":
        kwargs["departments"] = (
            referral_selectors.receiving_options(actor, tc.inviting_institution, tc.diagnosis_code)
            if tc.person_id
            else []
        )
    form = form_class(data, **kwargs)
    if action == "sign_opinion" and tc.scheduled_at is not None and tc.scheduled_at > timezone.now():
        form.fields["opinion"].help_text = _("会诊定于 {time} 开始，开始后方可签署。").format(
            time=timezone.localtime(tc.scheduled_at).strftime("%Y-%m-%d %H:%M")
        )
    return form


def _detail_context(
    request: HttpRequest,
    tc: Teleconsultation,
    *,
    bound: dict[str, django_forms.Form] | None = None,
    action_error: str = "",
) -> dict[str, Any]:
    """Everything the page shows; ``bound`` replaces forms with posted ones (showing errors)."""
    actor = request.user
    bound = bound or {}
    sees = policies.sees_patient(actor, tc)
    action_forms = [
        {
            "name": name,
            "label": ACTION_LABELS[name],
            "danger": name in DANGER_ACTIONS,
            "form": bound.get(f"action:{name}") or _action_form(actor, tc, name),
        }
        for name in selectors.available_actions(actor, tc)
    ]
    sides = policies.sides_of(actor, tc)
    may_attach = tc.status not in ENDED_STATUSES and bool(
        sides[TeleconsultationSide.INVITING] & workflow.INVITING_ROLES
        or sides[TeleconsultationSide.INVITED]
        or sides[TeleconsultationSide.EXPERT]
    )
    timeline = list(selectors.teleconsultation_timeline(tc))
    for event in timeline:
        event.label = action_label(f"teleconsultation.{event.action}")  # type: ignore[attr-defined]
        event.to_status_label = (  # type: ignore[attr-defined]
            TeleconsultationStatus(event.to_status).label
            if event.to_status in TeleconsultationStatus.values
            else ""
        )
    return {
        "tc": tc,
        "sees_patient": sees,
        "patient_label": _patient_label(actor, tc),
        "required_title_label": selectors.title_label(tc.required_title),
        "required_specialty_label": (
            DepartmentSpecialty(tc.required_specialty).label
            if tc.required_specialty in DepartmentSpecialty.values
            else _("不限")
        ),
        "timeline": timeline,
        "attachments": list(selectors.teleconsultation_attachments(tc)) if sees else [],
        "action_forms": action_forms,
        "action_error": action_error,
        "may_attach": may_attach,
        "attach_form": bound.get("attach") or forms.AttachmentForm(),
        "referral_visible": bool(tc.decided_at) and selectors.referral_visible(actor, tc),
    }


@telemedicine_view
@require_GET
def teleconsultation_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One teleconsultation: invitation, consent, answer, session, opinion, decision, files, timeline and
    the actions the actor may take now."""
    tc = selectors.teleconsultation_get_for(request.user, public_id)
    return render(request, "telemedicine/teleconsultation_detail.html", _detail_context(request, tc))


@require_POST
@telemedicine_view
def teleconsultation_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Take one workflow action. Refused (403) unless the actor holds the acting side's role; a stale
    page or a state that moved on shows the service's conflict message and changes nothing."""
    actor = request.user
    tc = selectors.teleconsultation_get_for(actor, public_id)
    transition = workflow.transition_for(action)
    if transition is None:
        raise Http404
    require(bool(policies.sides_of(actor, tc).get(transition.side, frozenset()) & transition.roles))
    form = _action_form(actor, tc, action, request.POST)
    if form.is_valid():
        try:
            services.teleconsultation_act(
                actor=actor,
                teleconsultation=tc,
                action=action,
                expected_version=form.cleaned_data["expected_version"],
                **form.fields_for_service(),  # type: ignore[attr-defined]
            )
        except Invalid as error:
            # Signing before the session names the session's time: shown on the opinion being signed.
            add_domain_errors(form, error, {"scheduled_at": "opinion"} if action == "sign_opinion" else None)
        except Conflict as error:
            current = selectors.teleconsultation_get_for(actor, public_id)
            context = _detail_context(request, current, action_error=str(error.message))
            return render(request, "telemedicine/teleconsultation_detail.html", context, status=409)
        else:
            messages.success(request, DONE_MESSAGES[action] % {"number": tc.number})
            return redirect("telemedicine:detail", public_id=tc.public_id)
    context = _detail_context(request, tc, bound={f"action:{action}": form})
    return render(request, "telemedicine/teleconsultation_detail.html", context, status=400)


@require_POST
@telemedicine_view
def attachment_upload(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Attach a file (either side while the teleconsultation is open)."""
    actor = request.user
    tc = selectors.teleconsultation_get_for(actor, public_id)
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.teleconsultation_attach(
                actor=actor,
                teleconsultation=tc,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data.get("file"),
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("资料已上传。"))
            return redirect("telemedicine:detail", public_id=tc.public_id)
    context = _detail_context(request, tc, bound={"attach": form})
    return render(request, "telemedicine/teleconsultation_detail.html", context, status=400)


@telemedicine_view
@require_GET
def attachment_download(request: HttpRequest, public_id: Any) -> FileResponse:
    """Stream an attachment to those who see the patient (404 for everyone else)."""
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


# Experts' free times ------------------------------------------------------------------------


@telemedicine_view
@require_http_methods(["GET", "POST"])
def availability(request: HttpRequest) -> HttpResponse:
    """The free times the actor manages, and publishing a new one."""
    actor = request.user
    require(policies.can_use_availability(actor))
    form = forms.AvailabilityForm(_posted(request), pairs=selectors.experts_managed_by(actor))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            expert, institution = form.cleaned_data["expert"]
            try:
                services.availability_publish(
                    actor=actor,
                    expert=expert,
                    institution=institution,
                    starts_at=form.cleaned_data.get("starts_at"),  # type: ignore[arg-type]
                    ends_at=form.cleaned_data.get("ends_at"),  # type: ignore[arg-type]
                )
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("已发布可预约时间。"))
                return redirect("telemedicine:availability")
    page_obj = paginate(request, selectors.availability_list(actor))
    return render(
        request, "telemedicine/availability.html", {"form": form, "page_obj": page_obj}, status=status
    )


@require_POST
@telemedicine_view
def availability_withdraw(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Withdraw a free time nobody booked."""
    slot = selectors.availability_get_for(request.user, public_id)
    services.availability_withdraw(actor=request.user, slot=slot)
    messages.success(request, _("已撤回该可预约时间。"))
    return redirect("telemedicine:availability")


# Billing records ------------------------------------------------------------------------------


@telemedicine_view
@require_GET
def charges(request: HttpRequest) -> HttpResponse:
    """The billing records the actor reads (each end's payable or receivable), newest first."""
    actor = request.user
    require(policies.can_view_charges(actor))
    form = forms.ChargeFilterForm(request.GET or None)
    direction = form.cleaned_data.get("direction", "") if form.is_valid() else ""
    page_obj = paginate(request, selectors.charge_list(actor, direction=direction))
    return render(request, "telemedicine/charges.html", {"form": form, "page_obj": page_obj})


# Fees and statistics ------------------------------------------------------------------------


@telemedicine_view
@require_http_methods(["GET", "POST"])
def fees(request: HttpRequest) -> HttpResponse:
    """The fees of the consortia the actor configures (the office), and setting one."""
    actor = request.user
    consortia = list(selectors.fee_consortia(actor))
    require(bool(consortia))
    agreements = [
        agreement
        for consortium in consortia
        for agreement in institution_selectors.agreement_list(actor, consortium)
        if agreement.kind == "telemedicine"
    ]
    form = forms.FeeForm(_posted(request), consortia=consortia, agreements=agreements)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.fee_set(
                    actor=actor,
                    consortium=form.cleaned_data["consortium"],
                    kind=form.cleaned_data["kind"],
                    amount=form.cleaned_data["amount"],
                    agreement=form.cleaned_data.get("agreement"),
                )
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(request, _("收费标准已保存。"))
                return redirect("telemedicine:fees")
    rows = [(consortium, list(selectors.fee_list(consortium))) for consortium in consortia]
    return render(request, "telemedicine/fees.html", {"form": form, "rows": rows}, status=status)


@telemedicine_view
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Counts per kind, member and month, and the share of patients kept local (oversight readers)."""
    actor = request.user
    require(policies.can_view_statistics(actor))
    form = forms.StatisticsForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    summary = selectors.teleconsultation_summary(
        actor, date_from=values.get("date_from"), date_to=values.get("date_to")
    )
    share = None if summary.kept_local_share is None else round(summary.kept_local_share * 100, 1)
    return render(request, "telemedicine/statistics.html", {"form": form, "summary": summary, "share": share})


urlpatterns: list[URLPattern] = [
    path("", teleconsultation_list, name="list"),
    path("incoming/", _box("incoming"), name="incoming"),
    path("outgoing/", _box("outgoing"), name="outgoing"),
    path("assigned/", _box("assigned"), name="assigned"),
    path("all/", _box("all"), name="all"),
    path("new/", teleconsultation_new, name="new"),
    path("new/free-times/", free_time_options, name="free-times"),
    path("new/fee/", fee_notice, name="fee-notice"),
    path("availability/", availability, name="availability"),
    path("availability/<uuid:public_id>/withdraw/", availability_withdraw, name="availability-withdraw"),
    path("charges/", charges, name="charges"),
    path("fees/", fees, name="fees"),
    path("statistics/", statistics, name="statistics"),
    path("attachments/<uuid:public_id>/", attachment_download, name="attachment"),
    path("<uuid:public_id>/", teleconsultation_detail, name="detail"),
    path("<uuid:public_id>/act/<slug:action>/", teleconsultation_action, name="act"),
    path("<uuid:public_id>/attach/", attachment_upload, name="attach"),
]
