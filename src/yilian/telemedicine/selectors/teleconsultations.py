"""Reads of teleconsultations, scoped by policy: visibility, lists, experts' free times, fees, charges."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from yilian.accounts.choices import ProfessionalTitle
from yilian.accounts.models import User
from yilian.accounts.selectors import scope_for, users_holding
from yilian.core.exceptions import NotFound
from yilian.core.permissions import Role
from yilian.institutions.models import Consortium, ConsortiumMember, Institution
from yilian.referrals import selectors as referral_selectors
from yilian.telemedicine import policies, workflow
from yilian.telemedicine.choices import ENDED_STATUSES, ChargeDirection, TeleconsultationKind, titles_at_least
from yilian.telemedicine.models import (
    ExpertAvailability,
    Teleconsultation,
    TeleconsultationAttachment,
    TeleconsultationCharge,
    TeleconsultationEvent,
    TeleconsultationFee,
)

LIST_RELATED = (
    "person",
    "inviting_institution",
    "inviting_department",
    "inviting_doctor",
    "invited_institution",
    "invited_department",
    "expert",
    "consortium",
)


def teleconsultation_visible_to(actor: Any) -> QuerySet[Teleconsultation]:
    """Teleconsultations the actor may read: sent by their institutions (clinical staff and admins),
    received by institutions where they coordinate or administer, those they are the expert of, of
    consortia whose office they run, touching regions they regulate; all for platform admins."""
    scope = scope_for(actor)
    rows = Teleconsultation.objects.select_related(*LIST_RELATED)
    if scope.is_platform_admin:
        return rows
    condition = Q(pk__in=[])
    outgoing = policies.outgoing_institutions(actor)
    if outgoing:
        condition |= Q(inviting_institution_id__in=outgoing)
    incoming = policies.incoming_institutions(actor)
    if incoming:
        condition |= Q(invited_institution_id__in=incoming)
    experts_at = policies.expert_institutions(actor)
    if experts_at:
        condition |= Q(expert_id=actor.pk, invited_institution_id__in=experts_at)
    consortia = policies.overseen_consortia(actor)
    if consortia:
        condition |= Q(consortium_id__in=consortia)
    for prefix in policies.regulated_prefixes(actor):
        condition |= Q(inviting_institution__region__code__startswith=prefix) | Q(
            invited_institution__region__code__startswith=prefix
        )
    if condition == Q(pk__in=[]):
        return rows.none()
    return rows.filter(condition)


def teleconsultation_get_for(actor: Any, public_id: Any, *, related: bool = True) -> Teleconsultation:
    """One visible teleconsultation by public id; NotFound otherwise (also for the invited doctors who
    are not its expert). ``related=False`` fetches its identity alone, before a service call that
    locks and reads the row again."""
    rows = teleconsultation_visible_to(actor)
    if not related:
        rows = rows.select_related(None).only("pk", "public_id")
    try:
        return rows.get(public_id=public_id)
    except (Teleconsultation.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("teleconsultation") from error


@dataclass(frozen=True)
class TeleconsultationFilters:
    """Filters of the lists. ``box``: "incoming" (received), "outgoing" (sent), "assigned" (the actor is
    the expert) or "all"."""

    box: str = "all"
    status: str = ""
    kind: str = ""
    open_only: bool = False
    query: str = ""
    consortium_id: int | None = None


def teleconsultation_list(
    actor: Any, filters: TeleconsultationFilters | None = None
) -> QuerySet[Teleconsultation]:
    """Visible teleconsultations filtered, newest first (the incoming and assigned boxes: soonest
    session first). Constant query count whatever the size."""
    filters = filters or TeleconsultationFilters()
    rows = teleconsultation_visible_to(actor)
    if filters.box == "incoming":
        rows = rows.filter(invited_institution_id__in=policies.incoming_institutions(actor))
    elif filters.box == "outgoing":
        rows = rows.filter(inviting_institution_id__in=policies.outgoing_institutions(actor))
    elif filters.box == "assigned":
        rows = rows.filter(expert_id=getattr(actor, "pk", None))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.open_only:
        rows = rows.exclude(status__in=ENDED_STATUSES)
    if filters.consortium_id:
        rows = rows.filter(consortium_id=filters.consortium_id)
    if filters.query:
        term = filters.query.strip()
        rows = rows.filter(
            Q(number__icontains=term)
            | Q(diagnosis_name__icontains=term)
            | Q(diagnosis_code__istartswith=term)
            | Q(person__name__icontains=term)
        )
    if filters.box in ("incoming", "assigned"):
        return rows.order_by("proposed_at", "id")
    return rows.order_by("-created_at", "-id")


def available_actions(actor: Any, teleconsultation: Teleconsultation) -> list[str]:
    """The workflow actions the actor may take on the teleconsultation now."""
    return workflow.available_actions(teleconsultation.status, policies.sides_of(actor, teleconsultation))


def teleconsultation_timeline(teleconsultation: Teleconsultation) -> QuerySet[TeleconsultationEvent]:
    """Every step, oldest first."""
    return teleconsultation.events.order_by("occurred_at", "id")


def teleconsultation_attachments(teleconsultation: Teleconsultation) -> QuerySet[TeleconsultationAttachment]:
    """Files sent with the teleconsultation, oldest first."""
    return teleconsultation.attachments.order_by("created_at", "id")


def attachment_get_for(actor: Any, public_id: Any) -> TeleconsultationAttachment:
    """An attachment of a teleconsultation whose patient the actor may see; NotFound otherwise."""
    try:
        attachment = TeleconsultationAttachment.objects.select_related("teleconsultation").get(
            public_id=public_id
        )
    except (TeleconsultationAttachment.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("attachment") from error
    teleconsultation = teleconsultation_get_for(actor, attachment.teleconsultation.public_id)
    if not policies.sees_patient(actor, teleconsultation):
        raise NotFound("attachment")
    return attachment


# Experts and their free times -------------------------------------------------------------------


def title_label(title: str) -> str:
    """The readable name of a professional title."""
    return str(ProfessionalTitle(title).label) if title in ProfessionalTitle.values else title


def qualified_experts(institution_id: int, specialty: str = "", title: str = "") -> QuerySet[User]:
    """Doctors of the institution whose title is at least ``title`` and who work in a department of
    ``specialty`` there (when given), by name."""
    experts = users_holding(institution_id, {Role.DOCTOR}).filter(
        professional_title__in=titles_at_least(title)
    )
    if specialty:
        experts = experts.filter(
            memberships__institution_id=institution_id,
            memberships__role=Role.DOCTOR,
            memberships__is_active=True,
            memberships__department__specialty=specialty,
        ).distinct()
    return experts.order_by("full_name", "username")


def doctor_of(institution_id: int, public_id: Any) -> User:
    """An active doctor of the institution by public id; NotFound otherwise."""
    try:
        return users_holding(institution_id, {Role.DOCTOR}).get(public_id=public_id)
    except (User.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("doctor") from error


def expert_qualifies(expert: Any, institution_id: int, specialty: str, title: str) -> bool:
    """True when the user is a doctor of the institution with a qualifying title and specialty."""
    return qualified_experts(institution_id, specialty, title).filter(pk=expert.pk).exists()


def free_times(
    *,
    institution_id: int | None = None,
    specialty: str = "",
    title: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    expert_id: int | None = None,
) -> QuerySet[ExpertAvailability]:
    """Unbooked future free times of qualified experts (doctors of the slot's institution with a
    qualifying title and, when given, specialty), soonest first, with expert and institution."""
    slots = ExpertAvailability.objects.select_related("expert", "institution").filter(
        taken_by__isnull=True,
        starts_at__gt=timezone.now(),
        institution__status="active",
    )
    membership = {
        "expert__professional_title__in": titles_at_least(title),
        "expert__is_active": True,
        "expert__memberships__institution_id": F("institution_id"),
        "expert__memberships__role": Role.DOCTOR,
        "expert__memberships__is_active": True,
    }
    if specialty:
        membership["expert__memberships__department__specialty"] = specialty
    slots = slots.filter(**membership)
    if institution_id is not None:
        slots = slots.filter(institution_id=institution_id)
    if expert_id is not None:
        slots = slots.filter(expert_id=expert_id)
    if date_from is not None:
        slots = slots.filter(starts_at__date__gte=date_from)
    if date_to is not None:
        slots = slots.filter(starts_at__date__lte=date_to)
    return slots.distinct().order_by("starts_at", "id")


def free_time_get(public_id: Any) -> ExpertAvailability:
    """A free time by public id (with its expert and institution); NotFound otherwise."""
    try:
        return ExpertAvailability.objects.select_related("expert", "institution").get(public_id=public_id)
    except (ExpertAvailability.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("availability") from error


def availability_list(actor: Any) -> QuerySet[ExpertAvailability]:
    """Future free times the actor manages: their own, and every expert's at institutions where they
    coordinate or administer; soonest first."""
    scope = scope_for(actor)
    managed = scope.institutions_with(*policies.AVAILABILITY_MANAGERS)
    rows = ExpertAvailability.objects.select_related("expert", "institution", "taken_by").filter(
        ends_at__gt=timezone.now()
    )
    if scope.is_platform_admin:
        return rows.order_by("starts_at", "id")
    return rows.filter(Q(expert_id=getattr(actor, "pk", None)) | Q(institution_id__in=managed)).order_by(
        "starts_at", "id"
    )


def availability_get_for(actor: Any, public_id: Any) -> ExpertAvailability:
    """A free time the actor manages; NotFound otherwise."""
    try:
        return availability_list(actor).get(public_id=public_id)
    except (ExpertAvailability.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("availability") from error


def experts_managed_by(actor: Any) -> list[tuple[Any, Any]]:
    """(expert, institution) pairs the actor may publish free times for: themselves where they are a
    doctor, and every doctor of institutions where they coordinate or administer."""
    scope = scope_for(actor)
    pairs: dict[tuple[int, int], tuple[Any, Any]] = {}
    institutions = {
        i.pk: i
        for i in Institution.objects.filter(
            pk__in=scope.institutions_with(*policies.AVAILABILITY_MANAGERS)
            | policies.expert_institutions(actor)
        )
    }
    for institution_id in sorted(scope.institutions_with(*policies.AVAILABILITY_MANAGERS)):
        for user in users_holding(institution_id, {Role.DOCTOR}):
            pairs[(user.pk, institution_id)] = (user, institutions[institution_id])
    for institution_id in sorted(policies.expert_institutions(actor)):
        pairs[(actor.pk, institution_id)] = (actor, institutions[institution_id])
    return list(pairs.values())


# Fees and charges -------------------------------------------------------------------------------


def consortium_between(first: Institution, second: Institution) -> tuple[Consortium | None, bool]:
    """The consortium an invitation from ``first`` to ``second`` is filed under, and whether both share it.

    The consortium both ends are active members of (a county health community first), shared; else the
    inviting end's own (the invitation is outside any consortium, filed where its office oversees it),
    else None. One query.
    """
    rows = ConsortiumMember.objects.filter(
        institution_id__in=[first.pk, second.pk], is_active=True
    ).select_related("consortium")
    members: dict[int, set[int]] = {}
    consortia = {}
    for row in rows:
        members.setdefault(row.consortium_id, set()).add(row.institution_id)
        consortia[row.consortium_id] = row.consortium
    shared = [pk for pk, ends in members.items() if {first.pk, second.pk} <= ends]
    pool = shared or [pk for pk, ends in members.items() if first.pk in ends]
    if not pool:
        return None, False
    pool.sort(key=lambda pk: (consortia[pk].type != "county_community", pk))
    return consortia[pool[0]], bool(shared)


def shared_consortium(first: Institution, second: Institution) -> Consortium | None:
    """The consortium an invitation from ``first`` to ``second`` is filed under (``consortium_between``)."""
    return consortium_between(first, second)[0]


def _fee_amount(consortium: Any, kind: str) -> Decimal | None:
    if consortium is None:
        return None
    return (
        TeleconsultationFee.objects.filter(consortium=consortium, kind=kind)
        .values_list("amount", flat=True)
        .first()
    )


def fee_for(consortium: Any, kind: str) -> Decimal:
    """The consortium's fee for a kind of remote service (0 when none is set or outside any consortium)."""
    amount = _fee_amount(consortium, kind)
    return amount if amount is not None else Decimal("0")


@dataclass(frozen=True)
class ApplicableFee:
    """The fee an invitation will be charged: the consortium it is filed under (None outside any), the
    kind, the amount (0 when none is set) and whether the consortium set one for the kind.

    ``outside_consortium`` when the two ends share no consortium: no schedule applies (``amount`` 0,
    ``is_set`` false) and the requester types the fee their cooperation agreement sets.
    """

    consortium: Consortium | None
    kind: str
    amount: Decimal
    is_set: bool
    outside_consortium: bool = False

    @property
    def kind_label(self) -> str:
        """The kind as the user reads it."""
        return str(TeleconsultationKind(self.kind).label) if self.kind in TeleconsultationKind.values else ""


def applicable_fee(inviting: Institution, invited: Institution, kind: str) -> ApplicableFee:
    """The fee ``teleconsultation_create`` will charge for this invitation (same consortium, same rule)."""
    consortium, shared = consortium_between(inviting, invited)
    if not shared:
        return ApplicableFee(
            consortium=consortium, kind=kind, amount=Decimal("0"), is_set=False, outside_consortium=True
        )
    amount = _fee_amount(consortium, kind)
    return ApplicableFee(
        consortium=consortium,
        kind=kind,
        amount=amount if amount is not None else Decimal("0"),
        is_set=amount is not None,
    )


def fees_by_consortium(institution_ids: Any) -> list[tuple[Consortium, list[TeleconsultationFee]]]:
    """Each consortium the institutions are active members of (once, by name) with its fees by kind."""
    consortia = list(
        Consortium.objects.filter(members__institution_id__in=list(institution_ids), members__is_active=True)
        .distinct()
        .order_by("name", "pk")
    )
    if not consortia:
        return []
    fees: dict[int, list[TeleconsultationFee]] = {}
    for fee in TeleconsultationFee.objects.filter(consortium__in=consortia).order_by("kind"):
        fees.setdefault(fee.consortium_id, []).append(fee)
    return [(consortium, fees.get(consortium.pk, [])) for consortium in consortia]


def fee_consortia(actor: Any) -> QuerySet[Consortium]:
    """Consortia whose fees the actor sets: those whose office they run; all for platform admins."""
    consortia = Consortium.objects.order_by("name")
    if scope_for(actor).is_platform_admin:
        return consortia
    return consortia.filter(pk__in=policies.overseen_consortia(actor))


def fee_list(consortium: Any) -> QuerySet[TeleconsultationFee]:
    """The consortium's fees by kind, with the agreement they come from."""
    return (
        TeleconsultationFee.objects.filter(consortium=consortium).select_related("agreement").order_by("kind")
    )


def charge_list(
    actor: Any,
    *,
    direction: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[TeleconsultationCharge]:
    """Billing records the actor reads: their institutions' (finance readers), their consortia's (the
    office), all (platform admins); newest first.

    A record of a teleconsultation outside the consortium names no consortium; the office that oversees
    the teleconsultation (filed under the inviting end's consortium) reads its member's payable, not the
    outside institution's receivable.
    """
    scope = scope_for(actor)
    rows = TeleconsultationCharge.objects.select_related(
        "teleconsultation", "institution", "counterpart", "consortium"
    )
    if not scope.is_platform_admin:
        condition = Q(pk__in=[])
        institutions = policies.charge_institutions(actor)
        if institutions:
            condition |= Q(institution_id__in=institutions)
        consortia = policies.overseen_consortia(actor)
        if consortia:
            condition |= Q(consortium_id__in=consortia) | Q(
                consortium__isnull=True,
                teleconsultation__outside_consortium=True,
                teleconsultation__consortium_id__in=consortia,
                direction=ChargeDirection.PAYABLE,
            )
        if condition == Q(pk__in=[]):
            return rows.none()
        rows = rows.filter(condition)
    if direction:
        rows = rows.filter(direction=direction)
    if date_from is not None:
        rows = rows.filter(created_at__date__gte=date_from)
    if date_to is not None:
        rows = rows.filter(created_at__date__lte=date_to)
    return rows.order_by("-created_at", "-id")


# Links out ----------------------------------------------------------------------------------------


def referral_visible(actor: Any, teleconsultation: Teleconsultation) -> bool:
    """Whether the actor may open the referral the teleconsultation's decision sent (referrals' rule)."""
    if not teleconsultation.referral_id:
        return False
    return referral_selectors.referral_visible_to(actor).filter(pk=teleconsultation.referral_id).exists()
