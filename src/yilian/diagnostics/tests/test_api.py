"""Diagnostics API: configuration, ordering with recognition, the lab and imaging flows over HTTP,
who may do what, bad input, versions, documents, lists and their query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yilian.core.api.testing import api_client, error_of
from yilian.diagnostics import services
from yilian.diagnostics.models import CriticalValueAlert, DiagnosticOrder
from yilian.diagnostics.tests.factories import (
    PNG,
    corrupt_dicom_upload,
    diag_world,
    dicom_bytes,
    final_result,
    order,
    received_specimen,
    rule,
)
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return diag_world(world)


def _url(order, suffix=""):
    return f"/api/v1/diagnostic-orders/{order.public_id}{suffix}"


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _payload(dw, item=None, **overrides):
    data = {
        "person": str(dw.patient.public_id),
        "institution": str(dw.world.township.public_id),
        "item": str((item or dw.glucose).public_id),
        "diagnosis_code": "E11.9",
        "diagnosis_name": "2型糖尿病",
        "priority": "urgent",
    }
    data.update(overrides)
    return data


def test_create_is_idempotent_and_returns_detail(dw):
    client = api_client(dw.township_doctor)
    first = client.post("/api/v1/diagnostic-orders", _payload(dw), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["status"] == "ordered" and body["barcode"] and body["patient"]["name"] == "王五"
    assert body["available_actions"] == ["collect", "cancel"] and first["ETag"] == '"1"'
    again = client.post("/api/v1/diagnostic-orders", _payload(dw), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert again.status_code == 200 and again.json()["public_id"] == body["public_id"]
    assert DiagnosticOrder.objects.count() == 1


def test_create_bad_input(dw):
    client = api_client(dw.township_doctor)
    response = client.post("/api/v1/diagnostic-orders", _payload(dw, diagnosis_code="I10.5"), format="json")
    assert response.status_code == 400 and "diagnosis_code" in error_of(response)["fields"]
    response = client.post("/api/v1/diagnostic-orders", {**_payload(dw), "bogus": 1}, format="json")
    assert response.status_code == 400
    assert not DiagnosticOrder.objects.exists()


def test_recognised_lookup_then_reason_required(dw):
    rule(dw)
    prior = final_result(dw)
    client = api_client(dw.township_doctor)
    query = {
        "person": str(dw.patient.public_id),
        "item": str(dw.glucose.public_id),
        "institution": str(dw.world.township.public_id),
    }
    found = client.get("/api/v1/diagnostic-orders/recognised", query).json()
    assert found["found"] and found["order"]["number"] == prior.number and found["conclusion"] == "正常"
    refused = client.post("/api/v1/diagnostic-orders", _payload(dw), format="json")
    assert refused.status_code == 400 and "repeat_reason" in error_of(refused)["fields"]
    repeated = client.post("/api/v1/diagnostic-orders", _payload(dw, repeat_reason="复查"), format="json")
    assert repeated.status_code == 201 and repeated.json()["recognised_prior"]["number"] == prior.number
    used = client.post(
        "/api/v1/diagnostic-orders/recognised/use",
        {k: query[k] for k in ("person", "item", "institution")},
        format="json",
    )
    assert used.status_code == 201 and used.json()["saved_amount"] == "8.00"


def test_lab_flow_over_http_with_versions(dw):
    created = order(dw)
    nurse = api_client(dw.township_nurse)
    stale = nurse.post(_url(created, "/collect"), {}, format="json", HTTP_IF_MATCH='"9"')
    assert stale.status_code == 409
    assert nurse.post(_url(created, "/collect"), {}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    minimal = nurse.post(_url(created, "/dispatch"), {}, format="json", HTTP_PREFER="return=minimal")
    assert minimal.json() == {
        "public_id": str(created.public_id),
        "number": created.number,
        "status": "in_transit",
        "version": 3,
    }
    tech = api_client(dw.hospital_technician)
    unknown = tech.post(
        "/api/v1/diagnostic-orders/receive",
        {"centre": str(dw.lab.public_id), "barcode": "8999"},
        format="json",
    )
    assert unknown.status_code == 400 and "barcode" in error_of(unknown)["fields"]
    received = tech.post(
        "/api/v1/diagnostic-orders/receive",
        {"centre": str(dw.lab.public_id), "barcode": created.barcode},
        format="json",
    )
    assert received.status_code == 200 and received.json()["status"] == "received"
    again = tech.post(
        "/api/v1/diagnostic-orders/receive",
        {"centre": str(dw.lab.public_id), "barcode": created.barcode},
        format="json",
    )
    assert again.status_code == 400 and "已于" in error_of(again)["fields"]["barcode"][0]
    doctor = api_client(dw.hospital_doctor)
    assert doctor.post(_url(created, "/claim"), {}, format="json").status_code == 200
    other = api_client(dw.second_doctor).post(_url(created, "/claim"), {}, format="json")
    assert other.status_code == 409 and dw.hospital_doctor.full_name in error_of(other)["message"]
    signed = doctor.post(_url(created, "/sign"), {"conclusion": "正常", "findings": "6.0"}, format="json")
    assert signed.status_code == 200 and signed.json()["status"] == "final"
    again = doctor.post(_url(created, "/sign"), {"conclusion": "正常"}, format="json")
    assert again.status_code == 409
    amend = doctor.post(_url(created, "/amend"), {"conclusion": "更正"}, format="json")
    assert amend.status_code == 400 and "reason" in error_of(amend)["fields"]
    pdf = api_client(dw.township_doctor).get(_url(created, "/report.pdf"))
    assert (
        pdf.status_code == 200
        and pdf["Content-Type"] == "application/pdf"
        and pdf.content.startswith(b"%PDF")
    )
    label = api_client(dw.township_nurse).get(_url(created, "/label.pdf"))
    assert label.status_code == 200 and label.content.startswith(b"%PDF")


def test_upload_over_http(dw):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    client = api_client(dw.township_nurse)
    bad = client.post(
        _url(created, "/files"),
        {"files": [SimpleUploadedFile("a.dcm", dicom_bytes()), corrupt_dicom_upload()]},
        format="multipart",
    )
    assert bad.status_code == 400 and "files" in error_of(bad)["fields"]
    assert not created.files.exists()
    good = client.post(
        _url(created, "/files"),
        {"files": [SimpleUploadedFile("a.dcm", dicom_bytes()), SimpleUploadedFile("b.png", PNG)]},
        format="multipart",
    )
    assert good.status_code == 201, good.content
    body = good.json()
    assert body["status"] == "received" and [f["kind"] for f in body["files"]] == ["dicom", "image"]
    assert body["files"][0]["metadata"]["modality"] == "CT"
    download = api_client(dw.hospital_doctor).get(
        f"/api/v1/diagnostic-files/{body['files'][1]['public_id']}/download?inline=1"
    )
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    hidden = api_client(dw.world.office).get(
        f"/api/v1/diagnostic-files/{body['files'][1]['public_id']}/download"
    )
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 404),
        ("township_doctor", 200),
        ("hospital_doctor", 200),
        ("hospital_admin", 200),
        ("office", 200),
        ("regulator", 200),
        ("admin", 200),
    ],
)
def test_who_reads_an_order(dw, who, status):
    created = order(dw)
    users = {**dw.world.users(), "township_doctor": dw.township_doctor}
    response = api_client(users[who]).get(_url(created))
    assert response.status_code == status
    if status == 200:
        body = response.json()
        masked = who in ("office", "regulator", "admin", "hospital_admin")
        assert body["patient"]["name"] == ("王*" if masked else "王五")
        assert (body["patient"]["id_number_masked"] is None) == masked
        assert body["clinical_info"] == ("" if masked else "口干多饮")
        assert body["available_actions"] == (["collect", "cancel"] if who == "township_doctor" else [])


@pytest.mark.parametrize(
    "who", ["office", "regulator", "admin", "hospital_admin", "outsider_doctor", "hospital_doctor"]
)
def test_readers_cannot_act_or_print(dw, who):
    created = order(dw)
    client = api_client(dw.world.users()[who])
    assert client.post(_url(created, "/collect"), {}, format="json").status_code in (403, 404)
    assert client.post(_url(created, "/cancel"), {"reason": "x"}, format="json").status_code in (403, 404)
    if who in ("office", "regulator", "admin", "hospital_admin"):
        assert client.get(_url(created, "/label.pdf")).status_code == 403
    created.refresh_from_db()
    assert created.status == "ordered" and created.version == 1


def test_configuration_endpoints(dw):
    office = api_client(dw.world.office)
    centre = office.post(
        "/api/v1/diagnostic-centres",
        {
            "consortium": str(dw.world.consortium.public_id),
            "kind": "ecg",
            "name": "县域心电中心",
            "hub_institution": str(dw.world.hospital.public_id),
            "department": str(dw.department.public_id),
            "served_institutions": [str(dw.world.township.public_id)],
            "critical_ack_minutes": 10,
        },
        format="json",
    )
    assert centre.status_code == 201, centre.content
    assert centre.json()["served_institutions"][0]["name"] == dw.world.township.name
    assert centre.json()["department"]["public_id"] == str(dw.department.public_id)
    item = office.post(
        "/api/v1/diagnostic-items",
        {
            "centre": centre.json()["public_id"],
            "code": "ECG12",
            "name": "十二导联心电图",
            "price": "25.00",
            "turnaround_hours": 2,
        },
        format="json",
    )
    assert item.status_code == 201, item.content
    patched = office.patch(
        f"/api/v1/diagnostic-items/{item.json()['public_id']}", {"price": "30.00"}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["price"] == "30.00"
    rule_response = office.post(
        "/api/v1/recognition-rules",
        {
            "consortium": str(dw.world.consortium.public_id),
            "item_code": "ECG12",
            "name": "心电图",
            "validity_days": 14,
        },
        format="json",
    )
    assert rule_response.status_code == 201 and rule_response.json()["scope"] == "consortium"
    doctor = api_client(dw.township_doctor)
    refused = doctor.post(
        "/api/v1/recognition-rules",
        {"consortium": str(dw.world.consortium.public_id), "item_code": "X", "name": "X", "validity_days": 1},
        format="json",
    )
    assert refused.status_code == 403
    assert len(_results(doctor.get("/api/v1/diagnostic-centres"))) == 4
    assert len(_results(doctor.get("/api/v1/recognition-rules"))) == 1


def test_alerts_and_statistics(dw):
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", conclusion="x", critical_value="K 7.1"
    )
    doctor = api_client(dw.township_doctor)
    alerts = _results(doctor.get("/api/v1/critical-alerts?open=true"))
    assert alerts[0]["description"] == "K 7.1" and alerts[0]["patient"]["name"] == "王五"
    url = f"/api/v1/critical-alerts/{alerts[0]['public_id']}/acknowledge"
    for body in ({}, {"note": "  "}):
        empty = doctor.post(url, body, format="json")
        assert empty.status_code == 400 and "note" in error_of(empty)["fields"]
    assert CriticalValueAlert.objects.get(order=received).acknowledged_at is None
    ack = doctor.post(
        f"/api/v1/critical-alerts/{alerts[0]['public_id']}/acknowledge", {"note": "已处理"}, format="json"
    )
    assert ack.status_code == 200 and ack.json()["acknowledged_by"]["username"] == "township_doctor"
    again = doctor.post(url, {"note": "再次处理"}, format="json")
    assert again.status_code == 409
    assert api_client(dw.hospital_doctor).get("/api/v1/diagnostics/statistics").status_code == 403
    stats = api_client(dw.world.office).get("/api/v1/diagnostics/statistics")
    assert stats.status_code == 200 and stats.json()["critical"]["acknowledged"] == 1


def test_reading_list_endpoint_and_access(dw):
    received_specimen(dw)
    url = f"/api/v1/reading-list?centre={dw.lab.public_id}"
    assert len(_results(api_client(dw.hospital_doctor).get(url))) == 1
    assert api_client(dw.township_doctor).get(url).status_code == 403
    assert api_client(dw.world.office).get(url).status_code == 403


LIST_QUERIES = {
    "reading": 5,
    "/api/v1/diagnostic-orders": 4,
    "/api/v1/critical-alerts": 3,
    "/api/v1/diagnostic-centres": 5,
}
"""Per request: token, scope, count, page, (prefetch or centre lookup); never one per row."""


@pytest.mark.parametrize("size", [1, 5])
def test_list_query_counts_are_constant(dw, django_assert_num_queries, size):
    for _index in range(size):
        received = received_specimen(dw)
        services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    doctor = api_client(dw.hospital_doctor)
    for name, expected in LIST_QUERIES.items():
        url = f"/api/v1/reading-list?centre={dw.lab.public_id}" if name == "reading" else name
        with django_assert_num_queries(expected):
            response = doctor.get(url)
        assert response.status_code == 200


def test_critical_value_endpoint(dw):
    created = order(dw)
    doctor = api_client(dw.hospital_doctor)
    early = doctor.post(_url(created, "/critical-value"), {"description": "K 7.2"}, format="json")
    assert early.status_code == 409
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    refused = api_client(dw.township_doctor).post(
        _url(received, "/critical-value"), {"description": "x"}, format="json"
    )
    assert refused.status_code == 403
    raised = doctor.post(_url(received, "/critical-value"), {"description": "K 7.2"}, format="json")
    assert raised.status_code == 201 and raised.json()["recipient"]["username"] == "township_doctor"


def test_patient_results_filter(dw):
    final = final_result(dw)
    other = order(dw, person=person("赵六", institution=dw.world.township))
    rows = _results(
        api_client(dw.township_doctor).get(f"/api/v1/diagnostic-orders?person={dw.patient.public_id}")
    )
    assert [row["number"] for row in rows] == [final.number]
    assert other.number not in [row["number"] for row in rows]
