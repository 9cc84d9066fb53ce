"""Who may read and keep indicators, request refreshes and see which units' figures.

* The shared catalogue is kept by regulators; a consortium's own indicators
  by its office (and regulators over its region). Everyone with a role reads
  the catalogue and the data items.
* Figures are aggregates, but not everyone sees every unit: a regulator sees
  every unit in its region; a consortium's office its consortium, members,
  their departments, its grids and its area; an institution's staff their
  institution, its departments and its consortia, and the other members of
  a consortium only when the consortium lets members see the ranking.
* Drill-down to the records behind a figure follows the source module's own
  policy (``DataSource.visible_to``), so figures never open a door the
  module keeps shut.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role

ASSESSORS = frozenset({Role.REGULATOR, Role.CONSORTIUM_OFFICE})
"""Who keeps indicators, runs assessments and requests refreshes."""


def can_read_catalogue(actor: Any) -> bool:
    """Anyone holding a role reads the catalogue and the data items."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(scope.roles())


def can_edit_indicator(actor: Any, consortium: Any | None) -> bool:
    """Shared indicators: regulators. A consortium's own: its office, or a regulator over its region."""
    scope = scope_for(actor)
    if consortium is None:
        return scope.has_role(Role.REGULATOR)
    if scope.holds_at_consortium(consortium.pk, Role.CONSORTIUM_OFFICE):
        return True
    region_code = consortium.region.code if consortium.region_id else ""
    return bool(region_code) and scope.covers_region(region_code, Role.REGULATOR)


def can_create_indicator(actor: Any) -> bool:
    """Assessors create indicators (regulators shared ones, offices their consortium's)."""
    scope = scope_for(actor)
    return scope.has_role(*ASSESSORS)


def can_request_refresh(actor: Any) -> bool:
    """Assessors and platform administrators start a recomputation."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.has_role(*ASSESSORS)


def can_view_figures(actor: Any) -> bool:
    """Anyone holding a role may open the figures pages (what they show is scoped by ``selectors.visible_units``)."""
    return can_read_catalogue(actor)


def can_edit_ranking_policy(actor: Any, consortium: Any) -> bool:
    """The consortium's office decides what members see of each other."""
    return scope_for(actor).holds_at_consortium(consortium.pk, Role.CONSORTIUM_OFFICE)
