"""Shared pieces of the registry services: field lists, upload rules, small validators."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core import generations
from yilian.core.audit import record_event
from yilian.core.exceptions import Invalid, NotAllowed
from yilian.core.text import pinyin_full, pinyin_initials
from yilian.institutions.models import Consortium
from yilian.institutions.selectors import REGISTRY_GENERATION

INSTITUTION_FIELDS = (
    "name",
    "short_name",
    "credit_code",
    "category",
    "grade",
    "grade_class",
    "ownership",
    "profit_status",
    "is_tcm",
    "may_serve_across_grids",
    "region",
    "address",
    "phone",
    "beds",
    "status",
    "description",
)
DEPARTMENT_FIELDS = ("name", "code", "specialty", "subject", "is_clinical", "beds", "phone", "is_active")
CONSORTIUM_FIELDS = (
    "name",
    "type",
    "integration",
    "region",
    "established_on",
    "status",
    "description",
)
MEMBER_FIELDS = ("role", "parent", "joined_on", "left_on", "is_active", "leave_reason", "notes")
GRID_FIELDS = ("code", "name", "region", "population", "description")
AGREEMENT_FIELDS = ("kind", "title", "file", "signed_on", "effective_from", "effective_to", "notes")
BODY_FIELDS = ("kind", "name", "head_name", "host_institution", "phone", "duties")

ALLOWED_UPLOADS = {
    ".pdf": (b"%PDF",),
    ".png": (b"\x89PNG",),
    ".jpg": (b"\xff\xd8",),
    ".jpeg": (b"\xff\xd8",),
    ".docx": (b"PK",),
    ".xlsx": (b"PK",),
    ".doc": (b"\xd0\xcf\x11\xe0",),
    ".ofd": (b"PK",),
}


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed(_("您没有执行此操作的权限。"))


def _set_name(obj: Any, name: str) -> None:
    obj.name = name.strip()
    obj.name_initials = pinyin_initials(obj.name)[:200]
    obj.name_pinyin = pinyin_full(obj.name)[:600]


def _registry_changed() -> None:
    """Bump the registry's generation (``REGISTRY_GENERATION``), inside the writing transaction.

    Caches built on consortia, members, institutions or regions (the cockpit's)
    key on it, so they stop serving what this write changes.
    """
    generations.bump(REGISTRY_GENERATION)


def _choice(errors: dict[str, list[str]], field_name: str, value: Any, choices: Any) -> None:
    if value not in choices.values:
        errors.setdefault(field_name, []).append(_("“%(value)s” 不是有效的选项。") % {"value": value})


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(errors)


def _today() -> datetime.date:
    return timezone.localdate()


def _consortium_event(actor: Any, action: str, obj: Any, consortium: Consortium, **kwargs: Any) -> None:
    record_event(
        actor=actor,
        action=action,
        obj=obj,
        consortium_public_id=consortium.public_id,
        region_code=consortium.region.code,
        **kwargs,
    )


def _assign(obj: Any, key: str, value: Any) -> None:
    """Set one field; setting a name also refreshes its pinyin keys."""
    if key == "name":
        _set_name(obj, value)
    else:
        setattr(obj, key, value)
