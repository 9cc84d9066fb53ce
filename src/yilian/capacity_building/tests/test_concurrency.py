"""Concurrent conflicting capacity-building actions end with one winner and clean conflicts for the rest.

Real threads, each with its own database connection (``core.testing.race``).
"""

from __future__ import annotations

from typing import Any

import pytest

from yilian.capacity_building import services
from yilian.capacity_building.choices import FellowshipStatus, MaintenanceStatus
from yilian.capacity_building.models import Fellowship, MaintenanceRequest, TrainingAttendance, TrainingCourse
from yilian.capacity_building.tests.factories import cap_world, course, device, fellowship, maintenance
from yilian.core.exceptions import Conflict
from yilian.core.models import AuditEvent
from yilian.core.testing import race

pytestmark = pytest.mark.django_db(transaction=True)


def _split(results: list[Any], kind: type) -> tuple[list[Any], list[Any]]:
    winners = [r for r in results if isinstance(r, kind)]
    losers = [r for r in results if isinstance(r, Exception)]
    return winners, losers


def test_two_engineers_take_one_request(world):
    cw = cap_world(world)
    request = maintenance(cw, device(cw))

    def take(actor: Any) -> Any:
        return lambda: services.maintenance_take(
            actor=actor, request=MaintenanceRequest.objects.get(pk=request.pk)
        )

    results = race(take(cw.engineer), take(cw.engineer2))
    winners, losers = _split(results, MaintenanceRequest)
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    stored = MaintenanceRequest.objects.get(pk=request.pk)
    assert stored.status == MaintenanceStatus.ASSIGNED and stored.engineer_id == winners[0].engineer_id
    assert AuditEvent.objects.filter(action="maintenance.take").count() == 1


def test_start_and_withdraw_at_once(world):
    cw = cap_world(world)
    planned = fellowship(cw)

    def start() -> Any:
        return services.fellowship_start(
            actor=world.hospital_admin, fellowship=Fellowship.objects.get(pk=planned.pk), expected_version=1
        )

    def withdraw() -> Any:
        return services.fellowship_withdraw(
            actor=world.township_admin,
            fellowship=Fellowship.objects.get(pk=planned.pk),
            reason="单位工作安排调整",
            expected_version=1,
        )

    results = race(start, withdraw)
    winners, losers = _split(results, Fellowship)
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    stored = Fellowship.objects.get(pk=planned.pk)
    assert stored.status in (FellowshipStatus.IN_PROGRESS, FellowshipStatus.WITHDRAWN)
    assert stored.status == winners[0].status and stored.version == 2


def test_the_same_person_signed_in_twice_at_once(world):
    cw = cap_world(world)
    held = course(cw)

    def sign_in() -> Any:
        return services.attendance_record(
            actor=cw.teacher, course=TrainingCourse.objects.get(pk=held.pk), user=cw.township_doctor
        )

    results = race(sign_in, sign_in)
    winners, losers = _split(results, TrainingAttendance)
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert TrainingAttendance.objects.filter(course=held).count() == 1


def test_two_fault_reports_for_one_device(world):
    cw = cap_world(world)
    ecg = device(cw)

    def report(actor: Any) -> Any:
        return lambda: services.maintenance_request(actor=actor, device=ecg, fault_description="开机无显示")

    results = race(report(cw.township_doctor), report(cw.township_nurse))
    winners, losers = _split(results, MaintenanceRequest)
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert MaintenanceRequest.objects.filter(device=ecg).count() == 1
