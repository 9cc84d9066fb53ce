"""Concurrent conflicting prescription writes end with one winner and clean conflicts for the rest.

Real threads, each with its own database connection.
"""

from __future__ import annotations

from typing import Any

import pytest

from yilian.core.exceptions import Conflict, Invalid
from yilian.core.testing import race
from yilian.prescriptions import services
from yilian.prescriptions.models import Delivery, DeliveryEvent, Prescription
from yilian.prescriptions.tests.factories import extend, item, rx_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_long_prescriptions_of_the_same_drug_at_once(world):
    rw = rx_world(world)

    def write() -> Any:
        return services.prescription_create(
            actor=rw.gp,
            institution=rw.world.township,
            person=rw.patient,
            kind="long",
            diagnosis_code="I10",
            diagnosis_name="原发性高血压",
            items=[item(rw.amlodipine, days=84)],
        )

    results = race(write, write)
    winners = [r for r in results if isinstance(r, Prescription)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    # A loser that reaches the check under the person's lock gets Conflict; one that the scheduler
    # held back until the winner had committed fails the ordinary overlap check instead. Either way
    # the doctor is told which prescription got there first.
    assert len(losers) == 1 and isinstance(losers[0], (Conflict, Invalid)), results
    assert winners[0].number in str(losers[0]), results
    assert Prescription.objects.filter(kind="long").count() == 1


@pytest.mark.parametrize("action", ["dispatch", "receive"])
def test_two_people_take_the_same_delivery_step(world, action):
    rw = rx_world(world)
    delivery = extend(rw).delivery
    if action == "receive":
        services.delivery_step(actor=rw.pharmacist, delivery=delivery, action="dispatch")
    actors = (rw.pharmacist, rw.world.hospital_admin) if action == "dispatch" else (rw.gp, rw.nurse)

    def step(actor: Any) -> Any:
        return lambda: services.delivery_step(
            actor=actor, delivery=Delivery.objects.get(pk=delivery.pk), action=action
        )

    results = race(step(actors[0]), step(actors[1]))
    winners = [r for r in results if isinstance(r, Delivery)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert DeliveryEvent.objects.filter(delivery=delivery, action=action).count() == 1
