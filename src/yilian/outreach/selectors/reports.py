"""Outreach figures: the annual report per member (the seeds' form), the office's statistics, and the
national posting indicator (派驻人数 per 10 000 residents) with its drill-down.

The posting indicator — a working definition (2024 indicator 4, S25):

* a posting counts when it really started (``actual_start`` set, not
  cancelled), the physician's title when posted is 主治医师 or above
  (``INTERMEDIATE_PHYSICIAN_TITLES``), the sending institution is a
  secondary-or-above hospital (grade 2 or 3), the host is a primary
  institution (WS 218 B/C/D), and the posting lasts at least 183 days
  (actual end, else planned end, minus actual start, plus one);
* its weight in year Y is the days it covers inside Y up to the cut-off
  (31 December, or today for the current year) divided by the days of Y up
  to that cut-off — a posting spanning two years counts in each by its days
  there (a whole year counts 1);
* the indicator is Σ weights ÷ resident population × 10 000; the
  population is ``Region.population`` of the region chosen, or of the
  consortium's region.

All sums run in SQL (``Greatest``/``Least`` of dates, date differences).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    CharField,
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, Greatest, Least, TruncMonth
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yilian.core.exceptions import NotAllowed
from yilian.institutions.models import Consortium, ConsortiumMember, Institution, Region
from yilian.outreach import policies
from yilian.outreach.choices import (
    COUNTED_BATCH_STATUSES,
    INTERMEDIATE_PHYSICIAN_TITLES,
    LONG_TERM_DAYS,
    SECONDARY_AND_ABOVE_GRADES,
    STARTED_POSTING_STATUSES,
    BatchStatus,
    BookingStatus,
    OutreachKind,
    SessionStatus,
)
from yilian.outreach.models import (
    ClinicBooking,
    OutreachVisit,
    Posting,
)
from yilian.outreach.selectors.records import batch_visible_to, posting_visible_to, session_visible_to

PRIMARY_Q = (
    Q(host_institution__category__startswith="B")
    | Q(host_institution__category__startswith="C")
    | Q(host_institution__category__startswith="D")
)


def year_bounds(year: int, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date, int]:
    """The first day, the cut-off (31 December, or today inside the current year) and the days between."""
    today = today or timezone.localdate()
    start = datetime.date(year, 1, 1)
    cutoff = min(datetime.date(year, 12, 31), today) if year == today.year else datetime.date(year, 12, 31)
    return start, cutoff, (cutoff - start).days + 1


class DaysBetween(Func):
    """SQL: whole days from the second date to the first (``last - first``), as an integer, on SQLite
    (``julianday``) and PostgreSQL (date minus date)."""

    output_field = IntegerField()
    arity = 2

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        """julianday difference, truncated to whole days."""
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        """A date minus a date is an integer number of days."""
        return self.as_sql(
            compiler, connection, template="((%(expressions)s)::date)", arg_joiner=")::date - (", **extra
        )


def _postings_in_year(rows: QuerySet[Posting], start: datetime.date, cutoff: datetime.date) -> QuerySet[Any]:
    """Started postings overlapping [start, cutoff], annotated with ``span`` (days inside, both ends
    counted) and ``length`` (days of the whole posting: actual end, else planned end)."""
    end = Coalesce(F("actual_end"), F("planned_end"))
    first = Greatest(F("actual_start"), Value(start, output_field=DateField()), output_field=DateField())
    last = Least(end, Value(cutoff, output_field=DateField()), output_field=DateField())
    return (
        rows.filter(status__in=STARTED_POSTING_STATUSES, actual_start__isnull=False, actual_start__lte=cutoff)
        .annotate(end_or_plan=end)
        .filter(end_or_plan__gte=start)
        .annotate(
            span=DaysBetween(last, first) + 1,
            length=DaysBetween(end, F("actual_start")) + 1,
        )
    )


LONG_TERM_Q = Q(
    GreaterThanOrEqual(
        DaysBetween(Coalesce(F("actual_end"), F("planned_end")), F("actual_start")) + 1, LONG_TERM_DAYS
    )
)
"""A long-term posting (派驻): at least 183 days from the actual start to the actual end, else the planned end.
Without annotations, so the indicator engine's data item filters with the same rule as this report."""


def counting_q() -> Q:
    """The postings the indicator counts (see the module docstring)."""
    return (
        Q(title_at_posting__in=list(INTERMEDIATE_PHYSICIAN_TITLES))
        & Q(home_institution__grade__in=list(SECONDARY_AND_ABOVE_GRADES))
        & PRIMARY_Q
        & Q(length__gte=LONG_TERM_DAYS)
    )


@dataclass(frozen=True)
class PostingIndicator:
    """The posting indicator of one year for a region or consortium (see the module docstring)."""

    year: int
    scope_label: str
    population: int | None
    cutoff: datetime.date
    days: int
    postings_counted: int
    persons_counted: int
    person_days: int
    equivalents: Decimal
    value: Decimal | None


def _scope_rows(
    actor: Any, consortium: Consortium | None, region: Region | None
) -> tuple[QuerySet[Posting], str, int | None]:
    rows = posting_visible_to(actor).select_related(None)
    if consortium is not None:
        return rows.filter(consortium=consortium), consortium.name, consortium.region.population
    if region is not None:
        return (
            rows.filter(host_institution__region__code__startswith=region.prefix),
            region.name,
            region.population,
        )
    return rows, "", None


def posting_indicator(
    actor: Any, *, year: int, consortium: Consortium | None = None, region: Region | None = None
) -> PostingIndicator:
    """The indicator for a year over the consortium (or region) the actor may read. Two queries.

    Raises NotAllowed for readers of no statistics.
    """
    if not policies.can_view_indicator(actor):
        raise NotAllowed("outreach indicator")
    rows, label, population = _scope_rows(actor, consortium, region)
    start, cutoff, days = year_bounds(year)
    counted = _postings_in_year(rows, start, cutoff).filter(counting_q())
    totals = counted.aggregate(
        n=Count("id"), persons=Count("expert_id", distinct=True), days_total=Sum("span")
    )
    n = totals["n"] or 0
    person_days = int(totals["days_total"] or 0)
    equivalents = (
        (Decimal(person_days) / Decimal(days)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if days
        else Decimal(0)
    )
    value = None
    if population:
        value = (Decimal(person_days) / Decimal(days) / Decimal(population) * 10000).quantize(
            Decimal("0.001"), ROUND_HALF_UP
        )
    return PostingIndicator(
        year=year,
        scope_label=label,
        population=population,
        cutoff=cutoff,
        days=days,
        postings_counted=n,
        persons_counted=totals["persons"] or 0,
        person_days=person_days,
        equivalents=equivalents,
        value=value,
    )


def posting_indicator_rows(
    actor: Any, *, year: int, consortium: Consortium | None = None, region: Region | None = None
) -> list[Posting]:
    """The drill-down: every started posting of the scope touching the year, with ``days_in_year``,
    ``counted`` and ``excluded_because`` (the first rule it fails). One query."""
    if not policies.can_view_indicator(actor):
        raise NotAllowed("outreach indicator")
    rows, _label, _population = _scope_rows(actor, consortium, region)
    start, cutoff, _days = year_bounds(year)
    postings = list(
        _postings_in_year(rows, start, cutoff)
        .select_related("expert", "home_institution", "host_institution", "home_department")
        .order_by("host_institution__name", "actual_start", "id")
    )
    for posting in postings:
        posting.days_in_year = posting.span  # type: ignore[attr-defined]
        posting.total_days = posting.length  # type: ignore[attr-defined]
        reason = ""
        if posting.title_at_posting not in INTERMEDIATE_PHYSICIAN_TITLES:
            reason = "title"
        elif posting.home_institution.grade not in SECONDARY_AND_ABOVE_GRADES:
            reason = "home"
        elif not posting.host_institution.is_primary:
            reason = "host"
        elif posting.total_days < LONG_TERM_DAYS:  # type: ignore[attr-defined]
            reason = "short"
        posting.excluded_because = reason  # type: ignore[attr-defined]
        posting.counted = not reason  # type: ignore[attr-defined]
    return postings


def indicator_scopes(actor: Any) -> tuple[list[Consortium], list[Region]]:
    """The consortia and regions the actor may compute the indicator for: the office's consortia, the
    consortia of institutions the actor administers, the regulator's regions (all for platform admins)."""
    from yilian.accounts.selectors import scope_for

    scope = scope_for(actor)
    consortia = Consortium.objects.select_related("region").order_by("name")
    regions = Region.objects.filter(level__in=["county", "prefecture", "province"]).order_by("code")
    if scope.is_platform_admin:
        return list(consortia.filter(status="active")), list(regions.filter(population__isnull=False)[:50])
    ids = policies.overseen_consortia(actor) | set(
        ConsortiumMember.objects.filter(
            institution_id__in=policies.managed_institutions(actor), is_active=True
        ).values_list("consortium_id", flat=True)
    )
    prefixes = policies.regulated_prefixes(actor)
    return list(consortia.filter(pk__in=ids)), list(regions.filter(prefix__in=prefixes)) if prefixes else []


# The annual report ---------------------------------------------------------------------------

REPORT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("batches", _("派出批次")),
    ("confirmed_batches", _("其中已确认")),
    ("person_times", _("派出人次")),
    ("clinic_sessions", _("坐诊（半天）")),
    ("patients_seen", _("诊疗人次")),
    ("free_clinics", _("义诊（次）")),
    ("ward_rounds", _("业务查房（次）")),
    ("teaching_rounds", _("带教（次）")),
    ("lectures", _("讲座（次）")),
    ("attendees", _("听课/培训人次")),
    ("surgeries", _("指导手术（台）")),
    ("quality_supervisions", _("质控督导（次）")),
    ("record_reviews", _("病历质控（次）")),
    ("prescription_reviews", _("处方点评（次）")),
    ("records_reviewed", _("点评病历/处方（份）")),
    ("hazards_found", _("发现隐患（件）")),
    ("hazards_fixed", _("已整改（件）")),
    ("expert_clinics", _("专家门诊（场）")),
    ("expert_clinic_bookings", _("专家门诊预约（人次）")),
    ("posting_persons", _("长期派驻（人）")),
    ("posting_person_days", _("派驻人日")),
    ("course_person_times", _("培训（人次）")),
    ("fellows_started", _("进修开始（人）")),
    ("fellows_completed", _("进修结业（人）")),
    ("techniques_introduced", _("新技术新项目（项）")),
    ("devices_supported", _("设备支持（台）")),
    ("maintenance_completed", _("设备维修（次）")),
)
"""The report's columns in order: (figure key, header)."""


@dataclass
class ReportRow:
    """One member's outreach figures for a year (the seeds' report form)."""

    institution_id: int
    institution_name: str
    values: dict[str, int] = field(default_factory=dict)

    def get(self, key: str) -> int:
        """A figure (0 when absent)."""
        return self.values.get(key, 0)


KIND_SUMS = {
    "clinic_sessions": OutreachKind.CLINIC,
    "ward_rounds": OutreachKind.WARD_ROUND,
    "teaching_rounds": OutreachKind.TEACHING,
    "lectures": OutreachKind.LECTURE,
    "quality_supervisions": OutreachKind.QUALITY,
    "record_reviews": OutreachKind.RECORD_REVIEW,
    "prescription_reviews": OutreachKind.PRESCRIPTION_REVIEW,
    "free_clinics": OutreachKind.FREE_CLINIC,
}
"""Report figures that are the sum of ``sessions`` of one kind of visit."""

CAPACITY_FIELDS = (
    "courses",
    "course_person_times",
    "fellows_started",
    "fellows_completed",
    "techniques_introduced",
    "devices_supported",
    "maintenance_completed",
)
"""Figures taken from ``capacity_building.selectors.annual_counts``."""


def report_hosts(actor: Any, *, year: int, consortium: Consortium | None = None) -> QuerySet[Institution]:
    """The members a report covers: the hosts of visible batches, postings and sessions of the year, and
    for a consortium its active members other than the lead."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    batches = batch_visible_to(actor).filter(starts_on__range=(start, end))
    postings = (
        posting_visible_to(actor)
        .filter(planned_start__lte=end)
        .filter(Q(actual_end__gte=start) | Q(actual_end__isnull=True, planned_end__gte=start))
    )
    sessions = session_visible_to(actor).filter(starts_at__date__range=(start, end))
    if consortium is not None:
        batches, postings, sessions = (
            batches.filter(consortium=consortium),
            postings.filter(consortium=consortium),
            sessions.filter(consortium=consortium),
        )
    condition = (
        Q(pk__in=batches.values("host_institution_id"))
        | Q(pk__in=postings.values("host_institution_id"))
        | Q(pk__in=sessions.values("host_institution_id"))
    )
    if consortium is not None and policies.is_oversight(actor):
        members = ConsortiumMember.objects.filter(consortium=consortium, is_active=True).exclude(role="lead")
        condition |= Q(pk__in=members.values("institution_id"))
    return Institution.objects.filter(condition).order_by("region__code", "name")


def annual_report(actor: Any, *, year: int, consortium: Consortium | None = None) -> list[ReportRow]:
    """Per member, the year's outreach in the form of the seeds' reports, with a total row last.

    Counts batches done or confirmed (person-times: distinct experts per
    batch), the sum of each kind's sessions, patients seen, attendees,
    surgeries guided, records reviewed, hazards found and fixed; expert
    clinic sessions held and residents booked; long-term postings (persons
    and person-days inside the year); and the capacity-building figures.
    A fixed number of queries whatever the number of members.

    Raises NotAllowed for readers of no statistics.
    """
    if not policies.can_view_statistics(actor):
        raise NotAllowed("outreach report")
    hosts = list(report_hosts(actor, year=year, consortium=consortium))
    ids = [h.pk for h in hosts]
    rows = {h.pk: ReportRow(h.pk, h.name) for h in hosts}
    if not ids:
        return []
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    batches = (
        batch_visible_to(actor)
        .select_related(None)
        .filter(
            host_institution_id__in=ids,
            starts_on__range=(start, end),
            status__in=list(COUNTED_BATCH_STATUSES),
        )
    )
    if consortium is not None:
        batches = batches.filter(consortium=consortium)
    pair = Concat(
        Cast("id", CharField()), Value(":"), Cast("visits__expert_id", CharField()), output_field=CharField()
    )
    for row in (
        batches.values("host_institution_id")
        .annotate(
            batches=Count("id", distinct=True),
            confirmed=Count("id", filter=Q(status=BatchStatus.CONFIRMED), distinct=True),
            person_times=Count(pair, distinct=True),
        )
        .order_by()
    ):
        rows[row["host_institution_id"]].values.update(
            batches=row["batches"], confirmed_batches=row["confirmed"], person_times=row["person_times"]
        )
    sums: dict[str, Any] = {
        key: Coalesce(Sum("sessions", filter=Q(kind=kind)), 0) for key, kind in KIND_SUMS.items()
    }
    sums.update(
        patients_seen=Coalesce(Sum("patients_seen"), 0),
        attendees=Coalesce(Sum("attendees"), 0),
        surgeries=Coalesce(Sum("surgeries"), 0),
        records_reviewed=Coalesce(Sum("records_reviewed"), 0),
        hazards_found=Coalesce(Sum("hazards_found"), 0),
        hazards_fixed=Coalesce(Sum("hazards_fixed"), 0),
    )
    visits = OutreachVisit.objects.filter(batch__in=batches.values("pk"))
    for row in visits.values("batch__host_institution_id").annotate(**sums).order_by():
        host = row.pop("batch__host_institution_id")
        rows[host].values.update(row)
    sessions = (
        session_visible_to(actor)
        .select_related(None)
        .filter(host_institution_id__in=ids, starts_at__date__range=(start, end), status=SessionStatus.OPEN)
    )
    if consortium is not None:
        sessions = sessions.filter(consortium=consortium)
    for row in sessions.values("host_institution_id").annotate(n=Count("id")).order_by():
        rows[row["host_institution_id"]].values["expert_clinics"] = row["n"]
    booked = ClinicBooking.objects.filter(session__in=sessions.values("pk"), status=BookingStatus.BOOKED)
    for row in booked.values("session__host_institution_id").annotate(n=Count("id")).order_by():
        rows[row["session__host_institution_id"]].values["expert_clinic_bookings"] = row["n"]
    postings = posting_visible_to(actor).select_related(None).filter(host_institution_id__in=ids)
    if consortium is not None:
        postings = postings.filter(consortium=consortium)
    _first, cutoff, _days = year_bounds(year)
    for row in (
        _postings_in_year(postings, start, cutoff)
        .values("host_institution_id")
        .annotate(persons=Count("expert_id", distinct=True), n=Count("id"), days_total=Sum("span"))
        .order_by()
    ):
        rows[row["host_institution_id"]].values.update(
            posting_persons=row["persons"], posting_person_days=int(row["days_total"] or 0)
        )
    _add_capacity(rows, ids, year)
    ordered = [rows[h.pk] for h in hosts]
    total = ReportRow(0, "")
    for row in ordered:
        for key, value in row.values.items():
            total.values[key] = total.values.get(key, 0) + value
    return [*ordered, total]


def _add_capacity(rows: dict[int, ReportRow], ids: list[int], year: int) -> None:
    """The capacity-building app's figures (outreach → capacity_building is the allowed direction)."""
    from yilian.capacity_building.selectors import annual_counts

    for pk, counts in annual_counts(institution_ids=ids, year=year).items():
        if pk in rows:
            rows[pk].values.update({name: int(getattr(counts, name, 0) or 0) for name in CAPACITY_FIELDS})


# Statistics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutreachSummary:
    """Person-times of outreach work over a period: per member, per month, per kind (counted batches)."""

    batches: int
    person_times: int
    by_member: list[dict[str, Any]]
    by_month: list[dict[str, Any]]
    by_kind: list[dict[str, Any]]


def outreach_summary(
    actor: Any,
    *,
    consortium: Consortium | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> OutreachSummary:
    """Statistics of the outreach the actor reads (done or confirmed batches): five queries.

    Raises NotAllowed for readers of no statistics.
    """
    if not policies.can_view_statistics(actor):
        raise NotAllowed("outreach statistics")
    batches = batch_visible_to(actor).select_related(None).filter(status__in=list(COUNTED_BATCH_STATUSES))
    if consortium is not None:
        batches = batches.filter(consortium=consortium)
    if date_from:
        batches = batches.filter(starts_on__gte=date_from)
    if date_to:
        batches = batches.filter(starts_on__lte=date_to)
    visits = OutreachVisit.objects.filter(batch__in=batches.values("pk"))
    pair = Concat(
        Cast("batch_id", CharField()), Value(":"), Cast("expert_id", CharField()), output_field=CharField()
    )
    totals = visits.aggregate(pt=Count(pair, distinct=True))
    labels = dict(OutreachKind.choices)
    by_kind = [
        {
            "kind": r["kind"],
            "label": str(labels.get(r["kind"], r["kind"])),
            "visits": r["n"],
            "sessions": r["s"],
        }
        for r in visits.values("kind").annotate(n=Count("id"), s=Sum("sessions")).order_by("kind")
    ]
    by_member = [
        {
            "institution_public_id": str(r["batch__host_institution__public_id"]),
            "institution_name": r["batch__host_institution__name"],
            "batches": r["b"],
            "person_times": r["pt"],
            "patients_seen": r["p"] or 0,
            "hazards_found": r["h"] or 0,
        }
        for r in visits.values("batch__host_institution__public_id", "batch__host_institution__name")
        .annotate(
            b=Count("batch_id", distinct=True),
            pt=Count(pair, distinct=True),
            p=Sum("patients_seen"),
            h=Sum("hazards_found"),
        )
        .order_by("-pt", "batch__host_institution__name")
    ]
    by_month = [
        {
            "month": r["month"].strftime("%Y-%m") if r["month"] else "",
            "batches": r["b"],
            "person_times": r["pt"],
        }
        for r in visits.annotate(month=TruncMonth("visit_on"))
        .values("month")
        .annotate(b=Count("batch_id", distinct=True), pt=Count(pair, distinct=True))
        .order_by("month")
    ]
    return OutreachSummary(
        batches=batches.count(),
        person_times=totals["pt"] or 0,
        by_member=by_member,
        by_month=by_month,
        by_kind=by_kind,
    )
