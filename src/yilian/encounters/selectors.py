"""Reads of encounters for other apps: current inpatients, monthly volumes, inpatient stays and their costs."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Substr, TruncDate, TruncMonth, Upper

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotFound
from yilian.encounters.choices import EncounterKind
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.people.policies import institutions_seeing_patients


def encounters_visible_to(actor: Any) -> QuerySet[Encounter]:
    """Encounters at institutions where the actor sees patients (all for platform admins)."""
    scope = scope_for(actor)
    encounters = Encounter.objects.select_related("person", "institution", "department")
    if scope.is_platform_admin:
        return encounters
    return encounters.filter(institution_id__in=institutions_seeing_patients(actor))


def service_volumes_visible_to(actor: Any) -> QuerySet[ServiceVolume]:
    """Monthly volumes of the institutions in the actor's scope (all for platform admins).

    The scope: institutions where the actor holds a role, the active members
    of the consortia they serve, the institutions under their regions.
    Volumes are counts, not patient data, so anyone who sees an institution's
    statistics sees its volumes.
    """
    scope = scope_for(actor)
    volumes = ServiceVolume.objects.select_related("institution", "department")
    if scope.is_platform_admin:
        return volumes
    condition = Q(institution_id__in=list(scope.institution_roles))
    if scope.consortium_roles:
        condition |= Q(
            institution__consortium_memberships__consortium_id__in=list(scope.consortium_roles),
            institution__consortium_memberships__is_active=True,
        )
    for prefix in scope.region_roles:
        condition |= Q(institution__region__code__startswith=prefix)
    return volumes.filter(pk__in=ServiceVolume.objects.filter(condition).values("pk"))


def encounter_list(
    actor: Any, *, institution: Any = None, kind: str = "", current: bool = False
) -> QuerySet[Encounter]:
    """Visible encounters, newest first: of one institution, of one kind, or only inpatients still in hospital."""
    encounters = encounters_visible_to(actor)
    if institution is not None:
        encounters = encounters.filter(institution=institution)
    if kind:
        encounters = encounters.filter(kind=kind)
    if current:
        encounters = encounters.filter(kind=EncounterKind.INPATIENT, ended_at__isnull=True)
    return encounters.order_by("-started_at", "-id")


def encounter_get_for(actor: Any, public_id: Any) -> Encounter:
    """An encounter the actor may see, by public id; NotFound otherwise."""
    try:
        return encounters_visible_to(actor).get(public_id=public_id)
    except (Encounter.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("encounter") from error


def current_inpatients(
    institution_ids: Iterable[int], department_id: int | None = None
) -> QuerySet[Encounter]:
    """Inpatient stays not yet ended at the institutions (one department when given), with patient and department."""
    stays = Encounter.objects.filter(
        institution_id__in=list(institution_ids), kind=EncounterKind.INPATIENT, ended_at__isnull=True
    ).select_related("person", "department", "institution", "person__home_grid", "person__address_region")
    if department_id is not None:
        stays = stays.filter(department_id=department_id)
    return stays.order_by("started_at", "id")


def monthly_volumes(
    institution_ids: Iterable[int],
    first_month: datetime.date,
    last_month: datetime.date,
    *,
    by_department: bool,
) -> dict[tuple[int, int | None, datetime.date], dict[str, int]]:
    """{(institution id, department id or None, month): counts} for the months in range. One query."""
    rows = ServiceVolume.objects.filter(
        institution_id__in=list(institution_ids), month__gte=first_month, month__lte=last_month
    )
    rows = rows.filter(department__isnull=not by_department)
    totals = rows.values("institution_id", "department_id", "month").annotate(
        visits=Sum("outpatient_visits"), admitted=Sum("admissions"), discharged=Sum("discharges")
    )
    return {
        (row["institution_id"], row["department_id"], row["month"]): {
            "outpatient_visits": row["visits"] or 0,
            "admissions": row["admitted"] or 0,
            "discharges": row["discharged"] or 0,
        }
        for row in totals
    }


def first_inpatient_stay_id(
    *, person_id: Any, institution_id: Any, admitted_from: Any, admitted_to: Any
) -> QuerySet[Any]:
    """The id of the person's first inpatient stay at the institution admitted from ``admitted_from``
    to ``admitted_to`` (both included), as a one-row ``values("pk")`` queryset to wrap in ``Subquery``.

    The arguments may be expressions (``OuterRef``, ``OuterRef(...) + timedelta``) so the caller
    correlates it with its own rows; ties on the admission moment go to the lower id. Unscoped: the
    caller's policy decides who sees what. No query by itself.
    """
    return (
        Encounter.objects.filter(
            person_id=person_id,
            institution_id=institution_id,
            kind=EncounterKind.INPATIENT,
            started_at__gte=admitted_from,
            started_at__lte=admitted_to,
        )
        .order_by("started_at", "pk")
        .values("pk")[:1]
    )


def inpatient_costs_by_month_and_category(
    institution_ids: Collection[int], discharged_from: datetime.datetime, discharged_before: datetime.datetime
) -> QuerySet[Any]:
    """Inpatient stays of the institutions discharged from ``discharged_from`` to before
    ``discharged_before``, summed per discharge month and ICD-10 category of the main diagnosis.

    One row (a dict) per (month, category): ``month`` (the discharge month: a date, or a datetime
    on backends that truncate to one), ``category`` (the diagnosis code's first three characters,
    upper case), ``stays``, ``span_sum`` (Σ discharge date − admission date, a timedelta or None),
    ``same_day`` (stays discharged the day they began, which count as one inpatient day:
    Σ max(d, 1) = Σ d + same_day), ``cost`` (Σ total cost) and ``fund`` (Σ fund paid), both None
    without costs. Unscoped aggregates for the caller's own policy; one grouped query when
    evaluated.
    """
    return (
        Encounter.objects.filter(
            institution_id__in=institution_ids,
            kind=EncounterKind.INPATIENT,
            ended_at__gte=discharged_from,
            ended_at__lt=discharged_before,
        )
        .annotate(
            category=Upper(Substr("diagnosis_code", 1, 3)),
            month=TruncMonth("ended_at"),
            start_day=TruncDate("started_at"),
            end_day=TruncDate("ended_at"),
        )
        .annotate(span=ExpressionWrapper(F("end_day") - F("start_day"), output_field=DurationField()))
        .values("month", "category")
        .annotate(
            stays=Count("pk"),
            span_sum=Sum("span"),
            same_day=Count("pk", filter=Q(end_day=F("start_day"))),
            cost=Sum("total_cost"),
            fund=Sum("fund_paid"),
        )
        .order_by()
    )


ENCOUNTER_COST_FIELDS = ("pk", "started_at", "ended_at", "total_cost", "fund_paid", "self_paid")
"""The keys of the rows ``encounter_costs`` returns."""


def encounter_costs(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Admission and discharge moments and costs of the encounters ``ids``, by id.

    Each row is a fresh dict with the keys of ``ENCOUNTER_COST_FIELDS`` (``ended_at`` is None while
    the stay goes on). Unscoped: the caller's policy decides who sees what. One query; none when
    ``ids`` is empty.
    """
    ids = list(ids)
    if not ids:
        return {}
    return {row["pk"]: row for row in Encounter.objects.filter(pk__in=ids).values(*ENCOUNTER_COST_FIELDS)}
