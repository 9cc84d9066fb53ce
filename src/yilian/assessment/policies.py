"""Who may keep schemes, run rounds and read results.

* Shared schemes (no consortium) are kept by regulators; a consortium's
  own by its office and the regulators over its region.
* A consortium's rounds are run by its office (and regulators over its
  region); the self-assessment also by the lead unit's administrator; the
  regulator's annual rounds by regulators over the round's region.
* Regulators read every round in their region. Members read the published
  version of their consortium's rounds: their own results always, the
  others' rows only when the consortium publishes its ranking
  (``indicators.selectors.ranking_visible``).
* A regulator's published round over consortia (the annual assessment, whose
  results are public) is read by each assessed consortium's office and its
  members' administrators: their own consortium's rows of the published
  version only (``selectors.assessed_consortia``).
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.assessment.choices import RoundKind
from yilian.core.permissions import INSTITUTION_ROLES, Role
from yilian.indicators.policies import ASSESSORS
from yilian.institutions.models import ConsortiumMember


def _region_code(consortium: Any) -> str:
    return consortium.region.code if consortium is not None and consortium.region_id else ""


def _regulates(scope: Any, code: str) -> bool:
    return bool(code) and scope.covers_region(code, Role.REGULATOR)


def can_create_scheme(actor: Any) -> bool:
    """Assessors (regulators, consortium offices) and platform administrators create schemes."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.has_role(*ASSESSORS)


def can_edit_scheme(actor: Any, consortium: Any | None) -> bool:
    """Shared schemes: regulators. A consortium's own: its office, or a regulator over its region."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    if consortium is None:
        return scope.has_role(Role.REGULATOR)
    return scope.holds_at_consortium(consortium.pk, Role.CONSORTIUM_OFFICE) or _regulates(
        scope, _region_code(consortium)
    )


def can_read_schemes(actor: Any) -> bool:
    """Anyone holding a role reads schemes (their reach is scoped by ``selectors.scheme_list``)."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(scope.roles())


def lead_institution_id(consortium: Any) -> int | None:
    """The consortium's active lead institution (one query)."""
    return (
        consortium.members.filter(role="lead", is_active=True)
        .values_list("institution_id", flat=True)
        .first()
    )


def can_manage_round(actor: Any, round_: Any) -> bool:
    """Run a round: compute, judge, upload evidence, freeze, publish."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    if round_.consortium_id is None:
        return _regulates(scope, round_.region.code if round_.region_id else "")
    consortium = round_.consortium
    if scope.holds_at_consortium(consortium.pk, Role.CONSORTIUM_OFFICE) or _regulates(
        scope, _region_code(consortium)
    ):
        return True
    if round_.kind == RoundKind.SELF:
        lead = lead_institution_id(consortium)
        return lead is not None and scope.holds_at_institution(lead, Role.INSTITUTION_ADMIN)
    return False


def can_create_round(actor: Any, kind: str, consortium: Any | None, region: Any | None) -> bool:
    """Create a round of ``kind`` for a consortium (office, regulator; the lead unit for SELF) or a region."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    if consortium is None:
        return region is not None and _regulates(scope, region.code)
    if scope.holds_at_consortium(consortium.pk, Role.CONSORTIUM_OFFICE) or _regulates(
        scope, _region_code(consortium)
    ):
        return True
    if kind == RoundKind.SELF:
        lead = lead_institution_id(consortium)
        return lead is not None and scope.holds_at_institution(lead, Role.INSTITUTION_ADMIN)
    return False


def can_start_rounds(actor: Any) -> bool:
    """Whether to offer 新建考核: assessors, and administrators of a consortium's lead unit (self-assessment)."""
    if can_create_scheme(actor):
        return True
    administered = scope_for(actor).institutions_with(Role.INSTITUTION_ADMIN)
    return (
        bool(administered)
        and ConsortiumMember.objects.filter(
            institution_id__in=administered, role="lead", is_active=True
        ).exists()
    )


def member_institutions(actor: Any) -> set[int]:
    """Institutions where the actor holds an institution role (whose published results it reads)."""
    return scope_for(actor).institutions_with(*INSTITUTION_ROLES)
