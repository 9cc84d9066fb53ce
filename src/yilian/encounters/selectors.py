"""Reads of encounters for other apps: current inpatients and monthly volumes."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import QuerySet, Sum

from yilian.encounters.choices import EncounterKind
from yilian.encounters.models import Encounter, ServiceVolume


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
