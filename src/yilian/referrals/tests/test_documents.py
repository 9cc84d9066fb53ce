"""The referral slip PDF, the WS 445.16 export and the Excel workbooks are real, readable files."""

from __future__ import annotations

import base64
import datetime
import io
import re
import zlib

import pytest
from django.utils import timezone, translation
from openpyxl import load_workbook

from yilian.referrals import documents, services
from yilian.referrals.models import DeductibleSubsidy
from yilian.referrals.tests.factories import referral_world, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(world):
    return referral_world(world)


def _pdf_strings(pdf: bytes) -> str:
    """Every string drawn with Tj, decoded from the UCS-2 (UniGB-UCS2-H) literal strings of the content streams."""
    text = b""
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            text += zlib.decompress(base64.a85decode(stream.strip().removesuffix(b"~>")))
        except (ValueError, zlib.error):
            continue
    drawn = []
    for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", text, re.S):
        raw = re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda m: (
                bytes([int(m.group(1), 8)])
                if m.group(1)[:1].isdigit()
                else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1))
            ),
            literal,
        )
        drawn.append(
            raw.decode("utf-16-be", errors="replace") if len(raw) % 2 == 0 else raw.decode("latin-1")
        )
    return "\n".join(drawn)


def test_slip_is_a_pdf_with_the_standard_chinese_font_and_the_text(rw):
    referral = submitted(rw)
    pdf = documents.referral_slip_pdf(
        referral, verify_url=f"https://example.org/referrals/{referral.public_id}/"
    )
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"STSong-Light" in pdf and b"UniGB-UCS2-H" in pdf
    content = _pdf_strings(pdf)
    for text in (
        "双向转诊单（上转）",
        rw.patient.name,
        "心血管内科",
        "原发性高血压",
        rw.patient.id_number_masked,
    ):
        assert text in content, text


def test_slip_in_english_is_english_and_stays_on_the_page(rw):
    """The slip follows the reader's language: title, labels, colons, age and the footer (wrapped
    to the page width, not drawn past the right margin)."""
    from django.utils import translation
    from reportlab.pdfbase import pdfmetrics

    referral = submitted(rw)
    with translation.override("en"):
        pdf = documents.referral_slip_pdf(referral, verify_url="https://example.org/r/")
    content = _pdf_strings(pdf)
    for text in (
        "Two-way referral slip (up-referral)",
        f"Referral number: {referral.number}",
        "Referral date: ",
        "Referring institution (seal): ",
        "Doctor's signature: ",
        "原发性高血压 (ICD-10 I10)",
    ):
        assert text in content, text
    assert re.search(r"Age: \d+ years", content)
    for chinese in ("双向转诊单", "转诊日期", "岁", "：", "盖章", "医生签名"):
        assert chinese not in content, chinese
    width = documents._Slip.right - documents._Slip.left
    for line in content.splitlines():
        assert pdfmetrics.stringWidth(line, documents.FONT, 8.5) <= width or len(line) < 60, line
    assert "The patient should bring this slip" in content

    chinese = _pdf_strings(documents.referral_slip_pdf(referral, verify_url="https://example.org/r/"))
    assert f"转诊单号：{referral.number}" in chinese and "原发性高血压（ICD-10 I10）" in chinese


def test_ws445_export_carries_the_de_identifiers(rw):
    referral = submitted(rw)
    data = documents.referral_ws445(referral)
    assert data["standard"] == "WS 445.16-2014"
    by_name = {element["name"]: element for element in data["data_elements"]}
    assert by_name["疾病诊断代码"] == {"id": "DE05.01.024.00", "name": "疾病诊断代码", "value": "I10"}
    assert by_name["转诊原因"]["id"] == "DE06.00.177.00"
    assert by_name["组织机构代码（转出）"]["value"].count("-") == 1
    assert "id_number" not in str(data)


def test_ws445_export_time_is_local_with_its_offset(rw, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    referral = submitted(rw)
    exported = datetime.datetime.fromisoformat(documents.referral_ws445(referral)["exported_at"])
    assert exported.utcoffset() == datetime.timedelta(hours=8)
    assert abs(exported - timezone.now()) < datetime.timedelta(minutes=1)


def test_statistics_and_subsidy_workbooks_open_in_openpyxl(rw):
    DeductibleSubsidy.objects.create(consortium=rw.world.consortium, insurance_scheme="resident", amount=200)
    referral = submitted(rw, kind="admission")
    for action, fields in (
        ("accept", {}),
        ("arrive", {}),
        ("complete", {"outcome_summary": "好转"}),
    ):
        referral = services.referral_act(actor=rw.hospital_doctor, referral=referral, action=action, **fields)
    today = timezone.localdate()
    book = load_workbook(
        io.BytesIO(
            documents.statistics_workbook(rw.world.consortium, today - datetime.timedelta(days=60), today)
        )
    )
    assert book.sheetnames == ["汇总", "按月", "成员单位上转率", "内科系统下转率", "外科系统下转率"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["转诊总数"] == 1 and summary["上转"] == 1
    subsidies = load_workbook(io.BytesIO(documents.subsidy_workbook(rw.world.consortium, today)))
    rows = list(subsidies.active.iter_rows(min_row=2, values_only=True))
    assert rows[0][0] == referral.number and rows[0][2] == rw.patient.name[0] + "*"
    assert rows[-1][0] == "合计" and rows[-1][-1] == 200


def test_workbooks_read_in_the_requests_language(rw):
    """An English page exports an English workbook: sheet names, headers and labels, not Chinese around
    English grades."""
    today = timezone.localdate()
    with translation.override("en"):
        book = load_workbook(
            io.BytesIO(
                documents.statistics_workbook(rw.world.consortium, today - datetime.timedelta(days=60), today)
            )
        )
        subsidies = load_workbook(io.BytesIO(documents.subsidy_workbook(rw.world.consortium, today)))
    assert book.sheetnames == [
        "Totals",
        "By month",
        "Members' up-referral rates",
        "Down-referral rate, medicine",
        "Down-referral rate, surgery",
    ]
    labels = [row[0] for row in book["Totals"].iter_rows(values_only=True)]
    assert labels[:4] == ["Indicator", "Medical consortia", "Period", "Total referrals"]
    assert "Not answered in time" in labels
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for sheet in (*book.worksheets, subsidies.active):
        assert not any(cjk.search(str(cell)) for cell in next(sheet.iter_rows(values_only=True))), sheet.title
    assert not cjk.search(subsidies.active.title)
    assert list(subsidies.active.iter_rows(values_only=True))[-1][0] == "Total"
