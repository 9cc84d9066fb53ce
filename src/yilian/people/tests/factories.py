"""Factories for persons. ID numbers are valid GB 11643 numbers."""

from __future__ import annotations

import datetime
from typing import Any

from stdnum.cn import ric

from yilian.people.identifiers import encrypt_id_number, hash_id_number, mask_id_number
from yilian.people.models import Person, PersonInstitutionLink

_sequence = [100]


def resident_id(
    region_code: str = "341522",
    birth: datetime.date = datetime.date(1958, 3, 14),
    male: bool = True,
) -> str:
    """A valid 18-character resident ID number."""
    _sequence[0] += 2
    number = _sequence[0] % 1000
    if (number % 2 == 1) != male:
        number = (number + 1) % 1000
    if region_code == "341522" and birth.year < 1999:
        region_code = "342423"  # 霍邱县's address code for people born before 1999 (GB/T 2260 history)
    body = f"{region_code}{birth:%Y%m%d}{number:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects the number with a check place


def person(
    name: str = "张三", *, institution: Any = None, id_number: str | None = None, **fields: Any
) -> Person:
    """A person, optionally linked (registered) to an institution."""
    number = id_number or resident_id()
    obj = Person.objects.create(
        name=name,
        id_number_hash=hash_id_number(number),
        id_number_encrypted=encrypt_id_number(number),
        id_number_masked=mask_id_number(number),
        birth_date=ric.get_birth_date(number),
        gender="1" if int(number[16]) % 2 else "2",
        **fields,
    )
    if institution is not None:
        PersonInstitutionLink.objects.create(person=obj, institution=institution, reason="registered")
    return obj
