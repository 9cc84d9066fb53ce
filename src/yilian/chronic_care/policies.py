"""Who may see and do what in chronic-disease management.

The managing institution's clinical staff and administrators see its cases and follow-ups; the current
members of a case's family-doctor care team (lead-hospital specialists included) see that team's cases.
Doctors and nurses of the managing institution and current team members record follow-ups; doctors of a
primary institution enrol and close cases; a doctor of the managing institution sends the suggested
referral. The consortium office and the regulator read aggregates only (rates, counts — no names);
platform administrators and the consortium office maintain the registries.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role
from yilian.family_doctors.models import CareTeamMember
from yilian.institutions.choices import PRIMARY_CATEGORY_PREFIXES
from yilian.institutions.models import Institution
from yilian.people.policies import PATIENT_ROLES

ENROLLING_ROLES = frozenset({Role.DOCTOR})
"""Who enrols and closes cases (at a primary institution)."""

RECORDING_ROLES = frozenset({Role.DOCTOR, Role.NURSE})
"""Who records follow-ups at the managing institution."""

REFERRING_ROLES = frozenset({Role.DOCTOR})
"""Who sends the suggested referral."""

AGGREGATE_ROLES = frozenset({Role.CONSORTIUM_OFFICE})
"""Consortium roles that read the consortium's rates."""


def patient_institutions(actor: Any) -> set[int]:
    """Institutions whose cases the actor reads in full."""
    return scope_for(actor).institutions_with(*PATIENT_ROLES)


def enrolling_institutions(actor: Any) -> set[int]:
    """Institutions where the actor may enrol residents."""
    return scope_for(actor).institutions_with(*ENROLLING_ROLES)


def recording_institutions(actor: Any) -> set[int]:
    """Institutions where the actor may record follow-ups."""
    return scope_for(actor).institutions_with(*RECORDING_ROLES)


def overseen_consortia(actor: Any) -> set[int]:
    """Consortia whose aggregates the actor reads as the management office."""
    return scope_for(actor).consortia_with(*AGGREGATE_ROLES)


def regulated_prefixes(actor: Any) -> set[str]:
    """Region prefixes whose institutions' aggregates the actor reads as a regulator."""
    return scope_for(actor).region_prefixes_with(Role.REGULATOR)


def team_ids_of(actor: Any) -> set[int]:
    """Care teams the actor currently belongs to."""
    if getattr(actor, "pk", None) is None:
        return set()
    return set(
        CareTeamMember.objects.filter(user_id=actor.pk, left_on__isnull=True).values_list(
            "team_id", flat=True
        )
    )


def can_see_cases(actor: Any) -> bool:
    """Anyone who reads some cases by name: managing institutions' staff and team members."""
    return bool(patient_institutions(actor)) or bool(team_ids_of(actor))


def can_see_rates(actor: Any) -> bool:
    """Anyone who reads rates: case readers, the office, the regulator, platform admins."""
    scope = scope_for(actor)
    return (
        scope.is_platform_admin
        or bool(overseen_consortia(actor))
        or bool(regulated_prefixes(actor))
        or can_see_cases(actor)
    )


def menu_cases(actor: Any) -> bool:
    """The menu's case entries: staff who see patients somewhere (no query beyond the cached scope)."""
    return bool(patient_institutions(actor))


def menu_rates(actor: Any) -> bool:
    """The menu's rate entries (no query beyond the cached scope)."""
    scope = scope_for(actor)
    return (
        scope.is_platform_admin
        or bool(overseen_consortia(actor))
        or bool(regulated_prefixes(actor))
        or bool(patient_institutions(actor))
    )


def can_use_chronic_care(actor: Any) -> bool:
    """The menu section shows to anyone who reads cases or rates."""
    return can_see_rates(actor)


def can_enrol(actor: Any) -> bool:
    """Doctors of a primary institution (cases are enrolled at the primary level)."""
    ids = enrolling_institutions(actor)
    if not ids:
        return False
    primary = Q()
    for prefix in PRIMARY_CATEGORY_PREFIXES:
        primary |= Q(category__startswith=prefix)
    return Institution.objects.filter(primary, pk__in=ids).exists()


def can_manage_registries(actor: Any) -> bool:
    """Platform administrators and consortium offices add and edit registries."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(overseen_consortia(actor))


def sees_case(actor: Any, case: Any) -> bool:
    """True when the actor reads the case by name."""
    return case.institution_id in patient_institutions(actor) or (
        case.care_team_id is not None and case.care_team_id in team_ids_of(actor)
    )


def can_record_follow_up(actor: Any, case: Any) -> bool:
    """Doctors and nurses of the managing institution, and current members of the case's team."""
    return case.institution_id in recording_institutions(actor) or (
        case.care_team_id is not None and case.care_team_id in team_ids_of(actor)
    )


def can_close_case(actor: Any, case: Any) -> bool:
    """Doctors of the managing institution."""
    return case.institution_id in enrolling_institutions(actor)


def can_refer(actor: Any, case: Any) -> bool:
    """Doctors of the managing institution send the suggested referral from it."""
    return case.institution_id in scope_for(actor).institutions_with(*REFERRING_ROLES)
