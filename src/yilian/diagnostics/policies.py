"""Who may see and do what with shared diagnostic centres and their orders.

An order is seen by the ordering institution's patient-seeing staff, the
centre's hub institution staff, the consortium office of the centre's
consortium and regulators of either end's region (read-only, patient
names masked), and platform administrators (read-only). Actions come from
the workflow table: the side (ordering / centre) and the roles held at
that side's institution.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role
from yilian.diagnostics.choices import OrderSide
from yilian.diagnostics.workflow import ORDERING_ROLES
from yilian.people.policies import PATIENT_ROLES

OVERSIGHT_ROLES = frozenset({Role.CONSORTIUM_OFFICE})


def patient_institutions(actor: Any) -> set[int]:
    """Institutions where the actor sees patients (either end of an order)."""
    return scope_for(actor).institutions_with(*PATIENT_ROLES)


def ordering_institutions(actor: Any) -> set[int]:
    """Institutions where the actor may order."""
    return scope_for(actor).institutions_with(*ORDERING_ROLES)


def overseen_consortia(actor: Any) -> set[int]:
    """Consortia whose orders the actor reads as the office."""
    return scope_for(actor).consortia_with(*OVERSIGHT_ROLES)


def regulated_prefixes(actor: Any) -> set[str]:
    """Region prefixes the actor regulates."""
    return scope_for(actor).region_prefixes_with(Role.REGULATOR)


def can_use_diagnostics(actor: Any) -> bool:
    """Anyone with some view of diagnostics."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(
        patient_institutions(actor) or overseen_consortia(actor) or regulated_prefixes(actor)
    )


def can_order(actor: Any) -> bool:
    """Doctors somewhere may order."""
    return bool(ordering_institutions(actor))


def can_order_at(actor: Any, centre: Any, institution_id: int) -> bool:
    """A doctor of ``institution_id`` ordering from ``centre``, which must serve that institution."""
    if institution_id not in ordering_institutions(actor):
        return False
    return (
        institution_id == centre.hub_institution_id
        or centre.served_institutions.filter(pk=institution_id).exists()
    )


def sides_of(actor: Any, order: Any) -> dict[str, frozenset[str]]:
    """The roles the actor holds at each end of the order (the centre is its hub institution)."""
    scope = scope_for(actor)
    return {
        OrderSide.ORDERING: scope.institution_roles.get(order.ordering_institution_id, frozenset()),
        OrderSide.CENTRE: scope.institution_roles.get(order.centre.hub_institution_id, frozenset()),
    }


def sees_patient(actor: Any, order: Any) -> bool:
    """True when the actor sees the patient on this order: patient-seeing staff of either end (the office,
    regulators and platform administrators read a masked name, as on referrals)."""
    return any(roles & PATIENT_ROLES for roles in sides_of(actor, order).values())


def hosts_centre(actor: Any) -> bool:
    """Patient-seeing staff of an institution that runs an active centre: they get the centre-side
    navigation (the diagnosis desk, the orders received at the centre). Township staff do not."""
    from yilian.diagnostics.models import SharedCentre

    institutions = patient_institutions(actor)
    return (
        bool(institutions)
        and SharedCentre.objects.filter(hub_institution_id__in=institutions, is_active=True).exists()
    )


def works_at_centre(actor: Any, centre: Any) -> bool:
    """Patient-seeing staff of the centre's hub institution (the reading list, receiving specimens)."""
    return centre.hub_institution_id in patient_institutions(actor)


def can_configure(actor: Any, consortium: Any) -> bool:
    """The consortium office (and platform admins) set up centres, catalogues and recognition rules."""
    scope = scope_for(actor)
    return scope.is_platform_admin or scope.holds_at_consortium(consortium.pk, *OVERSIGHT_ROLES)


def can_configure_any(actor: Any) -> bool:
    """The actor runs some consortium's office, or is a platform admin."""
    return scope_for(actor).is_platform_admin or bool(overseen_consortia(actor))


def can_view_statistics(actor: Any) -> bool:
    """The office, regulators and platform admins read the dashboard."""
    scope = scope_for(actor)
    return scope.is_platform_admin or bool(overseen_consortia(actor) or regulated_prefixes(actor))
