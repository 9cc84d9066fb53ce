"""Reads of encounters for other apps: current inpatients and monthly volumes."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, Sum

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
