"""The rates: definitions on small known data, per period and grouping, constant queries."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from yilian.chronic_care.selectors.rates import period_of, rates, total
from yilian.chronic_care.tests.factories import care_world, enrol, visit
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


def test_period_and_required_visits():
    quarter = period_of(2025, 3, today=datetime.date(2026, 1, 1))
    assert (quarter.start, quarter.end, quarter.until) == (
        datetime.date(2025, 7, 1),
        datetime.date(2025, 9, 30),
        datetime.date(2025, 9, 30),
    )
    assert 1.0 < 4 * quarter.fraction < 1.05
    year = period_of(2025, today=datetime.date(2026, 1, 1))
    assert year.label == "2025" and year.until == datetime.date(2025, 12, 31)


def test_rates_on_known_cases(world, django_assert_max_num_queries):
    cw = care_world(world)
    today = timezone.localdate()
    start = today - datetime.timedelta(days=today.timetuple().tm_yday - 1)
    # A: four controlled follow-ups this year (standardised, controlled).
    a = enrol(cw, enrolled_on=start - datetime.timedelta(days=400))
    elapsed = (today - start).days
    for index in range(4):
        visit(cw, a, days=int(elapsed * index / 4), sbp=128, dbp=80)
    # B: one uncontrolled follow-up (not standardised unless the year just began, uncontrolled).
    b = enrol(
        cw, patient=person("乙", institution=world.township), enrolled_on=start - datetime.timedelta(days=400)
    )
    visit(cw, b, days=0, sbp=165, dbp=95)
    period = period_of(today.year)
    with django_assert_max_num_queries(8):  # scope, teams, registries, three aggregates
        rows = rates(world.office, period=period, group="institution")
    summary = total(rows)
    assert summary.managed == 2
    assert summary.controlled == 1 and summary.control_rate == 50.0
    assert summary.standard >= 1
    by_team = rates(world.office, period=period, group="team")
    assert [row.label for row in by_team] == ["城关一队"]
    assert rates(world.outsider_doctor, period=period) == []
