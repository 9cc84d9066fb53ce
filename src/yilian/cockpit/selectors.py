"""The cockpit's read model: a consortium's key figures, trends, rankings and township map; the regulator's view.

Everything here is a read over computed figures (``indicators``) and registry
reference data (``institutions``), scoped by ``indicators.selectors``:
``visible_units`` says whose values the actor sees and ``ranking_visible``
whether a consortium's members see their ranking. Figures are fetched in a
fixed number of set queries (one per block of the page, never one per
indicator or unit) so the page costs about the same whatever the county's size.

Both pages run their policy checks on every request, then take their content
(plain data) from the figures cache (``caching``, ADR 0020), computing it
only when a refresh, an indicator edit or a registry change made a new
generation, or nobody with the same reach asked for those filters yet.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, cast

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation

from yilian.accounts.selectors import scope_for
from yilian.cockpit import caching
from yilian.core import generations
from yilian.core.exceptions import NotAllowed, NotFound
from yilian.core.permissions import INSTITUTION_ROLES, Role
from yilian.indicators import drilldown
from yilian.indicators import policies as indicator_policies
from yilian.indicators import selectors as indicator_selectors
from yilian.indicators.choices import PERIOD_MONTHS, Direction, IndicatorKind, PeriodType, UnitKind
from yilian.indicators.models import Indicator, IndicatorValue, shown_name, shown_unit
from yilian.institutions import selectors as registry
from yilian.institutions.boundaries import boundary_features, map_regions

CARD_LIMIT = 8
"""At most this many key indicators on the cards, trends and rankings."""
TREND_MONTHS = 12
PERIOD_TYPE_ORDER = [PeriodType.YEAR, PeriodType.HALF_YEAR, PeriodType.QUARTER, PeriodType.MONTH]
"""Preferred default period type first: the year's figures are the ones assessed."""


# --- shared pieces --------------------------------------------------------------------------------------------


DEFAULT_KEY_CODES = (
    "ncm2024_07",  # 县域内基层医疗卫生机构诊疗人次数占比
    "ncm2024_11",  # 参保人县域内住院人次占比
    "ncm2024_08",  # 医保基金县域内支出占比（不含药店）
    "ncm2024_10",  # 参保人在县域内住院人均费用
    "ncm2024_12",  # 县域内中医类诊疗量占比
    "seed_up_referral_rate",  # 成员单位月度上转率
    "seed_two_way_ratio",  # 双向转诊比
    "seed_recognition_rate",  # 检查检验结果互认率
)
"""The shipped catalogues' headline indicators (``indicators.catalogue``): the county consortium's
monitoring set's service, insurance and TCM shares, and the seeds' referral and recognition figures."""


def key_indicator_codes() -> list[str]:
    """Codes of the cockpit's key indicators, in order.

    ``settings.COCKPIT_KEY_INDICATORS`` when set, else ``DEFAULT_KEY_CODES``.
    """
    configured = getattr(settings, "COCKPIT_KEY_INDICATORS", None)
    return list(configured) if configured else list(DEFAULT_KEY_CODES)


def key_indicators(consortium_id: int | None = None) -> list[Indicator]:
    """The active quantitative key indicators (shared ones and ``consortium_id``'s own), one query.

    When none of the key codes is installed (a fresh platform, a test), the
    first active indicators in catalogue order stand in.
    """
    indicators = Indicator.objects.filter(is_active=True, kind=IndicatorKind.QUANTITATIVE).filter(
        Q(consortium__isnull=True) | Q(consortium_id=consortium_id)
    )
    codes = key_indicator_codes()
    # One query for every active indicator (a catalogue holds tens, not thousands) serves both cases.
    found = list(indicators.order_by("catalogue__sort_order", "sort_order", "code"))
    by_code = {indicator.code: indicator for indicator in found}
    keys = [by_code[code] for code in codes if code in by_code]
    return (keys or found)[:CARD_LIMIT]


@dataclass
class KeyIndicator:
    """What the cockpit shows of an indicator, as plain values (a cached page holds no model instance)."""

    pk: int
    code: str
    name: str
    unit: str
    decimals: int
    direction: str
    target: Decimal | None
    legend: list[dict[str, Any]]
    public_id: str = ""
    name_en: str = ""

    @property
    def display_name(self) -> str:
        """The name in the reader's language, as ``Indicator.display_name``."""
        return shown_name(self.name, self.name_en)

    @property
    def display_unit(self) -> str:
        """The unit in the reader's language, as ``Indicator.display_unit``."""
        return shown_unit(self.unit)

    @property
    def shown_legend(self) -> list[dict[str, Any]]:
        """The legend with its labels in the reader's language (see ``shown_legend``)."""
        return shown_legend(self.legend)


def _plain_indicator(indicator: Indicator) -> dict[str, Any]:
    """The fields of ``KeyIndicator`` as a dict, for the cache."""
    return {
        "pk": indicator.pk,
        "code": indicator.code,
        "name": indicator.name,
        "name_en": indicator.name_en,
        "unit": indicator.unit,
        "decimals": indicator.decimals,
        "direction": str(indicator.direction),
        "target": indicator.target,
        "legend": list(indicator.legend or []),
        "public_id": str(indicator.public_id),
    }


def legend_band(indicator: Indicator | KeyIndicator, value: Decimal | None) -> dict[str, Any] | None:
    """The indicator's legend band (green/yellow/red) holding ``value``: the figures pages' rule
    (``drilldown.legend_band``), so a tile, a ranking row and a map region of the same value agree."""
    return drilldown.legend_band(cast(Indicator, indicator), value)


def shown_legend(legend: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The legend's bands with their labels as the reader reads them (the shipped labels translated) and
    their bounds as text ("≥ 65", "55–65", "≤ 55"; where bands touch, the first band listed holds the bound)."""
    shown = []
    for band in legend or []:
        low, high = (None if band.get(end) in (None, "") else str(band[end]) for end in ("from", "to"))
        bounds = f"{low}–{high}" if low and high else f"≥ {low}" if low else f"≤ {high}" if high else ""
        shown.append({**band, "label": drilldown.band_label(band.get("label") or ""), "bounds": bounds})
    return shown


def rounded(indicator: Indicator | KeyIndicator, value: Decimal | None) -> Decimal | None:
    """``value`` to the indicator's decimals."""
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-indicator.decimals))


def period_label(period_type: str, period_start: datetime.date) -> str:
    """ "2025", "2025 H1", "2025 Q2", "2025-03"."""
    if period_type == PeriodType.YEAR:
        return str(period_start.year)
    if period_type == PeriodType.HALF_YEAR:
        return f"{period_start.year} H{1 if period_start.month <= 6 else 2}"
    if period_type == PeriodType.QUARTER:
        return f"{period_start.year} Q{(period_start.month - 1) // 3 + 1}"
    return period_start.strftime("%Y-%m")


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _parse_date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


@dataclass
class Period:
    """One period a figure exists for."""

    period_type: str
    start: datetime.date

    @property
    def label(self) -> str:
        """Readable label."""
        return period_label(self.period_type, self.start)

    @property
    def end(self) -> datetime.date:
        """First day of the last month in the period."""
        return _add_months(self.start, PERIOD_MONTHS[PeriodType(self.period_type)] - 1)


def _choose_period(
    available: list[tuple[str, datetime.date]], period_type: str, period: str
) -> Period | None:
    """The requested period when it exists, else the latest complete one of the requested (or preferred) type.

    A period still running (this year, this month) has partial figures that
    would read as a drop, so it is shown only when asked for or when no
    complete period has figures.
    """
    types = {kind for kind, _start in available}
    if period_type not in types:
        period_type = next((str(kind) for kind in PERIOD_TYPE_ORDER if kind in types), "")
    starts = sorted((start for kind, start in available if kind == period_type), reverse=True)
    if not starts:
        return None
    wanted = _parse_date(period)
    if wanted in starts:
        return Period(period_type, wanted)
    today = timezone.localdate()
    complete = [start for start in starts if _period_end(period_type, start) < today]
    return Period(period_type, complete[0] if complete else starts[0])


def period_menu(available: list[tuple[str, datetime.date]]) -> dict[str, dict[str, Any]]:
    """For each period type with figures, its periods newest first as ``[ISO start, label]`` and the one shown
    when the type is chosen without a period (``_choose_period``'s default): the filter form rebuilds its period
    list from this when the type changes, so it never sends one type's period with another type."""
    menu: dict[str, dict[str, Any]] = {}
    for kind in PERIOD_TYPE_ORDER:
        starts = sorted({start for found, start in available if found == kind}, reverse=True)
        if not starts:
            continue
        default = _choose_period(available, str(kind), "")
        menu[str(kind)] = {
            "default": default.start.isoformat() if default else "",
            "options": [[start.isoformat(), period_label(str(kind), start)] for start in starts],
        }
    return menu


def _period_end(period_type: str, start: datetime.date) -> datetime.date:
    """The last day of the period of ``period_type`` beginning on ``start``."""
    months = PERIOD_MONTHS[PeriodType(period_type)]
    following = datetime.date(
        start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1, 1
    )
    return following - datetime.timedelta(days=1)


@dataclass
class Card:
    """A key indicator's figure for the chosen unit and period."""

    indicator: KeyIndicator
    value: Decimal | None
    previous_value: Decimal | None
    band: dict[str, Any] | None

    @property
    def change(self) -> Decimal | None:
        """Change against the same period of the previous year."""
        if self.value is None or self.previous_value is None:
            return None
        return rounded(self.indicator, self.value - self.previous_value)

    @property
    def improved(self) -> bool | None:
        """Whether the change goes the better way (None without a direction or a change)."""
        change = self.change
        if change is None or change == 0 or self.indicator.direction == Direction.NEUTRAL:
            return None
        return (change > 0) == (self.indicator.direction == Direction.HIGHER)

    @property
    def colour(self) -> str:
        """green/yellow/red from the legend, "" when no band holds the value."""
        return str(self.band.get("color", "")) if self.band else ""


@dataclass
class RankRow:
    """One member in an indicator's ranking; ``value`` is None when the actor may not see it."""

    rank: int
    unit_id: int
    name: str
    value: Decimal | None
    colour: str
    own: bool
    ref: str = ""
    """The member's public id when the actor sees its figures (its drill-down link), else ""."""


RANKING_HEAD = 10
RANKING_TAIL = 5
"""A long ranking shows its first 10 and last 5 rows and the actor's own (the Excel export has every row)."""


@dataclass
class Ranking:
    """Members of the consortium ranked by one indicator (better first)."""

    indicator: KeyIndicator
    rows: list[RankRow]

    @property
    def display_rows(self) -> list[RankRow | None]:
        """Rows to show on the page; None marks rows left out."""
        if len(self.rows) <= RANKING_HEAD + RANKING_TAIL + 5:
            return list(self.rows)
        keep = set(range(RANKING_HEAD)) | set(range(len(self.rows) - RANKING_TAIL, len(self.rows)))
        keep |= {index for index, row in enumerate(self.rows) if row.own}
        shown: list[RankRow | None] = []
        for index, row in enumerate(self.rows):
            if index in keep:
                shown.append(row)
            elif shown and shown[-1] is not None:
                shown.append(None)
        return shown


def _rank(
    indicator: Indicator, values: dict[int, Decimal], names: dict[int, str], shown: Any
) -> list[list[Any]]:
    """Competition ranking (1, 2, 2, 4) in the indicator's better direction, as plain rows ``[rank, unit id,
    value, colour]``; ``shown(unit_id)`` says whether the value itself may be shown (else None and no colour)."""
    descending = indicator.direction != Direction.LOWER
    ordered = sorted(
        values.items(), key=lambda item: (-item[1] if descending else item[1], names.get(item[0], ""))
    )
    rows: list[list[Any]] = []
    for position, (unit_id, value) in enumerate(ordered, start=1):
        rank = rows[-1][0] if rows and ordered[position - 2][1] == value else position
        visible = shown(unit_id)
        band = legend_band(indicator, value) if visible else None
        rows.append(
            [
                rank,
                unit_id,
                rounded(indicator, value) if visible else None,
                str(band.get("color", "")) if band else "",
            ]
        )
    return rows


def _map_data(
    indicator: Indicator | None, parent_code: str, period: Period | None, units: Any
) -> dict[str, Any] | None:
    """GeoJSON of ``parent_code``'s child regions and the indicator's region values the actor sees (two queries)."""
    if indicator is None or period is None or not parent_code:
        return None
    regions = map_regions(parent_code)
    if not regions:
        return None
    values = dict(
        IndicatorValue.objects.filter(
            indicator=indicator,
            unit_kind=UnitKind.REGION,
            unit_id__in=[region.pk for region in regions],
            period_type=period.period_type,
            period_start=period.start,
            value__isnull=False,
        ).values_list("unit_id", "value")
    )
    rows = []
    for region in regions:
        value = values.get(region.pk) if units.allows(UnitKind.REGION, region.pk) else None
        band = legend_band(indicator, value)
        rows.append(
            {
                "name": region.name,
                "code": region.code,
                "value": None if value is None else float(rounded(indicator, value) or 0),
                "colour": str(band.get("color", "")) if band else "",
                "band": drilldown.band_label(str(band.get("label") or "")) if band else "",
            }
        )
    numbers = [row["value"] for row in rows if row["value"] is not None]
    return {
        "geojson": boundary_features(regions),
        "rows": rows,
        "indicator": {"code": indicator.code, "name": indicator.display_name, "unit": indicator.display_unit},
        "min": min(numbers) if numbers else 0,
        "max": max(numbers) if numbers else 0,
        "higher_is_better": indicator.direction != Direction.LOWER,
        "legend": shown_legend(indicator.legend),
    }


def _pick(indicators: list[Any], code: str) -> Any:
    """The indicator of ``indicators`` with ``code``, else the first (None when there is none)."""
    return next(
        (indicator for indicator in indicators if indicator.code == code),
        indicators[0] if indicators else None,
    )


# --- the consortium cockpit -----------------------------------------------------------------------------------

REACH_KINDS = (UnitKind.CONSORTIUM.value, UnitKind.INSTITUTION.value, UnitKind.REGION.value)
"""The kinds of unit the cockpit shows figures of (consortia, members, the map's regions): a reader's reach
signature covers these, so readers who differ only in departments or grids share the page."""


@dataclass
class ConsortiumChoice:
    """A consortium the actor may open in the cockpit."""

    pk: int
    public_id: Any
    name: str
    region_code: str


@dataclass
class Cockpit:
    """Everything the consortium cockpit shows, ready to render and to export.

    ``cache_key`` names the cached content it was built from; ``from_cache``
    says whether that content was already there (a warm page) or computed now.
    ``page_key`` identifies everything the page body shows: the content and
    what the live checks add to it (the consortia to choose from, the
    actor's own members, whether they may start a refresh).
    """

    consortium: ConsortiumChoice
    consortia: list[ConsortiumChoice]
    unit_kind: str
    unit_id: int
    unit_name: str
    unit_choices: list[tuple[str, str]]
    period: Period | None
    periods: list[Period]
    period_types: list[tuple[str, str]]
    cards: list[Card]
    trend: dict[str, Any]
    ranking_rows: list[list[list[Any]]]
    """Per key indicator, its ranking as cached: ``[rank, unit id, value, colour]`` rows (see ``rankings``)."""
    members: dict[int, str]
    own: set[int]
    ranking_visible: bool
    map_indicator: KeyIndicator | None
    map: dict[str, Any] | None
    indicators: list[KeyIndicator]
    may_refresh: bool
    empty: bool = field(default=False)
    period_menu: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each period type's periods and default, for the filter form (``period_menu``)."""
    member_refs: dict[int, str] = field(default_factory=dict)
    """Public ids of the members, by id: the drill-down pages address units by them."""
    cache_key: str = ""
    from_cache: bool = False
    page_key: str = ""

    @property
    def unit_value(self) -> str:
        """The unit as the filter form spells it."""
        return "consortium" if self.unit_kind == UnitKind.CONSORTIUM else f"{self.unit_kind}:{self.unit_id}"

    @property
    def unit_ref(self) -> str:
        """The unit shown, as the figures pages address it (its public id)."""
        if self.unit_kind == UnitKind.CONSORTIUM:
            return str(self.consortium.public_id)
        return self.member_refs.get(self.unit_id, "")

    def member_visible(self, unit_id: int) -> bool:
        """Whether the actor sees the member's figures: the unit list holds exactly those members."""
        return f"{UnitKind.INSTITUTION.value}:{unit_id}" in self._unit_values

    @cached_property
    def _unit_values(self) -> set[str]:
        return {value for value, _name in self.unit_choices}

    @cached_property
    def rankings(self) -> list[Ranking]:
        """The members' rankings, one per key indicator, the actor's own members marked.

        Built when first asked for: a page whose body comes from the cache never needs them.
        """
        return [
            Ranking(
                indicator,
                [
                    RankRow(
                        rank=rank,
                        unit_id=unit_id,
                        name=self.members.get(unit_id, str(unit_id)),
                        value=value,
                        colour=colour,
                        own=unit_id in self.own,
                        ref=self.member_refs.get(unit_id, "") if self.member_visible(unit_id) else "",
                    )
                    for rank, unit_id, value, colour in rows
                ],
            )
            for indicator, rows in zip(self.indicators, self.ranking_rows, strict=False)
        ]


def consortia_for_cockpit(actor: Any, units: Any = None) -> list[ConsortiumChoice]:
    """Consortia whose figures the actor sees (office, members' staff, regulators of the region), most local first.

    ``units`` is the actor's ``visible_units`` when the caller has it already.
    Raises NotAllowed for anyone without a role.
    """
    if not indicator_policies.can_view_figures(actor):
        raise NotAllowed()
    if units is None:
        units = indicator_selectors.visible_units(actor, [UnitKind.CONSORTIUM.value])
    consortia = registry.consortium_list(actor).prefetch_related(None)
    if not units.everything:
        consortia = consortia.filter(pk__in=sorted(units.ids.get(UnitKind.CONSORTIUM, set())))
    rows = consortia.values_list("pk", "public_id", "name", "region__code", "region__prefix")
    # The most local first (a county's community before the city's group or a specialty alliance):
    # the cockpit opens on the first, and a township's staff mean their county's consortium.
    rows = sorted(rows, key=lambda row: (-len(row[4] or ""), row[3] or "", row[2]))
    return [
        ConsortiumChoice(pk, public_id, name, region_code or "")
        for pk, public_id, name, region_code, _p in rows
    ]


def _resolve_unit(unit: str, members: dict[int, str], units: Any) -> tuple[str, int | None]:
    """The unit the filter names: ("consortium", None) or ("institution", id) of a member the actor sees.

    Raises NotFound for anything else (another consortium's institution, one
    the actor may not see, garbage).
    """
    if not unit or unit == UnitKind.CONSORTIUM:
        return UnitKind.CONSORTIUM.value, None
    kind, _sep, raw = unit.partition(":")
    picked = int(raw) if raw.isdigit() else 0
    if (
        kind != UnitKind.INSTITUTION
        or picked not in members
        or not units.allows(UnitKind.INSTITUTION, picked)
    ):
        raise NotFound("unit")
    return UnitKind.INSTITUTION.value, picked


def _plain_period(period_type: str, period: str) -> tuple[str, str]:
    """The period filters as the pages read them: an unknown type or a date that does not parse means none.

    Keys hold these, so garbage in a URL makes no entries of its own.
    """
    start = _parse_date(period)
    return (period_type if period_type in PeriodType.values else "", start.isoformat() if start else "")


def _figures_generation() -> str:
    """The generation of everything the figures pages are computed from (one query)."""
    return generations.current(indicator_selectors.FIGURES_GENERATION, registry.REGISTRY_GENERATION)


def _key_parts(units: Any, kinds: tuple[str, ...]) -> dict[str, Any]:
    """What every figures page's key holds besides its filters (see ``caching``).

    The generation is read here, before the content is computed, so an
    entry is never filed under a generation newer than its figures.
    """
    return {
        "generation": _figures_generation(),
        "reach": caching.reach_signature(units.everything, units.ids, kinds, units.region_prefixes),
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "today": timezone.localdate().isoformat(),
        "key_codes": tuple(key_indicator_codes()),
    }


def cockpit(
    actor: Any,
    *,
    consortium: str = "",
    period_type: str = "",
    period: str = "",
    unit: str = "",
    map_indicator: str = "",
) -> Cockpit:
    """The cockpit of one consortium (``consortium`` = public id; the first reachable one when empty).

    ``unit`` is "consortium" or "institution:<id>" of a member the actor
    sees; ``period_type``/``period`` (ISO start date) choose the period,
    defaulting to the latest complete period with figures (years first). Raises NotAllowed (no role,
    or no consortium in reach) and NotFound (a consortium or unit out of reach).

    The checks run on every call; the content comes from the figures cache
    when a reader with the same reach asked for the same filters since the
    last refresh (``caching``): then a handful of queries, else a constant
    number more whatever the number of members, indicators or townships.
    """
    if not indicator_policies.can_view_figures(actor):
        raise NotAllowed()
    units = indicator_selectors.visible_units(actor, REACH_KINDS)
    consortia = consortia_for_cockpit(actor, units)
    if not consortia:
        raise NotAllowed()
    chosen = (
        consortia[0]
        if not consortium
        else next((c for c in consortia if str(c.public_id) == consortium), None)
    )
    if chosen is None:
        raise NotFound("consortium")
    unit = unit or UnitKind.CONSORTIUM.value
    period_type, period = _plain_period(period_type, period)
    show_ranking = indicator_selectors.ranking_visible(actor, chosen.pk)
    key = caching.content_key(
        "cockpit",
        {
            **_key_parts(units, REACH_KINDS),
            "consortium": (chosen.pk, chosen.region_code),
            "ranking": show_ranking,
            "unit": unit,
            "period_type": period_type,
            "period": period,
            "map": map_indicator,
        },
    )
    content, hit = caching.get_or_compute(
        key,
        lambda: _cockpit_content(
            chosen,
            units,
            unit=unit,
            period_type=period_type,
            period=period,
            map_indicator=map_indicator,
            show_ranking=show_ranking,
        ),
    )
    members: dict[int, str] = dict(content["members"])
    # The unit's reach check runs on every request, on the live reach, whatever the cache holds.
    unit_kind, picked = _resolve_unit(unit, members, units)
    indicators = [KeyIndicator(**data) for data in content["indicators"]]
    chosen_period = Period(*content["period"]) if content["period"] else None
    own = set(scope_for(actor).institutions_with(*INSTITUTION_ROLES)) & members.keys()
    map_position = content["map_indicator"]
    may_refresh = indicator_policies.can_request_refresh(actor)
    page_key = caching.content_key(
        "cockpit-page",
        {
            "content": key,
            "consortia": tuple((choice.pk, str(choice.public_id), choice.name) for choice in consortia),
            "own": tuple(sorted(own)),
            "may_refresh": may_refresh,
        },
    )
    return Cockpit(
        consortium=chosen,
        consortia=consortia,
        unit_kind=unit_kind,
        unit_id=chosen.pk if picked is None else picked,
        unit_name=chosen.name if picked is None else members[picked],
        unit_choices=[(UnitKind.CONSORTIUM.value, chosen.name)]
        + [
            (f"institution:{pk}", name)
            for pk, name in members.items()
            if units.allows(UnitKind.INSTITUTION, pk)
        ],
        period=chosen_period,
        periods=[Period(chosen_period.period_type, start) for start in content["periods"]]
        if chosen_period
        else [],
        period_types=[(value, str(PeriodType(value).label)) for value in content["period_types"]],
        cards=[
            Card(indicator=indicator, value=value, previous_value=previous, band=band)
            for indicator, (value, previous, band) in zip(indicators, content["cards"], strict=False)
        ],
        trend=content["trend"],
        ranking_rows=content["rankings"],
        members=members,
        own=own,
        ranking_visible=show_ranking,
        map_indicator=None if map_position is None else indicators[map_position],
        map=content["map"],
        indicators=indicators,
        may_refresh=may_refresh,
        empty=chosen_period is None,
        period_menu=content["period_menu"],
        member_refs=dict(content["member_refs"]),
        cache_key=key,
        from_cache=hit,
        page_key=page_key,
    )


def _cockpit_content(
    chosen: ConsortiumChoice,
    units: Any,
    *,
    unit: str,
    period_type: str,
    period: str,
    map_indicator: str,
    show_ranking: bool,
) -> dict[str, Any]:
    """The cockpit's content as plain data, for the cache (a constant number of queries).

    Raises NotFound for a unit out of reach (nothing is stored then).
    """
    # consortium_members filters on the foreign key, so the id is enough; plain values, since a county
    # consortium has hundreds of members and model rows (with their regions) would dominate the time.
    member_rows = list(
        registry.consortium_members(cast(Any, chosen.pk)).values_list(
            "institution_id", "institution__name", "institution__public_id"
        )
    )
    members: dict[int, str] = {pk: name for pk, name, _ref in member_rows}
    unit_kind, picked = _resolve_unit(unit, members, units)
    unit_id = chosen.pk if picked is None else picked
    indicators = key_indicators(chosen.pk)
    indicator_ids = [indicator.pk for indicator in indicators]
    available = list(
        IndicatorValue.objects.filter(unit_kind=unit_kind, unit_id=unit_id, indicator_id__in=indicator_ids)
        .values_list("period_type", "period_start")
        .distinct()
    )
    chosen_period = _choose_period(available, period_type, period)
    periods = sorted(
        (start for kind, start in available if chosen_period and kind == chosen_period.period_type),
        reverse=True,
    )
    present = {kind for kind, _start in available}
    cards: list[list[Any]] = []
    trend: dict[str, Any] = {"months": [], "series": []}
    rankings: list[list[list[Any]]] = []
    if chosen_period is not None:
        current = {
            indicator_id: (value, previous)
            for indicator_id, value, previous in IndicatorValue.objects.filter(
                unit_kind=unit_kind,
                unit_id=unit_id,
                indicator_id__in=indicator_ids,
                period_type=chosen_period.period_type,
                period_start=chosen_period.start,
            ).values_list("indicator_id", "value", "previous_value")
        }
        for indicator in indicators:
            value, previous = current.get(indicator.pk, (None, None))
            cards.append(
                [rounded(indicator, value), rounded(indicator, previous), legend_band(indicator, value)]
            )
        trend = _trend(indicators, unit_kind, unit_id, chosen_period)
        if show_ranking and members:
            rankings = _rankings(indicators, members, chosen_period, units)
    chosen_map = _pick(indicators, map_indicator)
    return {
        "members": list(members.items()),
        "member_refs": [(pk, str(ref)) for pk, _name, ref in member_rows],
        "indicators": [_plain_indicator(indicator) for indicator in indicators],
        "period": None if chosen_period is None else (chosen_period.period_type, chosen_period.start),
        "periods": periods,
        "period_types": [str(kind) for kind in PERIOD_TYPE_ORDER if kind in present],
        "period_menu": period_menu(available),
        "cards": cards,
        "trend": trend,
        "rankings": rankings,
        "map_indicator": None if chosen_map is None else indicators.index(chosen_map),
        "map": _map_data(chosen_map, chosen.region_code, chosen_period, units),
    }


def _trend(indicators: list[Indicator], unit_kind: str, unit_id: int, period: Period) -> dict[str, Any]:
    """Monthly values over the 12 months ending with the period's last month, a series per indicator (one query)."""
    last = period.end
    months = [_add_months(last, offset) for offset in range(-TREND_MONTHS + 1, 1)]
    values: dict[tuple[int, datetime.date], Decimal | None] = {
        (indicator_id, start): value
        for indicator_id, start, value in IndicatorValue.objects.filter(
            unit_kind=unit_kind,
            unit_id=unit_id,
            indicator_id__in=[indicator.pk for indicator in indicators],
            period_type=PeriodType.MONTH,
            period_start__gte=months[0],
            period_start__lte=last,
        ).values_list("indicator_id", "period_start", "value")
    }
    series = []
    for indicator in indicators:
        points = [rounded(indicator, values.get((indicator.pk, month))) for month in months]
        series.append(
            {
                "code": indicator.code,
                "name": indicator.display_name,
                "unit": indicator.display_unit,
                "target": None if indicator.target is None else float(indicator.target),
                "values": [None if point is None else float(point) for point in points],
                **_axis(indicator, points),
            }
        )
    return {"months": [month.strftime("%Y-%m") for month in months], "series": series}


def _axis(indicator: Indicator, points: list[Decimal | None]) -> dict[str, float | None]:
    """The y axis of a trend: 0–100 for a percentage whose values (and target) lie in 0–100, so a share
    never reads as if it could pass 100 %; otherwise None, and the chart scales to the values."""
    numbers = [point for point in points if point is not None]
    if indicator.target is not None:
        numbers.append(indicator.target)
    if indicator.unit.strip() in ("%", "％") and all(0 <= number <= 100 for number in numbers):
        return {"y_min": 0.0, "y_max": 100.0}
    return {"y_min": None, "y_max": None}


def _rankings(
    indicators: list[Indicator], members: dict[int, str], period: Period, units: Any
) -> list[list[list[Any]]]:
    """Each key indicator's ranking of the members as plain rows (one query). Values of members the actor
    may not see stay hidden; their places in the ranking are shown, as the consortium's ranking policy allows."""
    values: dict[int, dict[int, Decimal]] = {}
    for indicator_id, unit_id, value in IndicatorValue.objects.filter(
        unit_kind=UnitKind.INSTITUTION,
        unit_id__in=sorted(members),
        indicator_id__in=[indicator.pk for indicator in indicators],
        period_type=period.period_type,
        period_start=period.start,
        value__isnull=False,
    ).values_list("indicator_id", "unit_id", "value"):
        values.setdefault(indicator_id, {})[unit_id] = value
    return [
        _rank(
            indicator,
            values.get(indicator.pk, {}),
            members,
            lambda pk: units.allows(UnitKind.INSTITUTION, pk),
        )
        for indicator in indicators
    ]


# --- the regulator's view -------------------------------------------------------------------------------------

REGULATOR_REACH_KINDS = (UnitKind.CONSORTIUM.value, UnitKind.REGION.value)
"""The kinds of unit the regulator's view shows figures of: the region's consortia and the map's regions."""


@dataclass
class RegulatorRow:
    """One consortium's key figures."""

    consortium: ConsortiumChoice
    cards: list[Card]


@dataclass
class RegulatorView:
    """Every consortium of the regulator's region side by side, a bar chart of one indicator, and the region map."""

    region_code: str
    region_name: str
    regions: list[tuple[str, str]]
    indicators: list[KeyIndicator]
    rows: list[RegulatorRow]
    period: Period | None
    periods: list[Period]
    period_types: list[tuple[str, str]]
    chart_indicator: KeyIndicator | None
    chart: dict[str, Any]
    map: dict[str, Any] | None
    empty: bool
    cache_key: str = ""
    from_cache: bool = False
    page_key: str = ""
    """Everything the page body shows: the content, the regions to choose from and the consortia's names."""
    period_menu: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each period type's periods and default, for the filter form (``period_menu``)."""


def can_view_regulator(actor: Any) -> bool:
    """Regulators (over their regions) and platform administrators."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.has_role(Role.REGULATOR)


def regulator_view(
    actor: Any, *, region: str = "", period_type: str = "", period: str = "", indicator: str = ""
) -> RegulatorView:
    """The regulator's view of one of its regions (``region`` code; its first region when empty).

    Raises NotAllowed for everyone but regulators and platform administrators,
    NotFound for a region outside the regulator's reach. The checks and the
    list of consortia run on every call; the figures come from the figures
    cache like the cockpit's. Constant query count.
    """
    if not can_view_regulator(actor):
        raise NotAllowed()
    scope = scope_for(actor)
    prefixes = sorted(scope.region_prefixes_with(Role.REGULATOR))
    candidates = registry.upper_regions(actor)
    if not scope.is_platform_admin:
        prefix_q = Q()
        for prefix in prefixes:
            prefix_q |= Q(prefix=prefix)
        candidates = candidates.filter(prefix_q)
    regions = [
        (code, name, prefix) for code, name, prefix in candidates.values_list("code", "name", "prefix")
    ]
    if not regions:
        raise NotAllowed()
    picked = regions[0] if not region else next((r for r in regions if r[0] == region), None)
    if picked is None:
        raise NotFound("region")
    region_code, region_name, region_prefix = picked
    units = indicator_selectors.visible_units(actor, REGULATOR_REACH_KINDS)
    consortia = [
        ConsortiumChoice(pk, public_id, name, code or "")
        for pk, public_id, name, code in registry.consortium_list(actor, within=region_prefix)
        .prefetch_related(None)
        .values_list("pk", "public_id", "name", "region__code")
        if units.allows(UnitKind.CONSORTIUM, pk)
    ]
    period_type, period = _plain_period(period_type, period)
    key = caching.content_key(
        "regulator",
        {
            **_key_parts(units, REGULATOR_REACH_KINDS),
            "region": region_code,
            "consortia": tuple(choice.pk for choice in consortia),
            "period_type": period_type,
            "period": period,
            "indicator": indicator,
        },
    )
    content, hit = caching.get_or_compute(
        key,
        lambda: _regulator_content(
            [choice.pk for choice in consortia],
            region_code,
            units,
            period_type=period_type,
            period=period,
            indicator=indicator,
        ),
    )
    indicators = [KeyIndicator(**data) for data in content["indicators"]]
    chosen_period = Period(*content["period"]) if content["period"] else None
    rows = [
        RegulatorRow(
            choice,
            [
                Card(indicator=item, value=value, previous_value=previous, band=band)
                for item, (value, previous, band) in zip(indicators, cards, strict=False)
            ],
        )
        for choice, cards in zip(consortia, content["cards"], strict=False)
    ]
    chart_position = content["chart_indicator"]
    chart_indicator = None if chart_position is None else indicators[chart_position]
    chart: dict[str, Any] = {"names": [], "values": [], "colours": [], "indicator": None}
    if chart_indicator is not None and rows:
        chart = {
            "names": [row.consortium.name for row in rows],
            "values": [
                None if row.cards[chart_position].value is None else float(row.cards[chart_position].value)
                for row in rows
            ],
            "colours": [row.cards[chart_position].colour for row in rows],
            "indicator": {
                "code": chart_indicator.code,
                "name": chart_indicator.display_name,
                "unit": chart_indicator.display_unit,
            },
        }
    return RegulatorView(
        region_code=region_code,
        region_name=region_name,
        regions=[(code, name) for code, name, _prefix in regions],
        indicators=indicators,
        rows=rows,
        period=chosen_period,
        periods=[Period(chosen_period.period_type, start) for start in content["periods"]]
        if chosen_period
        else [],
        period_types=[(value, str(PeriodType(value).label)) for value in content["period_types"]],
        chart_indicator=chart_indicator,
        chart=chart,
        map=content["map"],
        empty=chosen_period is None,
        period_menu=content["period_menu"],
        cache_key=key,
        from_cache=hit,
        page_key=caching.content_key(
            "regulator-page",
            {
                "content": key,
                "regions": tuple(regions),
                "consortia": tuple((choice.pk, str(choice.public_id), choice.name) for choice in consortia),
            },
        ),
    )


def _regulator_content(
    consortium_ids: list[int],
    region_code: str,
    units: Any,
    *,
    period_type: str,
    period: str,
    indicator: str,
) -> dict[str, Any]:
    """The regulator's view's figures as plain data, for the cache: the key cards of each consortium (in the
    order of ``consortium_ids``; none before any period has figures) and the region map."""
    indicators = key_indicators()
    indicator_ids = [item.pk for item in indicators]
    available = list(
        IndicatorValue.objects.filter(
            unit_kind=UnitKind.CONSORTIUM, unit_id__in=consortium_ids, indicator_id__in=indicator_ids
        )
        .values_list("period_type", "period_start")
        .distinct()
    )
    chosen_period = _choose_period(available, period_type, period)
    present = {kind for kind, _start in available}
    periods = sorted(
        {start for kind, start in available if chosen_period and kind == chosen_period.period_type},
        reverse=True,
    )
    cards: list[list[list[Any]]] = []
    if chosen_period is not None:
        found = {
            (unit_id, indicator_id): (value, previous)
            for unit_id, indicator_id, value, previous in IndicatorValue.objects.filter(
                unit_kind=UnitKind.CONSORTIUM,
                unit_id__in=consortium_ids,
                indicator_id__in=indicator_ids,
                period_type=chosen_period.period_type,
                period_start=chosen_period.start,
            ).values_list("unit_id", "indicator_id", "value", "previous_value")
        }
        for consortium_id in consortium_ids:
            row = []
            for item in indicators:
                value, previous = found.get((consortium_id, item.pk), (None, None))
                row.append([rounded(item, value), rounded(item, previous), legend_band(item, value)])
            cards.append(row)
    chart_indicator = _pick(indicators, indicator)
    return {
        "indicators": [_plain_indicator(item) for item in indicators],
        "period": None if chosen_period is None else (chosen_period.period_type, chosen_period.start),
        "periods": periods,
        "period_types": [str(kind) for kind in PERIOD_TYPE_ORDER if kind in present],
        "period_menu": period_menu(available),
        "cards": cards,
        "chart_indicator": None if chart_indicator is None else indicators.index(chart_indicator),
        "map": _map_data(chart_indicator, region_code, chosen_period, units),
    }
