"""Who may manage accounts and grant which roles."""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import INSTITUTION_ROLES, Role


def can_grant_role(
    actor: Any, role: str, *, institution: Any = None, consortium: Any = None, region: Any = None
) -> bool:
    """Platform admins grant any role; an institution admin grants institution roles in their own institution."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    if institution is not None and role in INSTITUTION_ROLES:
        return scope.holds_at_institution(institution.pk, Role.INSTITUTION_ADMIN)
    return False


def can_create_user(actor: Any) -> bool:
    """Platform admins and institution admins create accounts (the latter for their own staff)."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(scope.institutions_with(Role.INSTITUTION_ADMIN))


def can_change_user(actor: Any, user: Any, administered_staff: bool) -> bool:
    """Platform admins; an institution admin for users who work only in institutions they administer."""
    scope = scope_for(actor)
    return scope.is_platform_admin or administered_staff


def can_view_audit(actor: Any) -> bool:
    """Platform admins see all events; regulators, consortium offices and institution admins their scope."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.has_role(
        Role.REGULATOR, Role.CONSORTIUM_OFFICE, Role.INSTITUTION_ADMIN
    )
