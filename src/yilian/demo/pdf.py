"""A minimal PDF writer for the demo's charters and agreements (no PDF library is installed).

Chinese text uses the standard CJK font STSong-Light (Adobe-GB1) with the
UniGB-UCS2-H encoding, which PDF viewers provide themselves, so nothing is
embedded; Latin text uses Helvetica. The file is plain ASCII (text is
written as hex strings), with a correct cross-reference table, and is the
same bytes for the same input (fixed dates and ids).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

PAGE_WIDTH = 595
PAGE_HEIGHT = 842
MARGIN = 56
TITLE_SIZE = 16
BODY_SIZE = 11
LEADING = 19
CREATION_DATE = "D:20251231000000+08'00'"


def _hex_utf16(text: str) -> str:
    """Text as big-endian UCS-2 hex for the UniGB-UCS2-H encoding (characters beyond the BMP become ？)."""
    return "".join(f"{ord(char) if ord(char) <= 0xFFFF else 0xFF1F:04X}" for char in text)


def _is_latin(text: str) -> bool:
    return all(32 <= ord(char) < 127 for char in text)


def _wrap(text: str, size: int) -> list[str]:
    """Break a line so that it fits the page width (CJK glyphs are 1 em wide, Latin about 0.5 em)."""
    width = PAGE_WIDTH - 2 * MARGIN
    lines: list[str] = []
    current = ""
    used = 0.0
    for char in text:
        advance = size * (0.55 if ord(char) < 128 else 1.0)
        if used + advance > width and current:
            lines.append(current)
            current, used = "", 0.0
        current += char
        used += advance
    lines.append(current)
    return lines


def _show(text: str, size: int, y: int) -> str:
    if _is_latin(text):
        return f"BT /F1 {size} Tf 1 0 0 1 {MARGIN} {y} Tm <{text.encode('ascii').hex().upper()}> Tj ET"
    return f"BT /F2 {size} Tf 1 0 0 1 {MARGIN} {y} Tm <{_hex_utf16(text)}> Tj ET"


def _pages(title: str, lines: Sequence[str]) -> list[str]:
    """Lay out the title and the body lines; return one content stream per page."""
    pages: list[list[str]] = [
        [_show(line, TITLE_SIZE, PAGE_HEIGHT - MARGIN) for line in _wrap(title, TITLE_SIZE)]
    ]
    y = PAGE_HEIGHT - MARGIN - 2 * LEADING
    for paragraph in lines:
        for line in _wrap(paragraph, BODY_SIZE) if paragraph else [""]:
            if y < MARGIN:
                pages.append([])
                y = PAGE_HEIGHT - MARGIN
            if line:
                pages[-1].append(_show(line, BODY_SIZE, y))
            y -= LEADING
    return ["\n".join(commands) for commands in pages]


def simple_pdf(title: str, lines: Sequence[str], *, author: str = "yilian demo") -> bytes:
    """Return a valid PDF 1.4 document with ``title`` on top and ``lines`` (Chinese or Latin) below."""
    streams = _pages(title, lines)
    page_count = len(streams)
    # Object numbers: 1 catalog, 2 pages, 3 Helvetica, 4 CJK Type0, 5 CIDFont, 6 descriptor,
    # 7 info, then a page and its content stream for each page.
    first_page = 8
    page_ids = [first_page + 2 * index for index in range(page_count)]
    objects: dict[int, str] = {
        1: "<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{' '.join(f'{pid} 0 R' for pid in page_ids)}] /Count {page_count} >>",
        3: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: (
            "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
            "/DescendantFonts [5 0 R] >>"
        ),
        5: (
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
            "/FontDescriptor 6 0 R /DW 1000 >>"
        ),
        6: (
            "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
            "/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
            "/CapHeight 880 /StemV 93 >>"
        ),
        7: (
            f"<< /Title <FEFF{_hex_utf16(title)}> /Author <FEFF{_hex_utf16(author)}> "
            f"/Producer (yilian seed-demo) /CreationDate ({CREATION_DATE}) >>"
        ),
    }
    for page_id, stream in zip(page_ids, streams, strict=True):
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {page_id + 1} 0 R >>"
        )
        data = stream.encode("ascii")
        objects[page_id + 1] = f"<< /Length {len(data)} >>\nstream\n{stream}\nendstream"

    output = bytearray(b"%PDF-1.4\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(output)
        output += f"{number} 0 obj\n{objects[number]}\nendobj\n".encode("ascii")
    size = max(objects) + 1
    xref_at = len(output)
    output += f"xref\n0 {size}\n0000000000 65535 f \n".encode("ascii")
    for number in range(1, size):
        output += f"{offsets[number]:010d} 00000 n \n".encode("ascii")
    document_id = hashlib.md5(bytes(output), usedforsecurity=False).hexdigest().upper()
    output += (
        f"trailer\n<< /Size {size} /Root 1 0 R /Info 7 0 R /ID [<{document_id}> <{document_id}>] >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    ).encode("ascii")
    return bytes(output)
