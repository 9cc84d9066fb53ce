"""Import pages: upload form, job list, detail with rejected rows, status JSON, Excel of errors, resume, menu."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yilian.ingestion import services
from yilian.ingestion.choices import ImportStatus
from yilian.ingestion.models import ImportJob
from yilian.ingestion.tests.factories import csv_bytes, encounter_row, upload

pytestmark = pytest.mark.django_db


def _upload(client, world, rows, **extra):
    return client.post(
        reverse("ingestion:new"),
        {
            "kind": "encounters",
            "institution": str(world.hospital.public_id),
            "file": upload(csv_bytes(rows)),
            **extra,
        },
    )


def test_upload_list_detail_and_errors(client, world):
    client.force_login(world.hospital_admin)
    page = client.get(reverse("ingestion:new"))
    assert page.status_code == 200 and "全部成功才导入" in page.content.decode()
    # The administrator's one institution is preselected.
    assert page.context["form"]["institution"].value() == str(world.hospital.public_id)
    assert f'<option value="{world.hospital.public_id}" selected>' in page.content.decode()
    rows = [encounter_row(world.hospital, n) for n in range(4)]
    rows.append(encounter_row(world.hospital, 8, 总费用="-5", 基金支付="0", 个人支付="0"))
    response = _upload(client, world, rows)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    running = client.get(reverse("ingestion:detail", args=[job.public_id])).content.decode()
    assert "data-status-url" in running
    services.import_job_run(job)
    detail = client.get(reverse("ingestion:detail", args=[job.public_id])).content.decode()
    assert "金额不能为负数" in detail and "import-error-row" in detail
    status = client.get(reverse("ingestion:status", args=[job.public_id])).json()
    assert status["status"] == "succeeded" and status["accepted_rows"] == 4 and status["percent"] == 100
    export = client.get(reverse("ingestion:errors", args=[job.public_id]))
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    listing = client.get(reverse("ingestion:list")).content.decode()
    assert "visits.csv" in listing


def test_wrong_columns_show_on_the_form(client, world):
    client.force_login(world.hospital_admin)
    response = client.post(
        reverse("ingestion:new"),
        {
            "kind": "encounters",
            "institution": str(world.hospital.public_id),
            "file": upload("姓名\n".encode()),
        },
    )
    assert response.status_code == 200 and "缺少列" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_resume_button(client, world):
    client.force_login(world.hospital_admin)
    _upload(client, world, [encounter_row(world.hospital, 1)])
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED)
    assert "import-resume" in client.get(reverse("ingestion:detail", args=[job.public_id])).content.decode()
    client.post(reverse("ingestion:resume", args=[job.public_id]))
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED


def test_pages_are_refused_to_others(client, world):
    client.force_login(world.hospital_admin)
    _upload(client, world, [encounter_row(world.hospital, 1)])
    job = ImportJob.objects.get()
    for user in (world.hospital_doctor, world.stranger):
        client.force_login(user)
        assert client.get(reverse("ingestion:list")).status_code == 403
        assert client.get(reverse("ingestion:new")).status_code == 403
    client.force_login(world.township_admin)
    assert client.get(reverse("ingestion:detail", args=[job.public_id])).status_code == 404
    client.force_login(world.office)
    assert client.get(reverse("ingestion:detail", args=[job.public_id])).status_code == 200


def test_templates_download(client, world):
    client.force_login(world.hospital_admin)
    response = client.get(reverse("ingestion:template", args=["encounters", "xlsx"]))
    assert response.status_code == 200
    assert "源系统记录号" in client.get(
        reverse("ingestion:template", args=["encounters", "csv"])
    ).content.decode("utf-8-sig")


def test_menu_entry(client, world):
    client.force_login(world.hospital_admin)
    assert reverse("ingestion:list") in client.get("/").content.decode()
    client.force_login(world.hospital_doctor)
    assert reverse("ingestion:list") not in client.get("/").content.decode()


def test_list_page_query_count(client, world, django_assert_max_num_queries):
    client.force_login(world.hospital_admin)
    for n in range(8):
        _upload(client, world, [encounter_row(world.hospital, n)])
    with django_assert_max_num_queries(15):
        assert client.get(reverse("ingestion:list")).status_code == 200


def test_rejected_rows_read_in_the_readers_language(client, world):
    """The reasons are stored in the source language, whoever ran the job, and shown in the reader's."""
    from django.utils import translation

    client.force_login(world.hospital_admin)
    bad = encounter_row(world.hospital, 1, 总费用="-5", 基金支付="0", 个人支付="0")
    _upload(client, world, [bad])
    job = ImportJob.objects.get()
    with translation.override("en"):  # as an English request would with the immediate backend
        services.import_job_run(job)
    assert job.row_errors.get().reason == "金额不能为负数。"
    url = reverse("ingestion:detail", args=[job.public_id])
    assert "金额不能为负数" in client.get(url).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "金额不能为负数" not in english and "negative" in english
    assert "：" not in english.split("<h1>")[1].split("</h1>")[0]  # the heading's colon too
