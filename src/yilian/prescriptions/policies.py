"""Who may see and do what with drug lists, prescriptions and deliveries.

Doctors prescribe at the institutions where they hold the doctor role. An institution's clinical
staff and administrators read its prescriptions in full; the lead hospital's pharmacy (technicians,
administrators) reads the extended prescriptions it delivers. The consortium office reads the
consortium's prescriptions read-only with masked patient names, maintains stock lists of every
member and edits the formulary limits; a member's administrator maintains its own stock list; every
staff member reads their own institution's list and gap. Regulators and platform admins read the
statistics.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import INSTITUTION_ROLES, Role
from yilian.people.policies import PATIENT_ROLES

PRESCRIBER_ROLES = frozenset({Role.DOCTOR})
"""Who writes prescriptions."""

PHARMACY_ROLES = frozenset({Role.TECHNICIAN, Role.INSTITUTION_ADMIN})
"""Who dispatches deliveries at the lead hospital's pharmacy."""

RECEIVING_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.TECHNICIAN, Role.INSTITUTION_ADMIN})
"""Who signs for a delivery at the member and hands the drugs to the patient."""

STOCK_MANAGERS = frozenset({Role.INSTITUTION_ADMIN})
"""Institution roles that maintain their own institution's stock list."""

CATALOGUE_MANAGERS = frozenset({Role.TECHNICIAN, Role.INSTITUTION_ADMIN})
"""Institution roles (at a consortium's lead hospital) that maintain the shared drug catalogue."""


def prescribing_institutions(actor: Any) -> set[int]:
    """Institutions where the actor may prescribe."""
    return scope_for(actor).institutions_with(*PRESCRIBER_ROLES)


def reading_institutions(actor: Any) -> set[int]:
    """Institutions whose prescriptions the actor reads in full."""
    return scope_for(actor).institutions_with(*PATIENT_ROLES)


def pharmacy_institutions(actor: Any) -> set[int]:
    """Institutions whose outgoing deliveries the actor works (dispatch)."""
    return scope_for(actor).institutions_with(*PHARMACY_ROLES)


def receiving_institutions(actor: Any) -> set[int]:
    """Institutions whose incoming deliveries the actor signs for and hands over."""
    return scope_for(actor).institutions_with(*RECEIVING_ROLES)


def staff_institutions(actor: Any) -> set[int]:
    """Institutions where the actor holds any institution role (reads its stock list and gap)."""
    return scope_for(actor).institutions_with(*INSTITUTION_ROLES)


def overseen_consortia(actor: Any) -> set[int]:
    """Consortia whose formulary, prescriptions (masked) and statistics the actor reads as the office."""
    return scope_for(actor).consortia_with(Role.CONSORTIUM_OFFICE)


def regulated_prefixes(actor: Any) -> set[str]:
    """Region prefixes the actor regulates (statistics)."""
    return scope_for(actor).region_prefixes_with(Role.REGULATOR)


def is_platform_admin(actor: Any) -> bool:
    """Platform administrators read everything, read-only."""
    return scope_for(actor).is_platform_admin


def can_use_prescriptions(actor: Any) -> bool:
    """Anyone with some view of prescriptions or deliveries."""
    return is_platform_admin(actor) or bool(
        reading_institutions(actor) or pharmacy_institutions(actor) or overseen_consortia(actor)
    )


def can_prescribe(actor: Any) -> bool:
    """Doctors somewhere."""
    return bool(prescribing_institutions(actor))


def can_prescribe_at(actor: Any, institution_id: int) -> bool:
    """A doctor of that institution."""
    return scope_for(actor).holds_at_institution(institution_id, *PRESCRIBER_ROLES)


def can_use_formulary(actor: Any) -> bool:
    """Staff of some institution, the office, platform admins (the formulary and gap pages)."""
    return is_platform_admin(actor) or bool(staff_institutions(actor) or overseen_consortia(actor))


def can_manage_stock(actor: Any, institution_id: int, consortium_ids: set[int]) -> bool:
    """The institution's administrator, or the office of a consortium the institution belongs to."""
    scope = scope_for(actor)
    if scope.holds_at_institution(institution_id, *STOCK_MANAGERS):
        return True
    return bool(overseen_consortia(actor) & consortium_ids)


def can_edit_formulary(actor: Any, consortium_id: int) -> bool:
    """The consortium office (or a platform admin) edits the formulary limits."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.holds_at_consortium(consortium_id, Role.CONSORTIUM_OFFICE)


def can_manage_catalogue(actor: Any, lead_institution_ids: set[int]) -> bool:
    """Platform admins, consortium offices, and the pharmacy / administrators of a lead hospital."""
    scope = scope_for(actor)
    if scope.is_platform_admin or overseen_consortia(actor):
        return True
    return bool(scope.institutions_with(*CATALOGUE_MANAGERS) & lead_institution_ids)


def can_view_statistics(actor: Any) -> bool:
    """The office, regulators, platform admins."""
    return is_platform_admin(actor) or bool(overseen_consortia(actor) or regulated_prefixes(actor))


def sees_patient(actor: Any, prescription: Any) -> bool:
    """Clinical staff of the prescribing institution, and the pharmacy delivering it, see the patient."""
    scope = scope_for(actor)
    if scope.holds_at_institution(prescription.institution_id, *PATIENT_ROLES):
        return True
    delivery = getattr(prescription, "delivery_from_id", None)
    return delivery is not None and scope.holds_at_institution(delivery, *PHARMACY_ROLES | PATIENT_ROLES)


def can_void(actor: Any, prescription: Any) -> bool:
    """The prescriber, or a doctor or administrator of the prescribing institution."""
    return scope_for(actor).holds_at_institution(
        prescription.institution_id, Role.DOCTOR, Role.INSTITUTION_ADMIN
    )


def can_step_delivery(actor: Any, delivery: Any, action: str) -> bool:
    """Dispatch at the sending pharmacy; receive and hand over at the receiving member; cancel by the
    receiving member's doctors (the prescription's side) or the pharmacy before dispatch."""
    scope = scope_for(actor)
    if action == "dispatch":
        return scope.holds_at_institution(delivery.from_institution_id, *PHARMACY_ROLES)
    if action in ("receive", "hand_over"):
        return scope.holds_at_institution(delivery.to_institution_id, *RECEIVING_ROLES)
    if action == "cancel":
        return scope.holds_at_institution(
            delivery.to_institution_id, Role.DOCTOR, Role.INSTITUTION_ADMIN
        ) or scope.holds_at_institution(delivery.from_institution_id, *PHARMACY_ROLES)
    return False
