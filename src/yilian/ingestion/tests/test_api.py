"""The imports API: upload → 202, list, detail, rejected rows, resume, templates, authorization, query counts."""

from __future__ import annotations

import pytest

from yilian.core.api.testing import api_client
from yilian.ingestion import services
from yilian.ingestion.choices import ImportStatus
from yilian.ingestion.models import ImportJob
from yilian.ingestion.tests.factories import csv_bytes, encounter_row, upload

pytestmark = pytest.mark.django_db


def _post(client, world, rows, **extra):
    body = {
        "kind": "encounters",
        "file": upload(csv_bytes(rows)),
        "institution": world.hospital.credit_code,
        **extra,
    }
    return client.post("/api/v1/imports", body, format="multipart")


def test_upload_answers_202_and_the_job_is_readable(world):
    client = api_client(world.hospital_admin)
    rows = [encounter_row(world.hospital, n) for n in range(5)]
    rows.append(encounter_row(world.hospital, 9, 类型="会诊"))
    response = _post(client, world, rows)
    assert response.status_code == 202, response.content
    job_id = response.json()["public_id"]
    assert response.json()["status"] == "queued"
    services.import_job_run(ImportJob.objects.get(public_id=job_id))  # what the worker does
    detail = client.get(f"/api/v1/imports/{job_id}").json()
    assert (detail["status"], detail["accepted_rows"], detail["rejected_rows"], detail["percent"]) == (
        "succeeded",
        5,
        1,
        100,
    )
    errors = client.get(f"/api/v1/imports/{job_id}/errors").json()["results"]
    assert errors == [
        {"row_number": 7, "column": "类型", "value": "会诊", "reason": "应为 门诊、急诊 或 住院。"}
    ]
    assert client.post(f"/api/v1/imports/{job_id}/resume").status_code == 409


def test_resume_of_a_failed_job(world):
    client = api_client(world.hospital_admin)
    job_id = _post(client, world, [encounter_row(world.hospital, 1)]).json()["public_id"]
    ImportJob.objects.filter(public_id=job_id).update(status=ImportStatus.FAILED)
    response = client.post(f"/api/v1/imports/{job_id}/resume")
    assert response.status_code == 202 and response.json()["status"] == "queued"


def test_bad_files_answer_400(world):
    client = api_client(world.hospital_admin)
    response = client.post(
        "/api/v1/imports",
        {"kind": "encounters", "file": upload(b"x", "a.txt"), "institution": world.hospital.credit_code},
        format="multipart",
    )
    assert response.status_code == 400
    response = client.post(
        "/api/v1/imports",
        {
            "kind": "encounters",
            "file": upload("姓名\n张三\n".encode()),
            "institution": world.hospital.credit_code,
        },
        format="multipart",
    )
    assert response.status_code == 400 and "缺少列" in response.content.decode()


def test_authorization(world):
    rows = [encounter_row(world.hospital, 1)]
    assert _post(api_client(None), world, rows).status_code in (401, 403)
    assert _post(api_client(world.hospital_doctor), world, rows).status_code == 403
    assert _post(api_client(world.township_admin), world, rows).status_code == 403
    job_id = _post(api_client(world.hospital_admin), world, rows).json()["public_id"]
    assert api_client(world.township_admin).get(f"/api/v1/imports/{job_id}").status_code == 404
    assert api_client(world.office).get(f"/api/v1/imports/{job_id}").status_code == 200
    assert api_client(world.stranger).get("/api/v1/imports").json()["count"] == 0


def test_templates(world):
    client = api_client(world.hospital_admin)
    csv_response = client.get("/api/v1/imports/templates/encounters.csv")
    assert csv_response.status_code == 200
    assert "源系统记录号" in csv_response.content.decode("utf-8-sig")
    assert client.get("/api/v1/imports/templates/claims.xlsx").status_code == 200
    assert client.get("/api/v1/imports/templates/other.csv").status_code == 404


def test_list_query_count_does_not_grow(world, django_assert_max_num_queries):
    client = api_client(world.hospital_admin)
    for n in range(3):
        _post(client, world, [encounter_row(world.hospital, n)])
    with django_assert_max_num_queries(12):
        small = client.get("/api/v1/imports")
    for n in range(3, 12):
        _post(client, world, [encounter_row(world.hospital, n)])
    with django_assert_max_num_queries(12):
        large = client.get("/api/v1/imports")
    assert small.json()["count"] == 3 and large.json()["count"] == 12
