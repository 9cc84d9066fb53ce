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

And only to a member that sees patients (``receives_outreach``): expert
outreach is clinical work — clinics, ward rounds, surgery guidance, bedside
teaching, record and prescription reviews, sent "到基层" in the seeds
(seeds digest §5 "送下去"). Public-health institutions that see no patients
— the centre for disease control (J), blood services (F), health
supervision (K) and its laboratories (L), research, training and other
bodies (M–Q) — are not receivers; under Art. 19 they guide primary
institutions together with the hospitals. Hospitals (A), primary
institutions (B, C, D), emergency centres (E), maternal and child health
(G) and specialist disease prevention hospitals (H) see patients.
The same rule decides where an expert clinic session (专家门诊) may be held.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from yilian.institutions.choices import PRIMARY_CATEGORY_PREFIXES, HospitalGrade

PATIENT_CATEGORY_PREFIXES = ("A", "B", "C", "D", "E", "G", "H")
"""WS 218 categories of institutions that see patients: the only receivers of expert outreach."""

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


def receives_outreach(institution: Any) -> bool:
    """Whether the institution sees patients and so may receive experts (see the module docstring)."""
    return institution.category.startswith(PATIENT_CATEGORY_PREFIXES)


def receiving_q() -> Q:
    """Institutions (a filter on ``Institution``) that see patients and so may receive experts."""
    condition = Q(pk__in=[])
    for prefix in PATIENT_CATEGORY_PREFIXES:
        condition |= Q(category__startswith=prefix)
    return condition


def may_receive_from(host: Any, sender: Any) -> bool:
    """Whether ``host`` may receive experts of ``sender``: it sees patients and is of a lower level."""
    return receives_outreach(host) and service_level(host) < service_level(sender)
