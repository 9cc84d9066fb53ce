"""Who may do what in the registry. Pure predicates over the actor's scope and the object.

Registry reference data (regions, institution profiles, departments,
consortia, grids) is readable by every logged-in user, because referrals and
orders need it. Writes are limited as below; staff accounts and agreement
files are private to the institutions and consortia concerned.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role
from yilian.institutions.choices import GRID_CONSORTIUM_TYPES
from yilian.institutions.models import Consortium, Grid, Institution, Region


def can_view_registry(actor: Any) -> bool:
    """Any logged-in user with at least one active role reads the registry."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(scope.roles())


def can_manage_regions(actor: Any) -> bool:
    """Only platform administrators create or import regions."""
    return scope_for(actor).is_platform_admin


def _regulates(actor: Any, region: Region | None) -> bool:
    """Platform admins anywhere; regulators inside their region (any region when none is given)."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    if region is None:
        return scope.has_role(Role.REGULATOR)
    return scope.covers_region(region.code, Role.REGULATOR)


def can_create_institution(actor: Any, region: Region | None = None) -> bool:
    """Platform admins anywhere; regulators inside their region."""
    return _regulates(actor, region)


def can_change_institution(actor: Any, institution: Institution) -> bool:
    """The institution's own admins, regulators of its region, platform admins."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    if scope.holds_at_institution(institution.pk, Role.INSTITUTION_ADMIN):
        return True
    return scope.covers_region(institution.region.code, Role.REGULATOR)


def can_manage_departments(actor: Any, institution: Institution) -> bool:
    """The institution's own admins and platform admins manage its departments."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.holds_at_institution(institution.pk, Role.INSTITUTION_ADMIN)


def can_manage_staff(actor: Any, institution: Institution) -> bool:
    """The institution's own admins and platform admins manage its staff accounts."""
    return can_manage_departments(actor, institution)


def can_create_consortium(actor: Any, region: Region | None = None) -> bool:
    """Platform admins; regulators in their region; consortium-office staff (who then run it)."""
    return scope_for(actor).has_role(Role.CONSORTIUM_OFFICE) or _regulates(actor, region)


def can_manage_consortium(actor: Any, consortium: Consortium) -> bool:
    """The consortium's office, regulators of its planning region, platform admins."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    if scope.holds_at_consortium(consortium.pk, Role.CONSORTIUM_OFFICE):
        return True
    return scope.covers_region(consortium.region.code, Role.REGULATOR)


def can_view_agreement_files(actor: Any, consortium: Consortium, member_institution_ids: set[int]) -> bool:
    """Agreement files: those who manage the consortium, and staff of its member institutions."""
    if can_manage_consortium(actor, consortium):
        return True
    scope = scope_for(actor)
    return bool(set(scope.institution_roles) & member_institution_ids)


def can_plan_grids(actor: Any, region: Region | None = None) -> bool:
    """Regulators plan grids inside their region; platform admins anywhere."""
    return _regulates(actor, region)


def can_change_grid(actor: Any, grid: Grid) -> bool:
    """Whoever may plan grids in the grid's region."""
    return can_plan_grids(actor, grid.region)


def can_serve_grid(consortium: Consortium) -> bool:
    """Only city groups and county communities serve grids (Art. 10)."""
    return consortium.type in GRID_CONSORTIUM_TYPES


def can_view_coverage(actor: Any) -> bool:
    """Coverage reports are for regulators and platform admins."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.has_role(Role.REGULATOR)
