"""Encounters API: record visits and admissions, list the institution's stays, discharge, flag an
inpatient ready to go down, report monthly service volumes; who may do each."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from yilian.accounts.tests.factories import user_with_role
from yilian.core.api.testing import api_client, error_of
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.encounters.services import encounter_record
from yilian.institutions.tests.factories import DepartmentFactory
from yilian.people.models import PersonInstitutionLink
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db):
    return api_client


@pytest.fixture
def ward(world):
    """A department of the hospital, a nurse there, and a patient the hospital knows."""
    department = DepartmentFactory(institution=world.hospital, name="神经内科", specialty="03")
    nurse = user_with_role(Role.NURSE, username="ward_nurse", institution=world.hospital)
    patient = person("周梅", institution=world.hospital)
    return department, nurse, patient


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _record_body(world, department, patient, **overrides):
    body = {
        "institution": str(world.hospital.public_id),
        "person": str(patient.public_id),
        "kind": "inpatient",
        "department": str(department.public_id),
        "his_number": "ZY20260001",
        "started_at": (timezone.now() - datetime.timedelta(days=9)).isoformat(),
        "diagnosis_code": "I63.9",
        "diagnosis_name": "脑梗死",
    }
    body.update(overrides)
    return body


def _stay(world, department, patient, days=9):
    return encounter_record(
        actor=world.hospital_doctor,
        institution=world.hospital,
        person=patient,
        kind="inpatient",
        department=department,
        started_at=timezone.now() - datetime.timedelta(days=days),
        diagnosis_code="I63.9",
        diagnosis_name="脑梗死",
    )


def test_doctor_records_an_admission(world, ward, api):
    department, _nurse, patient = ward
    response = api(world.hospital_doctor).post(
        "/api/v1/encounters", _record_body(world, department, patient, diagnosis_code="i63．9"), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "inpatient" and body["kind_label"] == "住院"
    assert body["diagnosis_code"] == "I63.9" and body["is_current"] is True
    assert body["department"]["name"] == "神经内科"
    assert body["patient"]["name"] == "周梅" and body["patient"]["visible"] is True
    assert AuditEvent.objects.filter(action="encounter.record", object_id=body["public_id"]).exists()


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 403),  # another institution's doctor who also knows the patient
        ("office", 403),
        ("regulator", 403),
        ("admin", 403),
        ("hospital_admin", 201),
        ("hospital_doctor", 201),
    ],
)
def test_record_matrix(world, ward, api, who, status):
    department, _nurse, patient = ward
    PersonInstitutionLink.objects.create(person=patient, institution=world.outsider, reason="treated")
    response = api(world.users()[who]).post(
        "/api/v1/encounters", _record_body(world, department, patient), format="json"
    )
    assert response.status_code == status, response.content
    assert Encounter.objects.exists() is (status == 201)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"diagnosis_code": "X99.99"}, "diagnosis_code"),
        ({"kind": "home"}, "kind"),
        ({"started_at": "2999-01-01T08:00:00+08:00"}, "started_at"),
        ({"person": str(uuid.uuid4())}, "person"),
        ({"diagnosis_name": ""}, "diagnosis_name"),
    ],
)
def test_bad_encounters_are_field_errors(world, ward, api, overrides, field):
    department, _nurse, patient = ward
    response = api(world.hospital_doctor).post(
        "/api/v1/encounters", _record_body(world, department, patient, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert not Encounter.objects.exists()


def test_a_department_of_another_institution_is_refused(world, ward, api):
    _department, _nurse, patient = ward
    elsewhere = DepartmentFactory(institution=world.outsider, name="内科")
    response = api(world.hospital_doctor).post(
        "/api/v1/encounters", _record_body(world, elsewhere, patient), format="json"
    )
    assert error_of(response)["fields"] == {"department": ["科室不属于该机构。"]}


def test_list_is_scoped_to_the_requesters_institutions(world, ward, api, django_assert_num_queries):
    department, _nurse, patient = ward
    stay = _stay(world, department, patient)
    outpatient = encounter_record(
        actor=world.hospital_doctor,
        institution=world.hospital,
        person=patient,
        kind="outpatient",
        started_at=timezone.now() - datetime.timedelta(days=1),
        diagnosis_code="I10",
        diagnosis_name="原发性高血压",
    )
    client = api(world.hospital_doctor)
    rows = _results(client.get("/api/v1/encounters"))
    assert [row["public_id"] for row in rows] == [str(outpatient.public_id), str(stay.public_id)]
    current = _results(client.get("/api/v1/encounters", {"current": "1"}))
    assert [row["public_id"] for row in current] == [str(stay.public_id)]
    assert len(_results(client.get("/api/v1/encounters", {"kind": "outpatient"}))) == 1
    assert _results(client.get("/api/v1/encounters", {"institution": str(world.outsider.public_id)})) == []
    assert _results(api(world.outsider_doctor).get("/api/v1/encounters")) == []
    assert _results(api(world.office).get("/api/v1/encounters")) == []
    assert api(world.outsider_doctor).get(f"/api/v1/encounters/{stay.public_id}").status_code == 404
    # token, scope, count, page (patient, institution, department joined)
    with django_assert_num_queries(4):
        assert len(_results(client.get("/api/v1/encounters"))) == 2
    for n in range(8):
        _stay(world, department, person(f"患者{n}", institution=world.hospital))
    with django_assert_num_queries(4):
        assert len(_results(client.get("/api/v1/encounters"))) == 10


def test_discharge_once(world, ward, api):
    department, nurse, patient = ward
    stay = _stay(world, department, patient)
    url = f"/api/v1/encounters/{stay.public_id}/discharge"
    assert api(world.outsider_doctor).post(url, {}, format="json").status_code == 404
    assert api(world.office).post(url, {}, format="json").status_code == 404
    too_early = api(nurse).post(url, {"ended_at": "2020-01-01T08:00:00+08:00"}, format="json")
    assert error_of(too_early)["fields"] == {"ended_at": ["出院时间不能早于入院时间。"]}
    done = api(nurse).post(url, {}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["ended_at"] and done.json()["is_current"] is False
    again = api(world.hospital_doctor).post(url, {}, format="json")
    assert again.status_code == 409 and error_of(again)["message"] == "该患者已出院。"


def test_only_a_doctor_flags_an_inpatient_ready_to_go_down(world, ward, api):
    department, nurse, patient = ward
    stay = _stay(world, department, patient)
    url = f"/api/v1/encounters/{stay.public_id}/flag-recovery"
    refused = api(nurse).post(url, {"recovery_phase": "recovery"}, format="json")
    assert refused.status_code == 403
    assert error_of(refused)["message"] == "只有本机构医生可以标记可下转患者。"
    assert (
        api(world.hospital_admin).post(url, {"recovery_phase": "recovery"}, format="json").status_code == 403
    )
    bad = api(world.hospital_doctor).post(url, {"recovery_phase": "cured"}, format="json")
    assert bad.status_code == 400 and "recovery_phase" in error_of(bad)["fields"]
    assert Encounter.objects.get(pk=stay.pk).recovery_phase == ""
    flagged = api(world.hospital_doctor).post(url, {"recovery_phase": "recovery"}, format="json")
    assert flagged.status_code == 200, flagged.content
    assert flagged.json()["recovery_phase"] == "recovery" and flagged.json()["recovery_flagged_at"]
    cleared = api(world.hospital_doctor).post(url, {"recovery_phase": ""}, format="json")
    assert cleared.json()["recovery_phase"] == ""
    api(world.hospital_doctor).post(f"/api/v1/encounters/{stay.public_id}/discharge", {}, format="json")
    late = api(world.hospital_doctor).post(url, {"recovery_phase": "recovery"}, format="json")
    assert late.status_code == 409 and error_of(late)["message"] == "只能标记在院患者。"


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("hospital_doctor", 403),  # same institution, not an administrator
        ("township_admin", 403),  # another institution's administrator
        ("office", 403),
        ("hospital_admin", 200),
    ],
)
def test_service_volume_matrix(world, api, who, status):
    body = {"institution": str(world.hospital.public_id), "month": "2026-10", "outpatient_visits": 1200}
    response = api(world.users()[who]).post("/api/v1/service-volumes", body, format="json")
    assert response.status_code == status, response.content
    assert ServiceVolume.objects.exists() is (status == 200)


def test_service_volumes_are_reported_and_corrected(world, ward, api):
    department, _nurse, _patient = ward
    client = api(world.hospital_admin)
    body = {
        "institution": str(world.hospital.public_id),
        "department": str(department.public_id),
        "month": "2026-10-15",
        "admissions": 80,
        "discharges": 75,
    }
    first = client.post("/api/v1/service-volumes", body, format="json")
    assert first.status_code == 200, first.content
    assert first.json() == {
        "institution": {"public_id": str(world.hospital.public_id), "name": "霍邱县人民医院"},
        "department": {"public_id": str(department.public_id), "name": "神经内科"},
        "month": "2026-10-01",
        "outpatient_visits": 0,
        "admissions": 80,
        "discharges": 75,
    }
    client.post("/api/v1/service-volumes", {**body, "discharges": 78}, format="json")
    assert list(ServiceVolume.objects.values_list("discharges", flat=True)) == [78]
    future = (timezone.localdate() + datetime.timedelta(days=40)).strftime("%Y-%m")
    late = client.post("/api/v1/service-volumes", {**body, "month": future}, format="json")
    assert error_of(late)["fields"] == {"month": ["请填写不晚于本月的月份。"]}
    negative = client.post("/api/v1/service-volumes", {**body, "admissions": -1}, format="json")
    assert negative.status_code == 400 and "admissions" in error_of(negative)["fields"]
    assert ServiceVolume.objects.count() == 1
