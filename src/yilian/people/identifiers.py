"""Protection of resident ID numbers (GB 11643): validation, keyed hash, encryption, masking.

The number is validated by python-stdnum; stored as an HMAC-SHA256 keyed
hash (for exact lookup) plus a Fernet ciphertext (for the few who may
read it) and a masked form for lists. The plain value is never logged.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.fernet import Fernet
from django.conf import settings
from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from yilian.core.exceptions import Invalid


@dataclass(frozen=True)
class ResidentId:
    """A validated resident ID number and what it encodes."""

    number: str
    birth_date: datetime.date
    gender: str
    region_code: str


def address_code_in_use_since(number: str, year: int) -> bool:
    """Whether the number's 6-digit address code was in use in ``year`` or any year after it.

    python-stdnum (``cn.ric.get_birth_place``) accepts an address code only if it was in use in
    the birth year. But a number carries the code of the place where it was issued, and most
    18-digit numbers were issued from 1999 on, long after their holders' birth. A county whose
    code changed when its prefecture was reorganised (金寨县 became 341524 in 1999, the year 六安
    became a city) has residents born in 1985 with 341524 (python-stdnum issue #442). So a code
    counts if it was in use at some time from the birth year on, when the number could have been
    issued; a code retired before the holder was born still fails. Codes come from stdnum's GB/T
    2260 list (``cn/loc``).
    """
    results = numdb.get("cn/loc").info(number[:6])
    info = {key: value for _part, props in results for key, value in props.items()}
    for county in info.get("county", "").split(","):
        if not county:
            continue
        if not county.startswith("["):
            return True
        period, _name = county[1:].split("]", 1)
        _start, end = period.split("-")
        if not end or int(end) >= year:
            return True
    return False


def parse_resident_id(value: str) -> ResidentId:
    """Validate an 18-character resident ID number and return its parts.

    python-stdnum checks the length, format, check character, birth date and
    address code, except that an address code first used after the holder's
    birth is accepted (``address_code_in_use_since``). Raises Invalid (field
    ``id_number``) with the specific reason.
    """
    try:
        try:
            number = ric.validate(value or "")
        except InvalidComponent:
            # The birth date is checked again (a bad one raises); only the address code's years differ.
            number = ric.compact(value or "")
            if not address_code_in_use_since(number, ric.get_birth_date(number).year):
                raise
    except InvalidLength:
        message = _("身份证号应为 18 位。")
    except InvalidChecksum:
        message = _("身份证号校验位错误。")
    except InvalidComponent:
        message = _("身份证号中的出生日期或地址码无效。")
    except InvalidFormat:
        message = _("身份证号格式错误。")
    except ValidationError:
        message = _("身份证号无效。")
    else:
        sequence = int(number[14:17])
        return ResidentId(
            number=number,
            birth_date=ric.get_birth_date(number),
            gender="1" if sequence % 2 else "2",
            region_code=number[:6],
        )
    raise Invalid({"id_number": message})


def _key(purpose: bytes) -> bytes:
    return hmac.new(settings.PERSON_IDENTIFIER_KEY.encode(), purpose, hashlib.sha256).digest()


def hash_id_number(number: str) -> str:
    """Keyed hash of a normalised ID number, for exact lookup without storing the number."""
    return hmac.new(_key(b"lookup"), number.upper().encode(), hashlib.sha256).hexdigest()


def encrypt_id_number(number: str) -> str:
    """Encrypt an ID number for storage."""
    return Fernet(base64.urlsafe_b64encode(_key(b"encrypt"))).encrypt(number.encode()).decode()


def decrypt_id_number(token: str) -> str:
    """Decrypt a stored ID number (callers must have checked the policy)."""
    return Fernet(base64.urlsafe_b64encode(_key(b"encrypt"))).decrypt(token.encode()).decode()


def mask_id_number(number: str) -> str:
    """Masked form for lists and logs: first 3 and last 4 characters."""
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}" if len(number) > 7 else "*" * len(number)


def mask_name(name: str) -> str:
    """A patient's name for readers who may not see patients (the office, regulators): "张*", "欧阳**"."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)
