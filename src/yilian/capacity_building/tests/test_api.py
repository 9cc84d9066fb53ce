"""Capacity-building API: every flow over HTTP, who may do what, bad input, 409s, list query counts."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from yilian.capacity_building.choices import FellowshipStatus
from yilian.capacity_building.models import Fellowship, TrainingCourse
from yilian.capacity_building.tests.factories import (
    attend,
    cap_world,
    course,
    device,
    fellowship,
    maintenance,
    technique,
)
from yilian.core.api.testing import api_client, error_of

pytestmark = pytest.mark.django_db

API = "/api/v1/capacity"
TODAY = timezone.localdate


@pytest.fixture
def cw(world):
    return cap_world(world)


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_doors(cw, world):
    assert api_client(None).get(f"{API}/courses").status_code in (401, 403)
    assert error_of(api_client(world.stranger).get(f"{API}/courses"))["code"] == "not_allowed"
    for user in (world.office, world.regulator, cw.township_doctor, cw.engineer):
        assert api_client(user).get(f"{API}/courses").status_code == 200


def test_course_flow(cw, world):
    client = api_client(cw.teacher)
    body = {
        "organiser": str(world.hospital.public_id),
        "organiser_department": str(cw.cardiology.public_id),
        "kind": "film_reading",
        "title": "胸部 DR 联合读片",
        "trainers": "影像科李主任",
        "mode": "online",
        "place": "https://meet.example/1",
        "starts_on": TODAY().isoformat(),
        "hours": "1.5",
    }
    bad = client.post(
        f"{API}/courses",
        {**body, "ends_on": (TODAY() - datetime.timedelta(days=2)).isoformat()},
        format="json",
    )
    assert bad.status_code == 400 and "ends_on" in error_of(bad)["fields"]
    assert (
        error_of(client.post(f"{API}/courses", {**body, "colour": "red"}, format="json"))["code"] == "invalid"
    )
    created = client.post(f"{API}/courses", body, format="json")
    assert created.status_code == 201, created.content
    public_id = created.json()["public_id"]
    signed = client.post(
        f"{API}/courses/{public_id}/attendances",
        {"users": [str(cw.township_doctor.public_id), str(cw.township_nurse.public_id)]},
        format="json",
    )
    assert signed.status_code == 201, signed.content
    again = client.post(
        f"{API}/courses/{public_id}/attendances",
        {"users": [str(cw.township_doctor.public_id)]},
        format="json",
    )
    assert again.status_code == 409
    outsider = client.post(
        f"{API}/courses/{public_id}/attendances", {"users": [str(cw.outsider_admin.public_id)]}, format="json"
    )
    assert outsider.status_code == 400
    rows = _results(api_client(cw.township_doctor).get(f"{API}/courses/{public_id}/attendances"))
    assert len(rows) == 2
    removed = client.delete(f"{API}/courses/{public_id}/attendances/{rows[0]['public_id']}")
    assert removed.status_code == 204
    patched = client.patch(
        f"{API}/courses/{public_id}", {"title": "胸部 DR 读片（二）", "expected_version": 1}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = client.patch(f"{API}/courses/{public_id}", {"title": "x", "expected_version": 1}, format="json")
    assert stale.status_code == 409
    assert (
        api_client(cw.township_doctor)
        .post(f"{API}/courses/{public_id}/cancel", {"reason": "x"}, format="json")
        .status_code
        == 403
    )
    assert client.post(f"{API}/courses/{public_id}/close", {}, format="json").json()["status"] == "held"
    listed = _results(api_client(world.office).get(f"{API}/courses", {"year": TODAY().year}))
    assert listed[0]["attendance_count"] == 1


def test_fellowship_flow(cw, world):
    body = {
        "trainee": str(cw.township_doctor.public_id),
        "home_institution": str(world.township.public_id),
        "host_department": str(cw.cardiology.public_id),
        "supervisor": str(cw.teacher.public_id),
        "planned_start": TODAY().isoformat(),
        "planned_months": 3,
    }
    assert api_client(world.hospital_admin).post(f"{API}/fellowships", body, format="json").status_code == 403
    bad = api_client(world.township_admin).post(
        f"{API}/fellowships", {**body, "planned_months": 24}, format="json"
    )
    assert bad.status_code == 400 and "planned_months" in error_of(bad)["fields"]
    made = api_client(world.township_admin).post(f"{API}/fellowships", body, format="json")
    assert made.status_code == 201, made.content
    url = f"{API}/fellowships/{made.json()['public_id']}"
    assert api_client(world.township_admin).post(f"{url}/start", {}, format="json").status_code == 403
    assert (
        api_client(world.hospital_admin)
        .post(f"{url}/start", {"expected_version": 1}, format="json")
        .status_code
        == 200
    )
    assert (
        api_client(world.hospital_admin)
        .post(f"{url}/start", {"expected_version": 1}, format="json")
        .status_code
        == 409
    )
    done = api_client(cw.teacher).post(
        f"{url}/complete", {"assessment": "pass", "certificate_number": "JX-9"}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == FellowshipStatus.COMPLETED
    assert api_client(cw.outsider_admin).get(url).status_code == 404
    assert len(_results(api_client(world.regulator).get(f"{API}/fellowships"))) == 1


def test_technique_flow(cw, world):
    body = {
        "institution": str(world.township.public_id),
        "name": "小针刀治疗",
        "category": "tcm",
        "supporting_department": str(cw.cardiology.public_id),
        "introduced_on": TODAY().isoformat(),
        "cases_to_date": 2,
    }
    made = api_client(world.township_admin).post(f"{API}/techniques", body, format="json")
    assert made.status_code == 201, made.content
    url = f"{API}/techniques/{made.json()['public_id']}"
    assert (
        api_client(world.township_admin).post(f"{url}/review", {"confirm": True}, format="json").status_code
        == 403
    )
    assert (
        api_client(world.office).post(f"{url}/review", {"confirm": True}, format="json").json()["status"]
        == "confirmed"
    )
    cases = api_client(cw.township_doctor).post(f"{url}/cases", {"cases_to_date": 8}, format="json")
    assert cases.status_code == 201
    assert (
        api_client(cw.township_doctor).post(f"{url}/cases", {"cases_to_date": 1}, format="json").status_code
        == 400
    )
    assert len(_results(api_client(world.township_admin).get(f"{url}/cases"))) == 2


def test_device_and_repair_flow(cw, world):
    body = {
        "donor": str(world.hospital.public_id),
        "recipient": str(world.township.public_id),
        "device_type": "blood_analyser",
        "name": "三分类血细胞分析仪",
        "serial_number": "BA-77",
        "support_kind": "donated",
        "delivered_on": TODAY().isoformat(),
        "value": "45000.00",
    }
    assert api_client(world.township_admin).post(f"{API}/devices", body, format="json").status_code == 403
    made = api_client(cw.engineer).post(f"{API}/devices", body, format="json")
    assert made.status_code == 201, made.content
    device_id = made.json()["public_id"]
    reported = api_client(cw.township_doctor).post(
        f"{API}/maintenance", {"device": device_id, "fault_description": "计数偏低"}, format="json"
    )
    assert reported.status_code == 201, reported.content
    url = f"{API}/maintenance/{reported.json()['public_id']}"
    worklist = _results(api_client(cw.engineer).get(f"{API}/maintenance", {"box": "worklist"}))
    assert [row["public_id"] for row in worklist] == [reported.json()["public_id"]]
    assert api_client(cw.engineer).post(f"{url}/take", {}, format="json").status_code == 200
    assert api_client(cw.engineer2).post(f"{url}/take", {}, format="json").status_code == 409
    done = api_client(cw.engineer).post(
        f"{url}/complete",
        {"outcome": "repaired", "work_done": "校准并更换试剂管路", "cost": "0"},
        format="json",
    )
    assert done.status_code == 200 and done.json()["status"] == "repaired"
    stats = api_client(world.office).get(f"{API}/statistics", {"year": TODAY().year})
    assert stats.status_code == 200
    township = next(
        r for r in stats.json()["rows"] if r["institution"]["public_id"] == str(world.township.public_id)
    )
    assert township["counts"]["devices_donated"] == 1 and township["counts"]["maintenance_completed"] == 1
    assert api_client(cw.township_doctor).get(f"{API}/statistics").status_code == 403


def _grow(cw, world, n):
    for i in range(n):
        held = course(cw, title=f"培训{i}-{n}")
        attend(held, cw.township_doctor, world.township)
        fellowship(cw, trainee=cw.township_doctor, status=FellowshipStatus.WITHDRAWN)
        technique(cw, name=f"技术{i}-{n}")
        maintenance(cw, device(cw, serial=f"S{i}-{n}"))


@pytest.mark.parametrize("path", ["courses", "fellowships", "techniques", "devices", "maintenance"])
def test_list_query_counts(cw, world, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client(world.office)
    _grow(cw, world, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(f"{API}/{path}").status_code == 200
    _grow(cw, world, 5)
    with CaptureQueriesContext(connection) as large:
        assert len(_results(client.get(f"{API}/{path}"))) == 7
    assert len(large.captured_queries) == len(small.captured_queries), path


def test_unknown_ids_are_404(cw, world):
    for path in ("courses", "fellowships", "techniques", "devices", "maintenance"):
        assert api_client(world.office).get(f"{API}/{path}/not-a-uuid").status_code == 404
    assert not TrainingCourse.objects.exists() and not Fellowship.objects.exists()
