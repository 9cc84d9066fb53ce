"""Teleconsultation statistics for the dashboards: counts per kind, member and month, and the share of
patients kept local."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from yilian.core.exceptions import NotAllowed
from yilian.telemedicine import policies
from yilian.telemedicine.choices import TeleconsultationKind, TeleconsultationOutcome, TeleconsultationStatus
from yilian.telemedicine.selectors.teleconsultations import teleconsultation_visible_to


@dataclass(frozen=True)
class TeleconsultationSummary:
    """Counts over a period. ``kept_local_share`` is concluded-and-stayed-local ÷ concluded with a
    patient (None when no such teleconsultation was concluded)."""

    total: int
    by_kind: list[dict[str, Any]] = field(default_factory=list)
    by_member: list[dict[str, Any]] = field(default_factory=list)
    by_month: list[dict[str, Any]] = field(default_factory=list)
    concluded_with_patient: int = 0
    stayed_local: int = 0
    kept_local_share: float | None = None


def teleconsultation_summary(
    actor: Any,
    *,
    consortium_id: int | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> TeleconsultationSummary:
    """Statistics of the teleconsultations the actor oversees, created in the period (four queries).

    Raises NotAllowed for readers who are not the office, a regulator or a platform admin.
    """
    if not policies.can_view_statistics(actor):
        raise NotAllowed("teleconsultation statistics")
    rows = teleconsultation_visible_to(actor).select_related(None)
    if consortium_id:
        rows = rows.filter(consortium_id=consortium_id)
    if date_from:
        rows = rows.filter(created_at__date__gte=date_from)
    if date_to:
        rows = rows.filter(created_at__date__lte=date_to)
    labels = dict(TeleconsultationKind.choices)
    by_kind = [
        {"kind": row["kind"], "label": str(labels.get(row["kind"], row["kind"])), "count": row["count"]}
        for row in rows.values("kind").annotate(count=Count("id")).order_by("kind")
    ]
    by_member = [
        {
            "institution_public_id": str(row["inviting_institution__public_id"]),
            "institution_name": row["inviting_institution__name"],
            "count": row["count"],
        }
        for row in rows.values("inviting_institution__public_id", "inviting_institution__name")
        .annotate(count=Count("id"))
        .order_by("-count", "inviting_institution__name")
    ]
    by_month = [
        {"month": row["month"].strftime("%Y-%m") if row["month"] else "", "count": row["count"]}
        for row in rows.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("month")
    ]
    concluded = rows.filter(status=TeleconsultationStatus.CONCLUDED, person__isnull=False).aggregate(
        total=Count("id"),
        local=Count("id", filter=Q(outcome=TeleconsultationOutcome.STAYED_LOCAL)),
    )
    total = sum(row["count"] for row in by_kind)
    share = round(concluded["local"] / concluded["total"], 4) if concluded["total"] else None
    return TeleconsultationSummary(
        total=total,
        by_kind=by_kind,
        by_member=by_member,
        by_month=by_month,
        concluded_with_patient=concluded["total"],
        stayed_local=concluded["local"],
        kept_local_share=share,
    )
