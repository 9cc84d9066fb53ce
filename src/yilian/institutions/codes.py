"""Validation of the registry's national codes (GB/T 2260 regions, GB 32100 credit codes).

Check digits and the county list come from python-stdnum (``stdnum.cn.uscc``
and the ``cn/loc`` database behind ``stdnum.cn.ric``), not from hand-written tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from yilian.core.exceptions import Invalid
from yilian.institutions.choices import RegionLevel

_ABOLISHED = re.compile(r"^\[(\d{4})?-(\d{4})?\]")
# Digits 7–9 of the statistical division code: 001–099 街道, 100–199 镇, 200–399 乡,
# 400–599 乡级单位 such as development zones, farms and forest bureaus.
_TOWNSHIP_RANGES = ((1, 599),)


@dataclass(frozen=True)
class RegionCode:
    """A parsed region code: its level, significant prefix and parent codes (nearest first)."""

    code: str
    level: RegionLevel
    prefix: str
    parent_candidates: tuple[str, ...]
    official_name: str = ""


def _county_entry(code6: str) -> tuple[str, str]:
    """Return (province name, county-level name) from stdnum's GB/T 2260 list, or raise Invalid."""
    parts = numdb.get("cn/loc").info(code6)
    province = parts[0][1].get("province", "") if parts else ""
    name = parts[1][1].get("county", "") if len(parts) > 1 else ""
    if not province:
        raise Invalid({"code": _("区划代码 %(code)s 的省级代码不存在。") % {"code": code6}})
    if code6.endswith("0000"):
        return province, province
    if not name:
        raise Invalid({"code": _("区划代码 %(code)s 不在 GB/T 2260 代码表中。") % {"code": code6}})
    if _ABOLISHED.match(name) and _ABOLISHED.match(name).group(2):  # type: ignore[union-attr]
        raise Invalid({"code": _("区划代码 %(code)s 已撤销（%(name)s）。") % {"code": code6, "name": name}})
    return province, _ABOLISHED.sub("", name)


def parse_region_code(code: str) -> RegionCode:
    """Parse and validate a GB/T 2260 code (6 digits) or its 9-/12-digit extension.

    Raises Invalid (field ``code``) for a malformed, unknown or abolished code.
    """
    code = (code or "").strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise Invalid({"code": _("区划代码应为 6 位、9 位或 12 位数字。")})
    base = code[:6]
    province, name = _county_entry(base)
    if len(code) == 6:
        if base.endswith("0000"):
            return RegionCode(code, RegionLevel.PROVINCE, base[:2], (), province)
        if base.endswith("00"):
            return RegionCode(code, RegionLevel.PREFECTURE, base[:4], (base[:2] + "0000",), name)
        return RegionCode(code, RegionLevel.COUNTY, base, (base[:4] + "00", base[:2] + "0000"), name)
    if base.endswith("00"):
        raise Invalid({"code": _("乡级和村级代码必须以县级代码开头。")})
    township = int(code[6:9])
    if not any(low <= township <= high for low, high in _TOWNSHIP_RANGES):
        raise Invalid(
            {"code": _("乡级代码第 7–9 位 %(part)s 不在统计用区划代码的取值范围内。") % {"part": code[6:9]}}
        )
    if len(code) == 9:
        return RegionCode(code, RegionLevel.TOWNSHIP, code, (base, base[:4] + "00", base[:2] + "0000"))
    if code[9:] == "000":
        raise Invalid({"code": _("村级代码第 10–12 位不能为 000。")})
    return RegionCode(code, RegionLevel.VILLAGE, code, (code[:9], base, base[:4] + "00"))


def validate_credit_code(value: str) -> str:
    """Validate a unified social credit code (GB 32100) and return it compacted, upper-case.

    Raises Invalid (field ``credit_code``) with the specific reason.
    """
    try:
        return uscc.validate(value or "")
    except InvalidLength:
        message = _("统一社会信用代码应为 18 位。")
    except InvalidChecksum:
        message = _("统一社会信用代码校验位错误。")
    except InvalidComponent:
        message = _("统一社会信用代码中的登记管理部门或机构类别代码无效。")
    except InvalidFormat:
        message = _("统一社会信用代码含有不允许的字符。")
    raise Invalid({"credit_code": message})


def credit_code_with_check(body17: str) -> str:
    """Return the 18-character code for a 17-character body (used by the demo generator)."""
    return body17 + uscc.calc_check_digit(body17)


def describe_credit_code(code: str) -> str:
    """A short description of a valid credit code: where its registering authority sits."""
    try:
        region = parse_region_code(code[2:8])
    except Invalid:
        return _("校验通过")
    return _("校验通过 · 登记机关所在地：%(name)s（%(code)s）") % {
        "name": region.official_name,
        "code": code[2:8],
    }


def describe_region_code(code: str) -> str:
    """A short description of a valid region code: its level and, for 6 digits, its official name."""
    parsed = parse_region_code(code)
    label = str(dict(RegionLevel.choices)[parsed.level])
    return f"{label} · {parsed.official_name}" if parsed.official_name else label
