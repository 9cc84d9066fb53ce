"""The demo's synthetic boundaries: valid GeoJSON, townships tiling the county, loaded through the registry."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from yilian.demo.content import COUNTY_CODE, JINAN_CODE, TOWNSHIPS, YUAN_CODE
from yilian.demo.geometry import demo_feature_collection, seed_boundaries
from yilian.institutions.boundaries import geometry_problem
from yilian.institutions.choices import RegionLevel
from yilian.institutions.models import Region
from yilian.institutions.tests.factories import region


def _area(ring: list[list[float]]) -> float:
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))) / 2


def test_the_outlines_are_valid_deterministic_and_the_townships_tile_the_county() -> None:
    collection = demo_feature_collection()
    assert collection == demo_feature_collection()
    by_code = {feature["properties"]["code"]: feature["geometry"] for feature in collection["features"]}
    assert set(by_code) == {COUNTY_CODE, JINAN_CODE, YUAN_CODE} | {t.code for t in TOWNSHIPS}
    assert all(geometry_problem(geometry) == "" for geometry in by_code.values())
    county = _area(by_code[COUNTY_CODE]["coordinates"][0])
    townships = [_area(by_code[t.code]["coordinates"][0]) for t in TOWNSHIPS]
    assert all(area > county / 100 for area in townships)  # no sliver townships
    assert sum(townships) == pytest.approx(county, rel=1e-3)
    for ring in (geometry["coordinates"][0] for geometry in by_code.values()):
        assert all(115 < lon < 117.5 and 30.5 < lat < 32.5 for lon, lat in ring)  # around 六安


@pytest.mark.django_db
def test_seed_boundaries_loads_them_and_is_idempotent(world: Any) -> None:
    prefecture = region("341500", "六安市", RegionLevel.PREFECTURE, world.regions["province"])
    county = region(COUNTY_CODE, "金寨县", RegionLevel.COUNTY, prefecture)
    region(JINAN_CODE, "金安区", RegionLevel.COUNTY, prefecture)
    region(YUAN_CODE, "裕安区", RegionLevel.COUNTY, prefecture)
    for township in TOWNSHIPS:
        region(township.code, township.name, RegionLevel.TOWNSHIP, county)
    first = seed_boundaries(actor=world.admin)
    assert len(first.created) == 3 + len(TOWNSHIPS)
    assert Region.objects.filter(parent=county, boundary__isnull=False).count() == len(TOWNSHIPS)
    assert len(seed_boundaries(actor=world.admin).unchanged) == 3 + len(TOWNSHIPS)
