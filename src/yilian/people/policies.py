"""Who may see and register people. Patient data is need-to-know.

An institution's clinical staff and admins see the persons linked to their
institution (registered, treated, referred, ordered for, contracted).
Platform admins see everyone. Nobody else sees patient records.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import CLINICAL_ROLES, Role

PATIENT_ROLES = frozenset(CLINICAL_ROLES | {Role.INSTITUTION_ADMIN})


def institutions_seeing_patients(actor: Any) -> set[int]:
    """Institutions where the actor holds a role that sees patients."""
    return scope_for(actor).institutions_with(*PATIENT_ROLES)


def can_register_person(actor: Any, institution: Any) -> bool:
    """Clinical staff and admins register persons at their own institution."""
    scope = scope_for(actor)
    return scope.is_platform_admin or institution.pk in institutions_seeing_patients(actor)


def can_view_people(actor: Any) -> bool:
    """Anyone who may see at least some patients."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(institutions_seeing_patients(actor))


def can_view_full_id_number(actor: Any) -> bool:
    """Only clinical staff and platform admins may reveal the full ID number (the reveal is audited)."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(scope.institutions_with(*CLINICAL_ROLES))
