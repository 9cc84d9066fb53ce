"""The prescriptions API: writing and reading prescriptions, voiding, deliveries with 409 for the loser,
the formulary and stock lists, the authorization matrix and query counts that do not grow."""

from __future__ import annotations

import io
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from yilian.core.api.testing import api_client
from yilian.prescriptions.models import Delivery, Prescription, PrescriptionItem, StockItem
from yilian.prescriptions.tests.factories import extend, prescribe, source_rx

pytestmark = pytest.mark.django_db


def _body(rw, **extra):
    body = {
        "institution": str(rw.world.township.public_id),
        "person": str(rw.patient.public_id),
        "kind": "long",
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "items": [
            {
                "drug": str(rw.amlodipine.public_id),
                "dose": "1",
                "frequency": "qd",
                "route": "oral",
                "days": 84,
            }
        ],
    }
    body.update(extra)
    return body


def test_create_read_void(rw):
    client = api_client(rw.gp)
    response = client.post("/api/v1/prescriptions", _body(rw), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind"] == "long" and data["items"][0]["quantity"] == 3
    assert data["patient"]["name"] == "王老汉"
    again = client.post("/api/v1/prescriptions", _body(rw), format="json")
    assert again.status_code == 400
    assert data["number"] in again.json()["error"]["fields"]["items.0.drug"][0]
    url = f"/api/v1/prescriptions/{data['public_id']}"
    office = api_client(rw.world.office).get(url).json()
    assert office["patient"]["name"] == "王**" and office["patient"]["visible"] is False
    assert api_client(rw.world.hospital_doctor).get(url).status_code == 404
    assert client.post(f"{url}/void", {"reason": ""}, format="json").status_code == 400
    voided = client.post(f"{url}/void", {"reason": "调整用药"}, format="json")
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    assert client.post(f"{url}/void", {"reason": "again"}, format="json").status_code == 409
    pdf = client.get(f"{url}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_bad_input(rw):
    client = api_client(rw.gp)
    body = _body(
        rw,
        diagnosis_code="XYZ",
        items=[{"drug": str(uuid.uuid4()), "dose": "1", "frequency": "qd", "route": "oral", "days": 3}],
    )
    response = client.post("/api/v1/prescriptions", body, format="json")
    assert response.status_code == 400
    body = _body(rw, extra_field=1)
    assert client.post("/api/v1/prescriptions", body, format="json").status_code == 400
    body = _body(
        rw,
        items=[
            {
                "drug": str(rw.amlodipine.public_id),
                "dose": "1",
                "frequency": "qd",
                "route": "oral",
                "days": 85,
            }
        ],
    )
    response = client.post("/api/v1/prescriptions", body, format="json")
    assert response.status_code == 400
    assert "items.0.days" in response.json()["error"]["fields"]
    assert not Prescription.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 401),
        ("stranger", 403),
        ("nurse", 403),
        ("office", 403),
        ("regulator", 403),
        ("admin", 403),
        ("outsider_doctor", 400),
        ("hospital_doctor", 403),
        ("gp", 201),
    ],
)
def test_create_matrix(rw, who, status):
    user = rw.users()[who] if who else None
    response = api_client(user).post("/api/v1/prescriptions", _body(rw), format="json")
    assert response.status_code == status, response.content


def test_extended_and_delivery_steps(rw):
    source = source_rx(rw)
    client = api_client(rw.gp)
    body = _body(
        rw,
        kind="extended",
        source=str(source.public_id),
        diagnosis_code="I25.1",
        diagnosis_name="冠心病",
        items=[
            {
                "drug": str(rw.clopidogrel.public_id),
                "dose": "1",
                "frequency": "qd",
                "route": "oral",
                "days": 56,
            }
        ],
    )
    response = client.post("/api/v1/prescriptions", body, format="json")
    assert response.status_code == 201, response.content
    delivery_id = response.json()["delivery"]
    pharmacy = api_client(rw.pharmacist)
    worklist = pharmacy.get("/api/v1/deliveries", {"box": "out"}).json()["results"]
    assert [row["public_id"] for row in worklist] == [delivery_id]
    assert worklist[0]["available_actions"] == ["dispatch", "cancel"]
    assert client.post(f"/api/v1/deliveries/{delivery_id}/dispatch", {}, format="json").status_code == 403
    assert pharmacy.post(f"/api/v1/deliveries/{delivery_id}/dispatch", {}, format="json").status_code == 200
    assert pharmacy.post(f"/api/v1/deliveries/{delivery_id}/dispatch", {}, format="json").status_code == 409
    assert client.post(f"/api/v1/deliveries/{delivery_id}/receive", {}, format="json").status_code == 200
    done = client.post(f"/api/v1/deliveries/{delivery_id}/hand_over", {"note": "患者已取药"}, format="json")
    assert done.status_code == 200
    assert [step["action"] for step in done.json()["timeline"]] == [
        "request",
        "dispatch",
        "receive",
        "hand_over",
    ]
    assert api_client(rw.world.hospital_doctor).get(f"/api/v1/deliveries/{delivery_id}").status_code == 404


def test_formulary_and_stock(rw):
    office = api_client(rw.world.office)
    url = f"/api/v1/formularies/{rw.world.consortium.public_id}"
    data = office.get(url).json()
    assert data["long_max_days"] == 84 and data["members"][0]["missing"] == 1
    assert data["members"][0]["missing_chronic"] == 1
    assert (
        api_client(rw.world.township_admin).patch(url, {"long_max_days": 56}, format="json").status_code
        == 403
    )
    changed = office.patch(url, {"long_max_days": 56}, format="json")
    assert changed.status_code == 200 and changed.json()["long_max_days"] == 56
    assert office.patch(url, {"long_max_days": 60, "expected_version": 1}, format="json").status_code == 409
    assert api_client(rw.world.outsider_doctor).get(url).status_code == 404
    stock = f"/api/v1/stock-lists/{rw.world.township.public_id}"
    admin = api_client(rw.world.township_admin)
    assert admin.get(stock).json()["count"] == 3
    assert (
        api_client(rw.gp).post(stock, {"drug": str(rw.clopidogrel.public_id)}, format="json").status_code
        == 403
    )
    assert admin.post(stock, {"drug": str(rw.clopidogrel.public_id)}, format="json").status_code == 201
    assert admin.delete(f"{stock}/drugs/{rw.clopidogrel.public_id}").status_code == 204
    book = Workbook()
    book.active.append(["医保药品代码", "通用名", "本地增补"])
    book.active.append([rw.clopidogrel.code, "", "否"])
    book.active.append(["nonsense", "", "否"])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "stock.xlsx"
    response = admin.post(f"{stock}/import", {"file": buffer}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["file"][0].startswith("第 3 行")
    assert not StockItem.objects.filter(institution=rw.world.township, drug=rw.clopidogrel).exists()
    assert api_client(rw.world.outsider_doctor).get(stock).status_code == 404


def test_drugs_and_statistics(rw):
    extend(rw)
    prescribe(rw)
    found = api_client(rw.gp).get("/api/v1/drugs", {"q": "lbgl"}).json()["results"]
    assert [row["name"] for row in found] == ["硫酸氢氯吡格雷片"]
    assert api_client(None).get("/api/v1/drugs").status_code == 401
    assert api_client(rw.users()["stranger"]).get("/api/v1/drugs").status_code == 403
    params = {
        "consortium": str(rw.world.consortium.public_id),
        "date_from": "2020-01-01",
        "date_to": "2099-01-01",
    }
    stats = api_client(rw.world.office).get("/api/v1/prescriptions/statistics", params)
    assert stats.status_code == 200
    (month,) = stats.json()["months"]
    assert (month["long"], month["extended"]) == (1, 1)
    assert stats.json()["deliveries"][0]["by_status"] == {"requested": 1}
    assert api_client(rw.world.regulator).get("/api/v1/prescriptions/statistics", params).status_code == 200
    assert api_client(rw.gp).get("/api/v1/prescriptions/statistics", params).status_code == 403


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
        assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("who", "url", "params"),
    [
        ("gp", "/api/v1/prescriptions", {}),
        ("office", "/api/v1/prescriptions", {"page_size": 50}),
        ("pharmacist", "/api/v1/deliveries", {"box": "out", "page_size": 50}),
        ("gp", "/api/v1/deliveries", {"box": "in", "page_size": 50}),
    ],
)
def test_list_queries_do_not_grow(rw, who, url, params):
    rx = extend(rw)
    client = api_client(rw.users()[who])
    few = _count(client, url, params)
    requested_at = rx.delivery.requested_at
    lines = list(rx.items.all())
    for _ in range(12):
        rx.pk = None
        rx.public_id = uuid.uuid4()
        rx.number = f"CF{uuid.uuid4().hex[:14]}"
        rx.save(force_insert=True)
        for line in lines:
            line.pk = None
            line.prescription = rx
            line.save(force_insert=True)
        Delivery.objects.create(
            number=f"PS{uuid.uuid4().hex[:14]}",
            prescription=rx,
            from_institution=rw.world.hospital,
            to_institution=rw.world.township,
            requested_at=requested_at,
        )
    assert PrescriptionItem.objects.count() >= 13
    client = api_client(rw.users()[who])
    assert _count(client, url, params) == few
