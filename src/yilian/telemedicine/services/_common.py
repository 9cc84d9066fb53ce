"""Helpers shared by the teleconsultation services: timeline + audit in one call, numbering, versions."""

from __future__ import annotations

import random
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core.audit import record_event
from yilian.core.exceptions import Invalid
from yilian.core.messages import Message, stored
from yilian.institutions.models import Institution
from yilian.telemedicine.choices import TeleconsultationSide
from yilian.telemedicine.models import Teleconsultation, TeleconsultationEvent

# The consortium rule is a read (the invitation form shows the fee it gives); re-exported for the services.
from yilian.telemedicine.selectors.teleconsultations import shared_consortium as shared_consortium


def raise_if(errors: dict[str, list[str]]) -> None:
    """Raise Invalid with every field error collected so far."""
    if errors:
        raise Invalid(errors)


def actor_label(actor: Any) -> str:
    """How a user is named on the timeline."""
    return getattr(actor, "full_name", "") or actor.get_username()


def step(
    *,
    actor: Any,
    teleconsultation: Teleconsultation,
    action: str,
    side: str,
    from_status: str = "",
    note: str | Message = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write the timeline step and the audit event of one change (inside the caller's transaction).

    The audit event is filed under the acting side's institution and the
    consortium, so both administrators and the office read it. A system
    note is a ``core.messages.message`` (shown in each reader's language);
    text the user typed is a plain string, kept as typed.
    """
    note_template, note_params = stored(note)
    institution: Institution = (
        teleconsultation.inviting_institution
        if side == TeleconsultationSide.INVITING
        else teleconsultation.invited_institution
    )
    TeleconsultationEvent.objects.create(
        teleconsultation=teleconsultation,
        action=action,
        from_status=from_status,
        to_status=teleconsultation.status,
        side=side,
        actor=actor,
        actor_label=actor_label(actor),
        institution_name=institution.name,
        note=note_template[:500],
        note_params=note_params,
    )
    record_event(
        actor=actor,
        action=f"teleconsultation.{action}",
        obj=teleconsultation,
        before=before,
        after=after,
        details={"from_status": from_status, "to_status": teleconsultation.status, **(details or {})},
        institution_public_id=institution.public_id,
        consortium_public_id=teleconsultation.consortium.public_id
        if teleconsultation.consortium_id
        else None,
    )


def next_number(skip: int = 0) -> str:
    """A readable number: YC + date + a sequence (the unique constraint settles races); ``skip`` jumps
    that many numbers past the last one (a retry after a collision)."""
    prefix = f"YC{timezone.localdate():%Y%m%d}"
    last = (
        Teleconsultation.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = (int(last[len(prefix) :]) if last else 0) + 1 + skip
    return f"{prefix}{sequence:05d}"


NUMBER_ATTEMPTS = 30


def save_numbered(teleconsultation: Teleconsultation) -> None:
    """Insert a new teleconsultation under the next free number, taking a later one when a concurrent
    insert took it first (own savepoint, so the caller's transaction goes on). Other integrity errors,
    and a number still taken after ``NUMBER_ATTEMPTS``, propagate."""
    for attempt in range(NUMBER_ATTEMPTS):
        teleconsultation.number = next_number(skip=random.randrange(attempt * 2 + 1))
        try:
            with transaction.atomic():
                teleconsultation.save(force_insert=True)
            return
        except IntegrityError:
            taken = Teleconsultation.objects.filter(number=teleconsultation.number).exists()
            if not taken or attempt == NUMBER_ATTEMPTS - 1:
                raise


def bump(teleconsultation: Teleconsultation, **changes: Any) -> None:
    """Save ``changes`` and increment the version in one UPDATE; mirror them on the instance."""
    changes["updated_at"] = timezone.now()
    Teleconsultation.objects.filter(pk=teleconsultation.pk).update(version=F("version") + 1, **changes)
    for key, value in changes.items():
        setattr(teleconsultation, key, value)
    teleconsultation.version += 1


def too_long(data: dict[str, Any], limits: dict[str, int], errors: dict[str, list[str]]) -> None:
    """Add an error for every text longer than its limit."""
    for name, limit in limits.items():
        if len(str(data.get(name) or "")) > limit:
            errors[name] = [_("不能超过 {limit} 个字。").format(limit=limit)]
