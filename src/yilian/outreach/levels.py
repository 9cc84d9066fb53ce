"""Service levels of institutions: expert outreach (专家下沉) goes down, never up or sideways.

The rule, one number per institution:

* a primary institution (WS 218 categories B, C, D — community and township
  health centres, clinics, village clinics) is level 0, whatever its grade;
* any other institution is at its hospital grade (``Institution.grade``):
  三级 3, 二级 2, 一级 1; an ungraded one (未定级) counts as 1 — above the
  primary institutions, below every graded secondary hospital.

A batch may go only to a member whose level is strictly lower than the
sending institution's: a county (二级) hospital sends to township centres
and village clinics, not to the city (三级) hospital nor to another 二级
hospital of the county.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from yilian.institutions.choices import PRIMARY_CATEGORY_PREFIXES, HospitalGrade

UNGRADED_LEVEL = 1
"""The level of an ungraded institution that is not a primary one."""


def service_level(institution: Any) -> int:
    """The institution's level for outreach (0 primary … 3 tertiary); see the module docstring."""
    if institution.category.startswith(PRIMARY_CATEGORY_PREFIXES):
        return 0
    if institution.grade in ("", HospitalGrade.UNGRADED):
        return UNGRADED_LEVEL
    return int(institution.grade)


def below_level(level: int) -> Q:
    """Institutions (a filter on ``Institution``) whose level is strictly lower than ``level``."""
    primary = Q()
    for prefix in PRIMARY_CATEGORY_PREFIXES:
        primary |= Q(category__startswith=prefix)
    if level <= 0:
        return Q(pk__in=[])
    graded = [str(grade) for grade in range(1, level)]
    ungraded = Q(grade__in=["", HospitalGrade.UNGRADED]) if level > UNGRADED_LEVEL else Q(pk__in=[])
    return primary | Q(grade__in=graded) | ungraded
