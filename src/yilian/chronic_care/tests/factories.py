"""Factories of chronic-care tests: a managing township with a doctor, a nurse, a care team with a
lead-hospital specialist, the lead hospital's cardiology and endocrinology, and enrolled patients."""

from __future__ import annotations

import datetime
import importlib
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from yilian.accounts.models import User
from yilian.accounts.tests.factories import user_with_role
from yilian.chronic_care import services
from yilian.chronic_care.models import ChronicCase, ChronicRegistry, FollowUp
from yilian.core.permissions import Role
from yilian.family_doctors.models import CareTeam, CareTeamMember
from yilian.institutions.models import Department
from yilian.institutions.tests.factories import DepartmentFactory
from yilian.people.models import Person
from yilian.people.tests.factories import person


def days_ago(days: int) -> datetime.date:
    """A date ``days`` before today."""
    return timezone.localdate() - datetime.timedelta(days=days)


@dataclass
class CareWorld:
    """The shared world plus the chronic-care actors and registries."""

    world: Any
    hypertension: ChronicRegistry
    diabetes: ChronicRegistry
    cardiology: Department
    endocrinology: Department
    gp: User
    nurse: User
    specialist: User
    outsider_specialist: User
    team: CareTeam
    other_team: CareTeam
    patient: Person

    def users(self) -> dict[str, Any]:
        """Every actor by name (the world's plus ours)."""
        return {
            **self.world.users(),
            "gp": self.gp,
            "nurse": self.nurse,
            "specialist": self.specialist,
            "outsider_specialist": self.outsider_specialist,
        }


def shipped_registries() -> None:
    """The registries the data migration ships (transaction tests flush them between tests)."""
    shipped = importlib.import_module("yilian.chronic_care.migrations.0002_shipped_registries")
    for row in shipped.REGISTRIES:
        values = dict(row)
        ChronicRegistry.objects.get_or_create(code=values.pop("code"), defaults=values)


def care_world(world: Any) -> CareWorld:
    """Build the chronic-care world on top of ``world``; the patient is 60 and registered at the township."""
    cardiology = DepartmentFactory(institution=world.hospital, name="心血管内科", specialty="03")
    endocrinology = DepartmentFactory(institution=world.hospital, name="内分泌科", specialty="03")
    gp = user_with_role(Role.DOCTOR, username="gp", institution=world.township)
    gp.full_name = "李医生"
    gp.save()
    nurse = user_with_role(Role.NURSE, username="township_nurse", institution=world.township)
    specialist = user_with_role(Role.DOCTOR, username="specialist", institution=world.hospital)
    outsider_specialist = user_with_role(Role.DOCTOR, username="other_specialist", institution=world.hospital)
    team = CareTeam.objects.create(institution=world.township, name="城关一队")
    other_team = CareTeam.objects.create(institution=world.township, name="城关二队")
    today = timezone.localdate()
    CareTeamMember.objects.create(
        team=team,
        user=gp,
        institution=world.township,
        role="general_practitioner",
        is_leader=True,
        joined_on=today,
    )
    CareTeamMember.objects.create(
        team=team, user=specialist, institution=world.hospital, role="specialist", joined_on=today
    )
    CareTeamMember.objects.create(
        team=other_team,
        user=outsider_specialist,
        institution=world.hospital,
        role="specialist",
        joined_on=today,
    )
    patient = person("王老汉", institution=world.township)
    patient.birth_date = today.replace(year=today.year - 60)
    patient.save()
    shipped_registries()
    return CareWorld(
        world=world,
        hypertension=ChronicRegistry.objects.get(code="hypertension"),
        diabetes=ChronicRegistry.objects.get(code="diabetes_t2"),
        cardiology=cardiology,
        endocrinology=endocrinology,
        gp=gp,
        nurse=nurse,
        specialist=specialist,
        outsider_specialist=outsider_specialist,
        team=team,
        other_team=other_team,
        patient=patient,
    )


def enrol(
    cw: CareWorld, *, patient: Person | None = None, registry: str = "hypertension", **extra: Any
) -> ChronicCase:
    """Enrol a patient (the world's by default) through the service, in the first team."""
    registry_obj = cw.hypertension if registry == "hypertension" else cw.diabetes
    values: dict[str, Any] = {
        "diagnosis_code": "I10" if registry == "hypertension" else "E11.9",
        "care_team": cw.team,
        "enrolled_on": days_ago(200),
    }
    values.update(extra)
    return services.case_enrol(
        actor=cw.gp,
        person=patient or cw.patient,
        registry=registry_obj,
        institution=cw.world.township,
        **values,
    )


def visit(
    cw: CareWorld, case: ChronicCase, *, days: int = 0, sbp: int = 130, dbp: int = 80, **extra: Any
) -> FollowUp:
    """Record a follow-up ``days`` ago through the service."""
    values: dict[str, Any] = {
        "visited_on": days_ago(days),
        "method": "clinic",
        "systolic": sbp,
        "diastolic": dbp,
        "adherence": "regular",
        "medication": "氨氯地平片 5mg 每日一次",
    }
    if case.registry.code == "diabetes_t2":
        values.setdefault("fasting_glucose", "6.5")
    values.update(extra)
    return services.follow_up_record(actor=cw.gp, case=ChronicCase.objects.get(pk=case.pk), **values)
