"""Who may see and do what with family-doctor contracting.

* A primary institution's administrators form its care teams and see
  everything of them (teams, panels, contracts).
* Current team members see their own teams' panels and contracts; a team's
  general practitioners, nurses and public-health staff sign, renew and
  terminate its contracts (the hospital specialists read only). Specialists
  of the lead hospital reach the residents only through these teams, never
  through a link of their whole hospital.
* The consortium office manages the consortium's service packages and,
  with the regulator of the region, reads aggregates only (counts and
  coverage, never names).
* Platform administrators do everything.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role

TEAM_ADMIN_ROLES = frozenset({Role.INSTITUTION_ADMIN})
"""Institution roles that form and manage the institution's care teams."""

OVERSIGHT_ROLES = frozenset({Role.CONSORTIUM_OFFICE})
"""Consortium roles that read aggregates and manage service packages."""

SIGNING_MEMBER_ROLES = frozenset({"general_practitioner", "nurse", "public_health"})
"""Team roles (``TeamMemberRole`` values) that sign, renew and terminate the team's contracts."""


def administered_institutions(actor: Any) -> set[int]:
    """Institutions whose care teams the actor manages."""
    return scope_for(actor).institutions_with(*TEAM_ADMIN_ROLES)


def overseen_consortia(actor: Any) -> set[int]:
    """Consortia whose packages the actor manages and whose aggregates they read."""
    return scope_for(actor).consortia_with(*OVERSIGHT_ROLES)


def regulated_prefixes(actor: Any) -> set[str]:
    """Region prefixes whose aggregates the actor reads as a regulator."""
    return scope_for(actor).region_prefixes_with(Role.REGULATOR)


def is_oversight(actor: Any) -> bool:
    """The office or a regulator (aggregates only)."""
    return bool(overseen_consortia(actor) or regulated_prefixes(actor))


def is_clinical_somewhere(actor: Any) -> bool:
    """Doctors and nurses may be team members (the menu shows them the team pages)."""
    return bool(scope_for(actor).institutions_with(Role.DOCTOR, Role.NURSE))


def can_use_family_doctors(actor: Any) -> bool:
    """Anyone with some view: team admins, clinicians (their teams), oversight, platform admins."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(
        administered_institutions(actor) or is_clinical_somewhere(actor) or is_oversight(actor)
    )


def can_manage_teams_of(actor: Any, institution: Any) -> bool:
    """The administrators of a primary institution (and platform admins) manage its teams."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    return institution.is_primary and institution.pk in administered_institutions(actor)


def manages_some_teams(actor: Any) -> bool:
    """Administrators of some institution, or platform admins (the new-team button)."""
    return scope_for(actor).is_platform_admin or bool(administered_institutions(actor))


def can_manage_packages(actor: Any, consortium: Any) -> bool:
    """The consortium office (and platform admins) manage its service packages."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.holds_at_consortium(consortium.pk, *OVERSIGHT_ROLES)


def manages_some_packages(actor: Any) -> bool:
    """The office of some consortium, or a platform admin."""
    return scope_for(actor).is_platform_admin or bool(overseen_consortia(actor))


def can_view_coverage(actor: Any) -> bool:
    """Team admins, team members, oversight and platform admins read coverage."""
    return can_use_family_doctors(actor)


def member_role_in(actor: Any, team: Any, current_roles: dict[int, str]) -> str | None:
    """The actor's current role in ``team`` given ``{team_id: role}`` of their current memberships."""
    return current_roles.get(team.pk)


def may_sign_for(actor: Any, team: Any, member_role: str | None) -> bool:
    """Signing members of the team (still staff of their institution) and the team's institution admins."""
    scope = scope_for(actor)
    if scope.is_platform_admin or team.institution_id in administered_institutions(actor):
        return True
    return member_role in SIGNING_MEMBER_ROLES
