"""The national insurance drug code (国家医保药品代码).

The NHSA code of a Western or Chinese patent medicine is 23 characters of capital letters and digits
(secondary sources; the coding rules themselves were not read here): a type letter (X 西药, Z 中成药),
then the classification, name, dosage-form, strength/package and manufacturer codes. For Western
medicines the classification is the ATC level-4 code ("C09AA"), so positions 2–6 are checked to have that
shape. Nothing beyond the shape is checked (there is no check character).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from yilian.core.exceptions import Invalid

_SHAPE = re.compile(r"^[XZ][A-Z0-9]{22}$")
_ATC4 = re.compile(r"^[A-Z]\d{2}[A-Z]{2}$")


def parse_drug_code(raw: str, *, field: str = "code") -> str:
    """Normalise (strip, upper-case) and check a national insurance drug code; Invalid on ``field``."""
    code = "".join(str(raw or "").split()).upper()
    if not code:
        raise Invalid({field: [_("请填写医保药品代码。")]})
    if not _SHAPE.match(code):
        raise Invalid(
            {field: [_("医保药品代码应为 23 位，以 X（西药）或 Z（中成药）开头，由大写字母和数字组成。")]}
        )
    if code[0] == "X" and not _ATC4.match(code[1:6]):
        raise Invalid({field: [_("西药医保代码第 2–6 位应为 ATC 分类码（如 C09AA）。")]})
    return code
