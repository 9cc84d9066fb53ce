"""Grid API: planning grids, one consortium per grid, coverage."""

from __future__ import annotations

import pytest

from yilian.core.api.testing import error_of
from yilian.institutions.choices import ConsortiumType
from yilian.institutions.models import Grid, GridArea, GridAssignment
from yilian.institutions.tests.factories import (
    ConsortiumFactory,
    GridFactory,
    HospitalFactory,
    assign,
    cover,
)

pytestmark = pytest.mark.django_db


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _grid_url(grid, suffix=""):
    return f"/api/v1/grids/{grid.public_id}{suffix}"


def _second_community(world):
    """Another county community (in the neighbouring district) that could serve a grid."""
    return ConsortiumFactory(
        name="裕安区医共体",
        type=ConsortiumType.COUNTY_COMMUNITY,
        region=world.regions["district"],
        lead=HospitalFactory(region=world.regions["district"]),
    )


def test_regulator_plans_a_grid(world, api):
    response = api(world.regulator).post(
        "/api/v1/grids",
        {
            "region": "341522",
            "code": "341522-G01",
            "name": "城关网格",
            "area_codes": ["341522100", "341522101201"],
            "population": 52000,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["area_count"] == 2
    assert [area["code"] for area in body["areas"]] == ["341522100", "341522101201"]
    assert body["current_consortium"] is None and body["assignments"] == []


def test_grid_area_errors_are_field_errors_and_save_nothing(world, api):
    taken = GridFactory(region=world.regions["county"], code="341522-G09")
    cover(taken, world.regions["town_b"])
    response = api(world.regulator).post(
        "/api/v1/grids",
        {
            "region": "341522",
            "code": "341522-G02",
            "name": "河口网格",
            "area_codes": ["341522101", "341522", "341522999999"],
        },
        format="json",
    )
    assert response.status_code == 400
    messages = error_of(response)["fields"]["area_codes"]
    assert "霍邱县 不是乡镇（街道）或村（居）。" in messages
    assert "区划 341522999999 不存在。" in messages
    assert any("已属于网格" in message for message in messages)
    assert not Grid.objects.filter(code="341522-G02").exists()


@pytest.mark.parametrize("who", ["hospital_admin", "office", "hospital_doctor", "stranger"])
def test_only_regulators_plan_grids(world, api, who):
    response = api(getattr(world, who)).post(
        "/api/v1/grids", {"region": "341522", "code": "G-X", "name": "越权网格"}, format="json"
    )
    assert response.status_code == 403
    assert not Grid.objects.filter(code="G-X").exists()


def test_regulator_outside_the_region_cannot_plan_there(world, api):
    response = api(world.regulator).post(
        "/api/v1/grids", {"region": "341503", "code": "341503-G01", "name": "裕安网格"}, format="json"
    )
    assert response.status_code == 403


def test_second_consortium_on_a_grid_is_a_field_error_and_changes_nothing(world, api):
    grid = GridFactory(region=world.regions["county"])
    client = api(world.regulator)
    first = client.post(
        _grid_url(grid, "/assign"),
        {"consortium": str(world.consortium.public_id), "assigned_from": "2024-01-01"},
        format="json",
    )
    assert first.status_code == 201, first.content
    assert first.json()["consortium"]["public_id"] == str(world.consortium.public_id)

    other = _second_community(world)
    second = client.post(_grid_url(grid, "/assign"), {"consortium": str(other.public_id)}, format="json")
    assert second.status_code == 400
    assert error_of(second)["fields"] == {
        "consortium": ["该网格已由“霍邱县人民医院医共体”负责；一个网格同一时间只能由一个医联体负责。"]
    }
    current = GridAssignment.objects.get(grid=grid, is_current=True)
    assert current.consortium == world.consortium
    assert GridAssignment.objects.filter(grid=grid).count() == 1


def test_grid_handover_keeps_the_history(world, api):
    grid = GridFactory(region=world.regions["county"])
    cover(grid, world.regions["town_a"])
    assign(grid, world.consortium)
    other = _second_community(world)
    client = api(world.regulator)
    response = client.post(
        _grid_url(grid, "/assign"),
        {"consortium": str(other.public_id), "assigned_from": "2025-07-01", "replace": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    detail = client.get(_grid_url(grid)).json()
    assert detail["current_consortium"]["name"] == "裕安区医共体"
    assert [(a["consortium"]["name"], a["is_current"], a["assigned_to"]) for a in detail["assignments"]] == [
        ("裕安区医共体", True, None),
        ("霍邱县人民医院医共体", False, "2025-06-30"),
    ]
    ended = client.post(_grid_url(grid, "/unassign"), {"assigned_to": "2026-01-01"}, format="json")
    assert ended.status_code == 200
    assert ended.json()["is_current"] is False
    nothing = client.post(_grid_url(grid, "/unassign"), {}, format="json")
    assert error_of(nothing)["fields"] == {"__all__": ["该网格当前没有负责的医联体。"]}


def test_only_grid_forms_serve_grids(world, api):
    grid = GridFactory(region=world.regions["county"])
    alliance = ConsortiumFactory(type=ConsortiumType.SPECIALTY_ALLIANCE, region=world.regions["county"])
    response = api(world.regulator).post(
        _grid_url(grid, "/assign"), {"consortium": str(alliance.public_id)}, format="json"
    )
    assert error_of(response)["fields"] == {"consortium": ["只有城市医疗集团或县域医共体可以负责网格。"]}


@pytest.mark.parametrize("who,status", [("office", 403), ("hospital_admin", 403), ("admin", 201)])
def test_assign_matrix(world, api, who, status):
    grid = GridFactory(region=world.regions["county"])
    response = api(getattr(world, who)).post(
        _grid_url(grid, "/assign"), {"consortium": str(world.consortium.public_id)}, format="json"
    )
    assert response.status_code == status
    assert GridAssignment.objects.filter(grid=grid).exists() is (status == 201)


def test_grid_update_replaces_areas(world, api):
    grid = GridFactory(region=world.regions["county"], name="旧名")
    cover(grid, world.regions["town_a"])
    client = api(world.regulator)
    response = client.patch(
        _grid_url(grid), {"name": "河口网格", "area_codes": ["341522101"], "population": 8000}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "河口网格" and body["population"] == 8000
    assert [area["code"] for area in body["areas"]] == ["341522101"]
    assert api(world.hospital_admin).patch(_grid_url(grid), {"name": "x"}, format="json").status_code == 403
    assert list(GridArea.objects.filter(grid=grid).values_list("area__code", flat=True)) == ["341522101"]


def test_grid_list_filters_and_query_count(world, api, django_assert_num_queries):
    other = _second_community(world)
    for n in range(6):
        grid = GridFactory(region=world.regions["county"], code=f"341522-G{n:02d}", name=f"网格{n}")
        if n < 2:
            cover(grid, world.regions["village_a1" if n == 0 else "town_b"])
        assign(grid, world.consortium if n % 2 else other)
    client = api(world.hospital_doctor)
    # token, scope, count, page (region joined, area count annotated), current assignments prefetch
    with django_assert_num_queries(5):
        rows = _results(client.get("/api/v1/grids"))
    assert len(rows) == 6
    assert {row["current_consortium"]["name"] for row in rows} == {"霍邱县人民医院医共体", "裕安区医共体"}
    assert [row["area_count"] for row in rows[:2]] == [1, 1]
    served = _results(client.get("/api/v1/grids", {"consortium": str(world.consortium.public_id)}))
    assert len(served) == 3
    assert [row["code"] for row in _results(client.get("/api/v1/grids", {"q": "341522-G05"}))] == [
        "341522-G05"
    ]
    assert _results(client.get("/api/v1/grids", {"within": "341503"})) == []
    bad = client.get("/api/v1/grids", {"consortium": "x"})
    assert bad.status_code == 400 and "consortium" in error_of(bad)["fields"]


def test_grid_detail_query_count(world, api, django_assert_num_queries):
    grid = GridFactory(region=world.regions["county"])
    cover(grid, world.regions["town_a"], world.regions["village_b1"])
    assign(grid, world.consortium)
    client = api(world.hospital_doctor)
    # token, scope, grid, areas, assignments
    with django_assert_num_queries(5):
        body = client.get(_grid_url(grid)).json()
    assert body["area_count"] == 2
    assert body["current_consortium"]["public_id"] == str(world.consortium.public_id)


# Coverage ----------------------------------------------------------------------------


def test_coverage_report_for_the_regulator(world, api):
    grid = GridFactory(region=world.regions["county"])
    cover(grid, world.regions["town_a"])
    response = api(world.regulator).get("/api/v1/coverage", {"region": "341522"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["region"]["code"] == "341522"
    assert [area["code"] for area in body["uncovered_townships"]] == ["341522101"]
    assert [area["code"] for area in body["uncovered_villages"]] == ["341522101201"]
    assert body["covered_share"] == pytest.approx(3 / 5)
    assert [g["public_id"] for g in body["unassigned_grids"]] == [str(grid.public_id)]
    assert [i["name"] for i in body["institutions_without_consortium"]] == ["霍邱县河口镇卫生院"]


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("hospital_doctor", 403),
        ("hospital_admin", 403),
        ("office", 403),
        ("regulator", 200),
        ("admin", 200),
    ],
)
def test_coverage_matrix(world, api, who, status):
    response = api(world.users()[who]).get("/api/v1/coverage", {"region": "341522"})
    assert response.status_code == status
    if status != 200:
        assert "uncovered_townships" not in response.json()


def test_coverage_outside_the_regulators_region_is_refused(world, api):
    assert api(world.regulator).get("/api/v1/coverage", {"region": "341503"}).status_code == 403


@pytest.mark.parametrize("params", [{}, {"region": "341599"}, {"region": "abc"}])
def test_coverage_needs_a_known_region(world, api, params):
    response = api(world.regulator).get("/api/v1/coverage", params)
    assert response.status_code == 400
    assert "region" in error_of(response)["fields"]
