"""Concurrent conflicting bookings end with one winner and clean conflicts for the rest.

Real threads, each with its own database connection (``core.testing.race``).
"""

from __future__ import annotations

from typing import Any

import pytest

from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.outreach import services
from yilian.outreach.models import ClinicBooking, ClinicSlot, OutreachBatch
from yilian.outreach.tests.factories import done_batch, outreach_world, session

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_staff_book_the_same_slot(world):
    ow = outreach_world(world)
    s = session(ow)
    slot_id = s.slots.order_by("starts_at").first().pk

    def book(actor: Any, person: Any) -> Any:
        return lambda: services.booking_create(
            actor=actor, slot=ClinicSlot.objects.select_related("session").get(pk=slot_id), person=person
        )

    results = race(book(ow.township_doctor, ow.resident), book(ow.township_nurse, ow.resident2))
    winners = [r for r in results if isinstance(r, ClinicBooking)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert ClinicBooking.objects.filter(status="booked").count() == 1


def test_one_person_booked_twice_in_the_same_session(world):
    ow = outreach_world(world)
    s = session(ow)
    first, second = list(s.slots.order_by("starts_at")[:2])

    def book(actor: Any, slot_id: int) -> Any:
        return lambda: services.booking_create(
            actor=actor, slot=ClinicSlot.objects.select_related("session").get(pk=slot_id), person=ow.resident
        )

    results = race(book(ow.township_doctor, first.pk), book(ow.township_nurse, second.pk))
    assert len([r for r in results if isinstance(r, ClinicBooking)]) == 1, results
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
    assert ClinicBooking.objects.filter(status="booked", person=ow.resident).count() == 1
    # The loser's slot was released with its rolled-back transaction.
    assert ClinicSlot.objects.filter(session=s, is_booked=True).count() == 1


def test_confirm_and_return_race(world):
    ow = outreach_world(world)
    b = done_batch(ow)
    version = b.version

    def act(action: str, note: str = "") -> Any:
        return lambda: services.batch_act(
            actor=world.township_admin,
            batch=OutreachBatch.objects.get(pk=b.pk),
            action=action,
            expected_version=version,
            note=note,
        )

    results = race(act("confirm"), act("return", "数据有误"))
    assert len([r for r in results if isinstance(r, OutreachBatch)]) == 1, results
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
