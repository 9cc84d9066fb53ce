"""Two freezes of one round at once: one wins, the other a clean conflict; a refresh meanwhile never mixes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from yilian.assessment import services
from yilian.assessment.models import AssessmentRound, RoundResult
from yilian.assessment.tests.factories import AssessmentWorld, figure
from yilian.core.exceptions import Conflict
from yilian.core.testing import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_freezes_at_once(world):
    aw = AssessmentWorld(world)

    def freeze() -> Any:
        return services.round_freeze(
            actor=world.office, round_=AssessmentRound.objects.get(pk=aw.round.pk), expected_version=0
        )

    results = race(freeze, freeze)
    winners = [r for r in results if isinstance(r, AssessmentRound)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert AssessmentRound.objects.get(pk=aw.round.pk).version == 1
    assert set(RoundResult.objects.filter(round=aw.round).values_list("version", flat=True)) == {1}


def test_freeze_during_a_refresh_sees_all_old_or_all_new(world):
    aw = AssessmentWorld(world)

    def refresh() -> str:
        with transaction.atomic():
            for member in aw.members:
                figure(aw.rate, member.pk, "50")
        return "refreshed"

    def freeze() -> Any:
        return services.round_freeze(actor=world.office, round_=AssessmentRound.objects.get(pk=aw.round.pk))

    results = race(refresh, freeze)
    assert not any(isinstance(r, Exception) for r in results), results
    values = set(
        RoundResult.objects.filter(round=aw.round, version=1, indicator=aw.rate).values_list(
            "value", flat=True
        )
    )
    assert values in ({Decimal(12), Decimal(8), Decimal(4)}, {Decimal(50)}), values
