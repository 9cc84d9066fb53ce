"""Reads of outreach records, scoped by policy: batches and visits, postings, clinic sessions and bookings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from yilian.accounts.models import User
from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotFound
from yilian.core.permissions import Role
from yilian.institutions.models import ConsortiumMember, Department, Institution
from yilian.outreach import policies, workflow
from yilian.outreach.choices import PHYSICIAN_TITLES, BookingStatus, SessionStatus
from yilian.outreach.levels import below_level, receives_outreach, receiving_q, service_level
from yilian.outreach.models import (
    ClinicBooking,
    ClinicSlot,
    ExpertClinicSession,
    OutreachBatch,
    OutreachEvent,
    OutreachVisit,
    Posting,
)

PRIMARY = Q(category__startswith="B") | Q(category__startswith="C") | Q(category__startswith="D")
"""Primary institutions (WS 218 B/C/D)."""


def _scope_condition(actor: Any, first: str, second: str) -> Q | None:
    """The visibility condition over two institution fields (sender/host): their staff, the office of the
    record's consortium, the regulator of either end's region; None for a platform admin (everything)."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return None
    condition = Q(pk__in=[])
    staff = policies.staff_institutions(actor)
    if staff:
        condition |= Q(**{f"{first}_id__in": staff}) | Q(**{f"{second}_id__in": staff})
    consortia = policies.overseen_consortia(actor)
    if consortia:
        condition |= Q(consortium_id__in=consortia)
    for prefix in policies.regulated_prefixes(actor):
        condition |= Q(**{f"{first}__region__code__startswith": prefix}) | Q(
            **{f"{second}__region__code__startswith": prefix}
        )
    return condition


def _scoped(actor: Any, rows: QuerySet[Any], first: str, second: str) -> QuerySet[Any]:
    condition = _scope_condition(actor, first, second)
    if condition is None:
        return rows
    if condition == Q(pk__in=[]):
        return rows.none()
    return rows.filter(condition)


# Batches ------------------------------------------------------------------------------------


def batch_visible_to(actor: Any) -> QuerySet[OutreachBatch]:
    """Batches the actor may read: sent or received by their institutions, of consortia whose office
    they run, touching regions they regulate; all for platform admins."""
    rows = OutreachBatch.objects.select_related("sending_institution", "host_institution", "consortium")
    return _scoped(actor, rows, "sending_institution", "host_institution")


@dataclass(frozen=True)
class BatchFilters:
    """Filters of the batch list. ``box``: "sent" (by the actor's institutions), "received", "mine" (the
    actor travels on it) or "all"."""

    box: str = "all"
    status: str = ""
    kind: str = ""
    host_id: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    query: str = ""


def batch_list(actor: Any, filters: BatchFilters | None = None) -> QuerySet[OutreachBatch]:
    """Visible batches filtered, newest first, each with its experts (prefetched) and visit counts.
    Constant query count whatever the size."""
    filters = filters or BatchFilters()
    rows = batch_visible_to(actor)
    staff = policies.staff_institutions(actor)
    if filters.box == "sent":
        rows = rows.filter(sending_institution_id__in=staff)
    elif filters.box == "received":
        rows = rows.filter(host_institution_id__in=staff)
    elif filters.box == "mine":
        rows = rows.filter(Exists(OutreachVisit.objects.filter(batch=OuterRef("pk"), expert_id=actor.pk)))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(Exists(OutreachVisit.objects.filter(batch=OuterRef("pk"), kind=filters.kind)))
    if filters.host_id:
        rows = rows.filter(host_institution_id=filters.host_id)
    if filters.date_from:
        rows = rows.filter(ends_on__gte=filters.date_from)
    if filters.date_to:
        rows = rows.filter(starts_on__lte=filters.date_to)
    if filters.query:
        term = filters.query.strip()
        rows = rows.filter(
            Q(number__icontains=term)
            | Q(purpose__icontains=term)
            | Q(host_institution__name__icontains=term)
            | Q(Exists(OutreachVisit.objects.filter(batch=OuterRef("pk"), expert__full_name__icontains=term)))
        )
    visits = OutreachVisit.objects.select_related("expert").order_by("visit_on", "id")
    return (
        rows.annotate(visit_count=Count("visits"))
        .prefetch_related(Prefetch("visits", queryset=visits))
        .order_by("-starts_on", "-id")
    )


def batch_get_for(actor: Any, public_id: Any) -> OutreachBatch:
    """One visible batch by public id (its visits prefetched with experts and departments); NotFound otherwise."""
    visits = OutreachVisit.objects.select_related("expert", "home_department").order_by("visit_on", "id")
    try:
        return (
            batch_visible_to(actor)
            .select_related("confirmed_by", "created_by")
            .prefetch_related(Prefetch("visits", queryset=visits))
            .get(public_id=public_id)
        )
    except (OutreachBatch.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("outreach batch") from error


def visit_get_for(actor: Any, public_id: Any) -> OutreachVisit:
    """One visit of a visible batch; NotFound otherwise."""
    try:
        return OutreachVisit.objects.select_related(
            "batch", "batch__sending_institution", "batch__host_institution", "batch__consortium", "expert"
        ).get(public_id=public_id, batch__in=batch_visible_to(actor).values("pk"))
    except (OutreachVisit.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("outreach visit") from error


def batch_timeline(batch: OutreachBatch) -> QuerySet[OutreachEvent]:
    """Every step of a batch, oldest first."""
    return batch.events.order_by("occurred_at", "id")


def batch_available_actions(actor: Any, batch: OutreachBatch) -> list[str]:
    """The workflow actions the actor may take on the batch now."""
    return workflow.available_actions(batch.status, policies.batch_sides(actor, batch))


def may_edit_visits(actor: Any, batch: OutreachBatch) -> bool:
    """Whether the actor may add, change or remove visits of the batch now."""
    return batch.status in workflow.EDITABLE_STATUSES and policies.can_edit_batch(actor, batch)


def sending_institutions(actor: Any) -> QuerySet[Institution]:
    """Hospitals the actor may record batches for (administrator or expert there; primary institutions
    do not send experts)."""
    ids = policies.managed_institutions(actor) | policies.expert_institutions(actor)
    return Institution.objects.filter(pk__in=ids).exclude(PRIMARY).order_by("name")


def managed_sending_institutions(actor: Any) -> QuerySet[Institution]:
    """Institutions the actor administers (postings)."""
    return Institution.objects.filter(pk__in=policies.managed_institutions(actor)).order_by("name")


def partner_institutions(institution_ids: set[int], *, primary_only: bool = False) -> QuerySet[Institution]:
    """Active institutions sharing an active consortium with any of ``institution_ids`` (not those)."""
    consortia = ConsortiumMember.objects.filter(
        institution_id__in=institution_ids, is_active=True, consortium__status="active"
    ).values("consortium_id")
    members = ConsortiumMember.objects.filter(consortium_id__in=consortia, is_active=True).values(
        "institution_id"
    )
    rows = Institution.objects.filter(pk__in=members, status="active").exclude(pk__in=institution_ids)
    if primary_only:
        rows = rows.filter(
            Q(category__startswith="B") | Q(category__startswith="C") | Q(category__startswith="D")
        )
    return rows.order_by("region__code", "name")


def receiving_members(senders: list[Institution]) -> QuerySet[Institution]:
    """Partners that may receive a batch from one of ``senders``: institutions that see patients, below the
    highest sender's level (``yilian.outreach.levels``; the service checks the chosen pair)."""
    top = max(service_level(sender) for sender in senders)
    return partner_institutions({sender.pk for sender in senders}).filter(below_level(top), receiving_q())


def clinic_hosts(actor: Any) -> list[Institution]:
    """Where the actor may publish expert clinic sessions (专家门诊): members that may receive experts from an
    institution where the actor is an expert or administrator (``receiving_members``), then the
    institutions the actor administers that see patients and have a partner of a higher level to send
    experts (their administrator publishes the visiting expert's session). The service checks the
    chosen expert and host. Three queries, and one per administered institution."""
    managed = policies.managed_institutions(actor)
    senders = list(Institution.objects.filter(pk__in=managed | policies.expert_institutions(actor)))
    hosts = list(receiving_members(senders)) if senders else []
    offered = {host.pk for host in hosts}
    for institution in senders:
        if institution.pk not in managed or institution.pk in offered or not receives_outreach(institution):
            continue
        higher = ~below_level(service_level(institution) + 1)
        if partner_institutions({institution.pk}).filter(higher).exists():
            hosts.append(institution)
    return hosts


def experts_of(institution_ids: set[int]) -> QuerySet[User]:
    """Active users who may go out as experts from the institutions (doctors, nurses, technicians)."""
    from yilian.accounts.models import Membership

    members = Membership.objects.filter(
        institution_id__in=institution_ids, role__in=list(policies.EXPERT_ROLES), is_active=True
    ).values("user_id")
    return User.objects.filter(pk__in=members, is_active=True).order_by("full_name", "username")


def physicians_of(institution_ids: set[int]) -> QuerySet[User]:
    """Active users who may be posted long-term from the institutions: the doctor role there and a
    physician title (see ``policies.may_be_posted``)."""
    from yilian.accounts.models import Membership

    members = Membership.objects.filter(
        institution_id__in=institution_ids, role=Role.DOCTOR, is_active=True
    ).values("user_id")
    return User.objects.filter(
        pk__in=members, is_active=True, professional_title__in=list(PHYSICIAN_TITLES)
    ).order_by("full_name", "username")


def departments_of(institution_ids: set[int]) -> QuerySet[Department]:
    """Active clinical departments of the institutions."""
    return (
        Department.objects.filter(institution_id__in=institution_ids, is_active=True)
        .select_related("institution")
        .order_by("institution__name", "name")
    )


def expert_get(institution_ids: set[int], public_id: Any) -> User:
    """One expert of the institutions by public id; NotFound otherwise."""
    try:
        return experts_of(institution_ids).get(public_id=public_id)
    except (User.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("expert") from error


# Postings -----------------------------------------------------------------------------------


def posting_visible_to(actor: Any) -> QuerySet[Posting]:
    """Postings the actor may read: of their institutions (either end), their consortia as the office,
    their regions as a regulator; all for platform admins."""
    rows = Posting.objects.select_related(
        "expert", "home_institution", "home_department", "host_institution", "consortium"
    )
    return _scoped(actor, rows, "home_institution", "host_institution")


def posting_list(
    actor: Any, *, status: str = "", year: int | None = None, host_id: int | None = None, query: str = ""
) -> QuerySet[Posting]:
    """Visible postings filtered (a year: those whose planned or actual period touches it), newest first."""
    rows = posting_visible_to(actor)
    if status:
        rows = rows.filter(status=status)
    if year:
        start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        rows = rows.filter(planned_start__lte=end).filter(
            Q(actual_end__gte=start) | Q(actual_end__isnull=True, planned_end__gte=start)
        )
    if host_id:
        rows = rows.filter(host_institution_id=host_id)
    if query:
        term = query.strip()
        rows = rows.filter(
            Q(expert__full_name__icontains=term)
            | Q(host_institution__name__icontains=term)
            | Q(duties__icontains=term)
        )
    return rows.order_by("-planned_start", "-id")


def posting_get_for(actor: Any, public_id: Any) -> Posting:
    """One visible posting; NotFound otherwise."""
    try:
        return posting_visible_to(actor).get(public_id=public_id)
    except (Posting.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("posting") from error


# Clinic sessions ----------------------------------------------------------------------------


def session_visible_to(actor: Any) -> QuerySet[ExpertClinicSession]:
    """Sessions the actor may read: held at or sent from their institutions, their consortia as the office,
    their regions as a regulator; all for platform admins. Each with counts of slots and live bookings."""
    rows = ExpertClinicSession.objects.select_related(
        "expert", "home_institution", "host_institution", "host_department", "consortium"
    )
    return _scoped(actor, rows, "home_institution", "host_institution")


def session_list(
    actor: Any,
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    host_id: int | None = None,
    mine: bool = False,
    open_only: bool = False,
) -> QuerySet[ExpertClinicSession]:
    """Visible sessions in a period (by local start date), soonest first, with slot and booking counts."""
    rows = session_visible_to(actor)
    if date_from:
        rows = rows.filter(starts_at__date__gte=date_from)
    if date_to:
        rows = rows.filter(starts_at__date__lte=date_to)
    if host_id:
        rows = rows.filter(host_institution_id=host_id)
    if mine:
        rows = rows.filter(expert_id=getattr(actor, "pk", None))
    if open_only:
        rows = rows.filter(status=SessionStatus.OPEN)
    return rows.annotate(
        slot_count=Count("slots", distinct=True),
        booked_count=Count("bookings", filter=Q(bookings__status=BookingStatus.BOOKED), distinct=True),
    ).order_by("starts_at", "id")


def session_get_for(actor: Any, public_id: Any) -> ExpertClinicSession:
    """One visible session; NotFound otherwise."""
    try:
        return session_visible_to(actor).get(public_id=public_id)
    except (ExpertClinicSession.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("clinic session") from error


def session_slots(session: ExpertClinicSession) -> list[ClinicSlot]:
    """The session's slots in time order, each with ``booking`` (its live booking or None). Two queries."""
    slots = list(session.slots.order_by("starts_at", "id"))
    live = {
        b.slot_id: b
        for b in ClinicBooking.objects.filter(session=session, status=BookingStatus.BOOKED).select_related(
            "person", "booked_by"
        )
    }
    for slot in slots:
        slot.booking = live.get(slot.pk)  # type: ignore[attr-defined]
    return slots


def slot_get_for(actor: Any, public_id: Any) -> ClinicSlot:
    """One slot of a visible session; NotFound otherwise."""
    try:
        return ClinicSlot.objects.select_related(
            "session", "session__host_institution", "session__consortium", "session__expert"
        ).get(public_id=public_id, session__in=session_visible_to(actor).values("pk"))
    except (ClinicSlot.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("clinic slot") from error


def booking_visible_to(actor: Any) -> QuerySet[ClinicBooking]:
    """Bookings of visible sessions (patient names are masked by the adapters for those who may not see them)."""
    return ClinicBooking.objects.select_related(
        "slot",
        "session",
        "session__expert",
        "session__host_institution",
        "person",
        "booked_by",
    ).filter(session__in=session_visible_to(actor).values("pk"))


def booking_list(
    actor: Any, *, status: str = "", upcoming: bool = False, mine: bool = False
) -> QuerySet[ClinicBooking]:
    """Visible bookings (``mine``: those the actor made), soonest first."""
    rows = booking_visible_to(actor)
    if status:
        rows = rows.filter(status=status)
    if upcoming:
        rows = rows.filter(slot__starts_at__gte=timezone.now())
    if mine:
        rows = rows.filter(booked_by=actor)
    return rows.order_by("slot__starts_at", "id")


def booking_get_for(actor: Any, public_id: Any) -> ClinicBooking:
    """One visible booking; NotFound otherwise."""
    try:
        return booking_visible_to(actor).get(public_id=public_id)
    except (ClinicBooking.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("clinic booking") from error


def session_hosts(actor: Any) -> QuerySet[Institution]:
    """Institutions where the actor may book or publish sessions for (hosts of the actor's consortia)."""
    own = policies.staff_institutions(actor)
    return Institution.objects.filter(
        pk__in=own | set(partner_institutions(own).values_list("pk", flat=True))
    )


def person_bookings(actor: Any, person: Any) -> QuerySet[ClinicBooking]:
    """A resident's expert clinic bookings in sessions where the actor sees the residents (held at the
    actor's institutions where they book, or the actor is the expert), newest first."""
    scope = scope_for(actor)
    rows = ClinicBooking.objects.select_related(
        "slot", "session", "session__expert", "session__host_institution", "booked_by"
    ).filter(person=person)
    if scope.is_platform_admin:
        return rows.order_by("-slot__starts_at", "-id")
    condition = Q(session__host_institution_id__in=policies.booking_institutions(actor)) | Q(
        session__expert_id=getattr(actor, "pk", None)
    )
    return rows.filter(condition).order_by("-slot__starts_at", "-id")


def is_hospital_expert(actor: Any) -> bool:
    """Whether the actor goes out as an expert from some hospital (not a primary institution). One query."""
    ids = policies.expert_institutions(actor)
    return bool(ids) and Institution.objects.filter(pk__in=ids).exclude(PRIMARY).exists()


def may_publish_sessions(actor: Any) -> bool:
    """Administrators (of the expert's hospital or of a host) and hospital experts publish sessions."""
    return bool(policies.managed_institutions(actor)) or is_hospital_expert(actor)
