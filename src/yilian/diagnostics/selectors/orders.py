"""Reads of the shared diagnostic centres, scoped by policy: centres, orders, the reading list,
reports, patient results, critical alerts and the recognition lookup."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotAllowed, NotFound
from yilian.diagnostics import policies, workflow
from yilian.diagnostics.choices import (
    PATIENT_KINDS,
    PENDING_STATUSES,
    OrderStatus,
    RecognitionScope,
    ReportStatus,
)
from yilian.diagnostics.models import (
    CriticalValueAlert,
    DiagnosticItem,
    DiagnosticOrder,
    DiagnosticReport,
    OrderEvent,
    RecognitionRule,
    SharedCentre,
    StudyFile,
)
from yilian.institutions.models import Consortium, ConsortiumMember, Department, Institution
from yilian.people.identifiers import mask_name

LIST_RELATED = (
    "person",
    "ordering_institution",
    "ordering_department",
    "ordering_doctor",
    "centre__hub_institution",
    "item",
    "claimed_by",
)

RECOGNITION_CANDIDATES = 20
"""Most recent final results of the item examined by the recognition lookup."""


# --- centres and catalogue ----------------------------------------------------------------------


def centre_visible_to(actor: Any) -> QuerySet[SharedCentre]:
    """Centres the actor may see: those run by or serving their institutions, those of consortia they run the
    office of, those in regions they regulate; all for platform admins."""
    scope = scope_for(actor)
    centres = SharedCentre.objects.select_related("consortium", "hub_institution", "department")
    if scope.is_platform_admin:
        return centres
    condition = Q(pk__in=[])
    institutions = scope.institutions_with()
    if institutions:
        condition |= Q(hub_institution_id__in=institutions) | Q(
            Exists(
                SharedCentre.served_institutions.through.objects.filter(
                    sharedcentre_id=OuterRef("pk"), institution_id__in=institutions
                )
            )
        )
    consortia = policies.overseen_consortia(actor)
    if consortia:
        condition |= Q(consortium_id__in=consortia)
    for prefix in policies.regulated_prefixes(actor):
        condition |= Q(hub_institution__region__code__startswith=prefix)
    if condition == Q(pk__in=[]):
        return centres.none()
    return centres.filter(condition)


def centre_list(actor: Any, *, kind: str = "", active_only: bool = False) -> QuerySet[SharedCentre]:
    """Visible centres, with their served institutions prefetched (constant query count)."""
    centres = centre_visible_to(actor).prefetch_related(
        Prefetch("served_institutions", queryset=Institution.objects.order_by("name"))
    )
    if kind:
        centres = centres.filter(kind=kind)
    if active_only:
        centres = centres.filter(is_active=True)
    return centres.order_by("consortium_id", "kind", "name")


def centre_get_for(actor: Any, public_id: Any) -> SharedCentre:
    """One visible centre; NotFound otherwise."""
    try:
        return centre_visible_to(actor).get(public_id=public_id)
    except (SharedCentre.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("centre") from error


def item_list(
    actor: Any,
    *,
    centre: SharedCentre | None = None,
    active_only: bool = False,
    orderable_only: bool = False,
) -> QuerySet[DiagnosticItem]:
    """Catalogue items of visible centres; ``orderable_only`` keeps what may be ordered for a patient
    (active items of active centres that serve patients)."""
    items = DiagnosticItem.objects.select_related("centre").filter(
        centre__in=centre_visible_to(actor).values("pk")
    )
    if centre is not None:
        items = items.filter(centre=centre)
    if active_only or orderable_only:
        items = items.filter(is_active=True, centre__is_active=True)
    if orderable_only:
        items = items.filter(centre__kind__in=PATIENT_KINDS)
    return items.order_by("centre_id", "code")


def item_get_for(actor: Any, public_id: Any) -> DiagnosticItem:
    """One catalogue item of a visible centre; NotFound otherwise."""
    try:
        return item_list(actor).get(public_id=public_id)
    except (DiagnosticItem.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("item") from error


def orderable_items(actor: Any, institution_id: int) -> QuerySet[DiagnosticItem]:
    """Active items of active centres that serve (or are run by) ``institution_id`` and serve patients
    (not the sterilisation supply centre's packages)."""
    served = SharedCentre.served_institutions.through.objects.filter(
        sharedcentre_id=OuterRef("centre_id"), institution_id=institution_id
    )
    return (
        DiagnosticItem.objects.select_related("centre")
        .filter(is_active=True, centre__is_active=True, centre__kind__in=PATIENT_KINDS)
        .filter(Q(centre__hub_institution_id=institution_id) | Q(Exists(served)))
        .order_by("centre__kind", "code")
    )


def rule_visible_to(actor: Any) -> QuerySet[RecognitionRule]:
    """Recognition rules of consortia the actor belongs to, runs or regulates; all for platform admins."""
    scope = scope_for(actor)
    rules = RecognitionRule.objects.select_related("consortium")
    if scope.is_platform_admin:
        return rules
    condition = Q(pk__in=[])
    institutions = scope.institutions_with()
    if institutions:
        members = ConsortiumMember.objects.filter(
            consortium_id=OuterRef("consortium_id"), institution_id__in=institutions, is_active=True
        )
        condition |= Q(Exists(members))
    consortia = policies.overseen_consortia(actor)
    if consortia:
        condition |= Q(consortium_id__in=consortia)
    for prefix in policies.regulated_prefixes(actor):
        condition |= Q(consortium__region__code__startswith=prefix)
    if condition == Q(pk__in=[]):
        return rules.none()
    return rules.filter(condition)


def rule_list(actor: Any) -> QuerySet[RecognitionRule]:
    """Visible recognition rules, by consortium and item code."""
    return rule_visible_to(actor).order_by("consortium_id", "item_code")


def rule_get_for(actor: Any, public_id: Any) -> RecognitionRule:
    """One visible recognition rule; NotFound otherwise."""
    try:
        return rule_visible_to(actor).get(public_id=public_id)
    except (RecognitionRule.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("recognition rule") from error


# --- orders ----------------------------------------------------------------------------------------


def order_visible_to(actor: Any) -> QuerySet[DiagnosticOrder]:
    """Orders the actor may read: ordered at their institutions, or sent to centres whose department they
    work in (patient-seeing roles: the hub's other departments do not read the centre's orders) or whose
    hub they administer, of consortia they run the office of, touching regions they regulate; all for platform admins."""
    scope = scope_for(actor)
    orders = DiagnosticOrder.objects.select_related(*LIST_RELATED)
    if scope.is_platform_admin:
        return orders
    condition = Q(pk__in=[])
    ends = policies.patient_institutions(actor)
    if ends:
        condition |= Q(ordering_institution_id__in=ends) | _at_centres_of(actor)
    consortia = policies.overseen_consortia(actor)
    if consortia:
        condition |= Q(consortium_id__in=consortia)
    for prefix in policies.regulated_prefixes(actor):
        condition |= Q(ordering_institution__region__code__startswith=prefix) | Q(
            region_code__startswith=prefix
        )
    if condition == Q(pk__in=[]):
        return orders.none()
    return orders.filter(condition)


def _at_centres_of(actor: Any) -> Q:
    """Orders sent to the centres the actor staffs (run by their department at its hub institution) or
    hosted by an institution they administer (read-only)."""
    condition = Q(pk__in=[])
    departments = policies.centre_departments(actor)
    if departments:
        condition |= Q(
            centre__department_id__in=departments,
            centre__hub_institution_id__in=policies.patient_institutions(actor),
        )
    administered = policies.supervised_institutions(actor)
    if administered:
        condition |= Q(centre__hub_institution_id__in=administered)
    return condition


def order_get_for(actor: Any, public_id: Any) -> DiagnosticOrder:
    """One visible order by public id; NotFound otherwise."""
    try:
        return order_visible_to(actor).get(public_id=public_id)
    except (DiagnosticOrder.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("order") from error


@dataclass(frozen=True)
class OrderFilters:
    """Filters of the order list: ``box`` "ordering" (sent from the actor's institutions), "centre" or "all"."""

    box: str = "all"
    status: str = ""
    centre_id: int | None = None
    person_id: int | None = None
    query: str = ""


def order_list(actor: Any, filters: OrderFilters | None = None) -> QuerySet[DiagnosticOrder]:
    """Visible orders filtered, newest first. Constant query count whatever the size."""
    filters = filters or OrderFilters()
    orders = order_visible_to(actor)
    ends = policies.patient_institutions(actor)
    if filters.box == "ordering":
        orders = orders.filter(ordering_institution_id__in=ends)
    elif filters.box == "centre":
        orders = orders.filter(_at_centres_of(actor))
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.centre_id:
        orders = orders.filter(centre_id=filters.centre_id)
    if filters.person_id:
        orders = orders.filter(person_id=filters.person_id)
    if filters.query:
        term = filters.query.strip()
        orders = orders.filter(
            Q(number__icontains=term)
            | Q(barcode=term)
            | Q(item_name__icontains=term)
            | Q(person__name__icontains=term)
        )
    return orders.order_by("-ordered_at", "-id")


def reading_list(actor: Any, centre: SharedCentre, *, status: str = "") -> QuerySet[DiagnosticOrder]:
    """A centre's pending studies (received, being read, preliminary, awaiting a second reader), most
    urgent first then oldest first. Uses the partial index on (centre, priority_rank, ordered_at);
    one query per page whatever the centre's size. Raises NotAllowed for anyone but the centre's staff."""
    if not policies.works_at_centre(actor, centre):
        raise NotAllowed("reading list")
    statuses = [status] if status in PENDING_STATUSES else list(PENDING_STATUSES)
    return (
        DiagnosticOrder.objects.select_related(*LIST_RELATED)
        .filter(centre=centre, status__in=statuses)
        .order_by("priority_rank", "ordered_at", "id")
    )


def find_by_barcode(centre: SharedCentre, barcode: str) -> DiagnosticOrder | None:
    """The order of ``centre`` carrying ``barcode``, or None."""
    return DiagnosticOrder.objects.filter(centre=centre, barcode=barcode.strip()).first()


def available_actions(actor: Any, order: DiagnosticOrder) -> list[str]:
    """The workflow actions the actor may take on the order now."""
    return workflow.available_actions(
        order.status,
        order.centre.kind,
        policies.sides_of(actor, order),
        is_holder=order.claimed_by_id in (None, getattr(actor, "pk", None)),
        is_author=_signed_first(order) == getattr(actor, "pk", None),
    )


def _signed_first(order: DiagnosticOrder) -> int | None:
    if order.status != OrderStatus.AWAITING_SECOND:
        return None
    report = current_report(order)
    return report.author_id if report else None


def patient_label(actor: Any, order: DiagnosticOrder) -> str:
    """The patient's name, masked for readers who do not see patients (the office, regulators, the hub's
    administrators: ``policies.sees_patient``)."""
    name = order.person.name
    return name if policies.sees_patient(actor, order) else mask_name(name)


def order_timeline(order: DiagnosticOrder) -> QuerySet[OrderEvent]:
    """Every step of the order, oldest first."""
    return order.events.select_related("actor").order_by("occurred_at", "id")


def order_files(order: DiagnosticOrder) -> QuerySet[StudyFile]:
    """The study's files, oldest first."""
    return order.files.order_by("created_at", "id")


def file_get_for(actor: Any, public_id: Any) -> StudyFile:
    """A study file of an order whose patient the actor sees; NotFound otherwise."""
    try:
        study_file = StudyFile.objects.select_related("order").get(public_id=public_id)
    except (StudyFile.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("file") from error
    order = order_get_for(actor, study_file.order.public_id)
    if not policies.sees_patient(actor, order):
        raise NotFound("file")
    return study_file


def order_reports(order: DiagnosticOrder) -> QuerySet[DiagnosticReport]:
    """Every report version of the order, newest first (superseded ones included)."""
    return order.reports.select_related("author", "second_reader").order_by("-version")


def current_report(order: DiagnosticOrder) -> DiagnosticReport | None:
    """The newest report version (a draft, awaiting a second reader, or final), or None."""
    return order_reports(order).first()


def published_report(order: DiagnosticOrder) -> DiagnosticReport | None:
    """The report the ordering doctor and the patient read: the current final version, or None."""
    return order_reports(order).filter(status=ReportStatus.FINAL).first()


def patient_results(actor: Any, person: Any) -> QuerySet[DiagnosticOrder]:
    """A patient's orders whose patient the actor sees, for the patient record (final ones first, newest
    first): the record names the patient, so orders the actor reads masked (a hub administrator's view of
    the centre's orders from elsewhere) are left out."""
    return (
        order_visible_to(actor)
        .filter(person=person)
        .filter(_patient_seen(actor))
        .order_by("-final_at", "-ordered_at", "-id")
    )


def _patient_seen(actor: Any) -> Q:
    """``policies.sees_patient`` as a condition: ordered at an institution where the actor sees patients,
    or sent to a centre whose department they hold a clinical role in."""
    ends = policies.patient_institutions(actor)
    if not ends:
        return Q(pk__in=[])
    condition = Q(ordering_institution_id__in=ends)
    departments = policies.centre_departments(actor)
    if departments:
        condition |= Q(centre__department_id__in=departments, centre__hub_institution_id__in=ends)
    return condition


# --- recognition -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recognition:
    """A valid recognised prior result: the order, the rule that makes it count, and until when."""

    order: DiagnosticOrder
    rule_id: int
    valid_until: datetime.datetime


def recognised_result_for(
    person: Any, item_code: str, institution: Institution, *, now: datetime.datetime | None = None
) -> Recognition | None:
    """The patient's newest final result of ``item_code`` that a recognition rule in force at ``institution``
    accepts, or None. One query.

    A rule applies where ordered at a member of its consortium, or (region
    scope) anywhere in its consortium's region; it accepts results of its
    consortium's centres, or (region scope) of any centre in that region,
    for ``validity_days`` after the final report. Uses the index on
    (person, item_code, final_at).
    """
    now = now or timezone.now()
    member_here = ConsortiumMember.objects.filter(
        consortium_id=OuterRef("consortium_id"), institution_id=institution.pk, is_active=True
    )
    institution_in_region = Institution.objects.filter(
        pk=institution.pk, region__code__startswith=OuterRef("consortium__region__prefix")
    )
    rules = (
        RecognitionRule.objects.filter(item_code=item_code, is_active=True)
        .filter(
            Q(Exists(member_here)) | (Q(scope=RecognitionScope.REGION) & Q(Exists(institution_in_region)))
        )
        .annotate(prior_region=ExpressionWrapper(OuterRef("region_code"), output_field=CharField()))
        .filter(
            Q(scope=RecognitionScope.CONSORTIUM, consortium_id=OuterRef("consortium_id"))
            | Q(scope=RecognitionScope.REGION, prior_region__startswith=F("consortium__region__prefix"))
        )
        .order_by("-validity_days", "pk")
    )
    candidates = (
        DiagnosticOrder.objects.filter(
            person=person, item_code=item_code, status=OrderStatus.FINAL, final_at__isnull=False
        )
        .annotate(
            validity_days=Subquery(rules.values("validity_days")[:1]),
            rule_pk=Subquery(rules.values("pk")[:1]),
        )
        .filter(validity_days__isnull=False)
        .select_related("centre", "ordering_institution", "item")
        .order_by("-final_at", "-id")[:RECOGNITION_CANDIDATES]
    )
    for order in candidates:
        valid_until = order.final_at + datetime.timedelta(days=order.validity_days)
        if valid_until >= now:
            return Recognition(order=order, rule_id=order.rule_pk, valid_until=valid_until)
    return None


# --- critical values -------------------------------------------------------------------------------


def critical_alert_list(actor: Any, *, open_only: bool = False) -> QuerySet[CriticalValueAlert]:
    """Critical-value alerts of visible orders, unacknowledged first then newest first."""
    alerts = CriticalValueAlert.objects.select_related(
        "order__person",
        "order__ordering_institution",
        "order__centre__hub_institution",
        "recipient",
        "acknowledged_by",
        "raised_by",
    ).filter(order__in=order_visible_to(actor).values("pk"))
    if open_only:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    return alerts.order_by(F("acknowledged_at").asc(nulls_first=True), "-raised_at", "-id")


def critical_alert_get_for(actor: Any, public_id: Any) -> CriticalValueAlert:
    """One alert of a visible order; NotFound otherwise."""
    try:
        return critical_alert_list(actor).get(public_id=public_id)
    except (CriticalValueAlert.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("alert") from error


# --- configuration pages ---------------------------------------------------------------------------


def configurable_consortia(actor: Any) -> QuerySet[Consortium]:
    """Consortia whose centres and recognition catalogue the actor maintains (the office; all for platform admins)."""
    consortia = Consortium.objects.order_by("name")
    if scope_for(actor).is_platform_admin:
        return consortia
    return consortia.filter(pk__in=policies.overseen_consortia(actor))


def member_institutions(consortium_ids: Any) -> QuerySet[Institution]:
    """Active member institutions of the given consortia, by name."""
    members = ConsortiumMember.objects.filter(consortium_id__in=consortium_ids, is_active=True)
    return Institution.objects.filter(pk__in=members.values("institution_id")).order_by("name")


def member_departments(institutions: QuerySet[Institution]) -> QuerySet[Department]:
    """Active departments of the given institutions, by institution then code (a centre's department)."""
    return (
        Department.objects.select_related("institution")
        .filter(institution__in=institutions, is_active=True)
        .order_by("institution__name", "code", "name")
    )


def ordering_institution_choices(actor: Any) -> QuerySet[Institution]:
    """Institutions where the actor may order, by name."""
    return Institution.objects.filter(pk__in=policies.ordering_institutions(actor)).order_by("name")


def working_centres(actor: Any) -> QuerySet[SharedCentre]:
    """Active centres run by a department where the actor sees patients (the reading and receiving desks)."""
    return (
        SharedCentre.objects.select_related("hub_institution", "consortium")
        .filter(
            department_id__in=policies.centre_departments(actor),
            hub_institution_id__in=policies.patient_institutions(actor),
            is_active=True,
        )
        .order_by("kind", "name")
    )
