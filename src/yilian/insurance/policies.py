"""Who may see and do what with claims, budgets, settlements and cost stories.

Claims carry personal data: rows are read only by insurance officers and
regulators (oversight) granted at a region that covers the insured's county;
everyone else with a consortium in reach, a consortium-level insurance
officer included, sees aggregates only. Insurance officers configure
budgets and freeze settlements. The consortium office, regulators and the
lead hospital's administrators read budget pages, settlements, what-if
comparisons and cost stories of their consortia; a member's administrator
reads its own share.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role

CLAIM_ROW_ROLES = frozenset({Role.INSURANCE_OFFICER, Role.REGULATOR})
"""Region-level roles that read claim rows (personal data)."""

BUDGET_MANAGERS = frozenset({Role.INSURANCE_OFFICER})
"""Who configures budgets and settlement rules and freezes settlements."""

BUDGET_READERS = frozenset({Role.INSURANCE_OFFICER, Role.CONSORTIUM_OFFICE, Role.REGULATOR})
"""Consortium- or region-level roles that read a consortium's budget, settlements and cost stories."""


def _covers(actor: Any, consortium: Any, roles: frozenset[str]) -> bool:
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    if scope.holds_at_consortium(consortium.pk, *roles):
        return True
    region_code = consortium.region.code if consortium.region_id else ""
    return bool(region_code) and scope.covers_region(region_code, *roles)


def can_manage_budget(actor: Any, consortium: Any) -> bool:
    """Insurance officers of the consortium or of a region covering it configure its budget and settle it."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return False
    return _covers(actor, consortium, BUDGET_MANAGERS)


def can_read_budget(actor: Any, consortium: Any) -> bool:
    """Budget readers of the consortium or its region, platform admins, and the lead hospital's administrators.

    ``consortium.lead_institution_ids`` (a set, if the caller annotated it) lets a
    lead hospital's administrator in without a query; otherwise lead admins
    are checked by the caller through ``lead_admin_institutions``.
    """
    if _covers(actor, consortium, BUDGET_READERS):
        return True
    leads = getattr(consortium, "lead_institution_ids", None)
    if leads:
        return bool(scope_for(actor).institutions_with(Role.INSTITUTION_ADMIN) & set(leads))
    return False


def can_read_claim_rows(actor: Any, region_code: str) -> bool:
    """Claim rows of the county ``region_code``: insurance officers and regulators whose region covers it."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return False
    return scope.covers_region(region_code, *CLAIM_ROW_ROLES)


def claim_row_region_prefixes(actor: Any) -> set[str]:
    """Region prefixes whose claim rows the actor reads."""
    return scope_for(actor).region_prefixes_with(*CLAIM_ROW_ROLES)


def member_admin_institutions(actor: Any) -> set[int]:
    """Institutions whose administrator the actor is (reads its own settlement share and costs)."""
    return scope_for(actor).institutions_with(Role.INSTITUTION_ADMIN)


def can_view_cost_stories(actor: Any, consortium: Any) -> bool:
    """Cost stories of down-referred patients: the same readers as the budget (names are masked)."""
    return can_read_budget(actor, consortium)
