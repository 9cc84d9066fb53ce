"""Reads behind the figures pages: the table of units, the parts of a unit and the records behind a figure.

Figures are aggregates scoped by ``selectors.visible_units``. Drilling down
to the parts of a unit shows that the parts' numerators and denominators
add up to the whole (what is left over is what no part holds: records
without a department, institutions placed directly at a county, regional
facts of a consortium). Drilling down to records reads the data item's
source through the source module's own ``visible_to(actor)`` and nothing
else, so a figure never opens rows the module keeps shut; a source without
``visible_to`` shows its aggregate only.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.accounts.selectors import scope_for
from yilian.core.data_items import Column, DataItem, DataSource
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.core.paginator import KeyedRows, Split
from yilian.core.permissions import Role
from yilian.indicators import expressions, policies, registry, selectors
from yilian.indicators.choices import PERIOD_MONTHS, PeriodType, UnitKind
from yilian.indicators.models import (
    CalendarPeriod,
    Indicator,
    IndicatorValue,
    RankingPolicy,
    UnitMember,
    UnitValue,
    with_unit,
)
from yilian.institutions.selectors import consortium_list, departments_of_institutions, region_list
from yilian.people.identifiers import mask_name

_UNIT_MODELS = {
    UnitKind.INSTITUTION: ("Institution", "public_id"),
    UnitKind.DEPARTMENT: ("Department", "public_id"),
    UnitKind.CONSORTIUM: ("Consortium", "public_id"),
    UnitKind.GRID: ("Grid", "public_id"),
    UnitKind.REGION: ("Region", "code"),
}

PART_KIND = {
    UnitKind.CONSORTIUM: UnitKind.INSTITUTION,
    UnitKind.GRID: UnitKind.INSTITUTION,
    UnitKind.REGION: UnitKind.REGION,
    UnitKind.INSTITUTION: UnitKind.DEPARTMENT,
}
"""Which kind of unit a unit is made of, for the parts drill-down (departments have no parts)."""

MASK = "＊＊"
"""What a masked sensitive value that is not a name shows."""


def visible(actor: Any) -> selectors.VisibleUnits:
    """``selectors.visible_units(actor)``, computed once per request (kept on the user object like its scope)."""
    cached = getattr(actor, "_yl_visible_units", None)
    if cached is None:
        cached = selectors.visible_units(actor)
        if actor is not None and getattr(actor, "is_authenticated", False):
            actor._yl_visible_units = cached
    return cached


# --- units ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRef:
    """A unit as the pages and the API address it: kind, database id, name and public id (regions: code)."""

    kind: str
    id: int
    name: str
    ref: str


def unit_refs(kind: str, ids: set[int] | list[int]) -> dict[int, UnitRef]:
    """Names and public ids (region codes) of units of ``kind``, in one query; registry data, no scoping."""
    if not ids:
        return {}
    model_name, ref_field = _UNIT_MODELS[UnitKind(kind)]
    model = apps.get_model("institutions", model_name)
    if kind == UnitKind.DEPARTMENT:
        rows = model.objects.filter(pk__in=ids).values_list(
            "pk", "name", "institution__short_name", ref_field
        )
        return {
            pk: UnitRef(kind, pk, f"{short}·{name}" if short else name, str(ref))
            for pk, name, short, ref in rows
        }
    rows = model.objects.filter(pk__in=ids).values_list("pk", "name", ref_field)
    return {pk: UnitRef(kind, pk, name, str(ref)) for pk, name, ref in rows}


def unit_resolve(actor: Any, kind: str, ref: str) -> UnitRef:
    """A unit the actor sees figures of, from its public id (regions: code); NotFound otherwise."""
    if kind not in UnitKind.values:
        raise NotFound("unit")
    model_name, ref_field = _UNIT_MODELS[UnitKind(kind)]
    model = apps.get_model("institutions", model_name)
    text = str(ref or "").strip()
    try:
        pk = model.objects.filter(**{ref_field: text}).values_list("pk", flat=True).first()
    except (ValueError, TypeError, ValidationError) as error:  # a malformed UUID reads as not found
        raise NotFound("unit") from error
    if pk is None or not visible(actor).allows(kind, pk):
        raise NotFound("unit")
    found = unit_refs(kind, [pk])
    return found[pk]


def unit_get(actor: Any, kind: str, unit_id: int) -> UnitRef:
    """A unit by database id that the actor sees figures of; NotFound otherwise."""
    if kind not in UnitKind.values or not visible(actor).allows(kind, unit_id):
        raise NotFound("unit")
    found = unit_refs(kind, [unit_id])
    if unit_id not in found:
        raise NotFound("unit")
    return found[unit_id]


# --- reading figures --------------------------------------------------------------------------------------


def quantize(indicator: Indicator, value: Decimal | None) -> Decimal | None:
    """``value`` rounded to the indicator's decimals (half up), or None."""
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-indicator.decimals), rounding=ROUND_HALF_UP)


def format_value(indicator: Indicator, value: Decimal | None) -> str:
    """The value as the pages show it: the indicator's decimals and unit in the reader's language ("—" when
    there is none)."""
    rounded = quantize(indicator, value)
    if rounded is None:
        return "—"
    return with_unit(f"{rounded:f}", indicator.display_unit)


def legend_band(indicator: Indicator, value: Decimal | None) -> dict[str, Any] | None:
    """The first legend band holding ``value`` (bounds inclusive; an empty bound is open), or None."""
    if value is None:
        return None
    for band in indicator.legend or []:
        low, high = band.get("from"), band.get("to")
        if low not in (None, "") and value < Decimal(str(low)):
            continue
        if high not in (None, "") and value > Decimal(str(high)):
            continue
        return band
    return None


SHIPPED_BAND_LABELS = frozenset(
    {
        gettext_noop("达标"),
        gettext_noop("接近"),
        gettext_noop("未达标"),
        gettext_noop("较好"),
        gettext_noop("一般"),
        gettext_noop("较差"),
        gettext_noop("优"),
        gettext_noop("良"),
        gettext_noop("中"),
        gettext_noop("差"),
    }
)
"""The legend labels the shipped catalogues write (``catalogue``): stored in Chinese like any catalogue data,
read in the reader's language. A label an assessor typed stays as typed."""


def band_label(label: str) -> str:
    """A legend band's label as the reader reads it: a shipped label translated, any other as stored."""
    return _(label) if label in SHIPPED_BAND_LABELS else label


def growth(value: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Growth on the same period last year, in percent (None without a non-zero previous value)."""
    if value is None or previous in (None, Decimal(0)):
        return None
    assert previous is not None
    return ((value - previous) / abs(previous) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class FigureRow:
    """One unit's figure in a period, ready to show."""

    unit: UnitRef
    numerator: Decimal
    denominator: Decimal | None
    value: Decimal | None
    previous_value: Decimal | None
    growth: Decimal | None
    display: str
    previous_display: str
    color: str
    band_label: str


SORTS = {
    "value": lambda row: (row.value is None, -(row.value or 0)),
    "value_asc": lambda row: (row.value is None, row.value or 0),
    "name": lambda row: row.unit.name,
    "growth": lambda row: (row.growth is None, -(row.growth or 0)),
    "numerator": lambda row: -row.numerator,
}
"""Sort orders of the figures table."""


def _rows(indicator: Indicator, values: list[IndicatorValue], kind: str) -> list[FigureRow]:
    refs = unit_refs(kind, {value.unit_id for value in values})
    rows = []
    for value in values:
        band = legend_band(indicator, value.value) or {}
        rows.append(
            FigureRow(
                unit=refs.get(value.unit_id) or UnitRef(kind, value.unit_id, str(value.unit_id), ""),
                numerator=value.numerator,
                denominator=value.denominator,
                value=value.value,
                previous_value=value.previous_value,
                growth=growth(value.value, value.previous_value),
                display=format_value(indicator, value.value),
                previous_display=format_value(indicator, value.previous_value),
                color=band.get("color", ""),
                band_label=band.get("label", ""),
            )
        )
    return rows


def figure_table(
    actor: Any,
    indicator: Indicator,
    *,
    unit_kind: str,
    period_type: str,
    period_start: datetime.date,
    sort: str = "value",
) -> list[FigureRow]:
    """The figures of one indicator for every unit of ``unit_kind`` the actor sees in one period, sorted.

    Two queries whatever the number of units. Raises NotAllowed for actors
    without a role.
    """
    if not policies.can_view_figures(actor):
        raise NotAllowed()
    values = list(
        selectors.indicator_values(
            actor, indicator, unit_kind=unit_kind, period_type=period_type, period_start=period_start
        )
    )
    rows = _rows(indicator, values, unit_kind)
    key: Callable[[FigureRow], Any] = SORTS.get(sort, SORTS["value"])
    if indicator.direction == "lower" and sort == "value":
        key = SORTS["value_asc"]
    return sorted(rows, key=key)


def periods(period_type: str) -> list[datetime.date]:
    """Starts of the periods of ``period_type`` the calendar knows, newest first."""
    return list(
        CalendarPeriod.objects.filter(period_type=period_type)
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .distinct()
    )


def period_end(period_type: str, start: datetime.date) -> datetime.date:
    """The first day after the period that starts at ``start``."""
    months = PERIOD_MONTHS[PeriodType(period_type)]
    index = start.year * 12 + start.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def period_label(period_type: str, start: datetime.date) -> str:
    """A short label of a period: 2025-03, 2025Q1, 2025H1, 2025."""
    if period_type == PeriodType.MONTH:
        return f"{start:%Y-%m}"
    if period_type == PeriodType.QUARTER:
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if period_type == PeriodType.HALF_YEAR:
        return f"{start.year}H{(start.month - 1) // 6 + 1}"
    return f"{start.year}"


def parse_period(period_type: str, text: str) -> datetime.date:
    """A period start from ``YYYY-MM-DD``, ``YYYY-MM`` or a label (2025Q1, 2025H1, 2025); raises Invalid."""
    text = (text or "").strip()
    try:
        if period_type == PeriodType.QUARTER and "Q" in text.upper():
            year, number = text.upper().split("Q")
            return datetime.date(int(year), (int(number) - 1) * 3 + 1, 1)
        if period_type == PeriodType.HALF_YEAR and "H" in text.upper():
            year, number = text.upper().split("H")
            return datetime.date(int(year), (int(number) - 1) * 6 + 1, 1)
        if len(text) == 4:
            return datetime.date(int(text), 1, 1)
        if len(text) == 7:
            return datetime.date(int(text[:4]), int(text[5:7]), 1)
        day = datetime.date.fromisoformat(text)
        return day.replace(day=1)
    except (ValueError, TypeError) as error:
        raise Invalid({"period": [_("请填写有效的统计周期，如 2025-03、2025Q1、2025H1 或 2025")]}) from error


# --- parts of a unit ----------------------------------------------------------------------------------------


@dataclass
class Parts:
    """A unit's figure and its parts' figures: the parts' sums and what no part holds."""

    whole: FigureRow | None
    part_kind: str
    rows: list[FigureRow]
    numerator_sum: Decimal
    denominator_sum: Decimal | None
    numerator_rest: Decimal | None
    denominator_rest: Decimal | None
    hidden_parts: int = 0
    """Parts whose figures the actor may not see (left out of the sums)."""

    @property
    def adds_up(self) -> bool:
        """True when the visible parts sum exactly to the whole."""
        return not self.numerator_rest and not self.denominator_rest


def _part_ids(actor: Any, kind: str, unit_id: int) -> set[int]:
    if kind in (UnitKind.CONSORTIUM, UnitKind.GRID):
        return set(
            UnitMember.objects.filter(
                unit_kind=kind, unit_id=unit_id, institution_id__isnull=False
            ).values_list("institution_id", flat=True)
        )
    if kind == UnitKind.REGION:
        return set(region_list(actor).filter(parent_id=unit_id).values_list("pk", flat=True))
    if kind == UnitKind.INSTITUTION:
        return departments_of_institutions({unit_id})
    return set()


def unit_parts(
    actor: Any,
    indicator: Indicator,
    *,
    unit_kind: str,
    unit_id: int,
    period_type: str,
    period_start: datetime.date,
) -> Parts:
    """The parts of a unit (consortium/grid → institutions, region → child regions, institution → departments).

    Parts the actor may not see are counted in ``hidden_parts`` and left out.
    A constant number of queries. Raises NotFound for a unit the actor may
    not see, NotAllowed without a role.
    """
    if not policies.can_view_figures(actor):
        raise NotAllowed()
    units = visible(actor)
    if not units.allows(unit_kind, unit_id):
        raise NotFound("unit")
    cell = IndicatorValue.objects.filter(
        indicator=indicator,
        unit_kind=unit_kind,
        unit_id=unit_id,
        period_type=period_type,
        period_start=period_start,
    ).first()
    whole = _rows(indicator, [cell], unit_kind)[0] if cell else None
    part_kind = PART_KIND.get(UnitKind(unit_kind), "")
    rows: list[FigureRow] = []
    hidden = 0
    if part_kind:
        ids = _part_ids(actor, unit_kind, unit_id)
        shown = {pk for pk in ids if units.allows(part_kind, pk)}
        hidden = len(ids - shown)
        values = list(
            IndicatorValue.objects.filter(
                indicator=indicator,
                unit_kind=part_kind,
                unit_id__in=sorted(shown),
                period_type=period_type,
                period_start=period_start,
            ).order_by("unit_id")
        )
        rows = sorted(_rows(indicator, values, part_kind), key=lambda row: row.unit.name)
    numerator_sum = sum((row.numerator for row in rows), Decimal(0))
    has_denominator = bool(indicator.denominator.strip())
    denominator_sum = (
        sum((row.denominator or Decimal(0) for row in rows), Decimal(0)) if has_denominator else None
    )
    return Parts(
        whole=whole,
        part_kind=part_kind,
        rows=rows,
        numerator_sum=numerator_sum,
        denominator_sum=denominator_sum,
        numerator_rest=(whole.numerator - numerator_sum) if whole else None,
        denominator_rest=(
            (whole.denominator or Decimal(0)) - (denominator_sum or Decimal(0))
            if whole and has_denominator
            else None
        ),
        hidden_parts=hidden,
    )


# --- records behind a figure ------------------------------------------------------------------------------


@dataclass
class ItemUse:
    """A data item an indicator names: where (numerator/denominator) and its value for the cell."""

    item: DataItem
    side: str
    value: Decimal | None = None


def indicator_items(indicator: Indicator) -> list[ItemUse]:
    """The data items of the numerator then the denominator (an item in both appears twice)."""
    known = registry.data_items()
    uses: list[ItemUse] = []
    for side, text in (("numerator", indicator.numerator), ("denominator", indicator.denominator)):
        if not text.strip():
            continue
        try:
            codes = expressions.item_codes(expressions.parse(text))
        except expressions.ExpressionError:
            continue
        uses += [ItemUse(known[code], side) for code in codes if code in known]
    return uses


def items_for_cell(
    indicator: Indicator, *, unit_kind: str, unit_id: int, period_type: str, period_start: datetime.date
) -> list[ItemUse]:
    """``indicator_items`` with each item's value for the unit and period (one query)."""
    uses = indicator_items(indicator)
    values = dict(
        UnitValue.objects.filter(
            item__in=[use.item.code for use in uses],
            unit_kind=unit_kind,
            unit_id=unit_id,
            period_type=period_type,
            period_start=period_start,
        ).values_list("item", "value")
    )
    for use in uses:
        use.value = values.get(use.item.code, Decimal(0))
    return uses


@dataclass
class Records:
    """The records behind one data item for one unit and period, as the actor may see them.

    ``rows`` is None when the source has no drill-down policy (aggregates
    only) or the item cannot be placed in that kind of unit; otherwise
    ``KeyedRows`` of dicts (column paths, plus ``pk`` and ``public_id`` when
    records have a page) to paginate keys first, then pass each row through
    ``cells``.
    """

    item: DataItem
    columns: tuple[Column, ...]
    rows: KeyedRows | None
    full: bool
    reason: str = ""
    detail_url: str = ""
    _path_index: dict[str, int] = field(default_factory=dict)
    labels: dict[str, dict[Any, Any]] = field(default_factory=dict)
    averaged: bool = False
    """A stock over more than a month: its value is the average of the month-end counts, and the rows are
    the records in force at the end of any of the period's months."""
    """Display labels of columns whose field has choices (status, direction), by column path."""
    in_scope: QuerySet | None = None
    """The unit's records of the period before the source's policy narrowed them (None: nothing narrowed)."""

    def hidden_by_policy(self) -> bool:
        """Whether the unit has records in the period that the source's policy keeps from the actor.

        Asked only when the actor sees no row, to tell "none you may see" from "none at all" (one query).
        """
        return self.in_scope is not None and self.in_scope.exists()

    @property
    def holds_patient_data(self) -> bool:
        """The source's records name patients (a sensitive column): their details are the treating side's."""
        return any(column.sensitive for column in self.columns)

    def cells(self, row: dict[str, Any]) -> list[Any]:
        """The row's values in column order, sensitive ones masked unless the actor sees them in full."""
        shown = []
        for column in self.columns:
            value = row.get(column.path)
            if column.sensitive and not self.full and value not in (None, ""):
                value = mask_name(str(value)) if column.path.endswith("name") else MASK
            elif isinstance(value, datetime.datetime):
                value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            elif column.path in self.labels and value in self.labels[column.path]:
                value = str(self.labels[column.path][value])
            shown.append(value)
        return shown


def _choice_labels(model: Any, path: str) -> dict[Any, Any] | None:
    """{stored value: label} of the field at ``path`` when it has choices."""
    target = model
    for part in path.split("__")[:-1]:
        target = target._meta.get_field(part).related_model
    choices = target._meta.get_field(path.split("__")[-1]).flatchoices
    return dict(choices) if choices else None


def _is_datetime(model: Any, path: str) -> bool:
    target = model
    for part in path.split("__")[:-1]:
        target = target._meta.get_field(part).related_model
    return target._meta.get_field(path.split("__")[-1]).get_internal_type() == "DateTimeField"


def _bound(model: Any, path: str, day: datetime.date) -> Any:
    if _is_datetime(model, path):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return day


def _unit_filter(source: DataSource, unit_kind: str, unit_id: int) -> Q | None:
    """Records of the unit, or None when the source cannot be placed in that kind of unit."""
    if source.is_regional:
        if unit_kind in (UnitKind.INSTITUTION, UnitKind.DEPARTMENT):
            return None
        regions = UnitMember.objects.filter(
            unit_kind=unit_kind, unit_id=unit_id, region_id__isnull=False
        ).values("region_id")
        return Q(**{f"{source.region_field or 'pk'}__in": regions})
    if unit_kind == UnitKind.INSTITUTION:
        return Q(**{f"{source.institution_field}_id": unit_id})
    if unit_kind == UnitKind.DEPARTMENT:
        if not source.department_field:
            return None
        return Q(**{f"{source.department_field}_id": unit_id})
    members = UnitMember.objects.filter(
        unit_kind=unit_kind, unit_id=unit_id, institution_id__isnull=False
    ).values("institution_id")
    return Q(**{f"{source.institution_field}_id__in": members})


def _split(source: DataSource, model: Any, unit_kind: str, unit_id: int) -> Split | None:
    """A unit of many institutions whose records are indexed by institution, then date: read its pages
    institution by institution (``Split``). A county consortium's year of visits is millions of rows;
    one list would sort them all for each page."""
    if (
        source.is_regional
        or not source.date_field
        or unit_kind in (UnitKind.INSTITUTION, UnitKind.DEPARTMENT)
    ):
        return None
    wanted = [source.institution_field, source.date_field]
    if not any([name.lstrip("-") for name in index.fields[:2]] == wanted for index in model._meta.indexes):
        return None
    institutions = UnitMember.objects.filter(
        unit_kind=unit_kind, unit_id=unit_id, institution_id__isnull=False
    ).values_list("institution_id", flat=True)
    return Split(field=f"{source.institution_field}_id", values=institutions)


def _period_filter(source: DataSource, model: Any, start: datetime.date, end: datetime.date) -> Q:
    """Flows: dated inside the period. Stocks: in force at the end of one of the period's months.

    A stock's figure over a quarter, half-year or year is the average of its month-end counts
    (``evaluation``), so a record in force at the end of March but ended in June counts in the year's
    figure: it is listed, though it is no longer in force at the year's end. The condition is the
    engine's, once per month end (at most twelve).
    """
    if source.is_stock or not source.date_field:
        if not source.date_field and not source.ends_field:
            return Q()
        condition = Q()
        for month_end in _month_ends(start, end):
            in_force = Q()
            if source.date_field:
                in_force &= Q(**{f"{source.date_field}__lt": _bound(model, source.date_field, month_end)})
            if source.ends_field:
                in_force &= Q(**{f"{source.ends_field}__isnull": True}) | Q(
                    **{f"{source.ends_field}__gte": _bound(model, source.ends_field, month_end)}
                )
            condition |= in_force
        return condition
    return Q(
        **{
            f"{source.date_field}__gte": _bound(model, source.date_field, start),
            f"{source.date_field}__lt": _bound(model, source.date_field, end),
        }
    )


def _month_ends(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The first day after each month of the period ``start`` (inclusive) – ``end`` (exclusive)."""
    ends = [period_end(PeriodType.MONTH, start)]
    while ends[-1] < end:
        ends.append(period_end(PeriodType.MONTH, ends[-1]))
    return ends


def shows_full(actor: Any, source: DataSource) -> bool:
    """Whether the source module shows this actor its records' personal data in full.

    The source says so with its ``shows_full(actor)`` hook (the patient
    modules grant it to roles that see patients); without one, personal data
    is always masked here.
    """
    return bool(source.shows_full(actor)) if source.shows_full is not None else False


def item_records(
    actor: Any,
    indicator: Indicator,
    item_code: str,
    *,
    unit_kind: str,
    unit_id: int,
    period_type: str,
    period_start: datetime.date,
) -> Records:
    """The records behind ``item_code`` (named by the indicator) for one unit and period.

    ``source.records()`` narrowed by the item's filter, intersected with
    ``source.visible_to(actor)``, limited to the unit's institutions (or
    department, or regions) and the period (stocks: in force at its end),
    newest first. Rows are read lazily, one query per page (plus the count).
    Raises NotFound (unit not visible, item not in the indicator), NotAllowed.
    """
    if not policies.can_view_figures(actor):
        raise NotAllowed()
    if not visible(actor).allows(unit_kind, unit_id):
        raise NotFound("unit")
    use = next((use for use in indicator_items(indicator) if use.item.code == item_code), None)
    if use is None:
        raise NotFound("item")
    item, source = use.item, use.item.source
    result = Records(
        item=item,
        columns=source.columns,
        rows=None,
        full=False,
        detail_url=source.detail_url,
        averaged=(source.is_stock or not source.date_field) and period_type != PeriodType.MONTH,
    )
    if source.visible_to is None:
        result.reason = "aggregate_only"
        return result
    condition = _unit_filter(source, unit_kind, unit_id)
    if condition is None:
        result.reason = "not_placed"
        return result
    records = source.records()
    model = records.model
    end = period_end(period_type, period_start)
    records = records.filter(item.filter, condition, _period_filter(source, model, period_start, end))
    readable = source.visible_to(actor)
    if readable.query.where:
        # An unfiltered queryset (a platform administrator's) would only add a semi-join with every
        # record of the source: millions of keys hashed for nothing.
        result.in_scope = records
        records = records.filter(pk__in=readable.values("pk"))
    order = f"-{source.date_field}" if source.date_field else "-pk"
    paths = [column.path for column in source.columns]
    extra = ["pk"]
    if source.detail_url and any(f.name == "public_id" for f in model._meta.get_fields()):
        extra.append("public_id")
    ordered = records.order_by(order, "-pk")
    result.rows = KeyedRows(
        keys=ordered, rows=ordered.values(*paths, *extra), split=_split(source, model, unit_kind, unit_id)
    )
    result.labels = {path: labels for path in paths if (labels := _choice_labels(model, path)) is not None}
    result.full = shows_full(actor, source)
    return result


# --- catalogue reads --------------------------------------------------------------------------------------


@dataclass
class FormulaItems:
    """The data items each formula names, with their names and descriptions (unknown codes listed apart)."""

    numerator: list[DataItem]
    denominator: list[DataItem]
    unknown: list[str]


def formula_items(indicator: Indicator) -> FormulaItems:
    """The data items of the indicator's formulas, in order of appearance."""
    known = registry.data_items()
    found = FormulaItems([], [], [])
    for side in ("numerator", "denominator"):
        text = getattr(indicator, side)
        if not text.strip():
            continue
        try:
            codes = expressions.item_codes(expressions.parse(text))
        except expressions.ExpressionError:
            continue
        for code in codes:
            if code in known:
                getattr(found, side).append(known[code])
            elif code not in found.unknown:
                found.unknown.append(code)
    return found


@dataclass
class VersionChange:
    """One saved version and the fields it changed from the version before it."""

    version: int
    changed_at: datetime.datetime
    changed_by: str
    changes: list[tuple[str, Any, Any]]


def version_changes(indicator: Indicator) -> list[VersionChange]:
    """The indicator's versions, newest first, each with (field label, before, after) of what it changed."""
    versions = list(indicator.versions.select_related("changed_by").order_by("version"))
    labels = {f.name: str(f.verbose_name) for f in Indicator._meta.get_fields() if hasattr(f, "verbose_name")}
    changes: list[VersionChange] = []
    previous: dict[str, Any] = {}
    for version in versions:
        definition = version.definition or {}
        changed = [
            (labels.get(name, name), previous.get(name), value)
            for name, value in definition.items()
            if previous and previous.get(name) != value
        ]
        user = version.changed_by
        changes.append(
            VersionChange(
                version=version.version,
                changed_at=version.changed_at,
                changed_by=(getattr(user, "full_name", "") or user.get_username()) if user else "",
                changes=changed,
            )
        )
        previous = definition
    return list(reversed(changes))


def indicator_uses(indicator: Indicator) -> list[tuple[str, int]]:
    """Where the indicator is used: (model name, rows) of every other table pointing at it.

    Read from the model relations so that the engine needs to know nothing of
    the apps built on it (assessment schemes, cockpit cards).
    """
    uses = []
    own = {"indicatorversion", "indicatorvalue"}
    for relation in Indicator._meta.related_objects:
        model = relation.related_model
        if model._meta.model_name in own:
            continue
        count = model._default_manager.filter(**{relation.field.name: indicator}).count()
        if count:
            uses.append((str(model._meta.verbose_name_plural), count))
    return uses


def editable_consortia(actor: Any) -> list[Any]:
    """Consortia whose own indicators the actor may create or edit (office, or regulator over the region)."""
    scope = scope_for(actor)
    if not policies.can_create_indicator(actor):
        return []
    consortia = consortium_list(actor)
    if not scope.is_platform_admin and not scope.region_prefixes_with():
        consortia = consortia.filter(pk__in=sorted(scope.consortia_with(Role.CONSORTIUM_OFFICE)))
    return [consortium for consortium in consortia if policies.can_edit_indicator(actor, consortium)]


@dataclass
class DataItemRow:
    """A registered data item, how it is counted and the indicators (the actor reads) that use it."""

    item: DataItem
    is_stock: bool
    is_regional: bool
    has_departments: bool
    indicators: list[Indicator]


def data_item_rows(actor: Any, *, query: str = "") -> list[DataItemRow]:
    """Every data item (optionally matching ``query`` in code, name or description) with its users."""
    used: dict[str, list[Indicator]] = {}
    for indicator in selectors.indicator_list(actor, include_inactive=True):
        for use in indicator_items(indicator):
            bucket = used.setdefault(use.item.code, [])
            if indicator not in bucket:
                bucket.append(indicator)
    rows = []
    needle = query.lower()
    for code, item in registry.data_items().items():
        text = f"{code} {item.name} {item.description} {item.module}".lower()
        if needle and needle not in text:
            continue
        rows.append(
            DataItemRow(
                item=item,
                is_stock=item.source.is_stock or not item.source.date_field,
                is_regional=item.source.is_regional,
                has_departments=bool(item.source.department_field),
                indicators=used.get(code, []),
            )
        )
    return rows


def office_consortia(actor: Any) -> list[Any]:
    """Consortia whose ranking policy the actor decides (their office)."""
    scope = scope_for(actor)
    ids = sorted(scope.consortia_with(Role.CONSORTIUM_OFFICE))
    if not ids:
        return []
    return [
        c for c in consortium_list(actor).filter(pk__in=ids) if policies.can_edit_ranking_policy(actor, c)
    ]


@dataclass
class RankingSettings:
    """What a consortium's members see of each other (defaults when the office never decided)."""

    members_see_ranking: bool = True
    members_see_others_values: bool = True
    updated_at: datetime.datetime | None = None


def ranking_policy_of(consortium: Any) -> RankingSettings:
    """The consortium's ranking policy, or the defaults."""
    policy = RankingPolicy.objects.filter(consortium=consortium).first()
    if policy is None:
        return RankingSettings()
    return RankingSettings(policy.members_see_ranking, policy.members_see_others_values, policy.updated_at)
