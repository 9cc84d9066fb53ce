"""Helpers shared by the diagnostics services: timeline + audit in one call, numbering, version bump."""

from __future__ import annotations

import random
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from yilian.core.audit import record_event
from yilian.core.exceptions import Invalid
from yilian.core.messages import Message, stored
from yilian.diagnostics.choices import OrderSide
from yilian.diagnostics.models import DiagnosticOrder, OrderEvent


def raise_if(errors: dict[str, list[str]]) -> None:
    """Raise Invalid with every field error collected so far."""
    if errors:
        raise Invalid(errors)


def actor_label(actor: Any) -> str:
    """The name the timeline keeps for an actor ("系统", untranslated, for the platform's jobs: the
    timeline shows it in the reader's language)."""
    if getattr(actor, "is_authenticated", False):
        return getattr(actor, "full_name", "") or actor.get_username()
    return gettext_noop("系统")


def step(
    *,
    actor: Any,
    order: DiagnosticOrder,
    action: str,
    side: str,
    from_status: str = "",
    note: str | Message = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write the timeline step and the audit event of one change (inside the caller's transaction).

    The audit event is filed under the acting side's institution (the centre's
    hub for the centre) and the centre's consortium. A system note is a
    ``core.messages.message`` (shown in each reader's language); text the user
    typed is a plain string, kept as typed.
    """
    note_template, note_params = stored(note)
    institution = order.centre.hub_institution if side == OrderSide.CENTRE else order.ordering_institution
    is_user = getattr(actor, "is_authenticated", False)
    OrderEvent.objects.create(
        order=order,
        action=action,
        from_status=from_status,
        to_status=order.status,
        side=side,
        actor=actor if is_user else None,
        actor_label=actor_label(actor),
        institution_name="" if side == OrderSide.SYSTEM else institution.name,
        note=note_template[:500],
        note_params=note_params,
    )
    record_event(
        actor=actor if is_user else "system",
        action=f"diagnostics.{action}",
        obj=order,
        before=before,
        after=after,
        details={"from_status": from_status, "to_status": order.status, **(details or {})},
        institution_public_id=institution.public_id,
        consortium_public_id=order.consortium.public_id,
    )


def next_number(skip: int = 0) -> str:
    """A readable order number: JC + date + a sequence; ``skip`` jumps past numbers taken concurrently."""
    prefix = f"JC{timezone.localdate():%Y%m%d}"
    last = (
        DiagnosticOrder.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = (int(last[len(prefix) :]) if last else 0) + 1 + skip
    return f"{prefix}{sequence:05d}"


NUMBER_ATTEMPTS = 30


def save_numbered(order: DiagnosticOrder, *, with_barcode: bool) -> None:
    """Insert a new order under the next free number (and its barcode, derived from the number), retrying
    in a savepoint when a concurrent insert took the number. Other integrity errors propagate."""
    for attempt in range(NUMBER_ATTEMPTS):
        order.number = next_number(skip=random.randrange(attempt * 2 + 1))
        if with_barcode:
            order.barcode = barcode_for(order.number)
        try:
            with transaction.atomic():
                order.save(force_insert=True)
            return
        except IntegrityError:
            taken = DiagnosticOrder.objects.filter(number=order.number).exists()
            if not taken or attempt == NUMBER_ATTEMPTS - 1:
                raise


def barcode_for(number: str) -> str:
    """The specimen barcode of an order number: "8" + its digits (Code 128 friendly, unique as the number)."""
    return "8" + "".join(character for character in number if character.isdigit())


def bump(order: DiagnosticOrder, **changes: Any) -> None:
    """Save ``changes`` and increment the version in one UPDATE; mirror them on the instance."""
    changes["updated_at"] = timezone.now()
    DiagnosticOrder.objects.filter(pk=order.pk).update(version=F("version") + 1, **changes)
    for key, value in changes.items():
        setattr(order, key, value)
    order.version += 1
