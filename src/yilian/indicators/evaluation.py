"""The evaluation engine: data items → unit values → indicator values, as set-based SQL in the database.

``refresh`` recomputes the three layers of ``models`` for a range of months,
either for every institution (full) or only for the institutions given
(incremental): base facts of those institutions' months, then the cells
(unit × period) those months and institutions feed, then the indicator
values of those cells. Each source table is read once per refresh in one
grouped pass (every item of the source is a filtered aggregate of that
pass); every later step is one ``INSERT … SELECT`` per layer or per
indicator. Python only builds the SQL and the small unit-membership table.

The whole refresh is one transaction: readers see the old figures or the
new ones, never a mix. Refreshes are serialised (an advisory lock on
PostgreSQL, the database write lock on SQLite).
"""

from __future__ import annotations

import datetime
import time
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from yilian.core import generations
from yilian.core.data_items import SUM, DataItem, DataSource
from yilian.indicators import expressions, registry
from yilian.indicators.choices import PERIOD_MONTHS, IndicatorKind, PeriodType, UnitKind
from yilian.indicators.models import (
    CalendarPeriod,
    DataValue,
    Indicator,
    UnitMember,
)
from yilian.indicators.selectors import FIGURES_GENERATION
from yilian.institutions.selectors import organisation_structure

_LOCK_KEY = zlib.crc32(b"yilian.indicators.refresh")
_UNIT_REGION_LEVELS = ("province", "prefecture", "county", "township")
_WORK_MEM = "256MB"
_PERIOD_ORDER = [PeriodType.MONTH, PeriodType.QUARTER, PeriodType.HALF_YEAR, PeriodType.YEAR]


@dataclass
class RefreshResult:
    """What a refresh wrote: rows per layer and seconds per step."""

    months: list[datetime.date]
    institution_ids: list[int] | None
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def month_start(day: datetime.date) -> datetime.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def add_months(month: datetime.date, count: int) -> datetime.date:
    """The first day of the month ``count`` months after ``month``."""
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Every month from ``first``'s to ``last``'s, inclusive."""
    months, current = [], month_start(first)
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def period_of(month: datetime.date, period_type: str) -> tuple[datetime.date, datetime.date, int]:
    """(start, end, number in year) of the period of ``period_type`` that holds ``month``."""
    length = PERIOD_MONTHS[PeriodType(period_type)]
    number = (month.month - 1) // length + 1
    start = datetime.date(month.year, (number - 1) * length + 1, 1)
    end = add_months(start, length) - datetime.timedelta(days=1)
    return start, end, number


def ensure_calendar(months: Iterable[datetime.date]) -> None:
    """Add the calendar rows of ``months`` that are missing (one row per month and period type)."""
    wanted = {month_start(m) for m in months}
    present = set(CalendarPeriod.objects.filter(month__in=wanted).values_list("month", flat=True).distinct())
    rows = []
    for month in sorted(wanted - present):
        for period_type in _PERIOD_ORDER:
            start, end, number = period_of(month, period_type)
            rows.append(
                CalendarPeriod(
                    month=month,
                    period_type=period_type,
                    year=month.year,
                    number=number,
                    period_start=start,
                    period_end=end,
                )
            )
    CalendarPeriod.objects.bulk_create(rows, ignore_conflicts=True)


def rebuild_unit_members() -> int:
    """Rebuild ``UnitMember`` from the registry; returns the number of rows.

    Institutions belong to themselves, their consortia, the grids whose areas
    hold them and every region above them down to the township; regions belong
    to the regions above them, to the grids they make up and to the consortia
    whose county (or whose grids) they lie in.
    """
    structure = organisation_structure()
    regions = structure.regions

    def ancestors(region_id: int | None) -> list[int]:
        chain: list[int] = []
        while region_id is not None:
            chain.append(region_id)
            region_id = regions[region_id][2]
        return chain

    region_chain = {pk: ancestors(pk) for pk in regions}
    unit_regions = {pk for pk, (_code, level, _parent) in regions.items() if level in _UNIT_REGION_LEVELS}
    grids_of_region: dict[int, set[int]] = {}
    for grid_id, area_id in structure.grid_areas:
        grids_of_region.setdefault(area_id, set()).add(grid_id)
    consortia_of_region: dict[int, set[int]] = {}
    for consortium_id, region_id in structure.consortium_regions.items():
        if region_id is not None:
            consortia_of_region.setdefault(region_id, set()).add(consortium_id)

    rows: list[UnitMember] = []
    for institution_id, region_id in structure.institutions.items():
        rows.append(
            UnitMember(unit_kind=UnitKind.INSTITUTION, unit_id=institution_id, institution_id=institution_id)
        )
        chain = region_chain.get(region_id, [])
        for ancestor in chain:
            if ancestor in unit_regions:
                rows.append(
                    UnitMember(unit_kind=UnitKind.REGION, unit_id=ancestor, institution_id=institution_id)
                )
        for grid_id in {g for ancestor in chain for g in grids_of_region.get(ancestor, ())}:
            rows.append(UnitMember(unit_kind=UnitKind.GRID, unit_id=grid_id, institution_id=institution_id))
    for consortium_id, institution_id in set(structure.memberships):
        rows.append(
            UnitMember(unit_kind=UnitKind.CONSORTIUM, unit_id=consortium_id, institution_id=institution_id)
        )
    for region_id, chain in region_chain.items():
        for ancestor in chain:
            if ancestor in unit_regions:
                rows.append(UnitMember(unit_kind=UnitKind.REGION, unit_id=ancestor, region_id=region_id))
        for grid_id in {g for ancestor in chain for g in grids_of_region.get(ancestor, ())}:
            rows.append(UnitMember(unit_kind=UnitKind.GRID, unit_id=grid_id, region_id=region_id))
        for consortium_id in {c for ancestor in chain for c in consortia_of_region.get(ancestor, ())}:
            rows.append(UnitMember(unit_kind=UnitKind.CONSORTIUM, unit_id=consortium_id, region_id=region_id))
    UnitMember.objects.all().delete()
    UnitMember.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _is_datetime(source: DataSource, field_name: str) -> bool:
    model = source.records().model
    target = model
    for part in field_name.split("__")[:-1]:
        target = target._meta.get_field(part).related_model
    return target._meta.get_field(field_name.split("__")[-1]).get_internal_type() == "DateTimeField"


def _bound(source: DataSource, field_name: str, day: datetime.date) -> Any:
    return _aware(day) if _is_datetime(source, field_name) else day


# A typed NULL: PostgreSQL reads a bare NULL parameter in a subquery as text.
_NULL_ID = Cast(Value(None), output_field=BigIntegerField())


def _grouped(
    source: DataSource, items: list[DataItem], records: QuerySet, months: list[datetime.date]
) -> tuple[str, list[Any]]:
    """SQL of one grouped pass over ``records``: per (month, institution, department, region), one column per item.

    ``records`` are already limited to ``months``. Each record gets the index of its month
    (``_month_index``) and, per item, its filter as a boolean and the summed field; the outer
    query joins the index to the months and aggregates. Grouping by a column of that small list
    of months rather than by an expression over the record's timestamp lets PostgreSQL's planner
    count the groups (a few per institution and department, not one per distinct timestamp), so
    it aggregates in parallel workers; ``_insert_data_values`` runs the pass where it may.
    """
    if source.is_regional:
        region = F(source.region_field or "pk")
        institution = _NULL_ID
    else:
        region = F(f"{source.institution_field}__region_id")
        institution = F(f"{source.institution_field}_id")
    department = F(f"{source.department_field}_id") if source.department_field else _NULL_ID
    columns: dict[str, Any] = {}
    aggregates = []
    for index, item in enumerate(items):
        condition = ""
        if item.filter:
            columns[f"yl_f{index}"] = ExpressionWrapper(item.filter, output_field=BooleanField())
            condition = f" FILTER (WHERE agg.yl_f{index})"
        if item.measure == SUM:
            columns[f"yl_s{index}"] = F(item.field)
            aggregates.append(f"SUM(agg.yl_s{index}){condition} AS yl_v{index}")
        else:
            # COUNT(*) rather than COUNT(id): a pass that reads only indexed columns can skip the table.
            aggregates.append(f"COUNT(*){condition} AS yl_v{index}")
    inner = records.annotate(
        yl_index=_month_index(source, months),
        yl_institution=institution,
        yl_department=department,
        yl_region=region,
        **columns,
    ).values("yl_index", "yl_institution", "yl_department", "yl_region", *columns)
    inner_sql, params = inner.order_by().query.sql_with_params()
    month_rows = ", ".join(["(%s, %s)"] * len(months))
    sql = (
        # VALUES names its columns column1, column2 on both databases (SQLite takes no column aliases).
        "SELECT yl_m.column2 AS yl_month, agg.yl_institution, agg.yl_department, agg.yl_region, "
        f"{', '.join(aggregates)} FROM ({inner_sql}) agg "
        f"JOIN (VALUES {month_rows}) AS yl_m ON yl_m.column1 = agg.yl_index "
        "GROUP BY yl_m.column2, agg.yl_institution, agg.yl_department, agg.yl_region"
    )
    return sql, [*params, *(value for index, month in enumerate(months) for value in (index, month))]


def _month_index(source: DataSource, months: list[datetime.date]) -> Any:
    """The position in ``months`` of the month a record falls in (the records are limited to ``months``).

    PostgreSQL finds it with ``width_bucket`` over the months' first moments (aware, in the
    project's time zone); SQLite compares with each in turn. Truncating the timestamp instead
    (``date_trunc`` after ``AT TIME ZONE``, a Python function per row on SQLite) cost three times as
    long over millions of encounters.
    """
    if len(months) == 1 or not source.date_field:
        return Value(0, output_field=IntegerField())
    field_name = source.date_field
    bounds = [_bound(source, field_name, month) for month in months[1:]]
    if connection.vendor == "postgresql":
        return Func(F(field_name), Value(bounds), function="width_bucket", output_field=IntegerField())
    return Case(
        *[When(**{f"{field_name}__lt": bound}, then=Value(index)) for index, bound in enumerate(bounds)],
        default=Value(len(bounds)),
        output_field=IntegerField(),
    )


def _insert_data_values(items: list[DataItem], grouped: tuple[str, list[Any]], *, parallel: bool) -> int:
    """Write the ``DataValue`` rows of one grouped pass (one row per group and item with a value).

    With ``parallel`` on PostgreSQL the pass first fills a temporary table: PostgreSQL runs the
    ``SELECT`` of a ``CREATE TABLE … AS`` in parallel workers, never that of an ``INSERT``. A full
    refresh reads millions of records this way on every core; an incremental one reads too few
    for the workers to pay for themselves.
    """
    sql, params = grouped
    selector = " ".join(f"WHEN {index} THEN agg.yl_v{index}" for index in range(len(items)))
    codes = " UNION ALL ".join(
        f"SELECT {index} AS idx, '{item.code}' AS code" for index, item in enumerate(items)
    )
    staged = parallel and connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if staged:
            cursor.execute(f"CREATE TEMPORARY TABLE yl_grouped ON COMMIT DROP AS {sql}", params)
            source, params = "yl_grouped", []
        else:
            source = f"({sql})"
        cursor.execute(
            "INSERT INTO indicators_datavalue (item, month, institution_id, department_id, region_id, value) "
            f"SELECT items.code, agg.yl_month, agg.yl_institution, agg.yl_department, agg.yl_region, "
            f"CASE items.idx {selector} END "
            f"FROM {source} agg CROSS JOIN ({codes}) items "
            f"WHERE CASE items.idx {selector} END <> 0",
            params,
        )
        written = _written(cursor)
        if staged:
            cursor.execute("DROP TABLE yl_grouped")
    return written


def model_label(source: DataSource) -> str:
    """The label of the model a source counts (``encounters.Encounter``), as stale marks name it."""
    return source.records().model._meta.label


def sources_of(models: Collection[str] | None) -> list[tuple[DataSource, list[DataItem]]]:
    """Every source with its items, or only those counted over ``models`` (labels) when given."""
    return [
        (source, items)
        for source, items in registry.items_by_source().values()
        if models is None or model_label(source) in models
    ]


def compute_data_values(
    months: list[datetime.date],
    institution_ids: list[int] | None,
    seconds: dict[str, float] | None = None,
    *,
    regional: bool = False,
    models: Collection[str] | None = None,
) -> int:
    """Recompute ``DataValue`` for ``months`` (and only ``institution_ids`` when given); returns rows written.

    With ``institution_ids``, the regional facts are recomputed only when
    ``regional`` is true (they do not change with an institution's records).
    With ``models``, only the sources counted over those models are (see
    ``sources_of``). ``seconds``, when given, receives each source's time under
    ``data_values:<source code>``.
    """
    first, last = months[0], months[-1]
    chosen_sources = sources_of(models)
    stale = DataValue.objects.filter(month__gte=first, month__lte=last)
    if institution_ids is not None:
        scope = Q(institution_id__in=institution_ids)
        if regional:
            scope |= Q(institution_id__isnull=True)
        stale = stale.filter(scope)
    if models is not None:
        stale = stale.filter(item__in=[item.code for _source, items in chosen_sources for item in items])
    stale._raw_delete(stale.db)
    written = 0
    for source, items in chosen_sources:
        if institution_ids is not None and (not regional if source.is_regional else not institution_ids):
            continue  # nothing of this source was marked
        started = time.perf_counter()
        chosen = None if source.is_regional else institution_ids
        written += _source_data_values(source, items, months, chosen)
        if seconds is not None:
            seconds[f"data_values:{source.code}"] = round(time.perf_counter() - started, 3)
    return written


def _source_data_values(
    source: DataSource, items: list[DataItem], months: list[datetime.date], institution_ids: list[int] | None
) -> int:
    """One source's ``DataValue`` rows: one grouped pass (stocks: one per month end); returns rows written."""
    first, last = months[0], months[-1]
    written = 0
    records = source.records()
    if institution_ids is not None:
        records = records.filter(**{f"{source.institution_field}__in": institution_ids})
    if source.is_stock or not source.date_field:
        for month in months:
            end = add_months(month, 1)
            in_force = records
            if source.date_field:
                in_force = in_force.filter(
                    **{f"{source.date_field}__lt": _bound(source, source.date_field, end)}
                )
            if source.ends_field:
                in_force = in_force.filter(
                    Q(**{f"{source.ends_field}__isnull": True})
                    | Q(**{f"{source.ends_field}__gte": _bound(source, source.ends_field, end)})
                )
            written += _insert_data_values(
                items, _grouped(source, items, in_force, [month]), parallel=institution_ids is None
            )
        return written
    dated = records.filter(
        **{
            f"{source.date_field}__gte": _bound(source, source.date_field, first),
            f"{source.date_field}__lt": _bound(source, source.date_field, add_months(last, 1)),
        }
    )
    written += _insert_data_values(
        items, _grouped(source, items, dated, months), parallel=institution_ids is None
    )
    return written


def _periods_of(months: list[datetime.date]) -> list[tuple[str, datetime.date, datetime.date]]:
    """(period type, start, end) of every period holding one of ``months``."""
    periods = {(pt, *period_of(m, pt)[:2]) for m in months for pt in _PERIOD_ORDER}
    return sorted(periods, key=lambda p: (p[1], p[0]))


def _period_filter(
    periods: list[tuple[str, datetime.date, datetime.date]], alias: str
) -> tuple[str, list[Any]]:
    by_type: dict[str, list[datetime.date]] = {}
    for period_type, start, _end in periods:
        by_type.setdefault(period_type, []).append(start)
    clauses, params = [], []
    for period_type, starts in by_type.items():
        marks = ", ".join(["%s"] * len(starts))
        clauses.append(f"({alias}.period_type = %s AND {alias}.period_start IN ({marks}))")
        params += [period_type, *starts]
    return "(" + " OR ".join(clauses) + ")", params


@dataclass(frozen=True)
class _Cells:
    """Which cells a step recomputes: periods, and units (all units when ``units`` is None)."""

    periods: list[tuple[str, datetime.date, datetime.date]]
    units: dict[str, list[int]] | None
    items: tuple[str, ...] | None = None
    """The data items whose unit values are recomputed (every item when None)."""

    def items_where(self, alias: str) -> tuple[str, list[Any]]:
        """The condition on ``item`` alone ("1 = 1" for every item)."""
        if self.items is None:
            return "1 = 1", []
        if not self.items:
            return "1 = 0", []
        return f"{alias}.item IN ({', '.join(['%s'] * len(self.items))})", list(self.items)

    def where(self, alias: str) -> tuple[str, list[Any]]:
        clause, params = _period_filter(self.periods, alias)
        units, unit_params = self.units_where(alias)
        if units == "1 = 0":
            return units, []
        return f"{clause} AND {units}", params + unit_params

    def units_where(self, alias: str) -> tuple[str, list[Any]]:
        """The condition on ``unit_kind``/``unit_id`` alone ("1 = 1" for every unit)."""
        if self.units is None:
            return "1 = 1", []
        parts, params = [], []
        for kind, ids in self.units.items():
            if ids:
                parts.append(
                    f"({alias}.unit_kind = %s AND {alias}.unit_id IN ({', '.join(['%s'] * len(ids))}))"
                )
                params += [kind, *ids]
        if not parts:
            return "1 = 0", []
        return f"({' OR '.join(parts)})", params


def _affected_units(institution_ids: list[int], regional: bool = False) -> dict[str, list[int]]:
    """Units whose figures the records of ``institution_ids`` (and, if ``regional``, the regional facts) feed."""
    units: dict[str, set[int]] = {}
    members = Q(institution_id__in=institution_ids)
    if regional:
        members |= Q(region_id__isnull=False)
    for kind, unit_id in UnitMember.objects.filter(members).values_list("unit_kind", "unit_id").distinct():
        units.setdefault(kind, set()).add(unit_id)
    departments = DataValue.objects.filter(institution_id__in=institution_ids, department_id__isnull=False)
    units[UnitKind.DEPARTMENT] = set(departments.values_list("department_id", flat=True).distinct())
    return {kind: sorted(ids) for kind, ids in units.items()}


def compute_unit_values(cells: _Cells) -> int:
    """Recompute ``UnitValue`` for ``cells``: months from ``DataValue`` (sums over members), longer periods
    from the units' month rows.

    Rolling quarters, halves and years up from the month rows means an incremental refresh of one
    month re-reads twelve month rows per unit and item, not every member's records of the year.
    """
    where, params = cells.where("indicators_unitvalue")
    items, item_params = cells.items_where("indicators_unitvalue")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM indicators_unitvalue WHERE {where} AND {items}", params + item_params)
    written = _compute_unit_months(cells)
    if cells.units is None:
        _analyze("indicators_unitvalue")  # the roll-up below reads the month rows just written
    return written + _roll_up_unit_periods(cells)


def _compute_unit_months(cells: _Cells) -> int:
    months = [start for period_type, start, _end in cells.periods if period_type == PeriodType.MONTH]
    if not months:
        return 0
    first, last = min(months), max(months)
    unit_clause, unit_params = "", []
    department_clause, department_params = "", []
    if cells.units is not None:
        pairs = {kind: ids for kind, ids in cells.units.items() if kind != UnitKind.DEPARTMENT}
        clause, unit_params = _Cells(periods=cells.periods, units=pairs).units_where("um")
        unit_clause = f" AND {clause}"
        departments = cells.units.get(UnitKind.DEPARTMENT) or []
        department_clause = (
            f" AND dv.department_id IN ({', '.join(['%s'] * len(departments))})"
            if departments
            else " AND 1 = 0"
        )
        department_params = list(departments)
    items, item_params = cells.items_where("dv")
    monthly = (
        "SELECT dv.item AS item, um.unit_kind AS unit_kind, um.unit_id AS unit_id, dv.month AS month, "
        "SUM(dv.value) AS value FROM indicators_datavalue dv "
        "JOIN indicators_unitmember um ON um.institution_id = dv.institution_id "
        f"WHERE {items} AND dv.month >= %s AND dv.month <= %s{unit_clause} "
        "GROUP BY dv.item, um.unit_kind, um.unit_id, dv.month "
        "UNION ALL "
        "SELECT dv.item, um.unit_kind, um.unit_id, dv.month, SUM(dv.value) FROM indicators_datavalue dv "
        "JOIN indicators_unitmember um ON um.region_id = dv.region_id "
        f"WHERE {items} AND dv.institution_id IS NULL AND dv.month >= %s AND dv.month <= %s{unit_clause} "
        "GROUP BY dv.item, um.unit_kind, um.unit_id, dv.month "
        "UNION ALL "
        f"SELECT dv.item, '{UnitKind.DEPARTMENT}', dv.department_id, dv.month, SUM(dv.value) "
        "FROM indicators_datavalue dv "
        f"WHERE {items} AND dv.department_id IS NOT NULL AND dv.month >= %s AND dv.month <= %s{department_clause} "
        "GROUP BY dv.item, dv.department_id, dv.month"
    )
    monthly_params = [
        *item_params,
        first,
        last,
        *unit_params,
        *item_params,
        first,
        last,
        *unit_params,
        *item_params,
        first,
        last,
        *department_params,
    ]
    statement = (
        "INSERT INTO indicators_unitvalue (item, unit_kind, unit_id, period_type, period_start, year, number, value) "
        "SELECT mv.item, mv.unit_kind, mv.unit_id, cp.period_type, cp.period_start, cp.year, cp.number, mv.value "
        f"FROM ({monthly}) mv JOIN indicators_calendarperiod cp "
        f"ON cp.month = mv.month AND cp.period_type = '{PeriodType.MONTH}'"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, monthly_params)
        return _written(cursor)


def _roll_up_unit_periods(cells: _Cells) -> int:
    longer = [period for period in cells.periods if period[0] != PeriodType.MONTH]
    if not longer:
        return 0
    first = min(start for _type, start, _end in longer)
    last = max(end for _type, _start, end in longer)
    stock = sorted(registry.stock_item_codes())
    stock_sql = ", ".join(f"'{code}'" for code in stock) or "''"
    units, unit_params = cells.units_where("uv")
    items, item_params = cells.items_where("uv")
    period_where, period_params = _period_filter(longer, "cp")
    # A stock is averaged over every month of the period the engine has figures for, not only the
    # months where the stock has rows: a month with nothing in force writes no row but counts as
    # zero. A month without any figure (before the data begins, or still to come) does not count.
    elapsed = (
        "SELECT cp2.period_type, cp2.period_start, COUNT(*) AS months FROM indicators_calendarperiod cp2 "
        "WHERE cp2.month IN (SELECT DISTINCT month FROM indicators_datavalue WHERE month >= %s AND month <= %s) "
        "GROUP BY cp2.period_type, cp2.period_start"
    )
    statement = (
        "INSERT INTO indicators_unitvalue (item, unit_kind, unit_id, period_type, period_start, year, number, value) "
        "SELECT uv.item, uv.unit_kind, uv.unit_id, cp.period_type, cp.period_start, cp.year, cp.number, "
        f"CASE WHEN uv.item IN ({stock_sql}) THEN SUM(uv.value) * 1.0 / MAX(pc.months) ELSE SUM(uv.value) END "
        "FROM indicators_unitvalue uv JOIN indicators_calendarperiod cp ON cp.month = uv.period_start "
        f"JOIN ({elapsed}) pc ON pc.period_type = cp.period_type AND pc.period_start = cp.period_start "
        f"WHERE uv.period_type = '{PeriodType.MONTH}' AND uv.period_start >= %s AND uv.period_start <= %s "
        f"AND {units} AND {items} AND {period_where} "
        "GROUP BY uv.item, uv.unit_kind, uv.unit_id, cp.period_type, cp.period_start, cp.year, cp.number"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [first, last, first, last, *unit_params, *item_params, *period_params])
        return _written(cursor)


def _written(cursor: Any) -> int:
    """Rows the last INSERT wrote. SQLite's driver reports -1 for a statement that begins with WITH."""
    if cursor.rowcount >= 0:
        return cursor.rowcount
    if connection.vendor == "sqlite":
        cursor.execute("SELECT changes()")
        return cursor.fetchone()[0]
    return 0


def indicator_item_codes(indicator: Indicator) -> set[str]:
    """The data items an indicator's numerator and denominator name."""
    codes = (
        set(expressions.item_codes(expressions.parse(indicator.numerator)))
        if indicator.numerator.strip()
        else set()
    )
    if indicator.denominator.strip():
        codes |= set(expressions.item_codes(expressions.parse(indicator.denominator)))
    return codes


def indicator_unit_kinds(indicator: Indicator) -> list[str]:
    """Unit kinds an indicator is computed for: departments only when every item it names has departments."""
    codes = indicator_item_codes(indicator)
    kinds = [UnitKind.INSTITUTION, UnitKind.CONSORTIUM, UnitKind.GRID, UnitKind.REGION]
    if codes and codes <= registry.department_item_codes():
        kinds.append(UnitKind.DEPARTMENT)
    return kinds


_INDICATORS_PER_STATEMENT = 100  # SQLite allows 500 terms in a compound SELECT


def compute_indicator_values(cells: _Cells, indicators: Iterable[Indicator]) -> int:
    """Recompute ``IndicatorValue`` of ``indicators`` for ``cells`` from ``UnitValue``; returns rows written.

    One pass over ``UnitValue`` pivots the cells (one row per unit × period, one column per data
    item any indicator names) into a materialised common table; every indicator is then a
    ``SELECT`` of its compiled formulas over that small table, all in one ``INSERT``. A cell gets
    a value when at least one of the indicator's items has a value there.
    """
    compiled = []
    for indicator in indicators:
        if indicator.kind != IndicatorKind.QUANTITATIVE or not indicator.numerator.strip():
            continue
        numerator_tree = expressions.parse(indicator.numerator)
        denominator_tree = expressions.parse(indicator.denominator) if indicator.denominator.strip() else None
        codes = expressions.item_codes(numerator_tree)
        if denominator_tree is not None:
            codes += [c for c in expressions.item_codes(denominator_tree) if c not in codes]
        allowed = _PERIOD_ORDER[_PERIOD_ORDER.index(PeriodType(indicator.period_type)) :]
        if not codes or not any(p[0] in allowed for p in cells.periods):
            continue
        compiled.append((indicator, numerator_tree, denominator_tree, codes, allowed))
    if not compiled:
        return 0
    where, params = cells.where("indicators_indicatorvalue")
    ids = [entry[0].pk for entry in compiled]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM indicators_indicatorvalue WHERE indicator_id IN ({', '.join(['%s'] * len(ids))}) "
            f"AND {where}",
            [*ids, *params],
        )
    written = 0
    for offset in range(0, len(compiled), _INDICATORS_PER_STATEMENT):
        written += _insert_indicator_values(cells, compiled[offset : offset + _INDICATORS_PER_STATEMENT])
    return written


def _pivot_column(code: str) -> str:
    return f"p.i_{code}"


def _insert_indicator_values(cells: _Cells, compiled: list[tuple[Any, ...]]) -> int:
    codes = sorted({code for entry in compiled for code in entry[3]})
    columns = ", ".join(f"SUM(CASE WHEN uv.item = '{code}' THEN uv.value END) AS i_{code}" for code in codes)
    item_list = ", ".join(f"'{code}'" for code in codes)
    where, params = cells.where("uv")
    selects = []
    for indicator, numerator_tree, denominator_tree, item_codes, allowed in compiled:

        def item_sql(code: str) -> str:
            return f"COALESCE({_pivot_column(code)}, 0)"

        numerator_sql = expressions.to_sql(numerator_tree, item_sql)
        factor = f"{indicator.factor}"
        if denominator_tree is not None:
            denominator_sql = expressions.to_sql(denominator_tree, item_sql)
            value_sql = f"CASE WHEN ({denominator_sql}) <> 0 THEN ({numerator_sql}) * {factor} / ({denominator_sql}) END"
        else:
            denominator_sql = "CAST(NULL AS NUMERIC)"
            value_sql = f"({numerator_sql}) * {factor}"
        kinds = ", ".join(f"'{kind}'" for kind in indicator_unit_kinds(indicator))
        periods = ", ".join(f"'{period}'" for period in allowed)
        present = " OR ".join(f"{_pivot_column(code)} IS NOT NULL" for code in item_codes)
        selects.append(
            f"SELECT {int(indicator.pk)}, p.unit_kind, p.unit_id, p.period_type, p.period_start, p.year, "
            f"p.number, {numerator_sql}, {denominator_sql}, {value_sql} FROM p "
            f"WHERE p.unit_kind IN ({kinds}) AND p.period_type IN ({periods}) AND ({present})"
        )
    statement = (
        f"WITH p AS MATERIALIZED (SELECT uv.unit_kind, uv.unit_id, uv.period_type, uv.period_start, uv.year, "
        f"uv.number, {columns} FROM indicators_unitvalue uv WHERE uv.item IN ({item_list}) AND {where} "
        "GROUP BY uv.unit_kind, uv.unit_id, uv.period_type, uv.period_start, uv.year, uv.number) "
        "INSERT INTO indicators_indicatorvalue "
        "(indicator_id, unit_kind, unit_id, period_type, period_start, year, number, "
        "numerator, denominator, value) " + " UNION ALL ".join(selects)
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return _written(cursor)


def _shifted(
    periods: list[tuple[str, datetime.date, datetime.date]], months: int
) -> list[tuple[str, datetime.date, datetime.date]]:
    """The same periods ``months`` months later (earlier when negative)."""
    day = datetime.timedelta(days=1)
    return [
        (pt, add_months(start, months), add_months(end + day, months) - day) for pt, start, end in periods
    ]


def compute_previous_values(cells: _Cells, indicator_ids: list[int] | None = None) -> None:
    """Fill ``previous_value`` (same unit, same period a year before) for ``cells`` and the year after them.

    Only of ``indicator_ids`` when given (the indicators a refresh recomputed).

    One ``UPDATE … FROM`` per range (PostgreSQL, SQLite ≥ 3.33) over the range's cells left-joined to
    the year before's, which writes only the rows whose previous value changes: a full refresh that
    changes nothing of last year's figures rewrites none of this year's rows. Rows of the following
    year lose a previous value whose cell no longer exists.
    """
    following = _shifted(cells.periods, 12)
    differs = "IS NOT" if connection.vendor == "sqlite" else "IS DISTINCT FROM"
    for periods in (cells.periods, following):
        where, params = _Cells(periods=periods, units=cells.units).where("c")
        if where == "1 = 0" or indicator_ids == []:
            continue
        if indicator_ids is not None:
            where += f" AND c.indicator_id IN ({', '.join(['%s'] * len(indicator_ids))})"
            params = params + list(indicator_ids)
        # The year before's cells are named on ``p`` too: with only the join to narrow them the
        # planner walked every stored value and probed the index once for each.
        before = _shifted(periods, -12)
        where_before, params_before = _Cells(periods=before, units=cells.units).where("p")
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE indicators_indicatorvalue AS cur SET previous_value = fresh.value FROM ("
                "SELECT c.id AS id, p.value AS value FROM indicators_indicatorvalue AS c "
                "LEFT JOIN indicators_indicatorvalue AS p ON p.indicator_id = c.indicator_id "
                "AND p.unit_kind = c.unit_kind AND p.unit_id = c.unit_id AND p.period_type = c.period_type "
                f"AND p.number = c.number AND p.year = c.year - 1 AND {where_before} "
                f"WHERE {where}) AS fresh "
                f"WHERE cur.id = fresh.id AND cur.previous_value {differs} fresh.value",
                params_before + params,
            )


def _analyze(table: str) -> None:
    """Refresh the planner's statistics of a layer just rewritten (PostgreSQL).

    Without them the planner takes a freshly filled table for empty and joins it by nested loops,
    which turns the next layer's statement quadratic. ANALYZE samples a bounded number of rows and
    runs inside the refresh's transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            # The grouped passes hash every (month, unit) group of a source in memory instead of
            # sorting on disk; SET LOCAL ends with the refresh's transaction.
            cursor.execute(f"SET LOCAL work_mem = '{_WORK_MEM}'")


def refresh(
    months: list[datetime.date],
    institution_ids: list[int] | None = None,
    indicators: Iterable[Indicator] | None = None,
    *,
    regional: bool = False,
    models: Collection[str] | None = None,
) -> RefreshResult:
    """Recompute every layer for ``months`` (all institutions, or only ``institution_ids``) in one transaction.

    With ``institution_ids``, ``regional`` also recomputes the regional
    facts of the months and every unit they feed, and ``models`` (labels such
    as ``encounters.Encounter``) narrows the work to the sources counted over
    those models, their items' unit values and the indicators naming them.
    ``indicators`` defaults to every active quantitative indicator. Returns
    rows written and seconds per step. Raises nothing of its own; a database
    error rolls everything back.
    """
    if institution_ids is None:
        models = None  # a full refresh recomputes every source
    if months:
        # A contiguous range: the base layer is replaced month range by month range.
        months = months_between(min(months), max(months))
    result = RefreshResult(months=months, institution_ids=institution_ids)
    if not months:
        return result
    with transaction.atomic():
        _lock()
        started = time.perf_counter()

        def lap(step: str) -> None:
            nonlocal started
            now = time.perf_counter()
            result.seconds[step] = round(now - started, 3)
            started = now

        ensure_calendar(months + [m for p in _periods_of(months) for m in months_between(p[1], p[2])])
        _analyze("indicators_calendarperiod")
        if institution_ids is None:
            result.counts["unit_members"] = rebuild_unit_members()
            _analyze("indicators_unitmember")
        lap("structure")
        units_before = None if institution_ids is None else _affected_units(institution_ids, regional)
        result.counts["data_values"] = compute_data_values(
            months, institution_ids, result.seconds, regional=regional, models=models
        )
        if institution_ids is None:
            _analyze("indicators_datavalue")  # an incremental refresh changes too few rows to matter
        lap("data_values")
        periods = _periods_of(months)
        units = None
        if institution_ids is not None and units_before is not None:
            units_after = _affected_units(institution_ids, regional)
            units = {
                kind: sorted(set(units_before.get(kind, [])) | set(units_after.get(kind, [])))
                for kind in set(units_before) | set(units_after)
            }
        items = (
            None
            if models is None
            else tuple(
                sorted(item.code for _source, source_items in sources_of(models) for item in source_items)
            )
        )
        cells = _Cells(periods=periods, units=units, items=items)
        result.counts["unit_values"] = compute_unit_values(cells)
        if institution_ids is None:
            _analyze("indicators_unitvalue")  # an incremental refresh changes too few rows to matter
        lap("unit_values")
        chosen = (
            list(indicators)
            if indicators is not None
            else list(Indicator.objects.filter(is_active=True, kind=IndicatorKind.QUANTITATIVE))
        )
        if items is not None:
            changed = set(items)
            chosen = [indicator for indicator in chosen if indicator_item_codes(indicator) & changed]
        result.counts["indicator_values"] = compute_indicator_values(cells, chosen)
        if institution_ids is None:
            _analyze("indicators_indicatorvalue")  # an incremental refresh changes too few rows to matter
        lap("indicator_values")
        compute_previous_values(cells, None if items is None else [indicator.pk for indicator in chosen])
        # In the refresh's transaction: caches of figures pages see the new generation with the new figures.
        generations.bump(FIGURES_GENERATION)
        lap("previous_values")
    return result


def data_months() -> list[datetime.date]:
    """Months from the earliest to the latest month any source has records in (empty when there are none)."""
    first: datetime.date | None = None
    last: datetime.date | None = None
    for source, _items in registry.items_by_source().values():
        if not source.date_field or source.is_stock:
            # A stock's start dates (contracts signed years ago) say nothing about which months have facts.
            continue
        bounds = source.records().aggregate(low=_min(source.date_field), high=_max(source.date_field))
        for key in ("low", "high"):
            value = bounds[key]
            if value is None:
                continue
            day = timezone.localtime(value).date() if isinstance(value, datetime.datetime) else value
            first = day if first is None or day < first else first
            last = day if last is None or day > last else last
    if first is None or last is None:
        return []
    return months_between(first, last)


def _min(field_name: str) -> Any:
    from django.db.models import Min

    return Min(field_name)


def _max(field_name: str) -> Any:
    from django.db.models import Max

    return Max(field_name)
