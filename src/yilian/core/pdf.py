"""Document information (Title, Author, Subject, Creator) of the PDFs the apps draw with reportlab.

Left alone, reportlab writes Author and Creator "anonymous", Title "untitled" and Subject "unspecified",
which is what a reader's document properties and a search index show."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from reportlab.pdfbase.pdfdoc import PDFInfo

CREATOR = "yilian 医联"


def set_document_info(canvas: Any, *, title: str | Promise, author: str, subject: str | Promise = "") -> None:
    """Set the PDF's Title, Author (the institution that issues the document; the platform when there is
    none), Subject (the title when empty) and Creator (``CREATOR``) on a reportlab canvas. Call it before
    ``canvas.save()``; it draws nothing."""
    canvas.setTitle(str(title))
    canvas.setAuthor(str(author or CREATOR))
    canvas.setSubject(str(subject or title))
    canvas.setCreator(CREATOR)


def use_platform_defaults() -> None:
    """Make the platform reportlab's default Creator and Author, and leave Subject empty, for every PDF
    drawn in this process — also those whose code does not call ``set_document_info``. Called once when
    the core app is ready; it changes reportlab's class defaults, not any document."""
    PDFInfo.creator = CREATOR
    PDFInfo.author = CREATOR
    PDFInfo.subject = ""
