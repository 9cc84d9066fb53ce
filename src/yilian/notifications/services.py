"""Writes of notifications: sending to users and marking read."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from yilian.core.messages import Message, stored
from yilian.notifications.channels import deliver_all
from yilian.notifications.models import Notification


def notify(
    *,
    recipients: Iterable[Any],
    topic: str,
    title: str | Message,
    body: str | Message = "",
    link: str = "",
    object_id: str = "",
) -> list[Notification]:
    """Create one in-app notification per recipient (actors are not notified of their own acts by callers).

    ``title`` and ``body`` are best a ``core.messages.message`` (an untranslated
    msgid and its parameters), so each recipient reads them in their own
    language; plain text is stored and shown as it is. Runs in the caller's
    transaction; other channels get the messages after commit. Returns the
    created rows. Messages are data, not state changes of the platform, so
    they are not audited.
    """
    title_template, title_params = stored(title)
    body_template, body_params = stored(body)
    rows = [
        Notification(
            recipient=user,
            topic=topic,
            title=title_template[:200],
            title_params=title_params,
            body=body_template[:500],
            body_params=body_params,
            link=link[:300],
            object_id=object_id,
        )
        for user in {user.pk: user for user in recipients}.values()
    ]
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    transaction.on_commit(partial(deliver_all, created))
    return created


def notification_mark_read(*, actor: Any, public_ids: Iterable[Any] | None = None) -> int:
    """Mark the actor's notifications read (all unread ones when ``public_ids`` is None). Returns the count."""
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if public_ids is not None:
        unread = unread.filter(public_id__in=list(public_ids))
    return unread.update(read_at=timezone.now())
