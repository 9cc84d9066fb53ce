"""Indicator writes: validation with positioned formula errors, versions, stale edits, stale marks, visibility."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections

from yilian.accounts.tests.factories import user_with_role
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.indicators import selectors, services
from yilian.indicators.models import (
    Indicator,
    IndicatorCatalogue,
    IndicatorValue,
    IndicatorVersion,
    RankingPolicy,
    StaleMark,
)
from yilian.institutions.tests.factories import ConsortiumFactory, region

pytestmark = pytest.mark.django_db


def _catalogue() -> IndicatorCatalogue:
    return IndicatorCatalogue.objects.get_or_create(code="local", defaults={"name": "本地指标"})[0]


def _create(world: Any, **overrides: Any) -> Indicator:
    data = {
        "code": "primary_visits_share",
        "name": "基层诊疗量占比",
        "numerator": "encounters_visits",
        "denominator": "encounters_visits + encounters_admissions",
        "factor": "100",
        "unit": "%",
        "direction": "higher",
        "period_type": "month",
        "decimals": 1,
    }
    data.update(overrides)
    return services.indicator_create(actor=world.regulator, catalogue=_catalogue(), **data)


def test_create_writes_version_one_and_audit(world: Any) -> None:
    indicator = _create(world)
    assert indicator.version == 1
    assert indicator.factor == Decimal(100)
    version = IndicatorVersion.objects.get(indicator=indicator)
    assert version.definition["numerator"] == "encounters_visits"
    assert AuditEvent.objects.filter(action="indicator.create").count() == 1


@pytest.mark.parametrize(
    ("formula", "position", "fragment"),
    [
        ("encounters_visits + nothing_here", 21, "nothing_here"),
        ("encounters_visits / (2 - 2)", 19, "除数恒为零"),
        ("(encounters_visits + 1", 23, "右括号"),
        ("encounters_visits)", 18, "右括号"),
        ("encounters_visits $ 2", 19, "$"),
        ("encounters_visits +", 20, "公式不完整"),
    ],
)
def test_formula_errors_name_the_position_and_nothing_is_saved(
    world: Any, formula: str, position: int, fragment: str
) -> None:
    with pytest.raises(Invalid) as raised:
        _create(world, numerator=formula)
    message = str(raised.value.errors["numerator"][0])
    assert f"第 {position} 个字符" in message
    assert fragment in message
    assert not Indicator.objects.exists()


def test_bad_fields_are_reported_together(world: Any) -> None:
    with pytest.raises(Invalid) as raised:
        _create(
            world, code="Bad Code", factor="-1", decimals=9, legend=[{"from": 5, "to": 1, "color": "blue"}]
        )
    assert set(raised.value.errors) >= {"code", "factor", "decimals", "legend"}


def test_only_assessors_create_and_offices_only_for_their_consortium(world: Any) -> None:
    for actor in (world.hospital_admin, world.hospital_doctor, world.stranger):
        with pytest.raises(NotAllowed):
            services.indicator_create(
                actor=actor, catalogue=_catalogue(), code="x", name="x", numerator="encounters_visits"
            )
    with pytest.raises(NotAllowed):  # the shared catalogue is the regulators'
        services.indicator_create(
            actor=world.office, catalogue=_catalogue(), code="y", name="y", numerator="encounters_visits"
        )
    own = services.indicator_create(
        actor=world.office,
        catalogue=_catalogue(),
        consortium=world.consortium,
        code="z",
        name="z",
        numerator="encounters_visits",
    )
    assert own.consortium == world.consortium
    other = ConsortiumFactory(region=world.regions["county"])
    with pytest.raises(NotAllowed):
        services.indicator_create(
            actor=world.office,
            catalogue=IndicatorCatalogue.objects.get(),
            consortium=other,
            code="w",
            name="w",
            numerator="encounters_visits",
        )


def test_update_makes_a_new_version_and_a_stale_edit_is_a_conflict(world: Any) -> None:
    indicator = _create(world)
    updated = services.indicator_update(
        actor=world.regulator, indicator=indicator, expected_version=1, factor="1000"
    )
    assert updated.version == 2
    assert list(IndicatorVersion.objects.filter(indicator=indicator).values_list("version", flat=True)) == [
        2,
        1,
    ]
    assert IndicatorVersion.objects.get(indicator=indicator, version=1).definition["factor"] == "100"
    with pytest.raises(Conflict):
        services.indicator_update(actor=world.regulator, indicator=indicator, expected_version=1, unit="‰")
    unchanged = services.indicator_update(
        actor=world.regulator, indicator=updated, expected_version=2, factor="1000"
    )
    assert unchanged.version == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_edits_one_wins(world: Any) -> None:
    indicator = _create(world)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def edit(unit: str) -> None:
        try:
            barrier.wait()
            services.indicator_update(
                actor=world.regulator, indicator=indicator, expected_version=1, unit=unit
            )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the row lock is exercised on PostgreSQL")
    threads = [threading.Thread(target=edit, args=(unit,)) for unit in ("人", "次")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert Indicator.objects.get(pk=indicator.pk).version == 2


def test_mark_stale_collapses_days_to_months(world: Any) -> None:
    added = services.mark_stale(
        [world.township.pk],
        [datetime.date(2025, 3, 2), datetime.date(2025, 3, 30), datetime.date(2025, 4, 1)],
    )
    assert added == 2
    services.mark_stale([world.township.pk], [datetime.date(2025, 3, 15)])
    assert StaleMark.objects.count() == 2


def test_visible_units_follow_roles_and_the_ranking_policy(world: Any) -> None:
    regulator_units = selectors.visible_units(world.regulator)
    assert regulator_units.allows("institution", world.outsider.pk)
    assert regulator_units.allows("consortium", world.consortium.pk)
    office_units = selectors.visible_units(world.office)
    assert office_units.allows("institution", world.township.pk)
    assert not office_units.allows("institution", world.outsider.pk)
    township_units = selectors.visible_units(world.township_admin)
    assert township_units.allows("institution", world.township.pk)
    assert township_units.allows("consortium", world.consortium.pk)
    assert township_units.allows("institution", world.hospital.pk)  # members see each other by default
    RankingPolicy.objects.create(
        consortium=world.consortium, members_see_ranking=False, members_see_others_values=False
    )
    hidden = selectors.visible_units(world.township_admin)
    assert not hidden.allows("institution", world.hospital.pk)
    assert not selectors.ranking_visible(world.township_admin, world.consortium.pk)
    assert selectors.ranking_visible(world.office, world.consortium.pk)
    assert not selectors.visible_units(world.stranger).allows("consortium", world.consortium.pk)
    other_region = user_with_role(
        Role.REGULATOR, username="far_regulator", region=region("320000", "江苏省", "province")
    )
    assert not selectors.visible_units(other_region).allows("consortium", world.consortium.pk)


def test_regions_are_reached_through_prefixes_and_read_only_when_asked(
    world: Any, django_assert_num_queries: Any
) -> None:
    kinds = ("consortium", "institution", "region")
    office_units = selectors.visible_units(world.office, kinds)
    assert office_units.region_prefixes == {world.consortium.region.prefix}
    with django_assert_num_queries(1):  # the regions under the prefix, read once
        assert office_units.allows("region", world.regions["village_b1"].pk)
        assert office_units.allows("region", world.regions["town_a"].pk)
    assert not office_units.allows("region", world.regions["district"].pk)
    assert world.regions["village_a1"].pk in office_units.region_ids()
    filtered = IndicatorValue.objects.filter(office_units.q("region"))
    assert str(world.regions["town_b"].pk) in str(filtered.query)
    regulator_units = selectors.visible_units(world.regulator, kinds)  # the county's regulator
    assert regulator_units.allows("region", world.regions["village_a2"].pk)
    assert not regulator_units.allows("region", world.regions["district"].pk)
    # Without the region kind asked for, no region is reached at all.
    assert not selectors.visible_units(world.office, ("institution",)).allows(
        "region", world.regions["town_a"].pk
    )
    assert not selectors.visible_units(world.township_admin, kinds).allows(
        "region", world.regions["town_a"].pk
    )


def test_ranking_policy_only_by_the_office(world: Any) -> None:
    with pytest.raises(NotAllowed):
        services.ranking_policy_update(
            actor=world.hospital_admin,
            consortium=world.consortium,
            members_see_ranking=False,
            members_see_others_values=False,
        )
    policy = services.ranking_policy_update(
        actor=world.office,
        consortium=world.consortium,
        members_see_ranking=False,
        members_see_others_values=True,
    )
    assert not policy.members_see_ranking
    assert AuditEvent.objects.filter(action="ranking_policy.update").count() == 1
