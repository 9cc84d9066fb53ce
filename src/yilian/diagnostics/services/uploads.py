"""Checks of uploaded study files: size limits, extension and magic bytes, DICOM and PDF parsing."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pydicom
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID
from pypdf import PdfReader

from yilian.diagnostics.choices import CentreKind, StudyFileKind

MB = 1024 * 1024
EXTENSIONS = {
    "dcm": StudyFileKind.DICOM,
    "dicom": StudyFileKind.DICOM,
    "pdf": StudyFileKind.PDF,
    "png": StudyFileKind.IMAGE,
    "jpg": StudyFileKind.IMAGE,
    "jpeg": StudyFileKind.IMAGE,
    "xml": StudyFileKind.ECG,
}
CONTENT_TYPES = {
    StudyFileKind.DICOM: "application/dicom",
    StudyFileKind.PDF: "application/pdf",
    StudyFileKind.ECG: "application/xml",
}
DICOM_TAGS = {
    "modality": "Modality",
    "study_date": "StudyDate",
    "study_description": "StudyDescription",
    "series_description": "SeriesDescription",
    "body_part": "BodyPartExamined",
}


def max_dicom_bytes() -> int:
    """Upload limit of one DICOM file (``DIAGNOSTICS_MAX_DICOM_BYTES``, default 200 MB)."""
    return int(settings.DIAGNOSTICS_MAX_DICOM_BYTES)


def max_file_bytes() -> int:
    """Upload limit of any other file (``DIAGNOSTICS_MAX_FILE_BYTES``, default 20 MB)."""
    return int(settings.DIAGNOSTICS_MAX_FILE_BYTES)


@dataclass
class CheckedFile:
    """An upload that passed the checks, with its kind, content type and (DICOM) metadata."""

    upload: UploadedFile
    kind: str
    content_type: str
    metadata: dict[str, Any] = field(default_factory=dict)


def _head(upload: UploadedFile, size: int) -> bytes:
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def _dicom_metadata(upload: UploadedFile) -> dict[str, Any]:
    """Read the DICOM header (no pixels). Raises ValueError when it does not parse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid values are refused here, not logged as warnings
        return _read_dicom(upload)


def _read_dicom(upload: UploadedFile) -> dict[str, Any]:
    upload.seek(0)
    try:
        dataset = pydicom.dcmread(upload, stop_before_pixels=True)
        elements = [element for element in dataset if element.VR != "SQ"]
        meta = dataset.file_meta
        for keyword in ("TransferSyntaxUID", "MediaStorageSOPClassUID", "MediaStorageSOPInstanceUID"):
            if not UID(str(meta.get(keyword) or "")).is_valid:
                raise ValueError(f"missing or bad {keyword}")
        # pydicom reads lazily and leniently: every element was touched above so a broken header fails here.
        if not elements:
            raise ValueError("no data elements")
        for element in elements:
            if element.VR == "UI" and element.value and not UID(str(element.value)).is_valid:
                raise ValueError(f"bad UID in {element.keyword}")
        metadata = {key: str(dataset.get(tag, "") or "") for key, tag in DICOM_TAGS.items()}
        sop_class = dataset.get("SOPClassUID") or dataset.file_meta.get("MediaStorageSOPClassUID")
        metadata["sop_class"] = str(getattr(sop_class, "name", sop_class) or "")
    except (InvalidDicomError, AttributeError, KeyError, ValueError, TypeError, EOFError, OSError) as error:
        raise ValueError(str(error)) from error
    finally:
        upload.seek(0)
    return metadata


def _pdf_problem(upload: UploadedFile) -> str | None:
    """Open a PDF as a viewer would; ``None`` when it parses and has a page, else why not.

    The header alone proves nothing: a truncated or damaged file starts with ``%PDF`` too, and the
    centre would receive a study it cannot open. pypdf reads through the upload's own file object
    (seeking to the cross-reference table and the objects it needs), so memory stays bounded by what
    the page tree holds, not by the file's size, which ``check_upload`` has already limited.
    Returns ``"encrypted"`` for a file that needs a password to open, ``"damaged"`` for anything else.
    """
    upload.seek(0)
    try:
        reader = PdfReader(upload, strict=False)
        # An owner password alone only restricts printing or copying: viewers open such files, so do we.
        if reader.is_encrypted and not reader.decrypt(""):
            return "encrypted"
        # Counting the pages walks the whole page tree, so a broken or missing one fails here.
        if len(reader.pages) < 1:
            return "damaged"
    except Exception:  # any failure of the parser on an untrusted file means "cannot open"
        return "damaged"
    finally:
        upload.seek(0)
    return None


def check_upload(upload: UploadedFile, centre_kind: str) -> CheckedFile:
    """Check one file for a study of a centre of ``centre_kind``; returns it classified.

    Raises ValueError with a user-readable message (the caller turns it
    into a field error): unknown type, size over the limit, content not
    matching the extension, DICOM that does not parse, PDF that does not
    open (damaged, truncated, no page, or locked with a password).
    """
    name = upload.name or ""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = EXTENSIONS.get(suffix)
    if kind is None or (kind == StudyFileKind.ECG and centre_kind != CentreKind.ECG):
        raise ValueError(
            _("{name}：不支持的文件类型（只接受 DICOM、PDF、PNG、JPEG，心电中心另可上传 XML 波形）。").format(
                name=name
            )
        )
    limit = max_dicom_bytes() if kind == StudyFileKind.DICOM else max_file_bytes()
    if upload.size > limit:
        raise ValueError(_("{name}：文件超过 {limit} MB 的上限。").format(name=name, limit=limit // MB))
    if upload.size == 0:
        raise ValueError(_("{name}：文件为空。").format(name=name))
    head = _head(upload, 132)
    metadata: dict[str, Any] = {}
    content_type = CONTENT_TYPES.get(kind, "")
    if kind == StudyFileKind.DICOM:
        if len(head) < 132 or head[128:132] != b"DICM":
            raise ValueError(_("{name}：不是有效的 DICOM 文件（缺少 DICM 标识）。").format(name=name))
        try:
            metadata = _dicom_metadata(upload)
        except ValueError as error:
            raise ValueError(_("{name}：DICOM 文件已损坏，无法读取。").format(name=name)) from error
        if centre_kind == CentreKind.ECG:
            kind = StudyFileKind.ECG
    elif kind == StudyFileKind.PDF:
        if not head.startswith(b"%PDF"):
            raise ValueError(_("{name}：文件内容不是 PDF。").format(name=name))
        problem = _pdf_problem(upload)
        if problem == "encrypted":
            raise ValueError(_("{name}：PDF 文件设有打开密码，请上传未加密的文件。").format(name=name))
        if problem is not None:
            raise ValueError(_("{name}：PDF 文件已损坏或不完整，无法打开。").format(name=name))
    elif kind == StudyFileKind.IMAGE:
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            content_type = "image/png"
        elif head.startswith(b"\xff\xd8\xff"):
            content_type = "image/jpeg"
        else:
            raise ValueError(_("{name}：文件内容不是 PNG 或 JPEG 图片。").format(name=name))
    elif not head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        raise ValueError(_("{name}：文件内容不是 XML 心电波形。").format(name=name))
    return CheckedFile(upload=upload, kind=kind, content_type=content_type, metadata=metadata)
