"""The report PDF and the barcode label are real PDFs with the standard Chinese font and the text."""

from __future__ import annotations

import pytest

from yilian.diagnostics import documents, selectors, services
from yilian.diagnostics.tests.factories import diag_world, received_specimen
from yilian.referrals.tests.test_documents import _pdf_strings

pytestmark = pytest.mark.django_db


def test_report_pdf_has_patient_item_conclusion_signers_and_amendment(world):
    dw = diag_world(world)
    received = received_specimen(dw, dw.biopsy, diagnosis_code="C16.9")
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", findings="胃窦黏膜", conclusion="腺癌"
    )
    services.order_act(actor=dw.second_doctor, order=received, action="second_sign")
    services.order_act(
        actor=dw.hospital_doctor, order=received, action="amend", conclusion="腺癌，中分化", reason="补充分级"
    )
    order = selectors.order_get_for(dw.hospital_doctor, received.public_id)
    pdf = documents.report_pdf(order, selectors.published_report(order))
    assert pdf.startswith(b"%PDF-") and b"STSong-Light" in pdf
    content = _pdf_strings(pdf)
    for text in ("王五", "活检组织病理", "腺癌，中分化", "第 2 版", "补充分级", dw.hospital_doctor.full_name):
        assert text in content, text


def test_label_pdf_has_the_barcode(world):
    dw = diag_world(world)
    received = received_specimen(dw)
    pdf = documents.label_pdf(received)
    assert pdf.startswith(b"%PDF-")
    content = _pdf_strings(pdf)
    # The digits are drawn in Helvetica (one byte each); the helper reads every even-length string as UCS-2.
    assert received.barcode.encode().decode("utf-16-be") in content
    assert received.number in content and "王五" in content
