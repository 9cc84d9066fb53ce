"""Helpers shared by the outreach services: field checks, the shared consortium, numbering."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core.exceptions import Invalid
from yilian.institutions.models import Consortium, ConsortiumMember, Institution


def raise_if(errors: dict[str, list[str]]) -> None:
    """Raise Invalid with every field error collected so far."""
    if errors:
        raise Invalid(errors)


def actor_label(actor: Any) -> str:
    """How a user is named on a timeline."""
    return getattr(actor, "full_name", "") or actor.get_username()


def shared_consortium(first: Institution, second: Institution) -> Consortium | None:
    """The oldest active consortium both institutions are active members of, or None."""
    theirs = ConsortiumMember.objects.filter(institution=second, is_active=True).values("consortium_id")
    row = (
        ConsortiumMember.objects.filter(
            institution=first, is_active=True, consortium_id__in=theirs, consortium__status="active"
        )
        .select_related("consortium")
        .order_by("consortium_id")
        .first()
    )
    return row.consortium if row is not None else None


def check_date(value: Any, field: str, errors: dict[str, list[str]], label: str) -> datetime.date | None:
    """A date or an error."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    errors[field] = [_("请填写有效的%(label)s。") % {"label": label}]
    return None


def check_count(
    data: dict[str, Any], field: str, limit: int, errors: dict[str, list[str]], *, default: int = 0
) -> int:
    """A whole number from 0 to ``limit`` (``default`` when absent) or an error."""
    value = data.get(field, default)
    if value in (None, ""):
        return default
    try:
        number = int(value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError):
        errors[field] = [_("请填写整数。")]
        return default
    if number < 0 or number > limit:
        errors[field] = [_("应在 0 到 %(limit)s 之间。") % {"limit": limit}]
    return number


def too_long(data: dict[str, Any], limits: dict[str, int], errors: dict[str, list[str]]) -> None:
    """Add an error for every text longer than its limit."""
    for name, limit in limits.items():
        if len(str(data.get(name) or "")) > limit:
            errors[name] = [_("不能超过 %(limit)s 个字。") % {"limit": limit}]


NUMBER_ATTEMPTS = 30


def save_numbered(obj: Any, prefix_letters: str) -> None:
    """Insert a new row under the next free readable number (letters + date + sequence), taking a later
    one when a concurrent insert took it first (own savepoint)."""
    model = type(obj)
    prefix = f"{prefix_letters}{timezone.localdate():%Y%m%d}"
    for attempt in range(NUMBER_ATTEMPTS):
        last = (
            model.objects.filter(number__startswith=prefix)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        sequence = (int(last[len(prefix) :]) if last else 0) + 1 + random.randrange(attempt * 2 + 1)
        obj.number = f"{prefix}{sequence:04d}"
        try:
            with transaction.atomic():
                obj.save(force_insert=True)
            return
        except IntegrityError:
            taken = model.objects.filter(number=obj.number).exists()
            if not taken or attempt == NUMBER_ATTEMPTS - 1:
                raise
