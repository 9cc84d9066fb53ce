"""The role catalogue and the actor's scope.

A user's roles come from ``accounts.Membership`` rows; each grants one role
within an institution, a consortium (its management office) or a region (a
regulator, by GB/T 2260 prefix). ``accounts.selectors.scope_for`` turns them
into a ``Scope`` that every app's ``*_visible_to`` and ``can_*`` predicates read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles a membership can grant."""

    PLATFORM_ADMIN = "platform_admin", _("平台管理员")
    REGULATOR = "regulator", _("卫生健康行政部门")
    CONSORTIUM_OFFICE = "consortium_office", _("医联体管理办公室")
    INSTITUTION_ADMIN = "institution_admin", _("机构管理员")
    DOCTOR = "doctor", _("医生")
    NURSE = "nurse", _("护士")
    TECHNICIAN = "technician", _("医技人员")
    REFERRAL_COORDINATOR = "referral_coordinator", _("转诊协调员")
    INSURANCE_OFFICER = "insurance_officer", _("医保专员")
    QUALITY_OFFICER = "quality_officer", _("质控专员")


INSTITUTION_ROLES = frozenset(
    {
        Role.INSTITUTION_ADMIN,
        Role.DOCTOR,
        Role.NURSE,
        Role.TECHNICIAN,
        Role.REFERRAL_COORDINATOR,
        Role.INSURANCE_OFFICER,
        Role.QUALITY_OFFICER,
    }
)
"""Roles granted within an institution."""

CLINICAL_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.TECHNICIAN, Role.REFERRAL_COORDINATOR})
"""Institution roles that see patients."""

CONSORTIUM_ROLES = frozenset({Role.CONSORTIUM_OFFICE, Role.INSURANCE_OFFICER, Role.QUALITY_OFFICER})
"""Roles that may be granted within a consortium."""

REGION_ROLES = frozenset({Role.REGULATOR, Role.INSURANCE_OFFICER})
"""Roles that may be granted within a region."""


@dataclass(frozen=True)
class Scope:
    """What an actor's memberships reach. Ids are primary keys of the target rows.

    ``institution_roles`` maps institution id → roles held there;
    ``consortium_roles`` maps consortium id → roles; ``region_roles`` maps a
    GB/T 2260 significant prefix ("3415") → roles; ``department_roles`` maps a
    department id → the institution roles granted with that department named
    (a membership's department always belongs to its institution).
    """

    user_id: int | None = None
    is_platform_admin: bool = False
    institution_roles: dict[int, frozenset[str]] = field(default_factory=dict)
    consortium_roles: dict[int, frozenset[str]] = field(default_factory=dict)
    region_roles: dict[str, frozenset[str]] = field(default_factory=dict)
    department_roles: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def is_anonymous(self) -> bool:
        """True when nobody is logged in."""
        return self.user_id is None

    def roles(self) -> frozenset[str]:
        """Every role held anywhere."""
        held: set[str] = set()
        if self.is_platform_admin:
            held.add(Role.PLATFORM_ADMIN)
        for group in (self.institution_roles, self.consortium_roles, self.region_roles):
            for roles in group.values():
                held |= roles
        return frozenset(held)

    def has_role(self, *roles: str) -> bool:
        """True when the actor holds any of ``roles`` anywhere."""
        return bool(self.roles() & set(roles))

    def holds_at_institution(self, institution_id: int, *roles: str) -> bool:
        """True when the actor holds any of ``roles`` at that institution."""
        return bool(self.institution_roles.get(institution_id, frozenset()) & set(roles))

    def holds_at_consortium(self, consortium_id: int, *roles: str) -> bool:
        """True when the actor holds any of ``roles`` in that consortium."""
        return bool(self.consortium_roles.get(consortium_id, frozenset()) & set(roles))

    def holds_in_department(self, department_id: int | None, *roles: str) -> bool:
        """True when the actor holds any of ``roles`` granted with that department (never for None)."""
        if department_id is None:
            return False
        return bool(self.department_roles.get(department_id, frozenset()) & set(roles))

    def departments_with(self, *roles: str) -> set[int]:
        """Department ids where the actor holds any of ``roles`` (any role if none given)."""
        return {pk for pk, held in self.department_roles.items() if not roles or held & set(roles)}

    def institutions_with(self, *roles: str) -> set[int]:
        """Institution ids where the actor holds any of ``roles`` (any role if none given)."""
        return {pk for pk, held in self.institution_roles.items() if not roles or held & set(roles)}

    def consortia_with(self, *roles: str) -> set[int]:
        """Consortium ids where the actor holds any of ``roles`` (any role if none given)."""
        return {pk for pk, held in self.consortium_roles.items() if not roles or held & set(roles)}

    def region_prefixes_with(self, *roles: str) -> set[str]:
        """GB/T 2260 prefixes where the actor holds any of ``roles`` (any role if none given)."""
        return {prefix for prefix, held in self.region_roles.items() if not roles or held & set(roles)}

    def covers_region(self, code: str, *roles: str) -> bool:
        """True when a region code falls under one of the actor's region prefixes."""
        return any(code.startswith(prefix) for prefix in self.region_prefixes_with(*roles))


ANONYMOUS_SCOPE = Scope()
