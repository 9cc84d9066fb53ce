"""Who may see and do what with teleconsultations.

The inviting institution's clinical staff see its teleconsultations; at the
invited institution the coordinators and administrators see every one
received, while a doctor sees only those they are the assigned expert of.
The consortium office of the teleconsultation's consortium and the
regulator of either end's region read them read-only with a masked patient
name; platform administrators read everything read-only. Actions come from
the workflow table: the side and the roles held there.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role
from yilian.people.policies import PATIENT_ROLES
from yilian.telemedicine.choices import TeleconsultationSide
from yilian.telemedicine.workflow import ANSWERING_ROLES, EXPERT_ROLES, INVITING_ROLES

OVERSIGHT_ROLES = frozenset({Role.CONSORTIUM_OFFICE})
"""Consortium roles that read every teleconsultation of the consortium."""

AVAILABILITY_MANAGERS = frozenset({Role.REFERRAL_COORDINATOR, Role.INSTITUTION_ADMIN})
"""Who publishes free times on behalf of the institution's experts."""

CHARGE_READERS = frozenset({Role.INSTITUTION_ADMIN, Role.REFERRAL_COORDINATOR, Role.INSURANCE_OFFICER})
"""Institution roles that read the institution's teleconsultation billing records."""


def inviting_institutions(actor: Any) -> set[int]:
    """Institutions where the actor may invite (write teleconsultations)."""
    return scope_for(actor).institutions_with(*INVITING_ROLES)


def outgoing_institutions(actor: Any) -> set[int]:
    """Institutions whose sent teleconsultations the actor reads as the inviting end."""
    return scope_for(actor).institutions_with(*PATIENT_ROLES)


def incoming_institutions(actor: Any) -> set[int]:
    """Institutions whose received teleconsultations the actor reads in full (coordinators, admins)."""
    return scope_for(actor).institutions_with(*ANSWERING_ROLES)


def expert_institutions(actor: Any) -> set[int]:
    """Institutions where the actor may serve as an expert."""
    return scope_for(actor).institutions_with(*EXPERT_ROLES)


def overseen_consortia(actor: Any) -> set[int]:
    """Consortia whose teleconsultations the actor reads as the management office."""
    return scope_for(actor).consortia_with(*OVERSIGHT_ROLES)


def regulated_prefixes(actor: Any) -> set[str]:
    """Region prefixes whose institutions' teleconsultations the actor reads as a regulator."""
    return scope_for(actor).region_prefixes_with(Role.REGULATOR)


def can_use_telemedicine(actor: Any) -> bool:
    """Anyone with some view of teleconsultations: an end, an expert, the office, a regulator, an admin."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(
        outgoing_institutions(actor)
        or incoming_institutions(actor)
        or expert_institutions(actor)
        or overseen_consortia(actor)
        or regulated_prefixes(actor)
    )


def can_invite(actor: Any) -> bool:
    """Clinicians who may start a teleconsultation somewhere."""
    return bool(inviting_institutions(actor))


def is_expert_of(actor: Any, teleconsultation: Any) -> bool:
    """True when the actor is the assigned expert (and still a doctor of the invited institution)."""
    return (
        getattr(actor, "pk", None) is not None
        and teleconsultation.expert_id == actor.pk
        and scope_for(actor).holds_at_institution(teleconsultation.invited_institution_id, *EXPERT_ROLES)
    )


def sides_of(actor: Any, teleconsultation: Any) -> dict[str, frozenset[str]]:
    """The roles the actor holds at each side of the teleconsultation (the expert side: only the expert)."""
    scope = scope_for(actor)
    invited = scope.institution_roles.get(teleconsultation.invited_institution_id, frozenset())
    return {
        TeleconsultationSide.INVITING: scope.institution_roles.get(
            teleconsultation.inviting_institution_id, frozenset()
        ),
        TeleconsultationSide.INVITED: invited & ANSWERING_ROLES,
        TeleconsultationSide.EXPERT: invited & EXPERT_ROLES
        if is_expert_of(actor, teleconsultation)
        else frozenset(),
    }


def sees_patient(actor: Any, teleconsultation: Any) -> bool:
    """True when the actor may see the patient's details: inviting clinical staff, the invited
    coordinators and administrators, the assigned expert."""
    sides = sides_of(actor, teleconsultation)
    return bool(
        sides[TeleconsultationSide.INVITING] & PATIENT_ROLES
        or sides[TeleconsultationSide.INVITED]
        or sides[TeleconsultationSide.EXPERT]
    )


def can_manage_availability(actor: Any, institution_id: int, expert: Any) -> bool:
    """An expert publishes their own free times; the institution's coordinators and admins anyone's."""
    scope = scope_for(actor)
    if scope.holds_at_institution(institution_id, *AVAILABILITY_MANAGERS):
        return True
    return getattr(actor, "pk", None) == getattr(expert, "pk", None) and scope.holds_at_institution(
        institution_id, *EXPERT_ROLES
    )


def can_use_availability(actor: Any) -> bool:
    """Experts and the coordinators and admins who publish for them."""
    return bool(expert_institutions(actor) or scope_for(actor).institutions_with(*AVAILABILITY_MANAGERS))


def charge_institutions(actor: Any) -> set[int]:
    """Institutions whose billing records the actor reads."""
    return scope_for(actor).institutions_with(*CHARGE_READERS)


def can_view_charges(actor: Any) -> bool:
    """Institution finance readers, the office, platform admins."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(charge_institutions(actor) or overseen_consortia(actor))


def can_configure_fees(actor: Any, consortium: Any) -> bool:
    """The consortium office (and platform admins) set the fees of its telemedicine agreement."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.holds_at_consortium(consortium.pk, *OVERSIGHT_ROLES)


def configures_some_fees(actor: Any) -> bool:
    """The office of some consortium, or a platform admin (the fee settings page)."""
    return scope_for(actor).is_platform_admin or bool(overseen_consortia(actor))


def can_view_statistics(actor: Any) -> bool:
    """The office, regulators and platform admins read teleconsultation statistics."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(overseen_consortia(actor) or regulated_prefixes(actor))
