"""Who may see and do what with shared diagnostic centres and their orders.

An order is seen by the ordering institution's patient-seeing staff, the
centre's own staff, the consortium office of the centre's consortium and
regulators of either end's region (read-only, patient names masked), and
platform administrators (read-only). Actions come from the workflow table:
the side (ordering / centre) and the roles held on that side.

The centre's staff are those whose role at the hub institution was granted
in the centre's department (承担科室): a surgeon or a paediatrician of the
hub hospital is not the imaging centre's staff and may not read its
worklist, receive its specimens or sign its reports. A centre with no
department has no staff until the office names one.

Only clinical staff see the patient on an order: those of the ordering
institution (and its administrators, as on referrals) and the centre's
department. The hub's institution administrators (机构管理员) read the
orders of the centres their institution hosts as the consortium office
does: the patient's name masked, no identifiers, clinical text, files or
report, and no action.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import CLINICAL_ROLES, Role
from yilian.diagnostics.choices import OrderSide
from yilian.diagnostics.workflow import ORDERING_ROLES
from yilian.people.policies import PATIENT_ROLES, can_view_people

OVERSIGHT_ROLES = frozenset({Role.CONSORTIUM_OFFICE})

CENTRE_STAFF_ROLES = CLINICAL_ROLES
"""Roles that make a member of the centre's department its staff: an administrator's role, even one granted
in the department, manages staff, not patients."""


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


def centre_roles(actor: Any, centre: Any) -> frozenset[str]:
    """The roles the actor holds as the centre's staff: at its hub institution, granted in its department.

    Empty for everyone when the centre has no department, and for staff of
    the hub's other departments (or with no department named).
    """
    if centre.department_id is None:
        return frozenset()
    scope = scope_for(actor)
    at_hub = scope.institution_roles.get(centre.hub_institution_id, frozenset())
    return at_hub & scope.department_roles.get(centre.department_id, frozenset())


def centre_departments(actor: Any) -> set[int]:
    """Departments in which the actor holds a clinical role: the centres run by them are the actor's to work at."""
    return scope_for(actor).departments_with(*CENTRE_STAFF_ROLES)


def sides_of(actor: Any, order: Any) -> dict[str, frozenset[str]]:
    """The roles the actor holds at each end of the order: at the ordering institution, and as the
    centre's staff (its department at the hub, see ``centre_roles``)."""
    scope = scope_for(actor)
    return {
        OrderSide.ORDERING: scope.institution_roles.get(order.ordering_institution_id, frozenset()),
        OrderSide.CENTRE: centre_roles(actor, order.centre),
    }


def supervised_institutions(actor: Any) -> set[int]:
    """Institutions the actor administers: their administrators read (never act on) the orders of the
    centres they host, whatever the department, as they answer for the institution's work, but with the
    patient masked (``sees_patient``)."""
    return scope_for(actor).institutions_with(Role.INSTITUTION_ADMIN)


def sees_patient(actor: Any, order: Any) -> bool:
    """True when the actor sees the patient on this order: patient-seeing staff of the ordering institution
    (its administrators too, as on referrals) and clinical staff of the centre's department. The hub's
    administrators, the office, regulators and platform administrators read a masked name, as the office
    does on referrals: an administrator manages the centre's staff, not its patients."""
    sides = sides_of(actor, order)
    return bool(sides[OrderSide.ORDERING] & PATIENT_ROLES or sides[OrderSide.CENTRE] & CENTRE_STAFF_ROLES)


def sees_every_patient(actor: Any) -> bool:
    """Whether the actor sees the patient on every order they read (the indicator drill-down's
    ``shows_full``, which masks per reader, not per row).

    Those who see patients at all (``people.policies.can_view_people``), except an administrator of an
    institution hosting a centre whose department the actor holds no clinical role in: its orders from
    elsewhere are read masked, so the drill-down masks all. One query, for administrators only.
    """
    from yilian.diagnostics.models import SharedCentre

    if not can_view_people(actor):
        return False
    administered = supervised_institutions(actor)
    if not administered:
        return True
    hosted = SharedCentre.objects.filter(hub_institution_id__in=administered).only(
        "hub_institution_id", "department_id"
    )
    return all(centre_roles(actor, centre) & CENTRE_STAFF_ROLES for centre in hosted)


def hosts_centre(actor: Any) -> bool:
    """Patient-seeing staff of the department that runs an active centre: they get the centre-side
    navigation (the diagnosis desk, the orders received at the centre). Township staff, and the hub's
    other departments, do not."""
    from yilian.diagnostics.models import SharedCentre

    institutions = patient_institutions(actor)
    if not institutions:
        return False
    # One query for every clinician (the menu asks on each page): the hub's active centres' departments.
    run_by = SharedCentre.objects.filter(hub_institution_id__in=institutions, is_active=True).values_list(
        "department_id", flat=True
    )
    return bool(set(run_by) & centre_departments(actor))


def works_at_centre(actor: Any, centre: Any) -> bool:
    """Clinical staff of the centre's department at its hub (the reading list, receiving specimens)."""
    return bool(centre_roles(actor, centre) & CENTRE_STAFF_ROLES)


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
