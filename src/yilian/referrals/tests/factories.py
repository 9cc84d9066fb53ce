"""Factories for referral tests: a referral world on top of the shared ``world`` fixture."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from yilian.accounts.models import User
from yilian.accounts.tests.factories import user_with_role
from yilian.core.permissions import Role
from yilian.institutions.models import Department
from yilian.institutions.tests.factories import DepartmentFactory
from yilian.people.models import Person
from yilian.people.tests.factories import person
from yilian.referrals import services
from yilian.referrals.models import Referral, ReservedCapacity

SUMMARY = {
    "history": "高血压病史 10 年",
    "exam_results": "血压 186/112 mmHg",
    "medications": "氨氯地平 5 mg qd",
    "procedures": "无",
    "treatment": "口服降压药，血压控制不佳",
    "plan": "建议上级医院调整方案",
}


@dataclass
class ReferralWorld:
    """The shared world plus departments, clinicians at both ends and a patient of the township."""

    world: Any
    cardiology: Department
    surgery: Department
    township_clinic: Department
    township_doctor: User
    township_nurse: User
    hospital_doctor: User
    hospital_coordinator: User
    hospital_nurse: User
    outsider_doctor: User
    patient: Person


def referral_world(world: Any) -> ReferralWorld:
    """Departments, clinicians and a patient for referral tests."""
    cardiology = DepartmentFactory(institution=world.hospital, name="心血管内科", specialty="03")
    surgery = DepartmentFactory(institution=world.hospital, name="普外科", specialty="04")
    township_clinic = DepartmentFactory(institution=world.township, name="全科门诊", specialty="02")
    return ReferralWorld(
        world=world,
        cardiology=cardiology,
        surgery=surgery,
        township_clinic=township_clinic,
        township_doctor=user_with_role(Role.DOCTOR, username="township_doctor", institution=world.township),
        township_nurse=user_with_role(Role.NURSE, username="township_nurse", institution=world.township),
        hospital_doctor=world.hospital_doctor,
        hospital_coordinator=user_with_role(
            Role.REFERRAL_COORDINATOR, username="hospital_coordinator", institution=world.hospital
        ),
        hospital_nurse=user_with_role(Role.NURSE, username="hospital_nurse", institution=world.hospital),
        outsider_doctor=world.outsider_doctor,
        patient=person("李四", institution=world.township),
    )


def draft(rw: ReferralWorld, **overrides: Any) -> Referral:
    """A draft up-referral from the township to the hospital's cardiology."""
    data: dict[str, Any] = {
        "kind": "outpatient",
        "priority": "routine",
        "to_department": rw.cardiology,
        "from_department": rw.township_clinic,
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "reason": "血压控制不佳",
        "patient_consented": True,
        **SUMMARY,
    }
    data.update(overrides)
    referral, _created = services.referral_create(
        actor=rw.township_doctor, person=rw.patient, from_institution=rw.world.township, **data
    )
    return referral


def submitted(rw: ReferralWorld, **overrides: Any) -> Referral:
    """A submitted up-referral."""
    referral = draft(rw, **overrides)
    return services.referral_submit(actor=rw.township_doctor, referral=referral)


def capacity(
    department: Department, kind: str = "outpatient_slot", quantity: int = 2, days: int = 1
) -> ReservedCapacity:
    """Reserved places at a department ``days`` from today."""
    return ReservedCapacity.objects.create(
        department=department,
        kind=kind,
        date=timezone.localdate() + datetime.timedelta(days=days),
        quantity=quantity,
    )
