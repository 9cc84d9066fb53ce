"""Referral statistics for the consortium office and regulators: monthly rates graded 优/良/中/差,
response times, acceptance, completion and closed-loop rates, share inside the consortium, subsidies.

Every figure is an aggregation in the database (a fixed number of queries
whatever the number of referrals).
"""

from __future__ import annotations

import datetime
import statistics as stats
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role
from yilian.encounters.selectors import monthly_volumes
from yilian.institutions.choices import DepartmentSpecialty, MemberRole
from yilian.institutions.models import Consortium, ConsortiumMember, Department
from yilian.referrals.choices import DepartmentGroup, Grade, ReferralDirection, ReferralStatus
from yilian.referrals.models import Referral, default_grade_bounds
from yilian.referrals.selectors.referrals import referral_settings_for

SURGICAL_SPECIALTIES = frozenset(
    {
        DepartmentSpecialty.SURGERY,
        DepartmentSpecialty.OBSTETRICS_GYNAECOLOGY,
        DepartmentSpecialty.PAEDIATRIC_SURGERY,
        DepartmentSpecialty.OPHTHALMOLOGY,
        DepartmentSpecialty.ENT,
        DepartmentSpecialty.STOMATOLOGY,
        DepartmentSpecialty.ANAESTHESIOLOGY,
    }
)
MEDICAL_SPECIALTIES = frozenset(
    {
        DepartmentSpecialty.GENERAL_PRACTICE,
        DepartmentSpecialty.INTERNAL_MEDICINE,
        DepartmentSpecialty.PAEDIATRICS,
        DepartmentSpecialty.DERMATOLOGY,
        DepartmentSpecialty.PSYCHIATRY,
        DepartmentSpecialty.INFECTIOUS_DISEASES,
        DepartmentSpecialty.ONCOLOGY,
        DepartmentSpecialty.REHABILITATION,
        DepartmentSpecialty.CRITICAL_CARE,
        DepartmentSpecialty.TCM,
        DepartmentSpecialty.EMERGENCY,
    }
)
ANSWERED = (
    ReferralStatus.ACCEPTED,
    ReferralStatus.SCHEDULED,
    ReferralStatus.ARRIVED,
    ReferralStatus.COMPLETED,
    ReferralStatus.CLOSED,
    ReferralStatus.CANCEL_REQUESTED,
)
"""Statuses that mean the receiver accepted (whatever happened next, short of declining)."""


def department_group(specialty: str) -> str:
    """Medicine or surgery (ranked apart), else other."""
    if specialty in SURGICAL_SPECIALTIES:
        return DepartmentGroup.SURGERY
    if specialty in MEDICAL_SPECIALTIES:
        return DepartmentGroup.MEDICINE
    return DepartmentGroup.OTHER


def grade(rate: float | None, bounds: list[float], *, lower_is_better: bool) -> str:
    """优/良/中/差 of a rate (percent) against three bounds."""
    if rate is None:
        return ""
    for index, bound in enumerate(bounds):
        if (rate <= bound) if lower_is_better else (rate >= bound):
            return [Grade.EXCELLENT, Grade.GOOD, Grade.FAIR][index]
    return Grade.POOR


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """First days of every month from ``first`` to ``last`` inclusive."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


@dataclass
class RateRow:
    """One institution's (or department's) rate in one month, graded and ranked."""

    month: datetime.date
    institution_id: int
    institution_name: str
    department_id: int | None = None
    department_name: str = ""
    group: str = ""
    referrals: int = 0
    denominator: int = 0
    rate: float | None = None
    grade: str = ""
    rank: int | None = None


@dataclass
class Summary:
    """Headline figures of the referrals submitted in the period; the subsidies (``subsidy_total`` and
    each month's ``subsidy``) are those of the referrals completed in it, as in the subsidy report."""

    submitted: int = 0
    up: int = 0
    down: int = 0
    lateral: int = 0
    inside: int = 0
    inside_share: float | None = None
    answered: int = 0
    accepted: int = 0
    acceptance_rate: float | None = None
    completed: int = 0
    completion_rate: float | None = None
    closed: int = 0
    closed_loop_rate: float | None = None
    expired: int = 0
    criteria_met: int = 0
    standard_rate: float | None = None
    response_hours_median: float | None = None
    response_hours_mean: float | None = None
    subsidy_total: Decimal = Decimal("0")
    by_month: list[dict[str, Any]] = field(default_factory=list)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _submitted(consortium: Consortium, first: datetime.date, last: datetime.date) -> QuerySet[Referral]:
    return Referral.objects.filter(
        consortium=consortium, submitted_at__date__gte=first, submitted_at__date__lte=last
    ).exclude(status=ReferralStatus.DRAFT)


def referral_summary(consortium: Consortium, first: datetime.date, last: datetime.date) -> Summary:
    """Headline figures of the consortium's referrals submitted between two days, and the subsidies of
    those completed between them (four queries; the median response time reads one pair of timestamps
    per answered referral)."""
    referrals = _submitted(consortium, first, last)
    totals = referrals.aggregate(
        submitted=Count("id"),
        up=Count("id", filter=Q(direction=ReferralDirection.UP)),
        down=Count("id", filter=Q(direction=ReferralDirection.DOWN)),
        lateral=Count("id", filter=Q(direction=ReferralDirection.LATERAL)),
        inside=Count("id", filter=Q(inside_consortium=True)),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        accepted=Count(
            "id",
            filter=Q(status__in=ANSWERED) | Q(status=ReferralStatus.NO_SHOW) | Q(completed_at__isnull=False),
        ),
        completed=Count("id", filter=Q(completed_at__isnull=False)),
        closed=Count("id", filter=Q(status=ReferralStatus.CLOSED)),
        expired=Count("id", filter=Q(status=ReferralStatus.EXPIRED)),
        met=Count("id", filter=Q(criteria_met=True)),
        judged=Count("id", filter=Q(criteria_met__isnull=False)),
    )
    waits = [
        (answered - submitted).total_seconds() / 3600
        for submitted, answered in referrals.filter(answered_at__isnull=False).values_list(
            "submitted_at", "answered_at"
        )
    ]
    summary = Summary(
        submitted=totals["submitted"],
        up=totals["up"],
        down=totals["down"],
        lateral=totals["lateral"],
        inside=totals["inside"],
        inside_share=_percent(totals["inside"], totals["submitted"]),
        answered=totals["answered"],
        accepted=totals["accepted"],
        acceptance_rate=_percent(totals["accepted"], totals["answered"]),
        completed=totals["completed"],
        completion_rate=_percent(totals["completed"], totals["accepted"]),
        closed=totals["closed"],
        closed_loop_rate=_percent(totals["closed"], totals["completed"]),
        expired=totals["expired"],
        criteria_met=totals["met"],
        standard_rate=_percent(totals["met"], totals["judged"]),
        response_hours_median=round(stats.median(waits), 1) if waits else None,
        response_hours_mean=round(stats.fmean(waits), 1) if waits else None,
    )
    monthly = (
        referrals.annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(
            submitted=Count("id"),
            up=Count("id", filter=Q(direction=ReferralDirection.UP)),
            down=Count("id", filter=Q(direction=ReferralDirection.DOWN)),
            completed=Count("id", filter=Q(completed_at__isnull=False)),
        )
        .order_by("month")
    )
    paid = _subsidies_by_month(consortium, first, last)
    summary.subsidy_total = sum(paid.values(), Decimal("0"))
    rows = {_as_date(row["month"]): {**row, "month": _as_date(row["month"])} for row in monthly}
    for month in paid:
        rows.setdefault(month, {"month": month, "submitted": 0, "up": 0, "down": 0, "completed": 0})
    summary.by_month = [{**rows[month], "subsidy": paid.get(month, Decimal("0"))} for month in sorted(rows)]
    return summary


def _subsidies_by_month(
    consortium: Consortium, first: datetime.date, last: datetime.date
) -> dict[datetime.date, Decimal]:
    """Deductible difference subsidies by the month the referral was completed (one query).

    The subsidy is earned and fixed when the receiver returns the result, so it counts in the month of
    completion, as in ``subsidy_report``; the other figures count referrals by the month they were
    submitted (the rates follow the referrals sent in a period).
    """
    rows = (
        Referral.objects.filter(
            consortium=consortium,
            completed_at__date__gte=first,
            completed_at__date__lte=last,
            subsidy_amount__gt=0,
        )
        .annotate(month=TruncMonth("completed_at"))
        .values("month")
        .annotate(subsidy=Sum("subsidy_amount"))
        .order_by("month")
    )
    return {_as_date(row["month"]): row["subsidy"] or Decimal("0") for row in rows}


def _as_date(value: Any) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _bounds(consortium: Consortium) -> dict[str, list[float]]:
    return referral_settings_for(consortium).grade_bounds or default_grade_bounds()


def _rank(rows: list[RateRow], *, lower_is_better: bool) -> None:
    """Rank rows with a rate within each (month, group), best first; equal rates share a rank and the
    next rate skips the places they took (1, 1, 3), so two members with the same rate are never told
    one is ahead of the other."""
    groups: dict[tuple[datetime.date, str], list[RateRow]] = {}
    for row in rows:
        if row.rate is not None:
            groups.setdefault((row.month, row.group), []).append(row)
    for members in groups.values():
        members.sort(key=lambda r: r.rate if lower_is_better else -(r.rate or 0))
        for position, row in enumerate(members, start=1):
            previous = members[position - 2] if position > 1 else None
            row.rank = previous.rank if previous is not None and previous.rate == row.rate else position


def up_referral_rates(consortium: Consortium, first: datetime.date, last: datetime.date) -> list[RateRow]:
    """Per member (not the lead) and month: up-referrals ÷ outpatient visits + admissions, graded
    (lower is better) and ranked. Four queries."""
    members = list(
        ConsortiumMember.objects.filter(consortium=consortium, is_active=True)
        .exclude(role=MemberRole.LEAD)
        .select_related("institution")
    )
    ids = [m.institution_id for m in members]
    counts = {
        (row["from_institution_id"], _as_date(row["month"])): row["n"]
        for row in _submitted(consortium, first, last)
        .filter(direction=ReferralDirection.UP, from_institution_id__in=ids)
        .annotate(month=TruncMonth("submitted_at"))
        .values("from_institution_id", "month")
        .annotate(n=Count("id"))
    }
    volumes = monthly_volumes(ids, first.replace(day=1), last, by_department=False)
    bounds = _bounds(consortium)["up_rate"]
    rows = []
    for month in months_between(first, last):
        for member in members:
            volume = volumes.get((member.institution_id, None, month), {})
            visits = volume.get("outpatient_visits", 0) + volume.get("admissions", 0)
            count = counts.get((member.institution_id, month), 0)
            rate = round(100 * count / visits, 2) if visits else None
            rows.append(
                RateRow(
                    month=month,
                    institution_id=member.institution_id,
                    institution_name=member.institution.name,
                    referrals=count,
                    denominator=visits,
                    rate=rate,
                    grade=grade(rate, bounds, lower_is_better=True),
                )
            )
    _rank(rows, lower_is_better=True)
    return rows


def down_referral_rates(consortium: Consortium, first: datetime.date, last: datetime.date) -> list[RateRow]:
    """Per lead-institution clinical department and month: down-referrals ÷ discharges, graded (higher is
    better) and ranked with medicine and surgery apart. Five queries."""
    leads = list(
        ConsortiumMember.objects.filter(
            consortium=consortium, is_active=True, role__in=[MemberRole.LEAD, MemberRole.SUB_LEAD]
        ).values_list("institution_id", flat=True)
    )
    departments = list(
        Department.objects.filter(institution_id__in=leads, is_clinical=True, is_active=True)
        .select_related("institution")
        .order_by("institution__name", "name")
    )
    counts = {
        (row["from_department_id"], _as_date(row["month"])): row["n"]
        for row in _submitted(consortium, first, last)
        .filter(direction=ReferralDirection.DOWN, from_institution_id__in=leads)
        .annotate(month=TruncMonth("submitted_at"))
        .values("from_department_id", "month")
        .annotate(n=Count("id"))
    }
    volumes = monthly_volumes(leads, first.replace(day=1), last, by_department=True)
    bounds = _bounds(consortium)["down_rate"]
    rows = []
    for month in months_between(first, last):
        for department in departments:
            group = department_group(department.specialty)
            if group == DepartmentGroup.OTHER:
                continue
            discharges = volumes.get((department.institution_id, department.pk, month), {}).get(
                "discharges", 0
            )
            count = counts.get((department.pk, month), 0)
            rate = round(100 * count / discharges, 2) if discharges else None
            rows.append(
                RateRow(
                    month=month,
                    institution_id=department.institution_id,
                    institution_name=department.institution.name,
                    department_id=department.pk,
                    department_name=department.name,
                    group=group,
                    referrals=count,
                    denominator=discharges,
                    rate=rate,
                    grade=grade(rate, bounds, lower_is_better=False),
                )
            )
    _rank(rows, lower_is_better=False)
    return rows


def subsidy_report(consortium: Consortium, month: datetime.date) -> QuerySet[Referral]:
    """Referrals completed in a month that earned a deductible difference subsidy, with their patients."""
    first = month.replace(day=1)
    last = (first + datetime.timedelta(days=32)).replace(day=1)
    return (
        Referral.objects.filter(
            consortium=consortium,
            completed_at__date__gte=first,
            completed_at__date__lt=last,
            subsidy_amount__gt=0,
        )
        .select_related("person", "from_institution", "to_institution")
        .order_by("completed_at", "id")
    )


def member_consortia_for_statistics(actor: Any) -> QuerySet[Consortium]:
    """Consortia whose statistics the actor may read: the offices they run, those in regions they regulate."""
    scope = scope_for(actor)
    consortia = Consortium.objects.select_related("region")
    if scope.is_platform_admin:
        return consortia.order_by("name")
    condition = Q(pk__in=scope.consortia_with(Role.CONSORTIUM_OFFICE))
    for prefix in scope.region_prefixes_with(Role.REGULATOR):
        condition |= Q(region__code__startswith=prefix)
    return consortia.filter(condition).order_by("name")
