"""专家下沉 pages: dispatch batches with visits and their workflow, long-term postings and the posting
indicator, expert clinic sessions with bookings, the annual report and statistics.

Thin adapters: reads through ``outreach.selectors``, changes through
``outreach.services`` with ``actor=request.user``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.core.audit import action_label
from yilian.core.exceptions import Conflict, Invalid, NotFound
from yilian.core.text import join_list
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, paginate, require
from yilian.institutions.models import Region
from yilian.outreach import forms, policies, selectors, services, workflow
from yilian.outreach.choices import BatchStatus, OutreachKind, SessionStatus
from yilian.outreach.documents import report_workbook
from yilian.people import selectors as people_selectors
from yilian.people.identifiers import mask_name

BOXES = (
    ("sent", gettext_lazy("派出")),
    ("received", pgettext_lazy("outreach batches received by the member", "接收")),
    ("mine", gettext_lazy("我的下沉")),
    ("all", gettext_lazy("全部")),
)
ACTION_LABELS = {
    "complete": gettext_lazy("标记为已完成"),
    "confirm": gettext_lazy("确认"),
    "return": gettext_lazy("退回修改"),
    "cancel": gettext_lazy("取消批次"),
}
POSTING_ACTIONS = {
    "start": gettext_lazy("登记到岗"),
    "end": gettext_lazy("登记结束"),
    "cancel": gettext_lazy("取消派驻"),
}
BATCH_DONE_MESSAGES = {
    "complete": gettext_lazy("派出批次 %(number)s 已标记为完成，等待确认。"),
    "confirm": gettext_lazy("派出批次 %(number)s 已确认。"),
    "return": gettext_lazy("派出批次 %(number)s 已退回修改。"),
    "cancel": gettext_lazy("派出批次 %(number)s 已取消。"),
}
POSTING_DONE_MESSAGES = {
    "start": gettext_lazy("%(expert)s 派驻%(host)s：已登记到岗。"),
    "end": gettext_lazy("%(expert)s 派驻%(host)s：已登记结束。"),
    "cancel": gettext_lazy("%(expert)s 派驻%(host)s：已取消。"),
}
"""What the pages say after each action, naming the batch or posting."""


def _person(user: Any) -> str:
    """A staff member as named in a message."""
    return user.full_name or user.username


EXCLUSION_LABELS = {
    "title": gettext_lazy("职称低于主治医师"),
    "home": gettext_lazy("派出单位非二级及以上"),
    "host": gettext_lazy("派驻单位非基层机构"),
    "short": gettext_lazy("不足 183 天"),
}
PERSON_CHOICES_LIMIT = 50


def outreach_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, 2000), 2100)


# Batches ------------------------------------------------------------------------------------


def _tabs(actor: Any) -> list[tuple[str, Any]]:
    staff = policies.staff_institutions(actor)
    tabs = []
    if staff:
        tabs += [BOXES[0], BOXES[1]]
    if policies.expert_institutions(actor):
        tabs.append(BOXES[2])
    tabs.append(BOXES[3])
    return tabs


@outreach_view
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    """Batches sent, received, travelled on, or all visible ones, filtered and paginated."""
    actor = request.user
    require(policies.can_use_outreach(actor))
    tabs = _tabs(actor)
    box = request.GET.get("box") or tabs[0][0]
    if box not in dict(tabs):
        box = tabs[0][0]
    form = forms.BatchFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    filters = selectors.BatchFilters(
        box=box,
        status=values.get("status") or "",
        kind=values.get("kind") or "",
        date_from=values.get("date_from"),
        date_to=values.get("date_to"),
        query=values.get("q") or "",
    )
    page_obj = paginate(request, selectors.batch_list(actor, filters))
    for batch in page_obj.object_list:
        names: dict[int, str] = {}
        for visit in batch.visits.all():
            names.setdefault(visit.expert_id, visit.expert.full_name or visit.expert.username)
        batch.expert_names = join_list(names.values())  # type: ignore[attr-defined]
    return render(
        request,
        "outreach/batch_list.html",
        {
            "box": box,
            "tabs": [(key, label, f"{reverse('outreach:list')}?box={key}") for key, label in tabs],
            "form": form,
            "page_obj": page_obj,
            "may_record": policies.can_record_batch(actor) and selectors.sending_institutions(actor).exists(),
        },
    )


def _batch_form(actor: Any, data: Any) -> forms.BatchForm:
    senders = list(selectors.sending_institutions(actor))
    hosts = list(selectors.receiving_members(senders)) if senders else []
    return forms.BatchForm(data, senders=senders, hosts=hosts)


@outreach_view
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest) -> HttpResponse:
    """Record a planned batch; then add the experts' work on its page."""
    actor = request.user
    require(policies.can_record_batch(actor))
    form = _batch_form(actor, _posted(request))
    require(bool(form.fields["sending_institution"].objects))  # type: ignore[attr-defined]
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                batch = services.batch_create(actor=actor, **form.cleaned_data)
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(
                    request,
                    _("已登记派出批次 %(number)s（%(host)s），请添加专家的下沉工作。")
                    % {"number": batch.number, "host": batch.host_institution.name},
                )
                return redirect("outreach:batch-detail", public_id=batch.public_id)
    return render(request, "outreach/batch_form.html", {"form": form}, status=status)


def _visit_form(
    batch: Any, data: Any = None, *, actor: Any, initial: dict[str, Any] | None = None
) -> forms.VisitForm:
    experts = list(selectors.experts_of({batch.sending_institution_id}))
    if not policies.is_sending_manager(actor, batch.sending_institution_id):
        experts = [e for e in experts if e.pk == actor.pk]
    departments = list(selectors.departments_of({batch.sending_institution_id}))
    initial = {"visit_on": batch.starts_on, "expected_version": batch.version, **(initial or {})}
    return forms.VisitForm(data, experts=experts, departments=departments, initial=initial)


def _batch_context(
    request: HttpRequest, batch: Any, *, bound: dict[str, Any] | None = None, action_error: str = ""
) -> dict[str, Any]:
    actor = request.user
    bound = bound or {}
    actions = [
        {
            "name": name,
            "label": ACTION_LABELS[name],
            "danger": name in ("return", "cancel"),
            "form": bound.get(f"action:{name}")
            or forms.BatchActionForm(
                action=name, initial={"expected_version": batch.version, "summary": batch.summary}
            ),
        }
        for name in selectors.batch_available_actions(actor, batch)
    ]
    timeline = list(selectors.batch_timeline(batch))
    for event in timeline:
        event.label = action_label(f"outreach_batch.{event.action}")  # type: ignore[attr-defined]
        event.to_status_label = (  # type: ignore[attr-defined]
            BatchStatus(event.to_status).label if event.to_status in BatchStatus.values else ""
        )
    may_edit = selectors.may_edit_visits(actor, batch)
    visits = list(batch.visits.all())
    totals = {
        name: sum(getattr(v, name) for v in visits)
        for name in (
            "sessions",
            "patients_seen",
            "attendees",
            "surgeries",
            "records_reviewed",
            "hazards_found",
            "hazards_fixed",
        )
    }
    return {
        "batch": batch,
        "visits": visits,
        "totals": totals,
        "person_times": len({v.expert_id for v in visits}),
        "actions": actions,
        "action_error": action_error,
        "may_edit": may_edit,
        "is_manager": policies.is_sending_manager(actor, batch.sending_institution_id),
        "visit_form": bound.get("visit") or (_visit_form(batch, actor=actor) if may_edit else None),
        "timeline": timeline,
    }


@outreach_view
@require_GET
def batch_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One batch: trip, experts' work, totals, actions, timeline."""
    batch = selectors.batch_get_for(request.user, public_id)
    return render(request, "outreach/batch_detail.html", _batch_context(request, batch))


@require_POST
@outreach_view
def visit_add(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Add an expert's work to a batch."""
    actor = request.user
    batch = selectors.batch_get_for(actor, public_id)
    require(selectors.may_edit_visits(actor, batch))
    form = _visit_form(batch, request.POST, actor=actor)
    if form.is_valid():
        try:
            services.visit_add(
                actor=actor,
                batch=batch,
                expected_version=form.cleaned_data.get("expected_version"),
                **form.for_service(),
            )
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(
                request,
                _("派出批次 %(number)s：已添加%(expert)s的%(kind)s记录。")
                % {
                    "number": batch.number,
                    "expert": _person(form.cleaned_data["expert"]),
                    "kind": OutreachKind(form.cleaned_data["kind"]).label,
                },
            )
            return redirect("outreach:batch-detail", public_id=batch.public_id)
    batch = selectors.batch_get_for(actor, public_id)
    return render(
        request,
        "outreach/batch_detail.html",
        _batch_context(request, batch, bound={"visit": form}),
        status=400,
    )


@outreach_view
@require_http_methods(["GET", "POST"])
def visit_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Change an expert's work (kind, date, workload, findings) before confirmation."""
    actor = request.user
    visit = selectors.visit_get_for(actor, public_id)
    batch = selectors.batch_get_for(actor, visit.batch.public_id)
    require(selectors.may_edit_visits(actor, batch))
    initial = {
        "expert": str(visit.expert.public_id),
        "home_department": str(visit.home_department.public_id) if visit.home_department_id else "",
        **{
            name: getattr(visit, name)
            for name in (
                "kind",
                "visit_on",
                "sessions",
                "patients_seen",
                "attendees",
                "surgeries",
                "records_reviewed",
                "hazards_found",
                "hazards_fixed",
                "findings",
            )
        },
    }
    form = _visit_form(batch, _posted(request), actor=actor, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.visit_update(
                    actor=actor,
                    visit=visit,
                    expected_version=form.cleaned_data.get("expected_version"),
                    **form.for_service(),
                )
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                form.add_error(None, str(error.message))
                status = 409
            else:
                messages.success(
                    request,
                    _("派出批次 %(number)s：已保存%(expert)s的%(kind)s记录。")
                    % {
                        "number": batch.number,
                        "expert": _person(form.cleaned_data["expert"]),
                        "kind": OutreachKind(form.cleaned_data["kind"]).label,
                    },
                )
                return redirect("outreach:batch-detail", public_id=batch.public_id)
    return render(
        request, "outreach/visit_form.html", {"form": form, "batch": batch, "visit": visit}, status=status
    )


@require_POST
@outreach_view
def visit_remove(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Remove an expert's work recorded by mistake."""
    actor = request.user
    visit = selectors.visit_get_for(actor, public_id)
    services.visit_remove(actor=actor, visit=visit)
    messages.success(
        request,
        _("派出批次 %(number)s：已删除%(expert)s的%(kind)s记录。")
        % {"number": visit.batch.number, "expert": _person(visit.expert), "kind": visit.get_kind_display()},
    )
    return redirect("outreach:batch-detail", public_id=visit.batch.public_id)


@require_POST
@outreach_view
def batch_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Take one workflow action (403 for the wrong side; a stale page shows the conflict, changes nothing)."""
    actor = request.user
    batch = selectors.batch_get_for(actor, public_id)
    transition = workflow.transition_for(action)
    if transition is None:
        raise Http404
    require(policies.batch_sides(actor, batch).get(transition.side, False))
    form = forms.BatchActionForm(request.POST, action=action)
    if form.is_valid():
        try:
            services.batch_act(
                actor=actor,
                batch=batch,
                action=action,
                expected_version=form.cleaned_data["expected_version"],
                note=form.cleaned_data.get("note") or "",
                summary=form.cleaned_data.get("summary") if "summary" in form.fields else None,
            )
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            current = selectors.batch_get_for(actor, public_id)
            context = _batch_context(request, current, action_error=str(error.message))
            return render(request, "outreach/batch_detail.html", context, status=409)
        else:
            messages.success(request, BATCH_DONE_MESSAGES[action] % {"number": batch.number})
            return redirect("outreach:batch-detail", public_id=batch.public_id)
    context = _batch_context(request, batch, bound={f"action:{action}": form})
    return render(request, "outreach/batch_detail.html", context, status=400)


# Postings -----------------------------------------------------------------------------------


@outreach_view
@require_GET
def posting_list(request: HttpRequest) -> HttpResponse:
    """Visible postings, filtered by status, year and text."""
    actor = request.user
    require(policies.can_use_outreach(actor))
    form = forms.PostingFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    rows = selectors.posting_list(
        actor, status=values.get("status") or "", year=values.get("year"), query=values.get("q") or ""
    )
    return render(
        request,
        "outreach/posting_list.html",
        {
            "form": form,
            "page_obj": paginate(request, rows),
            "may_create": policies.can_manage_postings(actor),
            "may_view_indicator": policies.can_view_indicator(actor),
        },
    )


@outreach_view
@require_http_methods(["GET", "POST"])
def posting_new(request: HttpRequest) -> HttpResponse:
    """Record a planned long-term posting (the sending institution's administrator)."""
    actor = request.user
    require(policies.can_manage_postings(actor))
    homes = list(selectors.managed_sending_institutions(actor))
    home_ids = {h.pk for h in homes}
    form = forms.PostingForm(
        _posted(request),
        homes=homes,
        experts=list(selectors.physicians_of(home_ids)),
        departments=list(selectors.departments_of(home_ids)),
        hosts=list(selectors.partner_institutions(home_ids, primary_only=True)),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                posting = services.posting_create(actor=actor, **form.cleaned_data)
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(
                    request,
                    _("已登记%(expert)s派驻%(host)s（%(start)s 至 %(end)s）。")
                    % {
                        "expert": _person(posting.expert),
                        "host": posting.host_institution.name,
                        "start": posting.planned_start,
                        "end": posting.planned_end,
                    },
                )
                return redirect("outreach:posting-detail", public_id=posting.public_id)
    return render(request, "outreach/posting_form.html", {"form": form}, status=status)


def _posting_actions(actor: Any, posting: Any, bound: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    bound = bound or {}
    names: list[str] = []
    if policies.can_manage_posting(actor, posting):
        if posting.status == "planned":
            names.append("start")
        if posting.status == "active":
            names.append("end")
    if posting.status == "planned" and policies.is_sending_manager(actor, posting.home_institution_id):
        names.append("cancel")
    return [
        {
            "name": name,
            "label": POSTING_ACTIONS[name],
            "danger": name == "cancel",
            "form": bound.get(name)
            or forms.PostingActionForm(action=name, initial={"expected_version": posting.version}),
        }
        for name in names
    ]


@outreach_view
@require_GET
def posting_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One posting with the actions the actor may take."""
    posting = selectors.posting_get_for(request.user, public_id)
    return render(
        request,
        "outreach/posting_detail.html",
        {"posting": posting, "actions": _posting_actions(request.user, posting)},
    )


@require_POST
@outreach_view
def posting_action(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    """Start, end or cancel a posting."""
    actor = request.user
    posting = selectors.posting_get_for(actor, public_id)
    if action not in POSTING_ACTIONS:
        raise Http404
    form = forms.PostingActionForm(request.POST, action=action)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "start":
                services.posting_start(
                    actor=actor,
                    posting=posting,
                    actual_start=data["date"],
                    expected_version=data["expected_version"],
                )
            elif action == "end":
                services.posting_end(
                    actor=actor,
                    posting=posting,
                    actual_end=data["date"],
                    reason=data.get("reason") or "",
                    expected_version=data["expected_version"],
                )
            else:
                services.posting_cancel(
                    actor=actor,
                    posting=posting,
                    reason=data.get("reason") or "",
                    expected_version=data["expected_version"],
                )
        except Invalid as error:
            add_domain_errors(form, error, {"actual_start": "date", "actual_end": "date"})
        except Conflict as error:
            form.add_error(None, str(error.message))
            status = 409
        else:
            expert = posting.expert.full_name or posting.expert.username
            messages.success(
                request,
                POSTING_DONE_MESSAGES[action] % {"expert": expert, "host": posting.host_institution.name},
            )
            return redirect("outreach:posting-detail", public_id=posting.public_id)
    posting = selectors.posting_get_for(actor, public_id)
    return render(
        request,
        "outreach/posting_detail.html",
        {"posting": posting, "actions": _posting_actions(actor, posting, {action: form})},
        status=status,
    )


def _scopes(actor: Any) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    consortia, regions = selectors.indicator_scopes(actor)
    choices: list[tuple[str, str]] = []
    objects: dict[str, Any] = {}
    for consortium in consortia:
        key = f"c:{consortium.public_id}"
        choices.append((key, consortium.name))
        objects[key] = consortium
    for region in regions:
        key = f"r:{region.code}"
        choices.append((key, region.name))
        objects[key] = region
    return choices, objects


@outreach_view
@require_GET
def indicator(request: HttpRequest) -> HttpResponse:
    """The posting indicator for a year over a consortium or region, with the postings behind it."""
    actor = request.user
    require(policies.can_view_indicator(actor))
    choices, objects = _scopes(actor)
    form = forms.YearScopeForm(request.GET or None, scopes=choices)
    year = _year(request)
    key = request.GET.get("scope") or (choices[0][0] if choices else "")
    chosen = objects.get(key)
    consortium = chosen if chosen is not None and not isinstance(chosen, Region) else None
    region = chosen if isinstance(chosen, Region) else None
    figure = rows = None
    if chosen is not None:
        figure = selectors.posting_indicator(actor, year=year, consortium=consortium, region=region)
        rows = selectors.posting_indicator_rows(actor, year=year, consortium=consortium, region=region)
        for row in rows:
            row.excluded_label = EXCLUSION_LABELS.get(row.excluded_because, "")  # type: ignore[attr-defined]
    return render(
        request,
        "outreach/indicator.html",
        {"form": form, "figure": figure, "rows": rows, "year": year, "scope_key": key},
    )


# Clinic sessions ----------------------------------------------------------------------------


def _week_start(request: HttpRequest) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = timezone.localdate()
    return day - datetime.timedelta(days=day.weekday())


@outreach_view
@require_GET
def session_week(request: HttpRequest) -> HttpResponse:
    """The week's expert clinic sessions (held at or sent from the actor's institutions), day by day;
    ``mine=1``: the sessions the actor holds as the expert."""
    actor = request.user
    require(policies.can_use_outreach(actor))
    start = _week_start(request)
    mine = request.GET.get("mine") == "1"
    days = [start + datetime.timedelta(days=i) for i in range(7)]
    sessions = list(selectors.session_list(actor, date_from=days[0], date_to=days[-1], mine=mine))
    by_day: dict[datetime.date, list[Any]] = {day: [] for day in days}
    for session in sessions:
        by_day.setdefault(timezone.localdate(session.starts_at), []).append(session)
    return render(
        request,
        "outreach/session_week.html",
        {
            "days": [(day, by_day.get(day, [])) for day in days],
            "week": start,
            "previous": start - datetime.timedelta(days=7),
            "next": start + datetime.timedelta(days=7),
            "today": timezone.localdate(),
            "mine": mine,
            "may_publish": selectors.may_publish_sessions(actor),
            "is_expert": selectors.is_hospital_expert(actor),
        },
    )


def _session_form(actor: Any, data: Any) -> forms.SessionForm:
    managed = policies.managed_institutions(actor)
    experts = list(selectors.experts_of(managed)) if managed else []
    if policies.expert_institutions(actor) and all(e.pk != actor.pk for e in experts):
        experts.insert(0, actor)
    hosts = selectors.clinic_hosts(actor)
    departments = list(selectors.departments_of({host.pk for host in hosts}))
    return forms.SessionForm(data, experts=experts, hosts=hosts, departments=departments)


@outreach_view
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest) -> HttpResponse:
    """Publish an expert clinic session at a member."""
    actor = request.user
    require(selectors.may_publish_sessions(actor))
    form = _session_form(actor, _posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                session = services.session_publish(actor=actor, **form.cleaned_data)
            except Invalid as error:
                add_domain_errors(form, error)
            else:
                messages.success(
                    request,
                    _("已发布%(expert)s在%(host)s的专家门诊（%(when)s）。")
                    % {
                        "expert": _person(session.expert),
                        "host": session.host_institution.name,
                        "when": f"{timezone.localtime(session.starts_at):%Y-%m-%d %H:%M}",
                    },
                )
                return redirect("outreach:session-detail", public_id=session.public_id)
    return render(request, "outreach/session_form.html", {"form": form}, status=status)


def _session_context(
    request: HttpRequest, session: Any, *, booking_form: Any = None, cancel_form: Any = None
) -> dict[str, Any]:
    actor = request.user
    sees = policies.sees_patients_of(actor, session)
    slots = selectors.session_slots(session)
    for slot in slots:
        booking = slot.booking  # type: ignore[attr-defined]
        slot.person_label = (
            (booking.person.name if sees else mask_name(booking.person.name)) if booking else ""
        )  # type: ignore[attr-defined]
    may_book = session.status == SessionStatus.OPEN and policies.can_book(actor, session)
    if may_book and booking_form is None:
        query = request.GET.get("q", "").strip()
        persons = (
            list(people_selectors.person_list(actor, query=query)[:PERSON_CHOICES_LIMIT]) if query else []
        )
        free = [s for s in slots if not s.is_booked and s.starts_at > timezone.now()]
        booking_form = forms.BookingForm(slots=free, persons=persons, searched=bool(query))
    return {
        "session": session,
        "slots": slots,
        "sees_patients": sees,
        "may_book": may_book,
        "booking_form": booking_form,
        "may_cancel": session.status == SessionStatus.OPEN
        and session.ends_at > timezone.now()
        and policies.can_manage_session(actor, session),
        "may_cancel_bookings": sees and (policies.can_book(actor, session) or session.expert_id == actor.pk),
        "cancel_form": cancel_form or forms.ReasonForm(),
        "q": request.GET.get("q", ""),
    }


@outreach_view
@require_GET
def session_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One session: slots and bookings (residents masked for those who may not see them), booking form."""
    session = selectors.session_get_for(request.user, public_id)
    return render(request, "outreach/session_detail.html", _session_context(request, session))


@require_POST
@outreach_view
def booking_new(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Book a resident into a free slot (409 with the message when someone was faster)."""
    actor = request.user
    session = selectors.session_get_for(actor, public_id)
    require(policies.can_book(actor, session))
    slots = [s for s in selectors.session_slots(session) if not s.is_booked]
    person = None
    chosen = request.POST.get("person", "")
    if chosen:
        try:
            person = people_selectors.person_get_for(actor, chosen)
        except NotFound:
            person = None
    form = forms.BookingForm(request.POST, slots=slots, persons=[person] if person else [])
    status = 400
    if form.is_valid():
        try:
            booking = services.booking_create(
                actor=actor,
                slot=form.cleaned_data["slot"],
                person=form.cleaned_data["person"],
                note=form.cleaned_data["note"],
            )
        except Invalid as error:
            add_domain_errors(form, error)
        except Conflict as error:
            form.add_error(None, str(error.message))
            status = 409
        else:
            messages.success(
                request,
                _("已为%(person)s预约%(expert)s的专家门诊（%(when)s）。")
                % {
                    "person": booking.person.name,
                    "expert": _person(session.expert),
                    "when": f"{timezone.localtime(booking.slot.starts_at):%Y-%m-%d %H:%M}",
                },
            )
            return redirect("outreach:session-detail", public_id=session.public_id)
    return render(
        request,
        "outreach/session_detail.html",
        _session_context(request, session, booking_form=form),
        status=status,
    )


@require_POST
@outreach_view
def booking_cancel(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Cancel a booking and free its slot."""
    actor = request.user
    booking = selectors.booking_get_for(actor, public_id)
    services.booking_cancel(actor=actor, booking=booking, reason=request.POST.get("reason", ""))
    messages.success(
        request,
        _("已取消%(person)s的专家门诊预约（%(when)s）。")
        % {
            "person": booking.person.name,
            "when": f"{timezone.localtime(booking.slot.starts_at):%Y-%m-%d %H:%M}",
        },
    )
    return redirect("outreach:session-detail", public_id=booking.session.public_id)


@require_POST
@outreach_view
def session_cancel(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Cancel (停诊) a session with a reason; its bookings are cancelled and notified."""
    actor = request.user
    session = selectors.session_get_for(actor, public_id)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.session_cancel(
                actor=actor, session=session, reason=form.cleaned_data.get("reason") or ""
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(
                request,
                _("%(expert)s在%(host)s的专家门诊（%(when)s）已停诊，相关预约已取消并通知预约人。")
                % {
                    "expert": _person(session.expert),
                    "host": session.host_institution.name,
                    "when": f"{timezone.localtime(session.starts_at):%Y-%m-%d %H:%M}",
                },
            )
            return redirect("outreach:session-detail", public_id=session.public_id)
    return render(
        request,
        "outreach/session_detail.html",
        _session_context(request, session, cancel_form=form),
        status=400,
    )


# Reports ------------------------------------------------------------------------------------


def _report_scope(actor: Any, request: HttpRequest) -> tuple[list[tuple[str, str]], Any]:
    consortia, _regions = selectors.indicator_scopes(actor)
    choices = [("", _("全部可见成员单位")), *[(str(c.public_id), c.name) for c in consortia]]
    chosen = next((c for c in consortia if str(c.public_id) == request.GET.get("scope", "")), None)
    return choices, chosen


@outreach_view
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    """The year's outreach per member in the seeds' report form, on screen."""
    actor = request.user
    require(policies.can_view_statistics(actor))
    choices, consortium = _report_scope(actor, request)
    form = forms.YearScopeForm(request.GET or None, scopes=choices)
    year = _year(request)
    rows = selectors.annual_report(actor, year=year, consortium=consortium)
    columns = list(selectors.REPORT_COLUMNS)
    table = [(row.institution_name, [row.get(key) for key, _label in columns]) for row in rows]
    return render(
        request,
        "outreach/report.html",
        {
            "form": form,
            "year": year,
            "columns": columns,
            "table": table,
            "export_query": request.GET.urlencode(),
        },
    )


@outreach_view
@require_GET
def report_export(request: HttpRequest) -> HttpResponse:
    """The same report as an Excel workbook."""
    actor = request.user
    require(policies.can_view_statistics(actor))
    _choices, consortium = _report_scope(actor, request)
    year = _year(request)
    rows = selectors.annual_report(actor, year=year, consortium=consortium)
    content = report_workbook(rows, year=year, title=consortium.name if consortium else "")
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="outreach-{year}.xlsx"'
    return response


@outreach_view
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Batches and person-times per member, month and kind over a period."""
    actor = request.user
    require(policies.can_view_statistics(actor))
    form = forms.StatisticsForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    date_from = values.get("date_from") or datetime.date(today.year, 1, 1)
    summary = selectors.outreach_summary(actor, date_from=date_from, date_to=values.get("date_to"))
    return render(
        request, "outreach/statistics.html", {"form": form, "summary": summary, "kinds": OutreachKind}
    )


urlpatterns: list[URLPattern] = [
    path("", batch_list, name="list"),
    path("batches/new/", batch_new, name="batch-new"),
    path("batches/<uuid:public_id>/", batch_detail, name="batch-detail"),
    path("batches/<uuid:public_id>/visits/", visit_add, name="visit-add"),
    path("batches/<uuid:public_id>/act/<slug:action>/", batch_action, name="batch-act"),
    path("visits/<uuid:public_id>/edit/", visit_edit, name="visit-edit"),
    path("visits/<uuid:public_id>/remove/", visit_remove, name="visit-remove"),
    path("postings/", posting_list, name="postings"),
    path("postings/new/", posting_new, name="posting-new"),
    path("postings/<uuid:public_id>/", posting_detail, name="posting-detail"),
    path("postings/<uuid:public_id>/act/<slug:action>/", posting_action, name="posting-act"),
    path("indicator/", indicator, name="indicator"),
    path("sessions/", session_week, name="sessions"),
    path("sessions/new/", session_new, name="session-new"),
    path("sessions/<uuid:public_id>/", session_detail, name="session-detail"),
    path("sessions/<uuid:public_id>/book/", booking_new, name="booking-new"),
    path("sessions/<uuid:public_id>/cancel/", session_cancel, name="session-cancel"),
    path("bookings/<uuid:public_id>/cancel/", booking_cancel, name="booking-cancel"),
    path("report/", report, name="report"),
    path("report.xlsx", report_export, name="report-export"),
    path("statistics/", statistics, name="statistics"),
]
