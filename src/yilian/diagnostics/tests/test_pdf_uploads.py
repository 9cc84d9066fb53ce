"""A study PDF must open: a truncated, damaged, page-less or password-locked PDF is refused (service,
page and API) with nothing saved; a real PDF, also one kept on disk by Django, is accepted."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import Client, override_settings
from pypdf import PdfWriter

from yilian.core.api.testing import api_client, error_of
from yilian.core.exceptions import Invalid
from yilian.diagnostics import services
from yilian.diagnostics.choices import OrderStatus
from yilian.diagnostics.models import DiagnosticOrder, StudyFile
from yilian.diagnostics.services import uploads
from yilian.diagnostics.tests.factories import PDF, diag_world, order, pdf_bytes

pytestmark = pytest.mark.django_db

HEADER_ONLY = b"%PDF-1.4\n"
"""What the old check accepted: the magic bytes and nothing else."""
NO_PAGES = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
"""The old test constant: a header and an end marker, but no cross-reference table and no page."""


def _encrypted(user_password: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password, "owner-secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _truncated() -> bytes:
    whole = pdf_bytes(pages=3)
    return whole[: len(whole) * 2 // 3]


@pytest.fixture
def dw(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return diag_world(world)


def _nothing_saved(created: DiagnosticOrder, tmp_path) -> None:
    created.refresh_from_db()
    assert created.status == OrderStatus.ORDERED and created.version == 1
    assert not StudyFile.objects.filter(order=created).exists()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


DAMAGED = "报告.pdf：PDF 文件已损坏或不完整，无法打开。"
LOCKED = "报告.pdf：PDF 文件设有打开密码，请上传未加密的文件。"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_truncated(), DAMAGED),
        (HEADER_ONLY, DAMAGED),
        (NO_PAGES, DAMAGED),
        (PDF[:-40], DAMAGED),
        (_encrypted("patient-secret"), LOCKED),
    ],
    ids=["truncated", "header-only", "no-pages", "no-trailer", "password"],
)
def test_a_pdf_that_does_not_open_is_refused_and_nothing_saved(dw, tmp_path, data, expected):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    with pytest.raises(Invalid) as error:
        services.study_upload(
            actor=dw.township_nurse,
            order=created,
            files=[SimpleUploadedFile("ok.pdf", PDF), SimpleUploadedFile("报告.pdf", data)],
        )
    assert error.value.errors["files"] == [expected]
    _nothing_saved(created, tmp_path)


def test_real_pdfs_are_accepted(dw, tmp_path):
    """A real PDF, one with only an owner password (viewers open it) and one Django kept on disk."""
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    on_disk = TemporaryUploadedFile("大文件.pdf", "application/pdf", 0, None)
    on_disk.write(pdf_bytes(pages=40))
    on_disk.size = on_disk.tell()
    files = services.study_upload(
        actor=dw.township_nurse,
        order=created,
        files=[
            SimpleUploadedFile("r.pdf", PDF),
            SimpleUploadedFile("restricted.pdf", _encrypted("")),
            on_disk,
        ],
    )
    assert [f.kind for f in files] == ["pdf", "pdf", "pdf"]
    assert [f.size for f in files] == [len(PDF), len(_encrypted("")), on_disk.size]
    created.refresh_from_db()
    assert created.status == OrderStatus.RECEIVED
    with files[2].file.open("rb") as stored:
        assert stored.read() == pdf_bytes(pages=40)
    on_disk.close()  # the storage moved its temporary file into place


@override_settings(DIAGNOSTICS_MAX_FILE_BYTES=100)
def test_the_size_limit_is_checked_before_the_pdf_is_opened(dw, monkeypatch):
    opened: list[object] = []
    monkeypatch.setattr(uploads, "PdfReader", lambda *a, **k: opened.append(a))
    with pytest.raises(ValueError, match="上限"):
        uploads.check_upload(SimpleUploadedFile("big.pdf", PDF), "imaging")
    assert opened == []


def test_page_refuses_a_truncated_pdf(dw, tmp_path):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    nurse = Client()
    nurse.force_login(dw.township_nurse)
    url = f"/diagnostics/orders/{created.public_id}/upload/"
    bad = nurse.post(url, {"files": [SimpleUploadedFile("报告.pdf", _truncated())]})
    assert bad.status_code == 400 and DAMAGED in bad.content.decode()
    bare = nurse.post(url, {"files": [SimpleUploadedFile("空壳.pdf", HEADER_ONLY)]})
    assert bare.status_code == 400 and "空壳.pdf：PDF 文件已损坏或不完整，无法打开。" in bare.content.decode()
    _nothing_saved(created, tmp_path)
    ok = nurse.post(url, {"files": [SimpleUploadedFile("报告.pdf", PDF)]})
    assert ok.status_code == 302
    assert created.files.get().kind == "pdf"


def test_api_refuses_a_truncated_pdf(dw, tmp_path):
    created = order(dw, dw.ct, diagnosis_code="S06.0")
    client = api_client(dw.township_nurse)
    url = f"/api/v1/diagnostic-orders/{created.public_id}/files"
    for name, data in (("报告.pdf", _truncated()), ("空壳.pdf", HEADER_ONLY)):
        bad = client.post(url, {"files": [SimpleUploadedFile(name, data)]}, format="multipart")
        assert bad.status_code == 400
        assert error_of(bad)["fields"]["files"] == [f"{name}：PDF 文件已损坏或不完整，无法打开。"]
    _nothing_saved(created, tmp_path)
    good = client.post(url, {"files": [SimpleUploadedFile("报告.pdf", PDF)]}, format="multipart")
    assert good.status_code == 201, good.content
    assert [f["kind"] for f in good.json()["files"]] == ["pdf"]
