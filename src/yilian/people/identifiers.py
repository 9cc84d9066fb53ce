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


def parse_resident_id(value: str) -> ResidentId:
    """Validate an 18-character resident ID number and return its parts.

    Raises Invalid (field ``id_number``) with the specific reason.
    """
    try:
        number = ric.validate(value or "")
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
