"""Reads of drugs, stock lists and the gap, prescriptions and deliveries — every one scoped to the actor."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncMonth

from yilian.core.exceptions import NotAllowed, NotFound
from yilian.core.search import name_search_q
from yilian.institutions.choices import MemberRole
from yilian.institutions.models import Consortium, ConsortiumMember, Institution
from yilian.prescriptions import policies
from yilian.prescriptions.choices import DeliveryStatus, DrugCategory, PrescriptionKind, PrescriptionStatus
from yilian.prescriptions.models import (
    ConsortiumFormulary,
    Delivery,
    DeliveryEvent,
    Drug,
    Prescription,
    PrescriptionItem,
    StockItem,
)

DISPENSING_CATEGORY_PREFIXES = ("A", "B", "C", "D", "G")
"""WS 218 categories that dispense drugs (hospitals, community and township centres, clinics, maternal
and child health); CDCs, supervision and blood centres have no drug list to align."""


def dispensing_q(prefix: str = "") -> Q:
    """Institutions of a dispensing category."""
    condition = Q()
    for letter in DISPENSING_CATEGORY_PREFIXES:
        condition |= Q(**{f"{prefix}category__startswith": letter})
    return condition


# --- consortium and formulary -------------------------------------------------------------------


def consortium_of(institution: Institution) -> Consortium | None:
    """The consortium whose formulary applies to the institution: its active membership of a city group /
    county community first, else its oldest active membership. One query."""
    member = (
        ConsortiumMember.objects.filter(institution=institution, is_active=True)
        .select_related("consortium")
        .order_by("-grid_form", "joined_on", "id")
        .first()
    )
    return member.consortium if member else None


def lead_of(consortium: Consortium) -> Institution | None:
    """The consortium's lead institution (牵头单位)."""
    member = (
        ConsortiumMember.objects.filter(consortium=consortium, role=MemberRole.LEAD, is_active=True)
        .select_related("institution")
        .order_by("joined_on", "id")
        .first()
    )
    return member.institution if member else None


def lead_institution_ids() -> set[int]:
    """Institutions that lead some consortium."""
    return set(
        ConsortiumMember.objects.filter(role=MemberRole.LEAD, is_active=True).values_list(
            "institution_id", flat=True
        )
    )


def member_consortium_ids(institution_id: int) -> set[int]:
    """Consortia the institution is an active member of."""
    return set(
        ConsortiumMember.objects.filter(institution_id=institution_id, is_active=True).values_list(
            "consortium_id", flat=True
        )
    )


def formulary_for(consortium: Consortium) -> ConsortiumFormulary | None:
    """The consortium's formulary settings; an unsaved default one when none is stored yet (the reference
    list is the lead's), None when the consortium has no lead."""
    stored = (
        ConsortiumFormulary.objects.filter(consortium=consortium)
        .select_related("reference_institution")
        .first()
    )
    if stored is not None:
        return stored
    lead = lead_of(consortium)
    if lead is None:
        return None
    return ConsortiumFormulary(consortium=consortium, reference_institution=lead)


def formulary_consortia(actor: Any) -> QuerySet[Consortium]:
    """Consortia whose formulary the actor reads: the office's, and those the actor's institutions belong to."""
    if policies.is_platform_admin(actor):
        return Consortium.objects.all().order_by("name")
    institutions = policies.staff_institutions(actor)
    return (
        Consortium.objects.filter(
            Q(pk__in=policies.overseen_consortia(actor))
            | Q(members__institution_id__in=institutions, members__is_active=True)
        )
        .distinct()
        .order_by("name")
    )


def formulary_consortium_get(actor: Any, public_id: Any) -> Consortium:
    """One consortium whose formulary the actor reads; NotFound otherwise."""
    try:
        return formulary_consortia(actor).get(public_id=public_id)
    except (Consortium.DoesNotExist, ValueError, ValidationError) as error:
        raise NotFound("consortium") from error


# --- drugs and stock ----------------------------------------------------------------------------


def drug_list(
    actor: Any,
    *,
    query: str = "",
    category: str = "",
    chronic: bool | None = None,
    essential: bool | None = None,
    stocked_at: int | None = None,
) -> QuerySet[Drug]:
    """The shared catalogue (every role reads it), searched by generic name, pinyin or code."""
    if not policies.can_use_formulary(actor) and not policies.can_use_prescriptions(actor):
        raise NotAllowed("drugs")
    drugs = Drug.objects.filter(is_active=True)
    if query:
        drugs = drugs.filter(name_search_q(query, extra_fields=("code",)))
    if category:
        drugs = drugs.filter(category=category)
    if chronic is not None:
        drugs = drugs.filter(is_chronic=chronic)
    if essential is not None:
        drugs = drugs.filter(is_essential=essential)
    if stocked_at is not None:
        drugs = drugs.filter(stock__institution_id=stocked_at)
    return drugs.order_by("name", "strength", "id")


def drug_get(actor: Any, public_id: Any) -> Drug:
    """One drug of the catalogue."""
    try:
        return drug_list(actor).get(public_id=public_id)
    except (Drug.DoesNotExist, ValueError, ValidationError) as error:
        raise NotFound("drug") from error


def stock_institutions(actor: Any) -> QuerySet[Institution]:
    """Institutions whose stock list the actor reads: their own, and every member of the office's consortia."""
    if policies.is_platform_admin(actor):
        return Institution.objects.filter(consortium_memberships__is_active=True).distinct()
    # The lead's list is the reference every member compares itself with, so its staff read it too.
    leads = ConsortiumMember.objects.filter(
        consortium__in=formulary_consortia(actor).values("pk"), role=MemberRole.LEAD, is_active=True
    ).values("institution_id")
    return Institution.objects.filter(
        Q(pk__in=leads)
        | Q(pk__in=policies.staff_institutions(actor))
        | Q(
            consortium_memberships__consortium_id__in=policies.overseen_consortia(actor),
            consortium_memberships__is_active=True,
        )
    ).distinct()


def stock_institution_get(actor: Any, public_id: Any) -> Institution:
    """An institution whose stock list the actor reads; NotFound otherwise."""
    try:
        return stock_institutions(actor).get(public_id=public_id)
    except (Institution.DoesNotExist, ValueError, ValidationError) as error:
        raise NotFound("institution") from error


def stock_list(
    institution: Institution, *, query: str = "", category: str = "", chronic: bool | None = None
) -> QuerySet[StockItem]:
    """An institution's stock list with the drugs (caller checked visibility)."""
    rows = StockItem.objects.filter(institution=institution).select_related("drug")
    if query:
        rows = rows.filter(name_search_q(query, prefix="drug__", extra_fields=("code",)))
    if category:
        rows = rows.filter(drug__category=category)
    if chronic is not None:
        rows = rows.filter(drug__is_chronic=chronic)
    return rows.order_by("drug__name", "drug__strength", "id")


def stocked_drug_ids(institution_id: int, drug_ids: list[int]) -> set[int]:
    """Which of the drugs the institution stocks."""
    return set(
        StockItem.objects.filter(institution_id=institution_id, drug_id__in=drug_ids).values_list(
            "drug_id", flat=True
        )
    )


@dataclass
class MemberGap:
    """How far one member's stock list is from the reference list."""

    institution: Institution
    role: str
    stocked: int = 0
    reference: int = 0
    missing: int = 0
    missing_chronic: int = 0
    local_additions: int = 0
    unaligned: int = 0
    missing_by_category: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Share of the reference list the member stocks."""
        return (self.reference - self.missing) / self.reference if self.reference else 0.0

    @property
    def coverage_percent(self) -> str:
        """Coverage as "34.5%"."""
        return f"{self.coverage * 100:.1f}%"

    @property
    def aligned(self) -> bool:
        """Member stock ⊆ reference list, except local additions."""
        return self.unaligned == 0


def gap_report(actor: Any, consortium: Consortium) -> tuple[ConsortiumFormulary | None, list[MemberGap]]:
    """Per member of the consortium (visible to the actor): how many reference drugs it stocks and lacks,
    by category, the chronic-disease drugs lacking, local additions and unaligned rows. Four queries
    whatever the number of members and drugs."""
    formulary = formulary_for(consortium)
    if formulary is None:
        return None, []
    reference_id = formulary.reference_institution_id
    members = list(
        ConsortiumMember.objects.filter(consortium=consortium, is_active=True)
        .filter(dispensing_q("institution__"))
        .exclude(institution_id=reference_id)
        .select_related("institution")
        .order_by("role", "institution__region__code", "institution__name")
    )
    if not (policies.is_platform_admin(actor) or consortium.pk in policies.overseen_consortia(actor)):
        own = policies.staff_institutions(actor)
        members = [m for m in members if m.institution_id in own]
    reference = {
        drug_id: (category, chronic)
        for drug_id, category, chronic in StockItem.objects.filter(institution_id=reference_id).values_list(
            "drug_id", "drug__category", "drug__is_chronic"
        )
    }
    stock: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for institution_id, drug_id, local in StockItem.objects.filter(
        institution_id__in=[m.institution_id for m in members]
    ).values_list("institution_id", "drug_id", "is_local_addition"):
        stock[institution_id].append((drug_id, local))
    report = []
    for member in members:
        held = {drug_id for drug_id, _local in stock[member.institution_id]}
        gap = MemberGap(institution=member.institution, role=member.role)
        gap.stocked = len(held)
        gap.reference = len(reference)
        by_category: dict[str, int] = defaultdict(int)
        for drug_id, (category, chronic) in reference.items():
            if drug_id not in held:
                gap.missing += 1
                by_category[category] += 1
                if chronic:
                    gap.missing_chronic += 1
        for drug_id, local in stock[member.institution_id]:
            if drug_id not in reference:
                if local:
                    gap.local_additions += 1
                else:
                    gap.unaligned += 1
        gap.missing_by_category = dict(sorted(by_category.items(), key=lambda kv: -kv[1]))
        report.append(gap)
    return formulary, report


def missing_drugs(
    formulary: ConsortiumFormulary,
    institution: Institution,
    *,
    chronic_only: bool = False,
    category: str = "",
) -> QuerySet[Drug]:
    """Reference-list drugs the institution does not stock (chronic-disease drugs first)."""
    drugs = Drug.objects.filter(stock__institution_id=formulary.reference_institution_id).exclude(
        stock__institution=institution
    )
    if chronic_only:
        drugs = drugs.filter(is_chronic=True)
    if category:
        drugs = drugs.filter(category=category)
    return drugs.order_by("-is_chronic", "category", "name", "strength", "id")


def missing_by_member(
    formulary: ConsortiumFormulary, institution_ids: list[int]
) -> tuple[list[Drug], dict[int, set[int]]]:
    """The reference-list drugs at least one of the institutions lacks (chronic-disease drugs first, as in
    ``missing_drugs``) and, per institution, the ids of those it lacks. Two queries whatever the number of
    members — the gap export of a county community has hundreds of village clinics."""
    reference = list(
        Drug.objects.filter(stock__institution_id=formulary.reference_institution_id).order_by(
            "-is_chronic", "category", "name", "strength", "id"
        )
    )
    held: dict[int, set[int]] = defaultdict(set)
    for institution_id, drug_id in StockItem.objects.filter(institution_id__in=institution_ids).values_list(
        "institution_id", "drug_id"
    ):
        held[institution_id].add(drug_id)
    missing = {
        institution_id: {drug.pk for drug in reference if drug.pk not in held[institution_id]}
        for institution_id in institution_ids
    }
    lacked = set().union(*missing.values()) if missing else set()
    return [drug for drug in reference if drug.pk in lacked], missing


def unaligned_stock(formulary: ConsortiumFormulary, institution: Institution) -> QuerySet[StockItem]:
    """Stock rows of the institution outside the reference list and not marked as local additions."""
    return (
        StockItem.objects.filter(institution=institution, is_local_addition=False)
        .exclude(drug__stock__institution_id=formulary.reference_institution_id)
        .select_related("drug")
        .order_by("drug__name")
    )


def category_label(value: str) -> str:
    """The label of a drug category value."""
    try:
        return str(DrugCategory(value).label)
    except ValueError:
        return value


# --- prescriptions ------------------------------------------------------------------------------


def prescription_visible_to(actor: Any) -> QuerySet[Prescription]:
    """Prescriptions of institutions where the actor sees patients, extended ones the actor's pharmacy
    delivers, and (masked, read-only) those of the office's consortia; all for platform admins."""
    rows = Prescription.objects.select_related(
        "institution", "prescriber", "person", "consortium", "department"
    ).annotate(delivery_from_id=F("delivery__from_institution_id"))
    if policies.is_platform_admin(actor):
        return rows
    condition = Q(institution_id__in=policies.reading_institutions(actor))
    pharmacy = policies.pharmacy_institutions(actor)
    if pharmacy:
        condition |= Q(delivery__from_institution_id__in=pharmacy)
    overseen = policies.overseen_consortia(actor)
    if overseen:
        condition |= Q(consortium_id__in=overseen)
    return rows.filter(condition)


@dataclass
class PrescriptionFilters:
    """Filters of the prescription list."""

    kind: str = ""
    status: str = ""
    current_only: bool = False
    prescriber_id: int | None = None
    institution_id: int | None = None
    person_id: int | None = None
    first: datetime.date | None = None
    last: datetime.date | None = None
    query: str = ""


def prescription_list(actor: Any, filters: PrescriptionFilters | None = None) -> QuerySet[Prescription]:
    """Visible prescriptions, newest first, filtered."""
    if not policies.can_use_prescriptions(actor):
        raise NotAllowed("prescriptions")
    filters = filters or PrescriptionFilters()
    rows = prescription_visible_to(actor)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.current_only:
        rows = rows.filter(status=PrescriptionStatus.ACTIVE, valid_until__gte=datetime.date.today())
    if filters.prescriber_id:
        rows = rows.filter(prescriber_id=filters.prescriber_id)
    if filters.institution_id:
        rows = rows.filter(institution_id=filters.institution_id)
    if filters.person_id:
        rows = rows.filter(person_id=filters.person_id)
    if filters.first:
        rows = rows.filter(prescribed_on__gte=filters.first)
    if filters.last:
        rows = rows.filter(prescribed_on__lte=filters.last)
    if filters.query:
        rows = rows.filter(
            Q(number__icontains=filters.query)
            | Q(diagnosis_name__icontains=filters.query)
            | Q(diagnosis_code__istartswith=filters.query)
        )
    return rows.order_by("-prescribed_on", "-id")


def prescription_get_for(actor: Any, public_id: Any) -> Prescription:
    """One visible prescription; NotFound otherwise."""
    if not policies.can_use_prescriptions(actor):
        raise NotFound("prescription")
    try:
        return prescription_visible_to(actor).get(public_id=public_id)
    except (Prescription.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("prescription") from error


def prescription_items(prescription: Prescription) -> list[PrescriptionItem]:
    """The items with their drugs."""
    return list(prescription.items.select_related("drug").order_by("id"))


def items_by_prescription(prescriptions: list[Prescription]) -> dict[int, list[PrescriptionItem]]:
    """Items of many prescriptions in one query (list pages show the drugs)."""
    grouped: dict[int, list[PrescriptionItem]] = defaultdict(list)
    for item in PrescriptionItem.objects.filter(
        prescription__in=[p.pk for p in prescriptions]
    ).select_related("drug"):
        grouped[item.prescription_id].append(item)
    return grouped


def source_candidates(person: Any, lead_id: int, *, on: datetime.date, months: int) -> QuerySet[Prescription]:
    """Active prescriptions of the lead hospital for the person, written within ``months`` before ``on``
    (the prescriptions an extended prescription may continue)."""
    since = on - datetime.timedelta(days=months * 31)
    return (
        Prescription.objects.filter(
            person=person,
            institution_id=lead_id,
            status=PrescriptionStatus.ACTIVE,
            prescribed_on__gte=since,
        )
        .exclude(kind=PrescriptionKind.EXTENDED)
        .select_related("institution", "prescriber")
        .order_by("-prescribed_on", "-id")
    )


def source_get_for(actor: Any, public_id: Any) -> Prescription:
    """A prescription a doctor may continue as an extended one: any prescription of a person the actor
    sees (the service then checks it is the lead hospital's, recent and active). NotFound otherwise."""
    from yilian.people.selectors import person_visible_to

    if not policies.can_prescribe(actor):
        raise NotAllowed("prescriptions")
    try:
        return (
            Prescription.objects.select_related("institution", "prescriber")
            .filter(person__in=person_visible_to(actor).values("pk"))
            .get(public_id=public_id)
        )
    except (Prescription.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("prescription") from error


def person_current_prescriptions(actor: Any, person: Any, *, today: datetime.date) -> list[Prescription]:
    """The person's prescriptions the actor sees that are active and not yet past their validity."""
    rows = list(
        prescription_visible_to(actor)
        .filter(person=person, status=PrescriptionStatus.ACTIVE, valid_until__gte=today)
        .order_by("-prescribed_on", "-id")[:20]
    )
    grouped = items_by_prescription(rows)
    for row in rows:
        row.item_list = grouped.get(row.pk, [])
    return rows


# --- deliveries ---------------------------------------------------------------------------------


def delivery_visible_to(actor: Any) -> QuerySet[Delivery]:
    """Deliveries the actor's institution sends or receives, and those of the office's consortia."""
    rows = Delivery.objects.select_related(
        "prescription",
        "prescription__person",
        "prescription__prescriber",
        "from_institution",
        "to_institution",
    )
    if policies.is_platform_admin(actor):
        return rows
    condition = Q(from_institution_id__in=policies.pharmacy_institutions(actor)) | Q(
        to_institution_id__in=policies.receiving_institutions(actor)
    )
    overseen = policies.overseen_consortia(actor)
    if overseen:
        condition |= Q(prescription__consortium_id__in=overseen)
    return rows.filter(condition)


def delivery_list(
    actor: Any, *, box: str = "", status: str = "", open_only: bool = False
) -> QuerySet[Delivery]:
    """Deliveries: ``out`` (the pharmacy's worklist, oldest request first), ``in`` (received by the
    actor's institution), or all visible ones."""
    if not policies.can_use_prescriptions(actor):
        raise NotAllowed("deliveries")
    rows = delivery_visible_to(actor)
    if box == "out":
        rows = rows.filter(from_institution_id__in=policies.pharmacy_institutions(actor))
    elif box == "in":
        rows = rows.filter(to_institution_id__in=policies.receiving_institutions(actor))
    if status:
        rows = rows.filter(status=status)
    if open_only:
        rows = rows.filter(
            status__in=[DeliveryStatus.REQUESTED, DeliveryStatus.DISPATCHED, DeliveryStatus.RECEIVED]
        )
    if box == "out":
        return rows.order_by("requested_at", "id")
    return rows.order_by("-requested_at", "-id")


def delivery_get_for(actor: Any, public_id: Any) -> Delivery:
    """One visible delivery; NotFound otherwise."""
    if not policies.can_use_prescriptions(actor):
        raise NotFound("delivery")
    try:
        return delivery_visible_to(actor).get(public_id=public_id)
    except (Delivery.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("delivery") from error


def delivery_timeline(delivery: Delivery) -> QuerySet[DeliveryEvent]:
    """The delivery's steps, oldest first."""
    return delivery.events.order_by("occurred_at", "id")


def delivery_actions(actor: Any, delivery: Delivery) -> list[str]:
    """Actions the actor may take on the delivery now."""
    from yilian.prescriptions.choices import DELIVERY_STEPS

    return [
        action
        for action, (start, _end) in DELIVERY_STEPS.items()
        if delivery.status == start and policies.can_step_delivery(actor, delivery, action)
    ]


# --- statistics ---------------------------------------------------------------------------------


def statistics_consortia(actor: Any) -> QuerySet[Consortium]:
    """Consortia whose statistics the actor reads."""
    if not policies.can_view_statistics(actor):
        raise NotAllowed("statistics")
    if policies.is_platform_admin(actor):
        return Consortium.objects.all().order_by("name")
    condition = Q(pk__in=policies.overseen_consortia(actor))
    for prefix in policies.regulated_prefixes(actor):
        condition |= Q(region__code__startswith=prefix)
    return Consortium.objects.filter(condition).order_by("name")


@dataclass
class MemberMonth:
    """Long and extended prescriptions of one member in one month."""

    institution_name: str
    month: datetime.date
    long: int = 0
    extended: int = 0


@dataclass
class DeliveryFigures:
    """Deliveries of one receiving member: counts by state and the mean turnaround (hours)."""

    institution_name: str
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    mean_hours_to_hand: float | None = None


def statistics(
    consortium: Consortium, first: datetime.date, last: datetime.date
) -> tuple[list[MemberMonth], list[DeliveryFigures]]:
    """Long and extended prescriptions per member per month, and deliveries with their mean turnaround
    (request → handed to the patient) per receiving member, between ``first`` and ``last``. Three queries."""
    rows = (
        Prescription.objects.filter(
            consortium=consortium,
            kind__in=[PrescriptionKind.LONG, PrescriptionKind.EXTENDED],
            prescribed_on__gte=first,
            prescribed_on__lte=last,
        )
        .exclude(status=PrescriptionStatus.VOIDED)
        .annotate(month=TruncMonth("prescribed_on"))
        .values("institution__name", "month", "kind")
        .annotate(n=Count("id"))
        .order_by("institution__name", "month")
    )
    months: dict[tuple[str, datetime.date], MemberMonth] = {}
    for row in rows:
        month = row["month"]
        if isinstance(month, datetime.datetime):
            month = month.date()
        key = (row["institution__name"], month)
        entry = months.setdefault(key, MemberMonth(institution_name=key[0], month=month))
        setattr(entry, "long" if row["kind"] == PrescriptionKind.LONG else "extended", row["n"])
    deliveries = Delivery.objects.filter(
        prescription__consortium=consortium,
        requested_at__date__gte=first,
        requested_at__date__lte=last,
    )
    figures: dict[str, DeliveryFigures] = {}
    for row in deliveries.values("to_institution__name", "status").annotate(n=Count("id")):
        entry = figures.setdefault(
            row["to_institution__name"], DeliveryFigures(institution_name=row["to_institution__name"])
        )
        entry.by_status[row["status"]] = row["n"]
        entry.total += row["n"]
    turnaround = (
        deliveries.filter(status=DeliveryStatus.HANDED, handed_at__isnull=False)
        .values("to_institution__name")
        .annotate(
            mean=Avg(ExpressionWrapper(F("handed_at") - F("requested_at"), output_field=DurationField()))
        )
    )
    for row in turnaround:
        entry = figures.get(row["to_institution__name"])
        if entry is not None and row["mean"] is not None:
            mean = row["mean"]
            seconds = mean.total_seconds() if isinstance(mean, datetime.timedelta) else float(mean) / 1e6
            entry.mean_hours_to_hand = round(seconds / 3600, 1)
    return sorted(months.values(), key=lambda m: (m.institution_name, m.month)), sorted(
        figures.values(), key=lambda f: f.institution_name
    )
