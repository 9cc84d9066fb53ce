"""Concurrent conflicting teleconsultation actions end with one winner and clean conflicts for the rest.

Real threads, each with its own database connection, on SQLite and PostgreSQL
(structured like the cross-app ``tests/test_concurrency.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.telemedicine import services
from yilian.telemedicine.models import ExpertAvailability, Teleconsultation
from yilian.telemedicine.tests.factories import advance, requested, slot, tele_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_coordinators_accept_the_same_invitation(world):
    tw = tele_world(world)
    teleconsultation = requested(tw)
    version = teleconsultation.version

    def accept(actor: Any) -> Callable[[], Any]:
        return lambda: services.teleconsultation_act(
            actor=actor,
            teleconsultation=Teleconsultation.objects.get(pk=teleconsultation.pk),
            action="accept",
            expected_version=version,
            expert=tw.expert,
        )

    results = race(accept(tw.coordinator), accept(world.hospital_admin))
    winners = [r for r in results if isinstance(r, Teleconsultation)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    stored = Teleconsultation.objects.get(pk=teleconsultation.pk)
    assert stored.status == "accepted" and stored.version == version + 1
    assert stored.events.filter(action="accept").count() == 1


def test_two_schedulers_book_one_free_time(world):
    tw = tele_world(world)
    free = slot(tw)
    first = advance(tw, requested(tw), "accept")
    second = advance(tw, requested(tw), "accept")

    def schedule(teleconsultation: Teleconsultation) -> Callable[[], Any]:
        return lambda: services.teleconsultation_act(
            actor=tw.coordinator,
            teleconsultation=Teleconsultation.objects.get(pk=teleconsultation.pk),
            action="schedule",
            availability=ExpertAvailability.objects.get(pk=free.pk),
        )

    results = race(schedule(first), schedule(second))
    winners = [r for r in results if isinstance(r, Teleconsultation)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert ExpertAvailability.objects.get(pk=free.pk).taken_by_id == winners[0].pk
    statuses = sorted(
        Teleconsultation.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    )
    assert statuses == ["accepted", "scheduled"]


def test_concurrent_invitations_all_get_distinct_numbers(world):
    tw = tele_world(world)
    results = race(*[lambda: requested(tw) for _ in range(3)])
    assert all(isinstance(r, Teleconsultation) for r in results), results
    assert len({r.number for r in results}) == 3
