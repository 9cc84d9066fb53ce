"""PDFs name the platform as creator and their issuer as author instead of reportlab's "anonymous"."""

from __future__ import annotations

import io

from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from yilian.core.pdf import CREATOR, set_document_info


def _draw(info: dict[str, str] | None = None) -> PdfReader:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    if info is not None:
        set_document_info(canvas, **info)
    canvas.drawString(100, 100, "x")
    canvas.showPage()
    canvas.save()
    return PdfReader(io.BytesIO(buffer.getvalue()))


def test_set_document_info_sets_title_author_subject_and_creator():
    metadata = _draw({"title": "转诊单 R1", "author": "县人民医院", "subject": "上转"}).metadata
    assert metadata.title == "转诊单 R1"
    assert metadata.author == "县人民医院"
    assert metadata.subject == "上转"
    assert metadata.creator == CREATOR == "yilian 医联"


def test_subject_defaults_to_the_title_and_author_to_the_platform():
    metadata = _draw({"title": "报告", "author": ""}).metadata
    assert metadata.subject == "报告" and metadata.author == CREATOR


def test_a_pdf_drawn_without_the_helper_still_names_the_platform():
    metadata = _draw().metadata
    assert metadata.creator == CREATOR and metadata.author == CREATOR
    assert "anonymous" not in (metadata.creator, metadata.author)
