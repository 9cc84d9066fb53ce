"""Reads of the indicator catalogue and of computed figures, scoped by ``policies``."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotAllowed, NotFound
from yilian.core.permissions import INSTITUTION_ROLES, Role
from yilian.indicators import policies
from yilian.indicators.choices import UnitKind
from yilian.indicators.models import Indicator, IndicatorCatalogue, IndicatorValue, RankingPolicy, RefreshRun
from yilian.institutions.selectors import (
    consortia_of_institutions,
    consortium_region_prefixes,
    departments_of_institutions,
    region_ids_under,
    unit_ids_of_consortia,
    unit_ids_under_regions,
)

_KINDS = [kind.value for kind in UnitKind]

FIGURES_GENERATION = "indicators.figures"
"""The ``core.generations`` name of the computed figures and the definitions they are read with:
bumped by every refresh (``evaluation.refresh``) and every change of an indicator or a catalogue."""


@dataclass
class VisibleUnits:
    """Unit ids whose figures an actor sees, by unit kind; ``everything`` for platform administrators.

    ``ranking_only`` holds institutions the actor sees only as rows of a
    consortium's ranking (another member's figures, when the consortium
    publishes its ranking to members).
    """

    everything: bool = False
    ids: dict[str, set[int]] = field(default_factory=lambda: {kind: set() for kind in _KINDS})
    region_prefixes: set[str] = field(default_factory=set)
    """GB/T 2260 prefixes whose regions the actor sees besides ``ids["region"]``: an area holds hundreds of
    villages, so their ids are read only when a region is asked about (``region_ids``), not to sign the
    reach of a page served from the figures cache."""
    _prefixed_regions: set[int] | None = field(default=None, repr=False, compare=False)

    def region_ids(self) -> set[int]:
        """Every region the actor sees (reads the regions under ``region_prefixes`` once)."""
        if self._prefixed_regions is None:
            self._prefixed_regions = region_ids_under(self.region_prefixes)
        return self.ids.get(UnitKind.REGION, set()) | self._prefixed_regions

    def allows(self, kind: str, unit_id: int) -> bool:
        """True when the actor sees figures of that unit."""
        if self.everything or unit_id in self.ids.get(kind, set()):
            return True
        return kind == UnitKind.REGION and bool(self.region_prefixes) and unit_id in self.region_ids()

    def add(self, found: dict[str, set[int]]) -> None:
        """Merge ``found`` (kind → ids) in."""
        for kind, ids in found.items():
            self.ids.setdefault(kind, set()).update(ids)

    def q(self, kind: str, prefix: str = "") -> Q:
        """A filter on ``unit_kind``/``unit_id`` (under ``prefix``) for units of ``kind`` the actor sees."""
        if self.everything:
            return Q(**{f"{prefix}unit_kind": kind})
        ids = self.region_ids() if kind == UnitKind.REGION else self.ids.get(kind, set())
        return Q(**{f"{prefix}unit_kind": kind, f"{prefix}unit_id__in": sorted(ids)})


def visible_units(actor: Any, kinds: Iterable[str] = _KINDS) -> VisibleUnits:
    """Units whose figures ``actor`` sees (see ``policies``); a handful of queries, none per unit.

    ``kinds`` narrows the answer to the kinds of unit a page shows (fewer
    queries): units of any other kind are then not allowed at all.
    """
    wanted = set(kinds)
    scope = scope_for(actor)
    units = VisibleUnits(everything=scope.is_platform_admin)
    if scope.is_platform_admin or scope.is_anonymous:
        return units
    # Regions are reached through prefixes (the regulator's area, the office's consortia's areas).
    without_regions = wanted - {UnitKind.REGION.value}
    regulated = set(scope.region_prefixes_with())
    units.add(_only(unit_ids_under_regions(regulated, without_regions), wanted))
    office = scope.consortia_with(Role.CONSORTIUM_OFFICE, Role.INSURANCE_OFFICER, Role.QUALITY_OFFICER)
    units.add(_only(unit_ids_of_consortia(office, without_regions), wanted))
    if UnitKind.REGION in wanted:
        units.region_prefixes = regulated | consortium_region_prefixes(office)
    own = scope.institutions_with(*INSTITUTION_ROLES)
    if own:
        found: dict[str, set[int]] = {"institution": set(own)}
        if "department" in wanted:
            found["department"] = departments_of_institutions(own)
        units.add(_only(found, wanted))
        memberships = consortia_of_institutions(own)
        units.add(_only({"consortium": set(memberships)}, wanted))
        if "institution" in wanted:
            hidden = set(
                RankingPolicy.objects.filter(
                    consortium_id__in=memberships, members_see_others_values=False
                ).values_list("consortium_id", flat=True)
            )
            shown = set(memberships) - hidden
            if shown:
                units.add({"institution": unit_ids_of_consortia(shown, ["institution"])["institution"]})
    return units


def _only(found: dict[str, set[int]], kinds: set[str]) -> dict[str, set[int]]:
    """``found`` without the kinds not asked for."""
    return {kind: ids for kind, ids in found.items() if kind in kinds}


def ranking_visible(actor: Any, consortium_id: int) -> bool:
    """Whether ``actor`` sees the ranking of the consortium's members."""
    scope = scope_for(actor)
    if scope.is_platform_admin or scope.region_prefixes_with() or consortium_id in scope.consortium_roles:
        return True
    policy = RankingPolicy.objects.filter(consortium_id=consortium_id).first()
    return policy is None or policy.members_see_ranking


def _require_reader(actor: Any) -> None:
    if not policies.can_read_catalogue(actor):
        raise NotAllowed()


def catalogue_list(actor: Any) -> QuerySet[IndicatorCatalogue]:
    """Every indicator catalogue, shipped first."""
    _require_reader(actor)
    return IndicatorCatalogue.objects.order_by("sort_order", "code")


def indicator_list(
    actor: Any,
    *,
    catalogue: IndicatorCatalogue | None = None,
    query: str = "",
    include_inactive: bool = False,
) -> QuerySet[Indicator]:
    """Indicators of the shared catalogue and of consortia the actor reaches, optionally of one catalogue."""
    _require_reader(actor)
    indicators = Indicator.objects.select_related("catalogue", "consortium")
    if not include_inactive:
        indicators = indicators.filter(is_active=True)
    if catalogue is not None:
        indicators = indicators.filter(catalogue=catalogue)
    if query:
        indicators = indicators.filter(
            Q(name__icontains=query) | Q(code__icontains=query) | Q(name_en__icontains=query)
        )
    scope = scope_for(actor)
    if not scope.is_platform_admin and not scope.region_prefixes_with():
        reach = visible_units(actor).ids.get("consortium", set())
        indicators = indicators.filter(Q(consortium__isnull=True) | Q(consortium_id__in=reach))
    return indicators


def indicator_get(actor: Any, public_id: Any) -> Indicator:
    """An indicator the actor may read, by public id; NotFound otherwise."""
    try:
        return indicator_list(actor, include_inactive=True).get(public_id=public_id)
    except (Indicator.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("indicator") from error


def indicator_values(
    actor: Any,
    indicator: Indicator,
    *,
    unit_kind: str,
    period_type: str,
    period_start: datetime.date,
    unit_ids: set[int] | None = None,
) -> QuerySet[IndicatorValue]:
    """Values of one indicator for the units of one kind the actor sees, in one period (optionally some units)."""
    values = IndicatorValue.objects.filter(
        visible_units(actor).q(unit_kind),
        indicator=indicator,
        period_type=period_type,
        period_start=period_start,
    )
    if unit_ids is not None:
        values = values.filter(unit_id__in=sorted(unit_ids))
    return values.order_by("unit_id")


def first_with_values(actor: Any, indicators: list[Indicator], *, unit_kind: str) -> Indicator | None:
    """The first of ``indicators`` with a value (in any period) for a unit of ``unit_kind`` the actor sees;
    None when none has one (one query). The figures page opens on it rather than on an indicator whose
    figures are all missing (a denominator nobody reports yet)."""
    if not indicators:
        return None
    found = set(
        IndicatorValue.objects.filter(
            visible_units(actor).q(unit_kind),
            indicator_id__in=[indicator.pk for indicator in indicators],
            value__isnull=False,
        )
        .values_list("indicator_id", flat=True)
        .distinct()
    )
    return next((indicator for indicator in indicators if indicator.pk in found), None)


def unit_series(
    actor: Any, indicator: Indicator, *, unit_kind: str, unit_id: int, period_type: str
) -> QuerySet[IndicatorValue]:
    """One unit's values of an indicator over time (oldest first); NotFound for a unit the actor may not see."""
    if not visible_units(actor).allows(unit_kind, unit_id):
        raise NotFound("unit")
    return IndicatorValue.objects.filter(
        indicator=indicator, unit_kind=unit_kind, unit_id=unit_id, period_type=period_type
    ).order_by("period_start")


def refresh_runs(actor: Any) -> QuerySet[RefreshRun]:
    """Recent refresh runs, newest first (assessors and platform administrators)."""
    if not policies.can_request_refresh(actor):
        raise NotAllowed()
    return RefreshRun.objects.select_related("requested_by").order_by("-created_at")
