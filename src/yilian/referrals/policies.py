"""Who may see and do what with referrals.

Only the two ends see a referral (the receiver from submission on), plus
the consortium office of its consortium and the regulator of either end's
region, read-only, and platform administrators, read-only. Actions come
from the workflow table: the side (sender / receiver) and the roles the
actor holds at that side's institution.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role
from yilian.people.policies import PATIENT_ROLES
from yilian.referrals.choices import ReferralSide, ReferralStatus
from yilian.referrals.workflow import ARRIVAL_ROLES, RECEIVING_ROLES, SENDING_ROLES

OVERSIGHT_ROLES = frozenset({Role.CONSORTIUM_OFFICE})
"""Consortium roles that read every referral of the consortium (the office)."""


def sending_institutions(actor: Any) -> set[int]:
    """Institutions where the actor may write referrals."""
    return scope_for(actor).institutions_with(*SENDING_ROLES)


def end_institutions(actor: Any) -> set[int]:
    """Institutions whose referrals the actor sees as one of the two ends (patient-seeing roles)."""
    return scope_for(actor).institutions_with(*PATIENT_ROLES)


def overseen_consortia(actor: Any) -> set[int]:
    """Consortia whose referrals the actor reads as the management office."""
    return scope_for(actor).consortia_with(*OVERSIGHT_ROLES)


def regulated_prefixes(actor: Any) -> set[str]:
    """Region prefixes whose institutions' referrals the actor reads as a regulator."""
    return scope_for(actor).region_prefixes_with(Role.REGULATOR)


def can_use_referrals(actor: Any) -> bool:
    """Anyone with some view of referrals: an end, the office, a regulator, a platform admin."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(
        end_institutions(actor) or overseen_consortia(actor) or regulated_prefixes(actor)
    )


def sees_referral(actor: Any, referral: Any) -> bool | None:
    """Whether the actor reads this referral, decided from its own row: True or False, or None when only
    the ends' regions can tell (the actor regulates a region and is no end or office of this one).

    The rule is ``selectors.referral_visible_to``'s queryset; this is the same rule for one row
    already read (the identity read before a workflow step), and the tests hold the two together.
    """
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    submitted = referral.status != ReferralStatus.DRAFT
    ends = end_institutions(actor)
    if referral.from_institution_id in ends or (submitted and referral.to_institution_id in ends):
        return True
    if submitted and referral.consortium_id in overseen_consortia(actor):
        return True
    return None if regulated_prefixes(actor) else False


def can_write_referrals(actor: Any) -> bool:
    """Clinical staff who may start a referral somewhere."""
    return bool(sending_institutions(actor))


def sides_of(actor: Any, referral: Any) -> dict[str, frozenset[str]]:
    """The roles the actor holds at each end of the referral (receiver only once it was submitted)."""
    scope = scope_for(actor)
    sides = {
        ReferralSide.SENDER: scope.institution_roles.get(referral.from_institution_id, frozenset()),
    }
    if referral.status != ReferralStatus.DRAFT:
        sides[ReferralSide.RECEIVER] = scope.institution_roles.get(referral.to_institution_id, frozenset())
    return sides


def sees_patient(actor: Any, referral: Any) -> bool:
    """True when the actor may see the patient's details on this referral (an end, clinical or admin)."""
    sides = sides_of(actor, referral)
    return any(roles & PATIENT_ROLES for roles in sides.values())


DOCUMENT_ROLES = frozenset(SENDING_ROLES | RECEIVING_ROLES | ARRIVAL_ROLES | {Role.INSTITUTION_ADMIN})
"""Who may print the slip or export the referral (patient identifiers leave the system on paper or as a
file): the roles that take its steps at an end, and the end's administrators. Technicians see the patient
on the referral but take no step, so they do not print it."""


def can_print(actor: Any, referral: Any) -> bool:
    """True when the actor may print the slip or export the WS 445.16 data set of this referral."""
    sides = sides_of(actor, referral)
    return any(roles & DOCUMENT_ROLES for roles in sides.values())


def can_answer_at(actor: Any, institution_id: int) -> bool:
    """True when the actor may answer referrals received by that institution."""
    return scope_for(actor).holds_at_institution(institution_id, *RECEIVING_ROLES)


def can_manage_capacity(actor: Any, institution_id: int) -> bool:
    """Receiving staff and the institution's administrators publish reserved capacity."""
    return scope_for(actor).holds_at_institution(institution_id, *RECEIVING_ROLES, Role.INSTITUTION_ADMIN)


def can_configure(actor: Any, consortium: Any) -> bool:
    """The consortium office (and platform admins) edit criteria, settings and subsidies."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.holds_at_consortium(consortium.pk, *OVERSIGHT_ROLES)


def can_view_statistics(actor: Any) -> bool:
    """The office, regulators and platform admins read referral statistics."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(overseen_consortia(actor) or regulated_prefixes(actor))


def oversees(actor: Any, consortium: Any) -> bool:
    """The consortium's office, a regulator of its region, or a platform admin (read-only oversight)."""
    scope = scope_for(actor)
    return (
        scope.is_platform_admin
        or scope.holds_at_consortium(consortium.pk, *OVERSIGHT_ROLES)
        or scope.covers_region(consortium.region.code, Role.REGULATOR)
    )


def can_view_configuration(actor: Any, consortium: Any, member_institution_ids: set[int]) -> bool:
    """The catalogue and settings are read by those who configure or oversee them and by members' staff."""
    if can_configure(actor, consortium) or oversees(actor, consortium):
        return True
    return bool(end_institutions(actor) & member_institution_ids)
