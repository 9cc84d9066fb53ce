"""Writing audit events. Every service calls ``record_event`` inside its transaction."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import models, transaction

from yilian.core.context import current_request_id
from yilian.core.models import AuditEvent


def _plain(value: Any) -> Any:
    """Turn a model field value into something JSON can hold."""
    if isinstance(value, models.Model):
        # The identifier people and the API use: public id, else a natural code (regions), never the pk.
        return str(getattr(value, "public_id", None) or getattr(value, "code", None) or value.pk)
    if isinstance(value, (datetime.date, datetime.datetime, uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if isinstance(value, (list, tuple, set)):
        return [_plain(item) for item in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Return ``{field: value}`` for the named fields, JSON-ready."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep only the keys whose values differ between two snapshots."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def record_event(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    institution_public_id: uuid.UUID | None = None,
    consortium_public_id: uuid.UUID | None = None,
    region_code: str = "",
) -> AuditEvent:
    """Write one audit event for a change to ``obj``.

    Must run inside the caller's transaction (raises RuntimeError otherwise),
    so the event and the change commit or roll back together.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must be called inside the service's transaction")
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    label = ""
    if actor_obj is not None:
        label = getattr(actor_obj, "full_name", "") or actor_obj.get_username()
    elif actor is not None and isinstance(actor, str):
        label = actor
    return AuditEvent.objects.create(
        actor=actor_obj,
        actor_label=label or "system",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(getattr(obj, "public_id", None) or getattr(obj, "code", None) or obj.pk),
        object_label=str(obj)[:300],
        institution_public_id=institution_public_id,
        consortium_public_id=consortium_public_id,
        region_code=region_code,
        request_id=current_request_id(),
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        details=dict(details) if details is not None else None,
    )


def apply_changes(
    obj: models.Model,
    changes: Mapping[str, Any],
    fields: Iterable[str],
    *,
    assign: Callable[[Any, str, Any], None] = setattr,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set ``changes`` on ``obj`` (through ``assign``), save it, and return the (old, new)
    values of the ``fields`` that really changed — ready for ``record_event``."""
    fields = tuple(fields)
    before = snapshot(obj, fields)
    for key, value in changes.items():
        assign(obj, key, value)
    obj.save()
    return changed(before, snapshot(obj, fields))


_ACTION_LABELS: dict[str, Any] = {}


def register_action_labels(labels: Mapping[str, Any]) -> None:
    """Readable names of an app's audit actions (``{"grid.assign": _("指定网格责任医联体")}``).

    Each app calls this from ``AppConfig.ready()``, so the audit log can name
    every action without knowing the apps.
    """
    _ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    """The readable name of an action in the active language (its code when none is registered)."""
    return str(_ACTION_LABELS.get(action, action))


def action_labels() -> list[tuple[str, str]]:
    """Every registered (action, readable name), sorted by action."""
    return sorted((action, str(label)) for action, label in _ACTION_LABELS.items())
