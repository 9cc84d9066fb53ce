"""Factories for capacity-building tests: a training world on top of the shared ``world`` fixture.

The county hospital (lead) trains, hosts fellows, supports techniques and
lends devices to the township (member).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from yilian.accounts.models import User
from yilian.accounts.tests.factories import user_with_role
from yilian.capacity_building.choices import (
    CourseKind,
    DeviceType,
    FellowshipStatus,
    MaintenanceStatus,
    SupportKind,
    TechniqueCategory,
    TechniqueStatus,
)
from yilian.capacity_building.models import (
    Fellowship,
    MaintenanceRequest,
    SupportedDevice,
    TechniqueTransfer,
    TrainingAttendance,
    TrainingCourse,
)
from yilian.core.permissions import Role
from yilian.institutions.models import Department
from yilian.institutions.tests.factories import DepartmentFactory


@dataclass
class CapWorld:
    """The shared world plus departments and staff at both ends."""

    world: Any
    cardiology: Department
    general: Department
    teacher: User
    engineer: User
    engineer2: User
    township_doctor: User
    township_nurse: User
    township_tech: User
    outsider_admin: User


def cap_world(world: Any) -> CapWorld:
    """Departments and staff: a cardiology teacher and two engineers at the hospital, a doctor, a nurse
    and a technician at the township, an administrator of the outsider."""
    cardiology = DepartmentFactory(institution=world.hospital, name="心血管内科", specialty="03")
    general = DepartmentFactory(institution=world.township, name="全科医疗科", specialty="02")
    teacher = user_with_role(
        Role.DOCTOR, username="teacher", institution=world.hospital, department=cardiology
    )
    teacher.full_name = "王主任"
    teacher.save()
    engineer = user_with_role(Role.TECHNICIAN, username="engineer", institution=world.hospital)
    engineer2 = user_with_role(Role.TECHNICIAN, username="engineer2", institution=world.hospital)
    township_doctor = user_with_role(Role.DOCTOR, username="township_doctor", institution=world.township)
    township_doctor.full_name = "李医生"
    township_doctor.save()
    township_nurse = user_with_role(Role.NURSE, username="township_nurse", institution=world.township)
    township_tech = user_with_role(Role.TECHNICIAN, username="township_tech", institution=world.township)
    outsider_admin = user_with_role(
        Role.INSTITUTION_ADMIN, username="outsider_admin", institution=world.outsider
    )
    return CapWorld(
        world=world,
        cardiology=cardiology,
        general=general,
        teacher=teacher,
        engineer=engineer,
        engineer2=engineer2,
        township_doctor=township_doctor,
        township_nurse=township_nurse,
        township_tech=township_tech,
        outsider_admin=outsider_admin,
    )


def course(cw: CapWorld, *, starts_on: datetime.date | None = None, **extra: Any) -> TrainingCourse:
    """A teaching round at the hospital's cardiology open to every member (direct row)."""
    starts_on = starts_on or timezone.localdate()
    values: dict[str, Any] = {
        "consortium": cw.world.consortium,
        "organiser": cw.world.hospital,
        "organiser_department": cw.cardiology,
        "kind": CourseKind.TEACHING_ROUND,
        "title": "高血压规范化诊疗教学查房",
        "trainers": "王主任",
        "starts_on": starts_on,
        "ends_on": starts_on,
        "hours": Decimal("2"),
        "created_by": cw.teacher,
    }
    values.update(extra)
    return TrainingCourse.objects.create(**values)


def attend(course_row: TrainingCourse, user: User, institution: Any) -> TrainingAttendance:
    """A sign-in of an account (direct row)."""
    return TrainingAttendance.objects.create(
        course=course_row,
        user=user,
        name=user.full_name or user.username,
        institution=institution,
        institution_name=institution.name,
        signed_in_at=timezone.now(),
    )


def fellowship(cw: CapWorld, *, status: str = FellowshipStatus.PLANNED, **extra: Any) -> Fellowship:
    """A fellowship of the township doctor at the hospital's cardiology (direct row)."""
    values: dict[str, Any] = {
        "consortium": cw.world.consortium,
        "trainee": cw.township_doctor,
        "home_institution": cw.world.township,
        "host_institution": cw.world.hospital,
        "host_department": cw.cardiology,
        "supervisor": cw.teacher,
        "planned_start": timezone.localdate(),
        "planned_months": 6,
        "status": status,
    }
    values.update(extra)
    return Fellowship.objects.create(**values)


def technique(cw: CapWorld, **extra: Any) -> TechniqueTransfer:
    """A technique recorded at the township (direct row)."""
    values: dict[str, Any] = {
        "consortium": cw.world.consortium,
        "institution": cw.world.township,
        "name": "动态心电图检查",
        "category": TechniqueCategory.DIAGNOSTIC,
        "supporting_institution": cw.world.hospital,
        "supporting_department": cw.cardiology,
        "expert": cw.teacher,
        "introduced_on": timezone.localdate(),
        "status": TechniqueStatus.RECORDED,
    }
    values.update(extra)
    return TechniqueTransfer.objects.create(**values)


def device(cw: CapWorld, *, serial: str = "SN-0001", **extra: Any) -> SupportedDevice:
    """A twelve-lead electrocardiograph donated to the township (direct row)."""
    values: dict[str, Any] = {
        "consortium": cw.world.consortium,
        "donor": cw.world.hospital,
        "recipient": cw.world.township,
        "device_type": DeviceType.ECG,
        "name": "十二导心电图机",
        "model": "ECG-1200",
        "serial_number": serial,
        "value": Decimal("28000"),
        "support_kind": SupportKind.DONATED,
        "delivered_on": timezone.localdate(),
    }
    values.update(extra)
    return SupportedDevice.objects.create(**values)


_numbers = iter(range(1, 10**6))


def maintenance(cw: CapWorld, device_row: SupportedDevice, **extra: Any) -> MaintenanceRequest:
    """A repair request for a device (direct row)."""
    values: dict[str, Any] = {
        "device": device_row,
        "number": f"WX-T{next(_numbers):06d}",
        "fault_description": "开机无显示",
        "requested_by": cw.township_doctor,
        "requested_at": timezone.now(),
        "status": MaintenanceStatus.REQUESTED,
    }
    values.update(extra)
    return MaintenanceRequest.objects.create(**values)
