"""Deterministic generators of demo values: credit codes, resident IDs, names, phones, village names.

Every function takes a ``random.Random``; seeded with the same value it
returns the same result on every machine and Python run (string seeds are
hashed with SHA-512 by ``random``, not with the per-process ``hash``).
Check characters come from python-stdnum through ``yilian.institutions.codes``
and ``stdnum.cn.ric``; nothing here writes to the database.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Collection, Sequence

from stdnum.cn import ric

from yilian.demo import content
from yilian.institutions.codes import credit_code_with_check

ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""Characters allowed in the organisation-code part of a credit code (no I, O, S, V, Z)."""

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def rng(seed: int | str, *parts: object) -> random.Random:
    """A random generator for one purpose, e.g. ``rng(2026, "credit", "county_hospital")``."""
    return random.Random(":".join(str(part) for part in (seed, *parts)))


def organisation_code(body8: str) -> str:
    """Append the GB 11714 check character to an 8-character organisation-code body."""
    total = sum(
        (int(char) if char.isdigit() else ord(char) - 55) * weight
        for char, weight in zip(body8, _ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(random_: random.Random, region_code: str, kind: str = "public") -> str:
    """A GB 32100 unified social credit code registered in ``region_code``.

    ``kind``: "public" (12… 机构编制·事业单位, organisation code 4xxxxxxx),
    "company" (91… 工商·企业, new-style MA… code), "individual" (92… 个体工商户),
    "non_profit" (52… 民政·民办非企业单位, MJ… code).
    """
    prefix, org_start = {
        "public": ("12", "4"),
        "company": ("91", "MA2"),
        "individual": ("92", "MA2"),
        "non_profit": ("52", "MJ"),
    }[kind]
    alphabet = "0123456789" if kind == "public" else ORG_ALPHABET[:10] + "ABCDEFGHJKLMNPQRTUWXY"
    body = org_start + "".join(random_.choice(alphabet) for _ in range(8 - len(org_start)))
    return credit_code_with_check(prefix + region_code[:6] + organisation_code(body))


def resident_id_check(body17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a 17-digit resident ID body (via stdnum)."""
    return ric.calc_check_digit(body17 + "0")  # stdnum expects the number with a check place


def address_code_for(birth: datetime.date) -> str:
    """The county's address code valid in the birth year (342426 before 1999, 341524 since)."""
    return content.COUNTY_OLD_CODE if birth.year < content.COUNTY_CODE_SINCE else content.COUNTY_CODE


def resident_id(random_: random.Random, birth: datetime.date, gender: str, address_code: str = "") -> str:
    """A GB 11643 resident ID number: address, birth date, sequence (odd = male), check character."""
    sequence = random_.randrange(0, 500) * 2 + (1 if gender == "1" else 0)
    if sequence == 0:
        sequence = 2
    body = f"{address_code or address_code_for(birth)}{birth:%Y%m%d}{sequence:03d}"
    return body + resident_id_check(body)


def _weighted(random_: random.Random, items: Sequence[tuple[str, int]]) -> str:
    return random_.choices([item for item, _weight in items], weights=[w for _item, w in items])[0]


def era_of(birth: datetime.date) -> str:
    """Which stock of given names fits the birth year."""
    if birth.year < 1965:
        return "old"
    if birth.year < 1990:
        return "mid"
    return "young"


def person_name(random_: random.Random, gender: str, birth: datetime.date) -> str:
    """A Chinese name: a surname weighted by frequency and a one- or two-character given name."""
    surname = _weighted(random_, content.SURNAMES)
    first, second = content.GIVEN_NAMES[(gender, era_of(birth))]
    if random_.random() < 0.25:
        return surname + random_.choice(second)
    return surname + random_.choice(first) + random_.choice(second)


def birth_date(random_: random.Random, reference: datetime.date = content.REFERENCE_DATE) -> datetime.date:
    """A birth date drawn from the county's age pyramid (``content.AGE_BUCKETS``)."""
    low, high, _weight = random_.choices(
        content.AGE_BUCKETS, weights=[bucket[2] for bucket in content.AGE_BUCKETS]
    )[0]
    age = random_.randint(low, high)
    day_of_year = random_.randrange(365)
    born = datetime.date(reference.year - age, 1, 1) + datetime.timedelta(days=day_of_year)
    return min(born, reference)


def mobile_phone(random_: random.Random) -> str:
    """An 11-digit mainland mobile number."""
    return random_.choice(content.MOBILE_PREFIXES) + f"{random_.randrange(10**8):08d}"


def landline(random_: random.Random, first_digit: str = "7") -> str:
    """A 六安 landline (area code 0564) as digits only, e.g. 05647xxxxxx."""
    return f"{content.LANDLINE_AREA}{first_digit}{random_.randrange(10**6):06d}"


def village_name(random_: random.Random, taken: Collection[str]) -> str:
    """A village name of the mountain county ("何冲村", "桃花岭村", "红旗村"), not in ``taken``."""
    for _attempt in range(200):
        roll = random_.random()
        if roll < 0.4:
            stem = random_.choice(content.VILLAGE_SURNAMES) + random_.choice(content.VILLAGE_TERRAIN)
        elif roll < 0.75:
            stem = random_.choice(content.VILLAGE_NATURE)
            if random_.random() < 0.4:
                suffix = random_.choice(content.VILLAGE_NATURE_TERRAIN)
                stem += "" if suffix in stem else suffix
        elif roll < 0.9:
            stem = random_.choice(content.VILLAGE_CIVIC)
        else:
            stem = random_.choice(content.VILLAGE_DIRECTION) + random_.choice(
                content.VILLAGE_DIRECTION_TERRAIN
            )
        name = stem + "村"
        if name not in taken:
            return name
    raise RuntimeError("village name stock exhausted")  # pragma: no cover - 2 000+ combinations


def village_population(random_: random.Random) -> int:
    """Registered residents of a mountain village: mostly 1 500–3 500."""
    return int(random_.triangular(1200, 4200, 2300)) // 10 * 10


def group_address(random_: random.Random) -> str:
    """The 村民小组 part of a rural address, e.g. "三组"."""
    return content.GROUP_NUMERALS[random_.randrange(len(content.GROUP_NUMERALS))] + "组"
