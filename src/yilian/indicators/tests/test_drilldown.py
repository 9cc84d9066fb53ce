"""Drill-down reads: stock sources in force at the period's end, sources without a drill-down policy,
masking unless the source shows personal data in full, region parts, period labels."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from yilian.core.data_items import Column, DataItem, DataSource
from yilian.core.exceptions import Invalid, NotFound
from yilian.encounters.models import Encounter
from yilian.encounters.selectors import encounters_visible_to
from yilian.indicators import drilldown, registry, services
from yilian.indicators.models import IndicatorCatalogue
from yilian.indicators.tests.test_views import MARCH, make_figures
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


COLUMNS = (Column("入院", "started_at"), Column("患者", "person__name", sensitive=True))
IN_HOSPITAL = DataSource(
    code="test.in_hospital",
    name="在院",
    records=lambda: Encounter.objects.filter(kind="inpatient"),
    date_field="started_at",
    ends_field="ended_at",
    institution_field="institution",
    department_field="department",
    visible_to=encounters_visible_to,
    columns=COLUMNS,
    # The module shows personal data in full to one user: the hook decides, not the role.
    shows_full=lambda actor: getattr(actor, "username", "") == "hospital_doctor",
)
NO_POLICY = DataSource(
    code="test.no_policy",
    name="仅汇总",
    records=lambda: Encounter.objects.all(),
    date_field="started_at",
    institution_field="institution",
    columns=COLUMNS,
)
FAKE_ITEMS = {
    "test_in_hospital": DataItem("test_in_hospital", "在院人数", "月末在院", IN_HOSPITAL),
    "test_no_policy": DataItem("test_no_policy", "仅汇总", "无明细", NO_POLICY, filter=Q(kind="outpatient")),
}


@pytest.fixture
def fake_items(monkeypatch: pytest.MonkeyPatch) -> None:
    items = {**registry.data_items(), **FAKE_ITEMS}
    monkeypatch.setattr(registry, "data_items", lambda: items)


def _stay(world: Any, start: datetime.date, end: datetime.date | None, name: str) -> None:
    def aware(day: datetime.date) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(8)))

    Encounter.objects.create(
        person=person(name, institution=world.hospital),
        institution=world.hospital,
        kind="inpatient",
        started_at=aware(start),
        ended_at=aware(end) if end else None,
        diagnosis_code="I10",
        diagnosis_name="高血压",
    )


def _indicator(world: Any) -> Any:
    catalogue = IndicatorCatalogue.objects.get_or_create(code="t", defaults={"name": "测试"})[0]
    return services.indicator_create(
        actor=world.regulator,
        catalogue=catalogue,
        code="stock_test",
        name="在院",
        numerator="test_in_hospital",
        denominator="test_no_policy",
    )


def _records(actor: Any, indicator: Any, item: str, world: Any, period_type: str = "month") -> Any:
    return drilldown.item_records(
        actor,
        indicator,
        item,
        unit_kind="institution",
        unit_id=world.hospital.pk,
        period_type=period_type,
        period_start=MARCH if period_type == "month" else datetime.date(2025, 1, 1),
    )


def test_stock_records_are_those_in_force_at_the_period_end(world: Any, fake_items: None) -> None:
    _stay(world, datetime.date(2025, 3, 10), None, "李在院")
    _stay(world, datetime.date(2025, 3, 1), datetime.date(2025, 3, 15), "赵出院")
    _stay(world, datetime.date(2025, 2, 20), datetime.date(2025, 4, 2), "钱跨月")
    _stay(world, datetime.date(2025, 4, 3), None, "孙四月")
    indicator = _indicator(world)
    found = _records(world.hospital_doctor, indicator, "test_in_hospital", world)
    names = sorted(row["person__name"] for row in found.rows)
    assert names == ["李在院", "钱跨月"]
    quarter = _records(world.hospital_doctor, indicator, "test_in_hospital", world, "quarter")
    assert sorted(row["person__name"] for row in quarter.rows) == ["李在院", "钱跨月"]


def test_a_stock_over_a_year_lists_the_records_of_every_month_end(world: Any, fake_items: None) -> None:
    # The year's figure averages the month-end counts: a stay in force at the end of January counts in it,
    # so the year's records list it although it ended in February; one that began and ended in March is in
    # force at no month end and is not listed.
    _stay(world, datetime.date(2024, 12, 20), datetime.date(2025, 2, 5), "周一月")
    _stay(world, datetime.date(2025, 3, 1), datetime.date(2025, 3, 15), "赵出院")
    _stay(world, datetime.date(2025, 11, 3), None, "吴年末")
    indicator = _indicator(world)
    year = drilldown.item_records(
        world.hospital_doctor,
        indicator,
        "test_in_hospital",
        unit_kind="institution",
        unit_id=world.hospital.pk,
        period_type="year",
        period_start=datetime.date(2025, 1, 1),
    )
    assert sorted(row["person__name"] for row in year.rows) == ["吴年末", "周一月"]
    assert year.averaged
    month = _records(world.hospital_doctor, indicator, "test_in_hospital", world)
    assert not month.averaged


def test_names_in_full_only_where_the_source_shows_them(world: Any, fake_items: None) -> None:
    _stay(world, datetime.date(2025, 3, 10), None, "李在院")
    indicator = _indicator(world)
    full = _records(world.hospital_doctor, indicator, "test_in_hospital", world)
    assert full.full and full.cells(full.rows[0])[1] == "李在院"
    admin = _records(world.hospital_admin, indicator, "test_in_hospital", world)
    assert not admin.full and admin.cells(admin.rows[0])[1] != "李在院"


def test_a_source_without_a_policy_gives_aggregates_only(world: Any, fake_items: None) -> None:
    indicator = _indicator(world)
    found = _records(world.hospital_doctor, indicator, "test_no_policy", world)
    assert found.rows is None and found.reason == "aggregate_only"
    with pytest.raises(NotFound):
        _records(world.hospital_doctor, indicator, "encounters_visits", world)  # not named by the indicator


def test_region_parts_are_child_regions(world: Any) -> None:
    fw = make_figures(world)
    county = world.regions["county"]
    parts = drilldown.unit_parts(
        world.regulator,
        fw.share,
        unit_kind="region",
        unit_id=county.pk,
        period_type="month",
        period_start=MARCH,
    )
    assert parts.part_kind == "region"
    assert parts.whole is not None and parts.whole.numerator == 7
    # the hospital sits at the county itself: its visits belong to no township
    assert parts.numerator_sum == 3 and parts.numerator_rest == 4


def test_unit_resolve_hides_units_the_actor_does_not_see(world: Any) -> None:
    with pytest.raises(NotFound):
        drilldown.unit_resolve(world.office, "institution", str(world.outsider.public_id))
    with pytest.raises(NotFound):
        drilldown.unit_resolve(world.office, "institution", "not-a-uuid")
    assert (
        drilldown.unit_resolve(world.office, "institution", str(world.township.public_id)).id
        == world.township.pk
    )


@pytest.mark.parametrize(
    ("period_type", "text", "start", "label"),
    [
        ("month", "2025-03", datetime.date(2025, 3, 1), "2025-03"),
        ("quarter", "2025Q2", datetime.date(2025, 4, 1), "2025Q2"),
        ("half_year", "2025H2", datetime.date(2025, 7, 1), "2025H2"),
        ("year", "2025", datetime.date(2025, 1, 1), "2025"),
        ("quarter", "2025-04-01", datetime.date(2025, 4, 1), "2025Q2"),
    ],
)
def test_periods_parse_and_label(period_type: str, text: str, start: datetime.date, label: str) -> None:
    assert drilldown.parse_period(period_type, text) == start
    assert drilldown.period_label(period_type, start) == label


def test_bad_period_is_invalid() -> None:
    with pytest.raises(Invalid):
        drilldown.parse_period("month", "March")
