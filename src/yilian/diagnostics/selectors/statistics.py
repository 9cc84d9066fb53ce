"""Dashboard figures for the consortium office: volumes, turnaround, rejections, critical values, recognition."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotAllowed
from yilian.diagnostics import policies
from yilian.diagnostics.choices import OrderStatus, RecognitionOutcome, RejectionReason
from yilian.diagnostics.models import CriticalValueAlert, DiagnosticOrder, RecognitionDecision


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(int(-(-fraction * len(ordered) // 1)), 1)
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Dashboard:
    """Figures of one period for the consortia the reader oversees."""

    since: datetime.date | None
    until: datetime.date | None
    per_centre: list[dict[str, Any]] = field(default_factory=list)
    per_member: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    critical: dict[str, Any] = field(default_factory=dict)
    recognition: dict[str, Any] = field(default_factory=dict)


def _hours(delta: datetime.timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def dashboard(
    actor: Any,
    *,
    consortium_id: int | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> Dashboard:
    """Volumes per centre and member, turnaround p50/p90 against target, rejections by reason,
    critical-value acknowledgement times, recognition rate, repeats and money saved.

    Orders count by ``ordered_at`` in [since, until]. Fixed number of
    queries. Raises NotAllowed for readers without oversight.
    """
    if not policies.can_view_statistics(actor):
        raise NotAllowed("statistics")
    scope = scope_for(actor)
    condition = Q()
    if not scope.is_platform_admin:
        condition = Q(pk__in=[])
        consortia = policies.overseen_consortia(actor)
        if consortia:
            condition |= Q(consortium_id__in=consortia)
        for prefix in policies.regulated_prefixes(actor):
            condition |= Q(region_code__startswith=prefix)
    orders = DiagnosticOrder.objects.filter(condition)
    if consortium_id:
        orders = orders.filter(consortium_id=consortium_id)
    if since:
        orders = orders.filter(ordered_at__date__gte=since)
    if until:
        orders = orders.filter(ordered_at__date__lte=until)
    result = Dashboard(since=since, until=until)

    volumes = (
        orders.values("centre_id", "centre__name", "centre__kind")
        .annotate(
            total=Count("id"),
            final=Count("id", filter=Q(status=OrderStatus.FINAL)),
            rejected=Count("id", filter=Q(status=OrderStatus.REJECTED)),
        )
        .order_by("centre__name")
    )
    timings: dict[int, list[tuple[float, float]]] = {}
    for centre_id, started, ordered, finished, target in orders.filter(
        status=OrderStatus.FINAL, final_at__isnull=False
    ).values_list("centre_id", "received_at", "ordered_at", "final_at", "item__turnaround_hours"):
        timings.setdefault(centre_id, []).append((_hours(finished - (started or ordered)), float(target)))
    for row in volumes:
        hours = [spent for spent, _target in timings.get(row["centre_id"], [])]
        on_target = sum(1 for spent, target in timings.get(row["centre_id"], []) if spent <= target)
        result.per_centre.append(
            {
                "centre": row["centre__name"],
                "kind": row["centre__kind"],
                "total": row["total"],
                "final": row["final"],
                "rejected": row["rejected"],
                "turnaround_p50_hours": percentile(hours, 0.5),
                "turnaround_p90_hours": percentile(hours, 0.9),
                "on_target_rate": round(on_target * 100 / len(hours), 1) if hours else None,
            }
        )
    for row in (
        orders.values("ordering_institution__name")
        .annotate(total=Count("id"))
        .order_by("-total", "ordering_institution__name")
    ):
        result.per_member.append({"institution": row["ordering_institution__name"], "total": row["total"]})
    for row in (
        orders.filter(status=OrderStatus.REJECTED)
        .values("rejection_reason")
        .annotate(total=Count("id"))
        .order_by("-total")
    ):
        reason = row["rejection_reason"]
        label = RejectionReason(reason).label if reason in RejectionReason.values else reason
        result.rejections.append({"reason": reason, "label": str(label), "total": row["total"]})

    alerts = CriticalValueAlert.objects.filter(order__in=orders.values("pk"))
    minutes = [
        (acknowledged - raised).total_seconds() / 60
        for raised, acknowledged in alerts.filter(acknowledged_at__isnull=False).values_list(
            "raised_at", "acknowledged_at"
        )
    ]
    open_alerts = alerts.aggregate(
        open=Count("id", filter=Q(acknowledged_at__isnull=True)),
        escalated=Count("id", filter=Q(escalation_level__gt=0)),
    )
    result.critical = {
        "total": len(minutes) + open_alerts["open"],
        "acknowledged": len(minutes),
        "unacknowledged": open_alerts["open"],
        "escalated": open_alerts["escalated"],
        "ack_p50_minutes": round(percentile(minutes, 0.5), 1) if minutes else None,
        "ack_p90_minutes": round(percentile(minutes, 0.9), 1) if minutes else None,
    }

    decisions = RecognitionDecision.objects.all()
    if not scope.is_platform_admin:
        decision_condition = Q(pk__in=[])
        consortia = policies.overseen_consortia(actor)
        if consortia:
            decision_condition |= Q(consortium_id__in=consortia)
        for prefix in policies.regulated_prefixes(actor):
            decision_condition |= Q(institution__region__code__startswith=prefix)
        decisions = decisions.filter(decision_condition)
    if consortium_id:
        decisions = decisions.filter(consortium_id=consortium_id)
    if since:
        decisions = decisions.filter(created_at__date__gte=since)
    if until:
        decisions = decisions.filter(created_at__date__lte=until)
    figures = decisions.aggregate(
        used=Count("id", filter=Q(outcome=RecognitionOutcome.USED)),
        repeated=Count("id", filter=Q(outcome=RecognitionOutcome.REPEATED)),
        saved=Sum("saved_amount"),
    )
    found = figures["used"] + figures["repeated"]
    result.recognition = {
        "found": found,
        "used": figures["used"],
        "repeated": figures["repeated"],
        "recognition_rate": round(figures["used"] * 100 / found, 1) if found else None,
        "money_saved": str((figures["saved"] or Decimal("0")).quantize(Decimal("0.01"))),
        "repeat_reasons": list(
            decisions.filter(outcome=RecognitionOutcome.REPEATED)
            .values("reason")
            .annotate(total=Count("id"))
            .order_by("-total")[:10]
        ),
    }

    return result
