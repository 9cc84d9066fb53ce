"""Concurrent claims and signs end with one winner and clean conflicts for the rest (real threads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.diagnostics import services
from yilian.diagnostics.models import DiagnosticOrder, DiagnosticReport
from yilian.diagnostics.tests.factories import diag_world, received_specimen

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_readers_claim_one_wins_the_other_sees_the_holder(world):
    dw = diag_world(world)
    received = received_specimen(dw)

    def claim(actor: Any) -> Callable[[], Any]:
        return lambda: services.order_act(
            actor=actor, order=DiagnosticOrder.objects.get(pk=received.pk), action="claim"
        )

    results = race(claim(dw.hospital_doctor), claim(dw.second_doctor))
    winners = [r for r in results if isinstance(r, DiagnosticOrder)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], Conflict)
    holder = winners[0].claimed_by
    assert holder.full_name in str(losers[0])
    assert DiagnosticOrder.objects.get(pk=received.pk).claimed_by == holder


def test_two_signs_one_report(world):
    dw = diag_world(world)
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")

    def sign() -> Any:
        return services.order_act(
            actor=dw.hospital_doctor,
            order=DiagnosticOrder.objects.get(pk=received.pk),
            action="sign",
            conclusion="正常",
        )

    results = race(sign, sign)
    winners = [r for r in results if isinstance(r, DiagnosticOrder)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], Conflict)
    assert DiagnosticReport.objects.filter(order_id=received.pk).count() == 1
