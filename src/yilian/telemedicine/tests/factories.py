"""Factories for teleconsultation tests: a telemedicine world on top of the shared ``world`` fixture.

The township (邀请方) invites the county hospital (受邀方), both members of
the county health community.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from yilian.accounts.models import User
from yilian.accounts.tests.factories import user_with_role
from yilian.core.permissions import Role
from yilian.institutions.models import Department
from yilian.institutions.tests.factories import DepartmentFactory
from yilian.people.models import Person
from yilian.people.tests.factories import person
from yilian.telemedicine import services
from yilian.telemedicine.models import ExpertAvailability, Teleconsultation, TeleconsultationFee


def later(hours: float = 24) -> datetime.datetime:
    """A time ``hours`` from now."""
    return timezone.now() + datetime.timedelta(hours=hours)


@dataclass
class TeleWorld:
    """The shared world plus departments, both ends' staff, experts and a patient of the township."""

    world: Any
    cardiology: Department
    surgery: Department
    township_clinic: Department
    township_doctor: User
    township_nurse: User
    coordinator: User
    expert: User
    junior: User
    surgeon: User
    fee: TeleconsultationFee
    patient: Person


def tele_world(world: Any) -> TeleWorld:
    """Departments, staff and a patient; the consortium charges 300 元 per consultation."""
    cardiology = DepartmentFactory(institution=world.hospital, name="心血管内科", specialty="03")
    surgery = DepartmentFactory(institution=world.hospital, name="普外科", specialty="04")
    township_clinic = DepartmentFactory(institution=world.township, name="全科门诊", specialty="02")
    expert = user_with_role(Role.DOCTOR, username="expert", institution=world.hospital, department=cardiology)
    expert.full_name, expert.professional_title = "王主任", "chief_physician"
    expert.save()
    junior = user_with_role(Role.DOCTOR, username="junior", institution=world.hospital, department=cardiology)
    junior.professional_title = "attending_physician"
    junior.save()
    surgeon = user_with_role(Role.DOCTOR, username="surgeon", institution=world.hospital, department=surgery)
    surgeon.professional_title = "chief_physician"
    surgeon.save()
    world.hospital_doctor.professional_title = "associate_chief_physician"
    world.hospital_doctor.save()
    fee = TeleconsultationFee.objects.create(
        consortium=world.consortium, kind="consultation", amount=Decimal("300")
    )
    return TeleWorld(
        world=world,
        cardiology=cardiology,
        surgery=surgery,
        township_clinic=township_clinic,
        township_doctor=user_with_role(Role.DOCTOR, username="township_doctor", institution=world.township),
        township_nurse=user_with_role(Role.NURSE, username="township_nurse", institution=world.township),
        coordinator=user_with_role(
            Role.REFERRAL_COORDINATOR, username="coordinator", institution=world.hospital
        ),
        expert=expert,
        junior=junior,
        surgeon=surgeon,
        fee=fee,
        patient=person("李四", institution=world.township),
    )


def invitation(tw: TeleWorld, **overrides: Any) -> dict[str, Any]:
    """The fields of a complete invitation from the township to the hospital's cardiology experts."""
    data: dict[str, Any] = {
        "inviting_institution": tw.world.township,
        "invited_institution": tw.world.hospital,
        "kind": "consultation",
        "person": tw.patient,
        "inviting_department": tw.township_clinic,
        "required_specialty": "03",
        "required_title": "associate_chief_physician",
        "reason": "血压控制不佳，伴胸闷",
        "purpose": "明确诊断，调整用药",
        "proposed_at": later(48),
        "case_summary": "高血压病史 10 年，近一周胸闷。",
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "consent_signer_name": "李四",
        "consent_relationship": "patient",
        "consent_signed_at": timezone.now(),
    }
    data.update(overrides)
    return data


def requested(tw: TeleWorld, **overrides: Any) -> Teleconsultation:
    """A teleconsultation the township sent."""
    teleconsultation, _created = services.teleconsultation_create(
        actor=tw.township_doctor, **invitation(tw, **overrides)
    )
    return teleconsultation


def slot(tw: TeleWorld, expert: User | None = None, hours: float = 30) -> ExpertAvailability:
    """A free hour of an expert at the hospital, ``hours`` from now."""
    start = later(hours)
    return ExpertAvailability.objects.create(
        expert=expert or tw.expert,
        institution=tw.world.hospital,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
    )


def session_started(teleconsultation: Teleconsultation, minutes: float = 1) -> Teleconsultation:
    """Let the scheduled session begin: move its start ``minutes`` into the past (time passing)."""
    started = timezone.now() - datetime.timedelta(minutes=minutes)
    Teleconsultation.objects.filter(pk=teleconsultation.pk).update(scheduled_at=started)
    teleconsultation.scheduled_at = started
    return teleconsultation


def advance(tw: TeleWorld, teleconsultation: Teleconsultation, until: str) -> Teleconsultation:
    """Walk the teleconsultation forward through accept, schedule (the session then begins) and sign up
    to ``until``."""
    steps = [
        ("accept", tw.coordinator, {"expert": tw.expert}),
        (
            "schedule",
            tw.coordinator,
            {"scheduled_at": later(50), "meeting_link": "https://meet.example.cn/r/1"},
        ),
        ("sign_opinion", tw.expert, {"opinion": "建议调整为 ARB 类降压药，两周后复查。"}),
        ("conclude", tw.township_doctor, {"decision": "按会诊意见调整用药", "outcome": "stayed_local"}),
    ]
    for action, actor, fields in steps:
        if action == "sign_opinion":
            session_started(teleconsultation)
        teleconsultation = services.teleconsultation_act(
            actor=actor, teleconsultation=teleconsultation, action=action, **fields
        )
        if action == until:
            break
    return teleconsultation
