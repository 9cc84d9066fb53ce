"""Who may see and do what in expert outreach.

Outreach records are not patient data. The sending (lead) hospital's staff
see the batches, postings and clinic sessions of their institution; a
member's staff see what concerns their institution; the consortium office
reads everything of its consortium, a regulator everything touching its
region, platform administrators everything — all read-only. Writes: the
sending institution's administrator records batches and postings (an
expert may record a batch they travel on, and publish their own clinic
sessions); the receiving member's administrator confirms or returns a
batch. Bookings are patient data: member clinical staff and admins book
and see the residents, the session's expert sees them; everybody else sees
masked names.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import INSTITUTION_ROLES, Role
from yilian.outreach.choices import PHYSICIAN_TITLES
from yilian.people.policies import PATIENT_ROLES

OVERSIGHT_ROLES = frozenset({Role.CONSORTIUM_OFFICE, Role.QUALITY_OFFICER})
"""Consortium roles that read every outreach record of the consortium (the office, the quality officer)."""

MANAGERS = frozenset({Role.INSTITUTION_ADMIN})
"""Institution roles that record and confirm outreach for their institution."""

EXPERT_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.TECHNICIAN})
"""Roles whose holders go out as experts."""

BOOKING_ROLES = PATIENT_ROLES
"""Member roles that book residents into expert clinic slots."""


def staff_institutions(actor: Any) -> set[int]:
    """Institutions where the actor holds any institution role (they see its outreach)."""
    return scope_for(actor).institutions_with(*INSTITUTION_ROLES)


def managed_institutions(actor: Any) -> set[int]:
    """Institutions the actor administers."""
    return scope_for(actor).institutions_with(*MANAGERS)


def expert_institutions(actor: Any) -> set[int]:
    """Institutions where the actor may go out as an expert."""
    return scope_for(actor).institutions_with(*EXPERT_ROLES)


def posting_institutions(actor: Any) -> set[int]:
    """Institutions from which the actor may be posted long-term: where they hold the doctor role."""
    return scope_for(actor).institutions_with(Role.DOCTOR)


def may_be_posted(user: Any, institution_id: int) -> bool:
    """A long-term posting (派驻) is of a physician: the doctor role at the sending institution and a
    physician title (医师系列), whatever other roles the user holds."""
    return institution_id in posting_institutions(user) and user.professional_title in PHYSICIAN_TITLES


def booking_institutions(actor: Any) -> set[int]:
    """Institutions where the actor books residents into expert clinics."""
    return scope_for(actor).institutions_with(*BOOKING_ROLES)


def overseen_consortia(actor: Any) -> set[int]:
    """Consortia whose outreach the actor reads as the management office."""
    return scope_for(actor).consortia_with(*OVERSIGHT_ROLES)


def regulated_prefixes(actor: Any) -> set[str]:
    """Region prefixes whose institutions' outreach the actor reads as a regulator."""
    return scope_for(actor).region_prefixes_with(Role.REGULATOR)


def is_oversight(actor: Any) -> bool:
    """The office, a regulator or a platform admin (reads aggregates, sees no patient names)."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(overseen_consortia(actor) or regulated_prefixes(actor))


def can_use_outreach(actor: Any) -> bool:
    """Anyone with some view of outreach: institution staff, the office, a regulator, an admin."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(staff_institutions(actor) or is_oversight(actor))


def can_record_batch(actor: Any) -> bool:
    """Administrators and experts of some institution may record a batch (checked per sender by the service)."""
    return bool(managed_institutions(actor) or expert_institutions(actor))


def can_record_batch_for(actor: Any, sending_institution_id: int) -> bool:
    """The sending institution's administrator, or one of its experts (who must travel on the batch)."""
    scope = scope_for(actor)
    return scope.holds_at_institution(sending_institution_id, *MANAGERS, *EXPERT_ROLES)


def is_sending_manager(actor: Any, institution_id: int) -> bool:
    """The administrator of the sending institution."""
    return scope_for(actor).holds_at_institution(institution_id, *MANAGERS)


def is_host_manager(actor: Any, institution_id: int) -> bool:
    """The administrator of the receiving member."""
    return scope_for(actor).holds_at_institution(institution_id, *MANAGERS)


def can_edit_batch(actor: Any, batch: Any) -> bool:
    """The sending administrator, or an expert travelling on the batch (or who recorded it)."""
    if is_sending_manager(actor, batch.sending_institution_id):
        return True
    return scope_for(actor).holds_at_institution(batch.sending_institution_id, *EXPERT_ROLES) and (
        batch.created_by_id == getattr(actor, "pk", None)
        or any(visit.expert_id == actor.pk for visit in batch.visits.all())
    )


def can_manage_postings(actor: Any) -> bool:
    """Administrators of some institution record postings (of their own staff)."""
    return bool(managed_institutions(actor))


def can_manage_posting(actor: Any, posting: Any) -> bool:
    """The sending or the host administrator starts and ends a posting; only the sender cancels it."""
    scope = scope_for(actor)
    return scope.holds_at_institution(posting.home_institution_id, *MANAGERS) or scope.holds_at_institution(
        posting.host_institution_id, *MANAGERS
    )


def can_manage_session(actor: Any, session: Any) -> bool:
    """The expert, the sending administrator, the host administrator."""
    scope = scope_for(actor)
    return (
        session.expert_id == getattr(actor, "pk", None)
        or scope.holds_at_institution(session.home_institution_id, *MANAGERS)
        or scope.holds_at_institution(session.host_institution_id, *MANAGERS)
    )


def can_book(actor: Any, session: Any) -> bool:
    """Member clinical staff and admins book residents into the sessions held at their institution."""
    return scope_for(actor).holds_at_institution(session.host_institution_id, *BOOKING_ROLES)


def can_view_bookings(actor: Any) -> bool:
    """Somebody who books at some institution, or an expert (the booking pages)."""
    return bool(booking_institutions(actor) or expert_institutions(actor))


def sees_patients_of(actor: Any, session: Any) -> bool:
    """Whether the actor sees the residents booked into the session: host clinical staff and admins,
    the expert; platform admins too. The office, regulators and the sender's staff see masked names."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return True
    return session.expert_id == getattr(actor, "pk", None) or scope.holds_at_institution(
        session.host_institution_id, *BOOKING_ROLES
    )


def can_view_statistics(actor: Any) -> bool:
    """The office, regulators, platform admins and institution administrators read statistics and reports."""
    return is_oversight(actor) or bool(managed_institutions(actor))


def can_view_indicator(actor: Any) -> bool:
    """The posting indicator: the office, regulators, platform admins, institution administrators."""
    return can_view_statistics(actor)


def batch_sides(actor: Any, batch: Any) -> dict[str, bool]:
    """Whether the actor may act for the sending side and for the host side of the batch."""
    return {
        "sending": can_edit_batch(actor, batch),
        "host": is_host_manager(actor, batch.host_institution_id),
    }
