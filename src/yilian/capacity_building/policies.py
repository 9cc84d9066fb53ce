"""Who may see and do what in capacity building.

Reads: staff of the institutions a record concerns (the organiser and the
members a course is open to, the host and home of a fellowship, the member
and supporter of a technique, the donor and recipient of a device), the
consortium office of the record's consortium and the regulator of the
member's region read-only, platform admins read everything read-only.
Writes: the organiser's staff organise courses and record sign-ins; the
member's administrator applies for fellowships and records techniques; the
host's administrator (or the supervisor) runs fellowships; the office
confirms techniques; the donor's administrator and engineers (technicians)
register devices and repair them; the member's staff report faults.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import INSTITUTION_ROLES, Role

ORGANISER_ROLES = frozenset({Role.INSTITUTION_ADMIN, Role.DOCTOR, Role.NURSE, Role.TECHNICIAN})
"""Who organises courses and records sign-ins at their institution."""

ADMIN_ROLES = frozenset({Role.INSTITUTION_ADMIN})
"""Who applies for fellowships, records techniques and manages the host side."""

CASE_REPORTERS = frozenset({Role.INSTITUTION_ADMIN, Role.DOCTOR, Role.NURSE})
"""Who reports a technique's cases at the member."""

ENGINEER_ROLES = frozenset({Role.TECHNICIAN})
"""Equipment engineers are technicians (医技人员) of the donor."""

DEVICE_MANAGERS = frozenset({Role.INSTITUTION_ADMIN, Role.TECHNICIAN})
"""Who registers and takes back devices at the donor."""

REPORTER_ROLES = frozenset({Role.INSTITUTION_ADMIN, Role.DOCTOR, Role.NURSE, Role.TECHNICIAN})
"""Who reports a fault of a device at the member."""

OVERSIGHT_ROLES = frozenset({Role.CONSORTIUM_OFFICE})
"""Consortium roles that read every record of the consortium (and confirm techniques)."""


def staff_institutions(actor: Any) -> set[int]:
    """Institutions where the actor holds any institution role."""
    return scope_for(actor).institutions_with(*INSTITUTION_ROLES)


def overseen_consortia(actor: Any) -> set[int]:
    """Consortia whose records the actor reads as the management office."""
    return scope_for(actor).consortia_with(*OVERSIGHT_ROLES)


def regulated_prefixes(actor: Any) -> set[str]:
    """Region prefixes whose members' records the actor reads as a regulator."""
    return scope_for(actor).region_prefixes_with(Role.REGULATOR)


def can_use_capacity(actor: Any) -> bool:
    """Anyone with some view of capacity building: staff of an institution, the office, a regulator, an admin."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(
        staff_institutions(actor) or overseen_consortia(actor) or regulated_prefixes(actor)
    )


def organiser_institutions(actor: Any) -> set[int]:
    """Institutions where the actor may organise courses."""
    return scope_for(actor).institutions_with(*ORGANISER_ROLES)


def can_organise(actor: Any, institution_id: int) -> bool:
    """Organising staff of the institution."""
    return scope_for(actor).holds_at_institution(institution_id, *ORGANISER_ROLES)


def can_manage_course(actor: Any, course: Any) -> bool:
    """The organiser's staff edit, cancel and close a course and record its sign-ins."""
    return can_organise(actor, course.organiser_id)


def admin_institutions(actor: Any) -> set[int]:
    """Institutions the actor administers."""
    return scope_for(actor).institutions_with(*ADMIN_ROLES)


def can_apply_fellowship(actor: Any, home_institution_id: int) -> bool:
    """The member's administrator applies for a fellowship of its staff."""
    return scope_for(actor).holds_at_institution(home_institution_id, *ADMIN_ROLES)


def can_run_fellowship(actor: Any, fellowship: Any) -> bool:
    """The host's administrator, or the supervisor while a clinician there, starts and completes it."""
    scope = scope_for(actor)
    if scope.holds_at_institution(fellowship.host_institution_id, *ADMIN_ROLES):
        return True
    return (
        getattr(actor, "pk", None) is not None
        and fellowship.supervisor_id == actor.pk
        and scope.holds_at_institution(fellowship.host_institution_id, Role.DOCTOR, Role.NURSE)
    )


def can_withdraw_fellowship(actor: Any, fellowship: Any) -> bool:
    """Either side's administrator withdraws a fellowship."""
    scope = scope_for(actor)
    return scope.holds_at_institution(
        fellowship.host_institution_id, *ADMIN_ROLES
    ) or scope.holds_at_institution(fellowship.home_institution_id, *ADMIN_ROLES)


def can_record_technique(actor: Any, institution_id: int) -> bool:
    """The member's administrator records a technique introduced there."""
    return scope_for(actor).holds_at_institution(institution_id, *ADMIN_ROLES)


def can_report_cases(actor: Any, technique: Any) -> bool:
    """The member's administrators and clinicians report the cases performed."""
    return scope_for(actor).holds_at_institution(technique.institution_id, *CASE_REPORTERS)


def can_review_technique(actor: Any, technique: Any) -> bool:
    """The consortium office confirms or returns a technique."""
    return scope_for(actor).holds_at_consortium(technique.consortium_id, *OVERSIGHT_ROLES)


def reviews_some_techniques(actor: Any) -> bool:
    """The office of some consortium."""
    return bool(overseen_consortia(actor))


def device_manager_institutions(actor: Any) -> set[int]:
    """Institutions where the actor registers devices given to members."""
    return scope_for(actor).institutions_with(*DEVICE_MANAGERS)


def can_manage_device(actor: Any, donor_id: int) -> bool:
    """The donor's administrators and engineers register and take back devices."""
    return scope_for(actor).holds_at_institution(donor_id, *DEVICE_MANAGERS)


def can_report_fault(actor: Any, device: Any) -> bool:
    """Staff of the member that holds the device."""
    return scope_for(actor).holds_at_institution(device.recipient_id, *REPORTER_ROLES)


def engineer_institutions(actor: Any) -> set[int]:
    """Institutions where the actor works as an equipment engineer."""
    return scope_for(actor).institutions_with(*ENGINEER_ROLES)


def is_engineer_of(actor: Any, donor_id: int) -> bool:
    """An engineer (technician) of the donor."""
    return scope_for(actor).holds_at_institution(donor_id, *ENGINEER_ROLES)


def can_dispatch(actor: Any, donor_id: int) -> bool:
    """The donor's administrator assigns a request to one of its engineers."""
    return scope_for(actor).holds_at_institution(donor_id, *ADMIN_ROLES)


def can_view_statistics(actor: Any) -> bool:
    """The office, regulators, platform admins and the administrators of institutions read the figures
    (an administrator, of the consortia their institution belongs to)."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(
        overseen_consortia(actor) or regulated_prefixes(actor) or admin_institutions(actor)
    )
