"""Yearly counts of capacity building per member institution (for the office and the annual report)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Sum

from yilian.capacity_building.choices import (
    MAINTENANCE_DONE,
    CourseKind,
    CourseStatus,
    FellowshipStatus,
    SupportKind,
    TechniqueStatus,
)
from yilian.capacity_building.models import (
    Fellowship,
    MaintenanceRequest,
    SupportedDevice,
    TechniqueTransfer,
    TrainingAttendance,
    TrainingCourse,
)


@dataclass(frozen=True)
class CapacityCounts:
    """One member's capacity-building figures for one calendar year.

    ``courses``: courses not cancelled, starting in the year, organised by
    the member, held at it (``venue``), or attended by its staff.
    ``course_person_times``: sign-ins of the member's staff at such courses
    (人次). ``course_trainees``: distinct people among them (人数).
    ``fellows_started`` / ``fellows_completed``: its staff whose fellowship
    started / ended with completion in the year. ``techniques_introduced``:
    techniques introduced in the year and confirmed by the office.
    ``devices_supported``: devices delivered to it in the year (donated +
    lent, split in ``devices_donated`` / ``devices_lent``).
    ``maintenance_completed``: repair requests for its devices closed by an
    engineer in the year (repaired or found not repairable).
    """

    courses: int = 0
    course_person_times: int = 0
    course_trainees: int = 0
    fellows_started: int = 0
    fellows_completed: int = 0
    techniques_introduced: int = 0
    devices_supported: int = 0
    devices_donated: int = 0
    devices_lent: int = 0
    maintenance_completed: int = 0


def annual_counts(*, institution_ids: Iterable[int], year: int) -> dict[int, CapacityCounts]:
    """Capacity-building counts per institution for a calendar year, as ``{institution id: CapacityCounts}``
    (every requested id is present; zeros where nothing happened).

    Not scoped: the caller (a report the actor may read) chose the institutions. Seven aggregate
    queries whatever the number of institutions; no side effects.
    """
    ids = sorted({int(pk) for pk in institution_ids})
    if not ids:
        return {}
    values: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    held = ~Q(course__status=CourseStatus.CANCELLED) & Q(course__starts_on__year=year)

    # Courses per member: those its staff attended, plus those it organised or hosted.
    courses: dict[int, set[int]] = defaultdict(set)
    attendance = (
        TrainingAttendance.objects.filter(held, institution_id__in=ids)
        .values("institution_id", "course_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in attendance:
        courses[row["institution_id"]].add(row["course_id"])
        counts = values[row["institution_id"]]
        counts["course_person_times"] = counts.get("course_person_times", 0) + row["n"]
    trainees = (
        TrainingAttendance.objects.filter(held, institution_id__in=ids)
        .values("institution_id")
        .annotate(accounts=Count("user_id", distinct=True), external=Count("id", filter=Q(user__isnull=True)))
        .order_by()
    )
    for row in trainees:
        # External attendees have no account: each sign-in stands for a person (upper bound).
        values[row["institution_id"]]["course_trainees"] = row["accounts"] + row["external"]
    organised = (
        TrainingCourse.objects.filter(Q(organiser_id__in=ids) | Q(venue_id__in=ids), starts_on__year=year)
        .exclude(status=CourseStatus.CANCELLED)
        .values_list("pk", "organiser_id", "venue_id")
    )
    for pk, organiser_id, venue_id in organised:
        for owner in (organiser_id, venue_id):
            if owner in values:
                courses[owner].add(pk)
    for pk, course_ids in courses.items():
        values[pk]["courses"] = len(course_ids)

    fellows = (
        Fellowship.objects.filter(home_institution_id__in=ids)
        .filter(Q(started_on__year=year) | Q(ended_on__year=year))
        .values("home_institution_id")
        .annotate(
            started=Count("id", filter=Q(started_on__year=year)),
            completed=Count("id", filter=Q(status=FellowshipStatus.COMPLETED, ended_on__year=year)),
        )
        .order_by()
    )
    for row in fellows:
        values[row["home_institution_id"]]["fellows_started"] = row["started"]
        values[row["home_institution_id"]]["fellows_completed"] = row["completed"]

    techniques = (
        TechniqueTransfer.objects.filter(
            institution_id__in=ids, status=TechniqueStatus.CONFIRMED, introduced_on__year=year
        )
        .values("institution_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in techniques:
        values[row["institution_id"]]["techniques_introduced"] = row["n"]

    devices = (
        SupportedDevice.objects.filter(recipient_id__in=ids, delivered_on__year=year)
        .values("recipient_id")
        .annotate(
            n=Count("id"),
            donated=Count("id", filter=Q(support_kind=SupportKind.DONATED)),
            lent=Count("id", filter=Q(support_kind=SupportKind.LENT)),
        )
        .order_by()
    )
    for row in devices:
        counts = values[row["recipient_id"]]
        counts.update(devices_supported=row["n"], devices_donated=row["donated"], devices_lent=row["lent"])

    repairs = (
        MaintenanceRequest.objects.filter(
            device__recipient_id__in=ids, status__in=list(MAINTENANCE_DONE), completed_on__year=year
        )
        .values("device__recipient_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in repairs:
        values[row["device__recipient_id"]]["maintenance_completed"] = row["n"]

    return {pk: CapacityCounts(**counts) for pk, counts in values.items()}


@dataclass(frozen=True)
class MemberFigures:
    """One row of the statistics table: a member and its counts."""

    institution: Any
    role: str
    counts: CapacityCounts


@dataclass(frozen=True)
class StatisticsReport:
    """The office's capacity-building figures of one consortium and year."""

    consortium: Any
    year: int
    rows: list[MemberFigures]
    total: CapacityCounts
    by_kind: list[dict[str, Any]]


def _sum(counts: Iterable[CapacityCounts]) -> CapacityCounts:
    totals: dict[str, int] = dict.fromkeys(CapacityCounts.__dataclass_fields__, 0)
    for item in counts:
        for name in totals:
            totals[name] += getattr(item, name)
    return CapacityCounts(**totals)


def capacity_statistics(
    consortium: Any, year: int, institutions: list[Any], roles: dict[int, str]
) -> StatisticsReport:
    """Figures per member (``institutions``, already scoped by ``records.figures_scope``) for a year,
    their total, and the consortium's courses by kind (sessions, person-times, hours). Nine queries."""
    counts = annual_counts(institution_ids=[i.pk for i in institutions], year=year)
    rows = [MemberFigures(institution=i, role=roles.get(i.pk, ""), counts=counts[i.pk]) for i in institutions]
    by_kind = list(
        TrainingCourse.objects.filter(consortium=consortium, starts_on__year=year)
        .exclude(status=CourseStatus.CANCELLED)
        .values("kind")
        .annotate(sessions=Count("id", distinct=True), person_times=Count("attendances"))
        .order_by("kind")
    )
    # Summing hours over the attendance join would repeat a course per sign-in; take them per course.
    hours = dict(
        TrainingCourse.objects.filter(consortium=consortium, starts_on__year=year)
        .exclude(status=CourseStatus.CANCELLED)
        .values_list("kind")
        .annotate(Sum("hours"))
        .order_by()
    )
    labels = dict(CourseKind.choices)
    for row in by_kind:
        row["hours"] = hours.get(row["kind"]) or 0
        row["label"] = labels.get(row["kind"], row["kind"])
    return StatisticsReport(
        consortium=consortium, year=year, rows=rows, total=_sum(r.counts for r in rows), by_kind=by_kind
    )
