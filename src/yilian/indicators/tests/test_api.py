"""Indicators API: catalogues, indicators (create, PATCH with If-Match/version, 409, formula errors with
positions), data items, figures scoped like the pages, drill-down, refresh runs; authorization; query counts."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from yilian.core.api.testing import api_client, error_of
from yilian.indicators import services
from yilian.indicators.models import Indicator, IndicatorCatalogue, RankingPolicy, RefreshRun
from yilian.indicators.tests.test_views import Figures, make_figures, queries_of
from yilian.institutions.tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fw(world: Any) -> Figures:
    return make_figures(world)


def _body(fw: Figures, **overrides: Any) -> dict[str, Any]:
    body = {
        "catalogue": fw.share.catalogue.code,
        "code": "api_one",
        "name": "接口指标",
        "numerator": "encounters_visits",
        "denominator": "encounters_visits + encounters_admissions",
        "factor": "100",
        "unit": "%",
        "legend": [{"from": "90", "to": None, "color": "green", "label": "好"}],
    }
    body.update(overrides)
    return body


def test_catalogues_and_indicators_list(fw: Figures) -> None:
    client = api_client(fw.world.hospital_doctor)
    catalogues = client.get("/api/v1/indicator-catalogues")
    assert catalogues.status_code == 200 and catalogues.json()["results"][0]["code"] == "local"
    listed = client.get("/api/v1/indicators", {"catalogue": "local"}).json()["results"]
    assert {row["code"] for row in listed} == {"visit_share", "visit_count"}
    share = next(row for row in listed if row["code"] == "visit_share")
    assert share["is_working_definition"] is True and share["legend"][0]["from"] == "90.000000"
    assert error_of(client.get("/api/v1/indicators", {"catalogue": "nope"}))["fields"]["catalogue"]


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("stranger", 403)])
def test_reading_needs_a_role(fw: Figures, who: str, status: int) -> None:
    client = api_client(fw.world.users()[who])
    for url in ("/api/v1/indicators", "/api/v1/data-items", "/api/v1/indicator-catalogues"):
        assert client.get(url).status_code == status, url


def test_indicator_list_queries_are_constant(fw: Figures) -> None:
    client = api_client(fw.world.regulator)
    client.get("/api/v1/indicators")
    before, _response = queries_of(lambda: client.get("/api/v1/indicators"))
    assert 0 < before <= 12
    for index in range(6):
        client.post("/api/v1/indicators", _body(fw, code=f"more_{index}"), format="json")
    after, response = queries_of(lambda: client.get("/api/v1/indicators"))
    assert after == before
    assert response.json()["count"] == 8


def test_regulator_creates_and_formula_errors_name_the_position(fw: Figures) -> None:
    client = api_client(fw.world.regulator)
    bad = client.post("/api/v1/indicators", _body(fw, numerator="(encounters_visits + 1"), format="json")
    assert bad.status_code == 400
    message = error_of(bad)["fields"]["numerator"][0]
    assert "第 23 个字符" in message and "右括号" in message
    zero = client.post(
        "/api/v1/indicators", _body(fw, denominator="encounters_visits / (1 - 1)"), format="json"
    )
    assert "除数恒为零" in error_of(zero)["fields"]["denominator"][0]
    assert not Indicator.objects.filter(code="api_one").exists()
    created = client.post("/api/v1/indicators", _body(fw), format="json")
    assert created.status_code == 201, created.content
    assert created["ETag"] == '"1"' and created.json()["consortium"] is None


def test_unknown_and_out_of_range_fields_are_400(fw: Figures) -> None:
    client = api_client(fw.world.regulator)
    response = client.post("/api/v1/indicators", _body(fw, decimals=9, colour="x"), format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["anonymous", "stranger", "hospital_admin", "township_admin", "office"])
def test_create_shared_denied(fw: Figures, who: str) -> None:
    response = api_client(fw.world.users()[who]).post("/api/v1/indicators", _body(fw), format="json")
    assert response.status_code in (401, 403)
    assert not Indicator.objects.filter(code="api_one").exists()


def test_office_creates_for_its_consortium_only(fw: Figures) -> None:
    from yilian.institutions.tests.factories import ConsortiumFactory

    client = api_client(fw.world.office)
    other = ConsortiumFactory(region=fw.world.regions["county"])
    denied = client.post("/api/v1/indicators", _body(fw, consortium=str(other.public_id)), format="json")
    assert denied.status_code == 400
    created = client.post(
        "/api/v1/indicators", _body(fw, consortium=str(fw.world.consortium.public_id)), format="json"
    )
    assert created.status_code == 201 and created.json()["consortium"] == str(fw.world.consortium.public_id)


def test_patch_needs_a_version_and_a_stale_one_is_409(fw: Figures) -> None:
    client = api_client(fw.world.regulator)
    url = f"/api/v1/indicators/{fw.share.public_id}"
    assert client.get(url)["ETag"] == '"1"'
    assert client.patch(url, {"unit": "‰"}, format="json").status_code == 400
    ok = client.patch(url, {"unit": "‰"}, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200 and ok["ETag"] == '"2"' and ok.json()["version"] == 2
    stale = client.patch(url, {"unit": "人", "version": 1}, format="json")
    assert stale.status_code == 409 and error_of(stale)["code"] == "conflict"
    assert Indicator.objects.get(pk=fw.share.pk).unit == "‰"
    bad = client.patch(url, {"numerator": "encounters_visits * * 2", "version": 2}, format="json")
    assert "第 21 个字符" in error_of(bad)["fields"]["numerator"][0]
    assert client.patch(url, {"code": "x", "version": 2}, format="json").status_code == 400
    off = client.patch(url, {"is_active": False, "version": 2}, format="json")
    assert off.status_code == 200 and off.json()["is_active"] is False


@pytest.mark.parametrize("who", ["office", "hospital_admin", "township_admin", "stranger"])
def test_patch_shared_denied(fw: Figures, who: str) -> None:
    response = api_client(fw.world.users()[who]).patch(
        f"/api/v1/indicators/{fw.share.public_id}", {"unit": "人", "version": 1}, format="json"
    )
    assert response.status_code in (403, 404)
    assert Indicator.objects.get(pk=fw.share.pk).version == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_patches_one_wins(world: Any) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the row lock is exercised on PostgreSQL")
    catalogue = IndicatorCatalogue.objects.create(code="race", name="并发")
    indicator = services.indicator_create(
        actor=world.regulator,
        catalogue=catalogue,
        code="race_one",
        name="并发",
        numerator="encounters_visits",
    )
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def patch(unit: str) -> None:
        try:
            client = api_client(world.regulator)
            barrier.wait()
            response = client.patch(
                f"/api/v1/indicators/{indicator.public_id}", {"unit": unit, "version": 1}, format="json"
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=patch, args=(unit,)) for unit in ("人", "次")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    assert Indicator.objects.get(pk=indicator.pk).version == 2


def test_data_items(fw: Figures) -> None:
    rows = api_client(fw.world.hospital_doctor).get("/api/v1/data-items").json()
    visits = next(row for row in rows if row["code"] == "encounters_visits")
    assert set(visits["indicators"]) == {"visit_share", "visit_count"}
    assert visits["has_departments"] is True and visits["is_stock"] is False


def _values(client: Any, fw: Figures, **params: Any) -> Any:
    query = {"indicator": str(fw.share.public_id), "unit_kind": "institution", "period": "2025-03"}
    query.update(params)
    return client.get("/api/v1/indicator-values", query)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("regulator", {"霍邱县人民医院", "霍邱县城关镇卫生院", "霍邱县河口镇卫生院"}),
        ("far_regulator", set()),
        ("office", {"霍邱县人民医院", "霍邱县城关镇卫生院"}),
        ("township_admin", {"霍邱县人民医院", "霍邱县城关镇卫生院"}),
        ("township_admin_hidden", {"霍邱县城关镇卫生院"}),
        ("outsider_doctor", {"霍邱县河口镇卫生院"}),
    ],
)
def test_values_are_scoped(fw: Figures, who: str, expected: set[str]) -> None:
    if who == "township_admin_hidden":
        RankingPolicy.objects.create(
            consortium=fw.world.consortium, members_see_ranking=False, members_see_others_values=False
        )
        who = "township_admin"
    user = fw.far_regulator if who == "far_regulator" else fw.world.users()[who]
    response = _values(api_client(user), fw)
    assert response.status_code == 200
    assert {row["unit"]["name"] for row in response.json()["results"]} == expected


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("stranger", 403)])
def test_values_denied(fw: Figures, who: str, status: int) -> None:
    assert _values(api_client(fw.world.users()[who]), fw).status_code == status


def test_values_of_one_unit_and_bad_input(fw: Figures) -> None:
    client = api_client(fw.world.regulator)
    one = _values(client, fw, unit=str(fw.world.hospital.public_id)).json()["results"]
    assert len(one) == 1 and one[0]["display"] == "80.0%" and one[0]["color"] == "red"
    assert one[0]["growth"] == "-20.00"
    county = _values(client, fw, unit_kind="region", unit=fw.world.regions["county"].code).json()["results"]
    assert county[0]["numerator"] == "7.000000"
    assert _values(client, fw, period="March").status_code == 400
    assert _values(client, fw, unit_kind="planet").status_code == 400
    assert _values(client, fw, indicator="not-a-uuid").status_code == 400
    hidden = _values(api_client(fw.world.office), fw, unit=str(fw.world.outsider.public_id))
    assert hidden.status_code == 404


def test_values_queries_are_constant(fw: Figures) -> None:
    from yilian.indicators import evaluation
    from yilian.indicators.tests.test_views import MARCH, _encounter
    from yilian.people.tests.factories import person

    client = api_client(fw.world.regulator)
    _values(client, fw)
    before, _response = queries_of(lambda: _values(client, fw))
    assert 0 < before <= 20
    for index in range(5):
        extra = InstitutionFactory(name=f"乡镇{index}", region=fw.world.regions["town_b"])
        _encounter(extra, person(f"丁{index}"), "outpatient", MARCH)
    evaluation.refresh([MARCH])
    after, response = queries_of(lambda: _values(client, fw))
    assert after == before
    assert response.json()["count"] == 8


def _cell(fw: Figures, kind: str, unit: str, **extra: str) -> dict[str, str]:
    return {
        "indicator": str(fw.share.public_id),
        "unit_kind": kind,
        "unit": unit,
        "period_type": "month",
        "period": "2025-03",
        **extra,
    }


def test_parts_sum_to_the_whole(fw: Figures) -> None:
    client = api_client(fw.world.regulator)
    body = client.get(
        "/api/v1/indicator-values/parts", _cell(fw, "consortium", str(fw.world.consortium.public_id))
    )
    data = body.json()
    assert data["whole"]["numerator"] == "6.000000" and data["numerator_sum"] == "6.000000"
    assert data["adds_up"] is True and len(data["parts"]) == 2
    county = client.get(
        "/api/v1/indicator-values/parts", _cell(fw, "region", fw.world.regions["county"].code)
    ).json()
    assert county["part_kind"] == "region"


def test_records_follow_the_source_policy(fw: Figures) -> None:
    params = _cell(fw, "institution", str(fw.world.hospital.public_id), item="encounters_visits")
    doctor = api_client(fw.world.hospital_doctor).get("/api/v1/indicator-values/records", params)
    assert doctor.status_code == 200
    data = doctor.json()
    # The encounters module shows a doctor its patients' names in full, so the drill-down does too.
    assert data["count"] == 4 and data["count_capped"] is False
    assert data["masked"] is False and data["aggregate_only"] is False
    assert any("王小明" in (cell or "") for row in data["results"] for cell in row["cells"])
    kinds = {row["cells"][4] for row in data["results"]}  # the 类型 column, by its label
    assert kinds and kinds <= {"门诊", "急诊"}
    office = api_client(fw.world.office).get("/api/v1/indicator-values/records", params).json()
    assert office["count"] == 0
    # The platform administrator sees every encounter: the same rows, without the visibility semi-join.
    admin = api_client(fw.world.admin).get("/api/v1/indicator-values/records", params).json()
    assert admin["count"] == 4 and [row["cells"] for row in admin["results"]] == [
        row["cells"] for row in data["results"]
    ]
    other_item = api_client(fw.world.hospital_doctor).get(
        "/api/v1/indicator-values/records", {**params, "item": "encounters_discharges"}
    )
    assert other_item.status_code == 404
    unseen = _cell(fw, "institution", str(fw.world.outsider.public_id), item="encounters_visits")
    assert (
        api_client(fw.world.hospital_doctor).get("/api/v1/indicator-values/records", unseen).status_code
        == 404
    )


def test_refresh_runs(fw: Figures) -> None:
    client = api_client(fw.world.office)
    response = client.post("/api/v1/indicator-refreshes", {"first_month": "2025-03-01"}, format="json")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert client.get("/api/v1/indicator-refreshes").json()["count"] == 1
    bad = client.post(
        "/api/v1/indicator-refreshes",
        {"first_month": "2025-03-01", "last_month": "2025-01-01"},
        format="json",
    )
    assert bad.status_code == 400


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("stranger", 403), ("township_admin", 403)])
def test_refresh_denied(fw: Figures, who: str, status: int) -> None:
    client = api_client(fw.world.users()[who])
    assert client.post("/api/v1/indicator-refreshes", {}, format="json").status_code == status
    assert client.get("/api/v1/indicator-refreshes").status_code == status
    assert not RefreshRun.objects.exists()


def test_the_figure_display_carries_the_unit_in_the_requests_language(fw: Figures) -> None:
    Indicator.objects.filter(pk=fw.share.pk).update(unit="元", decimals=0)
    one = {"unit": str(fw.world.hospital.public_id)}
    english = _values(api_client(fw.world.regulator, language="en"), fw, **one).json()["results"]
    chinese = _values(api_client(fw.world.regulator), fw, **one).json()["results"]
    assert english[0]["display"] == "80 yuan" and chinese[0]["display"] == "80元"


def test_an_indicator_reads_its_unit_in_the_requests_language(fw: Figures) -> None:
    Indicator.objects.filter(pk=fw.share.pk).update(unit="元/人次")
    Indicator.objects.filter(pk=fw.visits.pk).update(unit="自定单位")
    url = f"/api/v1/indicators/{fw.share.public_id}"
    english = api_client(fw.world.regulator, language="en").get(url).json()
    chinese = api_client(fw.world.regulator).get(url).json()
    assert english["unit"] == chinese["unit"] == "元/人次"
    assert english["unit_label"] == "yuan per visit" and chinese["unit_label"] == "元/人次"
    listed = api_client(fw.world.regulator, language="en").get("/api/v1/indicators", {"catalogue": "local"})
    typed = next(row for row in listed.json()["results"] if row["code"] == "visit_count")
    assert typed["unit"] == typed["unit_label"] == "自定单位"


def test_a_figures_band_label_is_in_the_requests_language(fw: Figures) -> None:
    legend = [
        {"from": "90", "to": None, "color": "green", "label": "达标"},
        {"from": None, "to": "90", "color": "red", "label": "未达标"},
    ]
    Indicator.objects.filter(pk=fw.share.pk).update(legend=legend)
    english = _values(api_client(fw.world.regulator, language="en"), fw).json()["results"]
    chinese = _values(api_client(fw.world.regulator), fw).json()["results"]
    assert {row["band_label"] for row in english} <= {"Met", "Not met"}
    assert {row["band_label"] for row in chinese} <= {"达标", "未达标"}
    assert all(row["band_label"] for row in english)
    cell = {
        "indicator": str(fw.share.public_id),
        "unit_kind": "institution",
        "unit": str(fw.world.hospital.public_id),
        "period_type": "month",
        "period": "2025-03",
    }
    parts = api_client(fw.world.regulator, language="en").get("/api/v1/indicator-values/parts", cell)
    assert parts.status_code == 200, parts.content
    assert parts.json()["whole"]["band_label"] in {"Met", "Not met"}


def test_a_typed_band_label_reads_as_typed_in_english(fw: Figures) -> None:
    legend = [{"from": None, "to": None, "color": "yellow", "label": "自定分段"}]
    Indicator.objects.filter(pk=fw.share.pk).update(legend=legend)
    english = _values(api_client(fw.world.regulator, language="en"), fw).json()["results"]
    assert english and {row["band_label"] for row in english} == {"自定分段"}


def test_an_indicator_reads_its_area_in_the_requests_language(fw: Figures) -> None:
    Indicator.objects.filter(pk=fw.share.pk).update(area="双向转诊")
    url = f"/api/v1/indicators/{fw.share.public_id}"
    english = api_client(fw.world.regulator, language="en").get(url).json()
    chinese = api_client(fw.world.regulator).get(url).json()
    assert english["area"] == chinese["area"] == "双向转诊"
    assert english["area_label"] == "Two-way referral" and chinese["area_label"] == "双向转诊"
