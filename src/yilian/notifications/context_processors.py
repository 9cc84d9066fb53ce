"""Template context of the notification badge in the top bar."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from yilian.notifications.selectors import unread_count


class UnreadBadge:
    """The user's unread count, read from the database only when a template shows it (one query)."""

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        """How many unread notifications the user has."""
        return unread_count(self._user)

    def __bool__(self) -> bool:
        return self.count > 0

    def __str__(self) -> str:
        return "99+" if self.count > 99 else str(self.count)


def notifications(request: HttpRequest) -> dict[str, Any]:
    """Add ``notification_badge`` for logged-in users (nothing, and no query, for anonymous ones)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_badge": UnreadBadge(user)}
