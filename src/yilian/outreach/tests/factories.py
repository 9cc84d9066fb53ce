"""Factories for outreach tests: an outreach world on top of the shared ``world`` fixture.

The county hospital (grade 3, lead) sends experts to the township centre
(C210, member) of the county health community; the county has 800 000
residents.
"""

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
from yilian.outreach import services
from yilian.outreach.choices import PostingStatus
from yilian.outreach.models import ExpertClinicSession, OutreachBatch, Posting
from yilian.people.models import Person
from yilian.people.tests.factories import person


@dataclass
class OutreachWorld:
    """The shared world plus a department, experts of the hospital, township staff and residents."""

    world: Any
    cardiology: Department
    expert: User
    junior: User
    township_doctor: User
    township_nurse: User
    resident: Person
    resident2: Person


def outreach_world(world: Any) -> OutreachWorld:
    """Experts (a chief physician and a resident physician) at the hospital, clinicians at the township."""
    county = world.regions["county"]
    county.population = 800_000
    county.save()
    cardiology = DepartmentFactory(institution=world.hospital, name="心血管内科", specialty="03")
    expert = user_with_role(Role.DOCTOR, username="expert", institution=world.hospital, department=cardiology)
    expert.full_name, expert.professional_title = "王主任", "chief_physician"
    expert.save()
    junior = user_with_role(Role.DOCTOR, username="junior", institution=world.hospital, department=cardiology)
    junior.full_name, junior.professional_title = "李医师", "resident_physician"
    junior.save()
    world.hospital_doctor.professional_title = "attending_physician"
    world.hospital_doctor.save()
    return OutreachWorld(
        world=world,
        cardiology=cardiology,
        expert=expert,
        junior=junior,
        township_doctor=user_with_role(Role.DOCTOR, username="township_doctor", institution=world.township),
        township_nurse=user_with_role(Role.NURSE, username="township_nurse", institution=world.township),
        resident=person("张三", institution=world.township),
        resident2=person("李四", institution=world.township),
    )


def today() -> datetime.date:
    """The local date."""
    return timezone.localdate()


def batch(ow: OutreachWorld, *, days_ago: int = 3, actor: Any = None) -> OutreachBatch:
    """A planned batch from the hospital to the township that started ``days_ago``."""
    start = today() - datetime.timedelta(days=days_ago)
    return services.batch_create(
        actor=actor or ow.world.hospital_admin,
        sending_institution=ow.world.hospital,
        host_institution=ow.world.township,
        starts_on=start,
        ends_on=start + datetime.timedelta(days=1),
        purpose="心内科坐诊与查房",
    )


def visit(ow: OutreachWorld, b: OutreachBatch, **fields: Any) -> Any:
    """A clinic visit of the chief expert in the batch."""
    values = {
        "expert": ow.expert,
        "kind": "clinic",
        "visit_on": b.starts_on,
        "sessions": 2,
        "patients_seen": 30,
        "home_department": ow.cardiology,
    }
    values.update(fields)
    return services.visit_add(actor=ow.world.hospital_admin, batch=b, **values)


def done_batch(ow: OutreachWorld, *, confirmed: bool = False) -> OutreachBatch:
    """A batch with a visit, completed (and confirmed by the township admin when asked)."""
    b = batch(ow)
    visit(ow, b)
    services.batch_act(actor=ow.world.hospital_admin, batch=b, action="complete")
    if confirmed:
        services.batch_act(actor=ow.world.township_admin, batch=b, action="confirm")
    return OutreachBatch.objects.get(pk=b.pk)


def posting(
    ow: OutreachWorld,
    *,
    expert: Any = None,
    start: datetime.date,
    end: datetime.date,
    actual_start: datetime.date | None = None,
    actual_end: datetime.date | None = None,
    reason: str = "",
) -> Posting:
    """A posting written directly (dates in the past are allowed here), started when ``actual_start``."""
    p = Posting.objects.create(
        consortium=ow.world.consortium,
        expert=expert or ow.expert,
        home_institution=ow.world.hospital,
        host_institution=ow.world.township,
        title_at_posting=(expert or ow.expert).professional_title,
        planned_start=start,
        planned_end=end,
        actual_start=actual_start,
        actual_end=actual_end,
        early_end_reason=reason,
        status=(
            PostingStatus.PLANNED
            if actual_start is None
            else PostingStatus.ACTIVE
            if actual_end is None
            else PostingStatus.ENDED_EARLY
            if actual_end < end
            else PostingStatus.COMPLETED
        ),
    )
    return p


def session(
    ow: OutreachWorld, *, hours: float = 48, length: int = 60, actor: Any = None
) -> ExpertClinicSession:
    """An expert clinic session of the chief expert at the township, ``hours`` from now, 15-minute slots."""
    start = (timezone.localtime() + datetime.timedelta(hours=hours)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return services.session_publish(
        actor=actor or ow.expert,
        expert=ow.expert,
        host_institution=ow.world.township,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=length),
        slot_minutes=15,
    )
