"""Reads of notifications: only ever the actor's own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yilian.notifications.models import Notification


def notification_list(actor: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The actor's notifications, newest first; none for anonymous users."""
    if not getattr(actor, "is_authenticated", False):
        return Notification.objects.none()
    rows = Notification.objects.filter(recipient=actor)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def unread_count(actor: Any) -> int:
    """How many unread notifications the actor has (the badge). One query."""
    return notification_list(actor, unread_only=True).count()
