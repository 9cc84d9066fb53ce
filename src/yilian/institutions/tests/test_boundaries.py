"""Region boundaries: the GeoJSON loader (good and bad files, all or nothing, audit), the command, the map reads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from yilian.core.exceptions import Invalid, NotAllowed
from yilian.core.models import AuditEvent
from yilian.institutions.boundaries import boundaries_load, boundary_features, map_regions
from yilian.institutions.models import Region

pytestmark = pytest.mark.django_db


def square(lon: float, lat: float, size: float = 0.1) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def collection(**geometries: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": code, "name": "x"}, "geometry": geometry}
            for code, geometry in geometries.items()
        ],
    }


def good(world: Any) -> dict[str, Any]:
    multi = {
        "type": "MultiPolygon",
        "coordinates": [square(116.2, 32.3)["coordinates"], square(116.5, 32.3)["coordinates"]],
    }
    return collection(
        **{"341522100": square(116.1, 32.3), "341522101": multi, "341522": square(116.0, 32.2, 0.8)}
    )


def test_a_good_file_sets_every_boundary_in_one_audited_load(world: Any) -> None:
    result = boundaries_load(actor=world.admin, content=json.dumps(good(world)).encode())
    assert sorted(result.created) == ["341522", "341522100", "341522101"]
    town_a = Region.objects.get(code="341522100")
    assert town_a.boundary.geometry == square(116.1, 32.3)
    assert Region.objects.get(code="341522101").boundary.geometry["type"] == "MultiPolygon"
    event = AuditEvent.objects.get(action="region.boundaries_load")
    assert event.region_code == "341522"
    again = boundaries_load(actor=world.admin, content=good(world))
    assert sorted(again.unchanged) == ["341522", "341522100", "341522101"] and not again.created


def test_reloading_replaces_and_drops_extra_members(world: Any) -> None:
    boundaries_load(actor=world.admin, content=good(world))
    changed = collection(**{"341522100": {**square(116.3, 32.3), "bbox": [1, 2, 3, 4]}})
    changed["features"][0]["geometry"]["coordinates"][0][0] = [116.3, 32.3, 45.0]  # an altitude is dropped
    changed["features"][0]["geometry"]["coordinates"][0][-1] = [116.3, 32.3, 45.0]
    result = boundaries_load(actor=world.admin, content=changed)
    assert result.replaced == ["341522100"]
    assert Region.objects.get(code="341522100").boundary.geometry == square(116.3, 32.3)


def _broken(world: Any, how: str) -> Any:
    data = good(world)
    feature = data["features"][0]
    if how == "json":
        return b"{not json"
    if how == "not a collection":
        return {"type": "Feature"}
    if how == "no features":
        return {"type": "FeatureCollection", "features": []}
    if how == "unknown code":
        feature["properties"]["code"] = "341522999"
    elif how == "missing code":
        del feature["properties"]["code"]
    elif how == "duplicate":
        data["features"].append(copy.deepcopy(feature))
    elif how == "point":
        feature["geometry"] = {"type": "Point", "coordinates": [116.0, 32.0]}
    elif how == "out of range":
        feature["geometry"]["coordinates"][0][1] = [216.0, 32.3]
    elif how == "open ring":
        feature["geometry"]["coordinates"][0][-1] = [116.15, 32.35]
    elif how == "short ring":
        feature["geometry"]["coordinates"][0] = [[116.0, 32.0], [116.1, 32.0], [116.0, 32.0]]
    elif how == "text coordinates":
        feature["geometry"]["coordinates"][0][1] = ["116.2", "32.3"]
    return data


@pytest.mark.parametrize(
    ("how", "fragment"),
    [
        ("json", "不是有效的 GeoJSON"),
        ("not a collection", "FeatureCollection"),
        ("no features", "没有任何要素"),
        ("unknown code", "未知的区划代码：341522999"),
        ("missing code", "缺少区划代码属性"),
        ("duplicate", "重复"),
        ("point", "Polygon 或 MultiPolygon"),
        ("out of range", "坐标超出范围"),
        ("open ring", "闭合"),
        ("short ring", "至少需要 4 个点"),
        ("text coordinates", "数字对"),
    ],
)
def test_a_bad_file_is_rejected_whole_with_a_clear_reason(world: Any, how: str, fragment: str) -> None:
    with pytest.raises(Invalid) as raised:
        boundaries_load(actor=world.admin, content=_broken(world, how))
    messages = [message for errors in raised.value.as_text().values() for message in errors]
    assert any(fragment in message for message in messages), messages
    assert not Region.objects.filter(boundary__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="region.boundaries_load").exists()


def test_only_platform_administrators_load_boundaries(world: Any) -> None:
    for actor in (None, world.stranger, world.regulator, world.office, world.hospital_admin):
        with pytest.raises(NotAllowed):
            boundaries_load(actor=actor, content=good(world))
    assert not Region.objects.filter(boundary__isnull=False).exists()


def test_a_custom_code_property(world: Any) -> None:
    data = collection(**{"341522100": square(116.1, 32.3)})
    data["features"][0]["properties"] = {"adcode": "341522100"}
    with pytest.raises(Invalid):
        boundaries_load(actor=world.admin, content=data)
    assert boundaries_load(actor=world.admin, content=data, code_property="adcode").created == ["341522100"]


def test_map_regions_are_the_children_with_a_boundary(world: Any, django_assert_num_queries: Any) -> None:
    boundaries_load(actor=world.admin, content=collection(**{"341522100": square(116.1, 32.3)}))
    with django_assert_num_queries(1):
        regions = map_regions("341522")
    assert [region.code for region in regions] == ["341522100"]
    features = boundary_features(regions)["features"]
    assert features[0]["properties"] == {
        "name": "城关镇",
        "code": "341522100",
        "id": world.regions["town_a"].pk,
    }


def test_the_command_loads_a_file_and_rejects_a_bad_one(world: Any, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "towns.geojson"
    path.write_text(json.dumps(good(world)), encoding="utf-8")
    call_command("load_boundaries", str(path))
    assert "新增 3" in capsys.readouterr().out
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(_broken(world, "unknown code")), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("load_boundaries", str(bad))
    assert "341522999" in capsys.readouterr().err
    with pytest.raises(CommandError):
        call_command("load_boundaries", str(tmp_path / "missing.geojson"))
