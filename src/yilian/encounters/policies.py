"""Who may record encounters and volumes: the institution's own clinicians and administrators."""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role
from yilian.people.policies import PATIENT_ROLES


def can_record_at(actor: Any, institution_id: int) -> bool:
    """Clinicians and administrators record their own institution's encounters."""
    return scope_for(actor).holds_at_institution(institution_id, *PATIENT_ROLES)


def can_flag_recovery_at(actor: Any, institution_id: int) -> bool:
    """Doctors judge when an inpatient may go down."""
    return scope_for(actor).holds_at_institution(institution_id, Role.DOCTOR)


def can_report_volume_at(actor: Any, institution_id: int) -> bool:
    """Institution administrators report monthly service volumes."""
    return scope_for(actor).holds_at_institution(institution_id, Role.INSTITUTION_ADMIN)
