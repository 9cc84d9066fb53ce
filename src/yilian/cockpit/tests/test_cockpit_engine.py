"""The cockpit over figures computed by the engine: encounters → ``evaluation.refresh`` → cards, ranking, map."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from yilian.encounters.models import Encounter
from yilian.indicators import evaluation, services
from yilian.indicators.models import IndicatorCatalogue, IndicatorValue
from yilian.institutions.models import Region, RegionBoundary
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


def _visit(institution: Any, patient: Any, kind: str, day: datetime.date) -> None:
    Encounter.objects.create(
        person=patient,
        institution=institution,
        kind=kind,
        started_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(9))),
        diagnosis_code="I10",
        diagnosis_name="高血压",
    )


def _county_with_march(world: Any) -> Any:
    """Four visits and an admission in March at the consortium's two members, an indicator, a refresh."""
    patient = person("王小明", institution=world.hospital)
    march = datetime.date(2025, 3, 10)
    for _index in range(3):
        _visit(world.hospital, patient, "outpatient", march)
    _visit(world.hospital, patient, "inpatient", march)
    _visit(world.township, patient, "outpatient", march)
    catalogue = IndicatorCatalogue.objects.create(code="local", name="本地指标")
    services.indicator_create(
        actor=world.regulator,
        catalogue=catalogue,
        code="visit_share",
        name="门急诊占比",
        numerator="encounters_visits",
        denominator="encounters_visits + encounters_admissions",
        factor="100",
        decimals=1,
    )
    evaluation.refresh(evaluation.months_between(datetime.date(2025, 1, 1), datetime.date(2025, 3, 1)))
    return patient


def test_refreshed_figures_reach_the_cockpit(client: Any, world: Any) -> None:
    _county_with_march(world)
    ring = [[116.1, 32.3], [116.2, 32.3], [116.2, 32.4], [116.1, 32.4], [116.1, 32.3]]
    RegionBoundary.objects.create(
        region=Region.objects.get(code="341522100"), geometry={"type": "Polygon", "coordinates": [ring]}
    )
    client.force_login(world.office)
    response = client.get("/cockpit/", {"period_type": "month", "period": "2025-03-01"})
    assert response.status_code == 200
    view = response.context["view"]
    assert view.cards[0].value == Decimal("80.0")  # 4 visits of 5 encounters across both members
    assert [(row.name, row.value) for row in view.rankings[0].rows] == [
        (world.township.name, Decimal("100.0")),
        (world.hospital.name, Decimal("75.0")),
    ]
    assert [(row["code"], row["value"]) for row in view.map["rows"]] == [("341522100", 100.0)]


def test_a_refresh_replaces_the_cached_figures(client: Any, world: Any) -> None:
    patient = _county_with_march(world)
    client.force_login(world.office)
    march = {"period_type": "month", "period": "2025-03-01"}
    first = client.get("/cockpit/", march).context["view"]
    assert first.cards[0].value == Decimal("80.0") and not first.from_cache
    # A figure changed behind the engine's back, without a refresh, does not show: the page is cached.
    IndicatorValue.objects.filter(unit_kind="consortium", period_type="month").update(value=Decimal(1))
    stale = client.get("/cockpit/", march).context["view"]
    assert stale.from_cache and stale.cards[0].value == Decimal("80.0")
    # A refresh recomputes the figures and makes a new generation: the next request shows them.
    _visit(world.township, patient, "inpatient", datetime.date(2025, 3, 20))
    evaluation.refresh([datetime.date(2025, 3, 1)])
    response = client.get("/cockpit/", march)
    fresh = response.context["view"]
    assert not fresh.from_cache and fresh.cards[0].value == Decimal("66.7")  # 4 visits of 6 encounters
    assert "66.7" in response.content.decode() and "80.0" not in response.content.decode()
