"""Two freezes of one budget at once: versions n and n + 1, or one clean conflict."""

from __future__ import annotations

from typing import Any

import pytest

from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.insurance import services
from yilian.insurance.models import GlobalBudget, Settlement
from yilian.insurance.tests.factories import InsuranceWorld

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_freezes_at_once(world):
    iw = InsuranceWorld(world)

    def freeze() -> Any:
        return services.settlement_freeze(
            actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), rule=iw.rule
        )

    results = race(freeze, freeze)
    winners = [r for r in results if isinstance(r, Settlement)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert winners, results
    assert all(isinstance(loser, Conflict) for loser in losers), results
    versions = sorted(Settlement.objects.filter(budget=iw.budget).values_list("version", flat=True))
    assert versions == list(range(1, len(winners) + 1))


def test_two_updates_of_one_version(world):
    iw = InsuranceWorld(world)
    data = {
        "year": 2026,
        "consortium_share": "0.9",
        "prepayment_rate": "0.95",
        "counts_members": True,
        "headcounts": [{"scheme": "resident", "insured_count": 100, "per_capita_fund": "10"}],
    }

    def update() -> Any:
        return services.budget_update(
            actor=iw.officer, budget=GlobalBudget.objects.get(pk=iw.budget.pk), version=1, data=data
        )

    results = race(update, update)
    assert sum(isinstance(r, GlobalBudget) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert GlobalBudget.objects.get(pk=iw.budget.pk).version == 2
