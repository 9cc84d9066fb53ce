"""Reads of referrals, scoped by policy: visibility, worklists, the down-referral worklist, capacity."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.accounts.selectors import membership_visible_to, scope_for
from yilian.core.exceptions import Invalid, NotFound
from yilian.core.icd10 import in_range
from yilian.core.prepared import PreparedRead
from yilian.encounters.models import Encounter
from yilian.encounters.selectors import current_inpatients
from yilian.institutions.models import ConsortiumMember, Department, Institution
from yilian.people.policies import PATIENT_ROLES
from yilian.referrals import policies, workflow
from yilian.referrals.choices import (
    ENDED_STATUSES,
    CriterionCategory,
    ReferralStatus,
)
from yilian.referrals.models import (
    DeductibleSubsidy,
    FollowUpTask,
    Referral,
    ReferralAttachment,
    ReferralCriterion,
    ReferralEvent,
    ReferralSettings,
    ReservedCapacity,
    ended_rank,
    priority_rank,
)
from yilian.referrals.selectors.suggestions import ReceiverMatch, diagnosis_matches

LIST_RELATED = (
    "person",
    "from_institution",
    "from_department",
    "to_institution",
    "to_department",
    "from_doctor",
    "consortium",
)


def referral_visible_to(actor: Any) -> QuerySet[Referral]:
    """Referrals the actor may read: sent by or (once submitted) received at their institutions, of
    consortia they run the office of, touching regions they regulate; all for platform admins."""
    scope = scope_for(actor)
    referrals = Referral.objects.select_related(*LIST_RELATED)
    if scope.is_platform_admin:
        return referrals
    condition = Q(pk__in=[])
    ends = policies.end_institutions(actor)
    if ends:
        condition |= Q(from_institution_id__in=ends) | (
            Q(to_institution_id__in=ends) & ~Q(status=ReferralStatus.DRAFT)
        )
    consortia = policies.overseen_consortia(actor)
    if consortia:
        condition |= Q(consortium_id__in=consortia) & ~Q(status=ReferralStatus.DRAFT)
    for prefix in policies.regulated_prefixes(actor):
        condition |= (
            Q(from_institution__region__code__startswith=prefix)
            | Q(to_institution__region__code__startswith=prefix)
        ) & ~Q(status=ReferralStatus.DRAFT)
    if condition == Q(pk__in=[]):
        return referrals.none()
    return referrals.filter(condition)


def referral_get_for(actor: Any, public_id: Any, *, related: bool = True) -> Referral:
    """One visible referral by public id; NotFound otherwise.

    ``related=False`` fetches its identity alone (``IDENTITY_FIELDS``; other fields load on
    access): a visibility check before a service call that locks and reads the row again. It reads
    the row by its public id and lets ``policies.sees_referral`` decide, going through the scoped
    queryset only when the ends' regions must tell (a regulator).
    """
    if related:
        referrals = referral_visible_to(actor)
    else:
        identity = _identity_decided_on_the_row(actor, public_id)
        if identity is not None:
            return identity
        # A regulator: whether an end lies in a regulated region is the scoped queryset's to say.
        referrals = referral_visible_to(actor).select_related(None).only(*IDENTITY_FIELDS)
    try:
        return referrals.get(public_id=public_id)
    except (Referral.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("referral") from error


IDENTITY_FIELDS = ("id", "public_id", "status", "from_institution", "to_institution", "consortium")
"""What a visibility check before a step reads of the referral (``policies.sees_referral`` decides on it)."""

_IDENTITY: PreparedRead[Referral] = PreparedRead(
    lambda public_id: Referral.objects.only(*IDENTITY_FIELDS).filter(public_id=public_id), kind=uuid.UUID
)
"""The identity read before every workflow step, compiled once (ADR 0022)."""


def _identity_decided_on_the_row(actor: Any, public_id: Any) -> Referral | None:
    """The referral's identity when its row shows the actor sees it; NotFound when it shows they do not
    (or there is no such referral); None when only the scoped queryset can tell (a regulator)."""
    try:
        found = _IDENTITY.rows(public_id)
    except (ValueError, TypeError) as error:
        raise NotFound("referral") from error
    seen = policies.sees_referral(actor, found[0]) if found else False
    if seen is False:
        raise NotFound("referral")
    return found[0] if seen else None


INBOX_DEPARTMENT = "department"
INBOX_INSTITUTION = "institution"
INBOX_SCOPES = (INBOX_DEPARTMENT, INBOX_INSTITUTION)
"""The inbox's reach: the actor's own departments (the default) or the whole receiving institution."""


@dataclass(frozen=True)
class ReferralFilters:
    """Filters of the referral lists. ``box`` is "inbox" (received), "outbox" (sent) or "all";
    ``scope`` narrows the inbox to the actor's departments (default) or widens it to the institution."""

    box: str = "all"
    scope: str = INBOX_DEPARTMENT
    status: str = ""
    direction: str = ""
    priority: str = ""
    open_only: bool = False
    query: str = ""
    institution_id: int | None = None
    department_id: int | None = None
    consortium_id: int | None = None
    submitted_from: datetime.date | None = None
    submitted_to: datetime.date | None = None


def referral_list(actor: Any, filters: ReferralFilters | None = None) -> QuerySet[Referral]:
    """Visible referrals filtered; the inbox is ordered open before ended, then by priority and answer
    deadline; the other lists newest first.

    The inbox holds referrals received at the actor's institutions: by
    default only those addressed to the actor's own departments (where the
    actor's role there is tied to no department — a referral coordinator,
    an administrator — the whole institution's), with ``scope`` "institution"
    the whole institution's; the outbox holds those sent from them. Constant
    query count whatever the size (the departments are a subquery).
    """
    filters = filters or ReferralFilters()
    referrals = referral_visible_to(actor)
    ends = policies.end_institutions(actor)
    if filters.box == "inbox":
        referrals = referrals.filter(to_institution_id__in=ends).exclude(status=ReferralStatus.DRAFT)
        if filters.scope != INBOX_INSTITUTION:
            referrals = referrals.filter(Exists(_own_desks(actor)))
    elif filters.box == "outbox":
        referrals = referrals.filter(from_institution_id__in=ends)
    if filters.status:
        referrals = referrals.filter(status=filters.status)
    if filters.open_only:
        referrals = referrals.exclude(status__in=[*ENDED_STATUSES, ReferralStatus.DRAFT])
    if filters.direction:
        referrals = referrals.filter(direction=filters.direction)
    if filters.priority:
        referrals = referrals.filter(priority=filters.priority)
    if filters.institution_id:
        referrals = referrals.filter(
            Q(from_institution_id=filters.institution_id) | Q(to_institution_id=filters.institution_id)
        )
    if filters.department_id:
        referrals = referrals.filter(
            Q(to_department_id=filters.department_id) | Q(from_department_id=filters.department_id)
        )
    if filters.consortium_id:
        referrals = referrals.filter(consortium_id=filters.consortium_id)
    if filters.submitted_from:
        referrals = referrals.filter(submitted_at__date__gte=filters.submitted_from)
    if filters.submitted_to:
        referrals = referrals.filter(submitted_at__date__lte=filters.submitted_to)
    if filters.query:
        term = filters.query.strip()
        referrals = referrals.filter(
            Q(number__icontains=term)
            | Q(diagnosis_name__icontains=term)
            | Q(diagnosis_code__istartswith=term)
            | Q(person__name__icontains=term)
            | Q(person__name_initials__istartswith=term.lower())
        )
    if filters.box == "inbox":
        # Open referrals above ended ones; signed residents' (the green channel) first within a priority.
        return referrals.annotate(ended_rank=ended_rank(), priority_rank=priority_rank()).order_by(
            "ended_rank", "priority_rank", "-signed_resident", "answer_due_at", "id"
        )
    return referrals.order_by("-created_at", "-id")


def _own_desks(actor: Any) -> QuerySet[Any]:
    """The actor's memberships that answer for a referral's receiving end (a correlated subquery): a
    patient-seeing role at its institution, either at its department or tied to no department."""
    return (
        membership_visible_to(actor)
        .filter(
            user=actor, is_active=True, role__in=PATIENT_ROLES, institution_id=OuterRef("to_institution_id")
        )
        .filter(Q(department__isnull=True) | Q(department_id=OuterRef("to_department_id")))
        .values("pk")
    )


def available_actions(actor: Any, referral: Referral) -> list[str]:
    """The workflow actions the actor may take on the referral now (what the UI and API offer).

    A patient cannot have missed an appointment that is still to come: no-show waits for the scheduled day.
    """
    actions = workflow.available_actions(referral.status, policies.sides_of(actor, referral))
    if referral.scheduled_for and referral.scheduled_for > timezone.localdate():
        actions = [action for action in actions if action != "no_show"]
    return actions


def referral_timeline(referral: Referral) -> QuerySet[ReferralEvent]:
    """Every step of the referral, oldest first."""
    return referral.events.select_related("actor").order_by("occurred_at", "id")


def referral_timeline_for(actor: Any, referral: Referral) -> list[ReferralEvent]:
    """The timeline as ``actor`` reads it: readers who do not see the patient (the consortium office,
    regulators, platform administrators) read each upload step as its material only — a file's name can
    name the patient or the finding, and they do not read the files either (``attachment_kinds`` gives them
    what was sent). The stored steps are not changed."""
    events = list(referral_timeline(referral))
    if policies.sees_patient(actor, referral):
        return events
    for event in events:
        if event.action != "attach":
            continue
        if "filename" in (event.note_params or {}):
            event.note, event.note_params = (
                ATTACH_NOTE_WITHOUT_NAME,
                {"kind": event.note_params.get("kind", "")},
            )
        else:
            # Written before notes kept parameters: "<material>：<file name>" as text.
            event.note = event.note.split("：", 1)[0]
    return events


ATTACH_NOTE_WITHOUT_NAME = "{kind}"
"""The upload step's note without the file name (the msgid the overdue duties' steps already use)."""


def attachment_kinds(
    referral: Referral, attachments: list[ReferralAttachment] | None = None
) -> list[tuple[str, int]]:
    """How many files of each material were sent with the referral, by material code: what every reader of
    the referral may know of its attachments (names and contents are for the two ends). Counted from
    ``attachments`` when the caller already read them, else in one query."""
    if attachments is not None:
        counts: dict[str, int] = {}
        for attachment in attachments:
            counts[attachment.material] = counts.get(attachment.material, 0) + 1
        return sorted(counts.items())
    rows = referral.attachments.values("material").annotate(n=Count("id")).order_by("material")
    return [(row["material"], row["n"]) for row in rows]


def referral_attachments(referral: Referral) -> QuerySet[ReferralAttachment]:
    """Files sent with the referral, oldest first."""
    return referral.attachments.order_by("created_at", "id")


def attachment_get_for(actor: Any, public_id: Any) -> ReferralAttachment:
    """An attachment of a referral whose patient the actor may see; NotFound otherwise."""
    try:
        attachment = ReferralAttachment.objects.select_related("referral").get(public_id=public_id)
    except (ReferralAttachment.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("attachment") from error
    referral = referral_get_for(actor, attachment.referral.public_id)
    if not policies.sees_patient(actor, referral):
        raise NotFound("attachment")
    return attachment


def follow_up_tasks(referral: Referral) -> QuerySet[FollowUpTask]:
    """The down-referral duties of a referral."""
    return referral.follow_up_tasks.select_related("done_by").order_by("due_at", "id")


def follow_up_task_get_for(actor: Any, public_id: Any) -> FollowUpTask:
    """A follow-up duty of a visible referral; NotFound otherwise."""
    try:
        task = FollowUpTask.objects.select_related("referral").get(public_id=public_id)
    except (FollowUpTask.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("follow_up_task") from error
    referral_get_for(actor, task.referral.public_id)
    return task


def overdue_follow_ups(actor: Any) -> QuerySet[FollowUpTask]:
    """Undone duties past their deadline on referrals the actor sees (both ends see them)."""
    visible = referral_visible_to(actor).values("pk")
    return (
        FollowUpTask.objects.filter(referral_id__in=visible, done_at__isnull=True, due_at__lt=timezone.now())
        .select_related("referral__to_institution", "referral__from_institution", "referral__person")
        .order_by("due_at", "id")
    )


def pending_follow_ups(actor: Any) -> QuerySet[FollowUpTask]:
    """Undone duties of down-referrals received at the actor's institutions, soonest first."""
    return (
        FollowUpTask.objects.filter(
            referral__to_institution_id__in=policies.end_institutions(actor), done_at__isnull=True
        )
        .select_related("referral__from_institution", "referral__person", "referral__to_institution")
        .order_by("due_at", "id")
    )


def department_for_referral(public_id: Any, *, field: str = "to_department") -> Department:
    """An active clinical department to refer to, by public id; Invalid on ``field`` when there is none."""
    try:
        return Department.objects.select_related("institution").get(
            public_id=public_id, is_active=True, institution__status="active"
        )
    except (Department.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise Invalid({field: [_("接收科室不存在或已停用。")]}) from error


def receiving_options(
    actor: Any, from_institution: Institution, diagnosis_code: str = ""
) -> list[Department]:
    """Departments to suggest as receivers, the best fit for the diagnosis first: those of the diagnosis's
    specific subject (ICD-10 block → e.g. 03.04 心血管内科专业), then, at institutions without one, those
    of the broader subject (e.g. 03 内科), then the rest (see ``suggestions.diagnosis_matches``). Within
    each, the consortium's members (lead institutions first), then hospitals of the same prefecture
    outside the consortium (referrals out of the consortium are allowed and counted)."""
    consortia = ConsortiumMember.objects.filter(institution=from_institution, is_active=True).values(
        "consortium_id"
    )
    members = ConsortiumMember.objects.filter(consortium_id__in=consortia, is_active=True).exclude(
        institution=from_institution
    )
    roles = dict(members.values_list("institution_id", "role"))
    prefecture = from_institution.region.code[:4]
    departments = list(
        Department.objects.filter(is_active=True, is_clinical=True, institution__status="active")
        .filter(
            Q(institution_id__in=roles)
            | (
                Q(institution__region__code__startswith=prefecture)
                & ~Q(institution__category__regex=r"^[BCD]")
                & ~Q(institution_id=from_institution.pk)
            )
        )
        .select_related("institution")
    )
    matches = diagnosis_matches(departments, diagnosis_code)
    rank = {"lead": 0, "sub_lead": 1, "member": 2}
    order = {ReceiverMatch.SUBJECT: 0, ReceiverMatch.SPECIALTY: 1, ReceiverMatch.NONE: 2}
    departments.sort(
        key=lambda d: (
            order[matches[d.pk]],
            rank.get(roles.get(d.institution_id, ""), 3),
            d.institution.name,
            d.name,
        )
    )
    return departments


@dataclass
class WorklistRow:
    """One inpatient on the down-referral worklist, why they are on it, and where they could go."""

    encounter: Encounter
    days_in_hospital: int
    flagged: bool
    rule: ReferralCriterion | None
    suggested_institution: Institution | None
    open_referral: Referral | None


def down_referral_worklist(actor: Any, department_id: int | None = None) -> list[WorklistRow]:
    """Current inpatients of the actor's institutions (a department when given) that may go down:
    flagged by a doctor, or matching a down-for-rehabilitation rule by diagnosis and length of stay.

    Each row suggests the patient's home primary institution. A fixed
    number of queries whatever the number of inpatients.
    """
    institutions = policies.sending_institutions(actor)
    if not institutions:
        return []
    stays = list(current_inpatients(institutions, department_id))
    consortia = list(
        ConsortiumMember.objects.filter(institution_id__in=institutions, is_active=True).values_list(
            "consortium_id", flat=True
        )
    )
    rules = list(
        ReferralCriterion.objects.filter(
            consortium_id__in=consortia, category=CriterionCategory.DOWN_REHABILITATION, is_active=True
        )
    )
    today = timezone.localdate()
    open_referrals = {
        r.encounter_id: r
        for r in Referral.objects.filter(encounter_id__in=[s.pk for s in stays])
        .exclude(
            status__in=[
                ReferralStatus.CANCELLED,
                ReferralStatus.DECLINED,
                ReferralStatus.EXPIRED,
                ReferralStatus.REDIRECTED,
                # A no-show ends the referral too: the inpatient may be referred down again.
                ReferralStatus.NO_SHOW,
            ]
        )
        .select_related("to_institution")
        # Oldest first, so that the newest referral of a stay is the one shown.
        .order_by("created_at", "id")
    }
    primary = _primary_members(consortia)
    rows = []
    for stay in stays:
        days = (today - timezone.localtime(stay.started_at).date()).days
        rule = next(
            (
                r
                for r in rules
                if in_range(stay.diagnosis_code, r.icd_from, r.icd_to) and days >= (r.min_stay_days or 0)
            ),
            None,
        )
        flagged = bool(stay.recovery_phase)
        if not flagged and rule is None:
            continue
        rows.append(
            WorklistRow(
                encounter=stay,
                days_in_hospital=days,
                flagged=flagged,
                rule=rule,
                suggested_institution=_home_institution(stay.person, primary),
                open_referral=open_referrals.get(stay.pk),
            )
        )
    rows.sort(key=lambda row: (not row.flagged, -row.days_in_hospital))
    return rows


def _primary_members(consortia: list[int]) -> list[Institution]:
    members = ConsortiumMember.objects.filter(consortium_id__in=consortia, is_active=True).select_related(
        "institution__region"
    )
    return [m.institution for m in members if m.institution.is_primary]


def _home_institution(person: Any, primary: list[Institution]) -> Institution | None:
    """The primary institution nearest the patient's home: one whose region contains the home address
    region (a township centre before a village clinic, the nearer before the farther)."""
    code = person.address_region.code if person.address_region_id else ""
    best: tuple[int, int, Institution] | None = None
    for institution in primary:
        region = institution.region.prefix  # the significant digits: "341524110", not "34152411"
        if code and code.startswith(region):
            # Prefer the health centre over the village clinic: the centre keeps the follow-up duties.
            key = (0 if institution.category.startswith(("B", "C")) else 1, -len(region))
            if best is None or key < best[:2]:
                best = (*key, institution)
    return best[2] if best else None


def capacity_list(
    department_ids: list[int], first_day: datetime.date, last_day: datetime.date, kind: str = ""
) -> QuerySet[ReservedCapacity]:
    """Reserved capacity of the departments between two days, by date."""
    rows = ReservedCapacity.objects.filter(
        department_id__in=department_ids, date__gte=first_day, date__lte=last_day
    ).select_related("department__institution")
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("date", "department__name", "kind", "signed_residents_only")


def bookable_days(
    department: Department, kind: str, first_day: datetime.date | None = None
) -> list[ReservedCapacity]:
    """Pools with free reserved places of ``kind`` at the department, from today (what the sender can
    book): one row per day and pool, the general pool before the one kept for signed residents."""
    first_day = first_day or timezone.localdate()
    return list(
        ReservedCapacity.objects.filter(department=department, kind=kind, date__gte=first_day)
        .filter(booked__lt=F("quantity"))
        .order_by("date", "signed_residents_only")[:30]
    )


def reserved_capacity_get(public_id: Any, *, field: str = "booking") -> ReservedCapacity:
    """One pool of reserved places by public id (the service checks it fits the referral); Invalid on
    ``field`` when there is none."""
    try:
        return ReservedCapacity.objects.get(public_id=public_id)
    except (ReservedCapacity.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise Invalid({field: [_("所选预留号源不存在，请重新选择。")]}) from error


def capacity_departments(actor: Any) -> QuerySet[Department]:
    """Departments whose reserved capacity the actor may publish."""
    institutions = [pk for pk in policies.end_institutions(actor) if policies.can_manage_capacity(actor, pk)]
    return (
        Department.objects.filter(institution_id__in=institutions, is_active=True, is_clinical=True)
        .select_related("institution")
        .order_by("institution__name", "name")
    )


def referral_settings_for(consortium: Any) -> ReferralSettings:
    """The consortium's referral settings; unsaved defaults when none were saved or there is no consortium."""
    if consortium is None:
        return ReferralSettings()
    return ReferralSettings.objects.filter(consortium=consortium).first() or ReferralSettings(
        consortium=consortium
    )


def subsidy_list(consortium: Any) -> QuerySet[DeductibleSubsidy]:
    """The consortium's deductible difference subsidies, by scheme."""
    return DeductibleSubsidy.objects.filter(consortium=consortium).order_by("insurance_scheme")


def consortium_member_ids(consortium: Any) -> set[int]:
    """Institution ids of the consortium's active members (for configuration visibility)."""
    return set(
        ConsortiumMember.objects.filter(consortium=consortium, is_active=True).values_list(
            "institution_id", flat=True
        )
    )


def criteria_list(consortium: Any) -> QuerySet[ReferralCriterion]:
    """The consortium's catalogue, by code."""
    return ReferralCriterion.objects.filter(consortium=consortium).order_by("icd_from", "category", "name")
