"""National codes: GB/T 2260 region codes and GB 32100 credit codes."""

from __future__ import annotations

import pytest

from yilian.core.exceptions import Invalid
from yilian.institutions.choices import RegionLevel
from yilian.institutions.codes import credit_code_with_check, parse_region_code, validate_credit_code


@pytest.mark.parametrize(
    ("code", "level", "prefix", "parents"),
    [
        ("340000", RegionLevel.PROVINCE, "34", ()),
        ("341500", RegionLevel.PREFECTURE, "3415", ("340000",)),
        ("341522", RegionLevel.COUNTY, "341522", ("341500", "340000")),
        ("341522100", RegionLevel.TOWNSHIP, "341522100", ("341522", "341500", "340000")),
        ("341522100201", RegionLevel.VILLAGE, "341522100201", ("341522100", "341522", "341500")),
    ],
)
def test_region_levels(code, level, prefix, parents):
    parsed = parse_region_code(code)
    assert (parsed.level, parsed.prefix, parsed.parent_candidates) == (level, prefix, parents)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("34152", "6 位"),
        ("34152a", "6 位"),
        ("341599", "不在 GB/T 2260"),  # no such county
        ("990000", "省级"),
        ("110103", "已撤销"),  # 崇文区, abolished in 2010
        ("341522600", "取值范围"),  # 600 and above are not township-level codes
        ("341522000", "取值范围"),  # 000 is no township
        ("341522100000", "000"),
        ("341500100", "县级代码"),
    ],
)
def test_bad_region_codes(code, fragment):
    with pytest.raises(Invalid) as error:
        parse_region_code(code)
    assert fragment in error.value.errors["code"][0]


def test_credit_codes():
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    generated = credit_code_with_check("12341522MB1234567")
    assert validate_credit_code(generated) == generated
    for bad, fragment in (("91350100M000100Y44", "校验位"), ("9135010", "18 位"), ("91350100M0001OOY43", "")):
        with pytest.raises(Invalid) as error:
            validate_credit_code(bad)
        assert fragment in error.value.errors["credit_code"][0]
