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


def test_reasons_naming_a_value_read_in_the_readers_language_too(client, world):
    """An unknown ICD-10 code and a wrong sum name a value: they were stored formatted in the worker's
    Chinese and so stayed Chinese on the English page and in the English errors workbook."""
    import io

    from openpyxl import load_workbook

    client.force_login(world.hospital_admin)
    rows = [
        encounter_row(world.hospital, 1, 主要诊断编码="A00.7"),
        encounter_row(world.hospital, 2, 总费用="150.00", 基金支付="90.00", 个人支付="50.00"),
    ]
    _upload(client, world, rows)
    job = ImportJob.objects.get()
    services.import_job_run(job)
    url = reverse("ingestion:detail", args=[job.public_id])
    chinese = client.get(url).content.decode()
    assert "ICD-10 编码 A00.7 不存在。" in chinese
    assert "基金支付与个人支付之和（140.00）与总费用不符。" in chinese
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ICD-10 code A00.7 does not exist." in english
    assert "Fund paid plus self paid (140.00) does not equal the total cost." in english
    assert "不存在" not in english and "不符" not in english
    export = client.get(reverse("ingestion:errors", args=[job.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    reasons = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert reasons == [
        "ICD-10 code A00.7 does not exist.",
        "Fund paid plus self paid (140.00) does not equal the total cost.",
    ]


def test_audit_log_names_the_counts_of_a_finished_import(client, world):
    """The finish event's counts were keyed "accepted", "duplicates", "rejected": no field has those names,
    so the audit page showed the bare English keys in either language."""
    client.force_login(world.hospital_admin)
    rows = [encounter_row(world.hospital, n) for n in range(2)]
    rows.append(encounter_row(world.hospital, 5, 总费用="-5", 基金支付="0", 个人支付="0"))
    _upload(client, world, rows)
    services.import_job_run(ImportJob.objects.get())
    html = client.get(reverse("accounts:audit"), {"action": "import.finish"}).content.decode()
    assert html.count('data-testid="audit-row"') == 1
    for label in ("导入行数", "重复行数", "拒绝行数"):
        assert label in html
    for key in ("accepted", "duplicates", "rejected"):
        assert f"<td>{key}</td>" not in html and f">{key}<" not in html


def test_an_unreadable_csv_says_what_to_do_not_the_codecs_internals(client, world):
    """The form showed Python's own message: "'gb18030' codec can't decode byte 0xff in position 0: …";
    a malformed line read later failed the job with "field larger than field limit (131072)"."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.hospital_admin)
    for language, expected in (("zh-hans", "无法识别 CSV 文件的编码"), ("en", "Cannot tell the CSV file")):
        response = client.post(
            reverse("ingestion:new"),
            {
                "kind": "encounters",
                "institution": str(world.hospital.public_id),
                "file": SimpleUploadedFile(
                    "bad.csv", b"\xff\xfe\x00\x81\x30garbage", content_type="text/csv"
                ),
            },
            HTTP_ACCEPT_LANGUAGE=language,
        )
        body = response.content.decode()
        assert expected in body and "codec" not in body
    assert not ImportJob.objects.exists()
    rows = [encounter_row(world.hospital, 1)]
    content = csv_bytes(rows) + b'"' + b"x" * 140_000 + b'",a\n'
    _upload(client, world, [], file=SimpleUploadedFile("long.csv", content, content_type="text/csv"))
    job = services.import_job_run(ImportJob.objects.get())
    assert job.status == ImportStatus.FAILED
    assert "CSV 文件第 3 行格式不正确" in job.failure and "field limit" not in job.failure


def test_a_failed_jobs_reason_reads_in_the_readers_language(client, world):
    """The worker stores why a file failed in Chinese; the English page showed it so."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.hospital_admin)
    rows = [encounter_row(world.hospital, n) for n in range(1)]
    # Valid UTF-8 for the first megabyte (so the upload and the encoding sniff pass), then a stray byte.
    content = csv_bytes(rows) + b"#" * (1 << 20) + b"\n\xff\xfe\n"
    _upload(client, world, [], file=SimpleUploadedFile("late.csv", content, content_type="text/csv"))
    job = services.import_job_run(ImportJob.objects.get())
    assert job.status == ImportStatus.FAILED and "无法识别 CSV 文件的编码" in job.failure
    url = reverse("ingestion:detail", args=[job.public_id])
    assert "无法识别 CSV 文件的编码" in client.get(url).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cannot tell the CSV file" in english and "无法识别" not in english
