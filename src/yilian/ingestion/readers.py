"""Streaming readers of uploaded files: CSV (UTF-8 with or without BOM, GB18030 fallback) and .xlsx.

Both yield the header then each data row as a list of strings, one row at
a time, so memory stays flat however long the file is.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
from collections.abc import Iterator
from typing import IO, Any

from django.utils.translation import gettext as _

from yilian.core.exceptions import Invalid
from yilian.core.text import join_list

CSV = "csv"
XLSX = "xlsx"
SNIFF_BYTES = 1 << 20


def file_format(filename: str) -> str:
    """``csv`` or ``xlsx`` from the file name; Invalid on ``file`` otherwise."""
    lowered = filename.lower()
    if lowered.endswith(".csv"):
        return CSV
    if lowered.endswith(".xlsx"):
        return XLSX
    raise Invalid({"file": [_("文件类型不支持：请上传 .csv 或 .xlsx 文件。")]})


def csv_encoding(handle: IO[bytes]) -> str:
    """``utf-8-sig`` when the first megabyte decodes as UTF-8, else ``gb18030`` (rewinds the handle)."""
    handle.seek(0)
    head = handle.read(SNIFF_BYTES)
    handle.seek(0)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != datetime.time() else f"{value:%Y-%m-%d}"
    if isinstance(value, datetime.date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def iter_rows(handle: IO[bytes], fmt: str) -> Iterator[list[str]]:
    """Every row of the file (the header first) as stripped strings. Invalid when the file cannot be read."""
    if fmt == CSV:
        encoding = csv_encoding(handle)
        text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
        reader = csv.reader(text)
        # The codec's and the csv module's own messages ("'gb18030' codec can't decode byte 0xff in
        # position 0…") are English internals: the user is told what to do with his file instead.
        try:
            yield from reader
        except UnicodeDecodeError as error:
            raise Invalid(
                {"file": [_("无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码的 CSV 文件后再上传。")]}
            ) from error
        except csv.Error as error:
            raise Invalid(
                {
                    "file": [
                        _("CSV 文件第 {line} 行格式不正确：请用 Excel 另存为 CSV 文件后再上传。").format(
                            line=reader.line_num
                        )
                    ]
                }
            ) from error
        finally:
            if not text.closed:
                text.detach()  # leave the caller's handle open
        return
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise Invalid({"file": [_("无法读取 Excel 文件，请确认是 .xlsx 格式。")]}) from error
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        workbook.close()


def check_header(header: list[str], expected: list[str], required: list[str]) -> list[str]:
    """The header cleaned; Invalid listing missing required and unknown columns."""
    cleaned = [h.strip().lstrip("\ufeff") for h in header]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    missing = [h for h in required if h not in cleaned]
    unknown = [h for h in cleaned if h and h not in expected]
    messages: list[str] = []
    if missing:
        messages.append(_("缺少列：{columns}。").format(columns=join_list(missing)))
    if unknown:
        messages.append(_("无法识别的列：{columns}。").format(columns=join_list(unknown)))
    if messages:
        raise Invalid({"file": messages})
    return cleaned
