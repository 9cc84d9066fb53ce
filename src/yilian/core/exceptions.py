"""The project's own exceptions. Adapters turn them into HTTP 400/403/404/409.

Services raise these; they never raise HTTP-shaped errors themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.functional import Promise
from django.utils.translation import gettext


def required_message() -> str:
    """The one wording of a missing value, translated now in the active language.

    It is what forms and the API already say for a required field: Django's "This field is
    required.", which the REST framework's catalogue (ahead of Django's) renders "该字段是必填项。".
    """
    return gettext("该字段是必填项。")


class DomainError(Exception):
    """Base class of every error a service or selector raises on purpose."""

    code = "error"

    def __init__(self, message: str | Promise = "") -> None:
        super().__init__(str(message))
        self.message = message


class NotAllowed(DomainError):
    """The actor may not do this (HTTP 403)."""

    code = "not_allowed"


class NotFound(DomainError):
    """The object does not exist, or the actor may not see it (HTTP 404)."""

    code = "not_found"


class Conflict(DomainError):
    """The action collides with the current state or a concurrent change (HTTP 409)."""

    code = "conflict"


class Invalid(DomainError):
    """Input is invalid. ``errors`` maps field names (or ``"__all__"``) to messages (HTTP 400)."""

    code = "invalid"

    def __init__(
        self,
        errors: Mapping[str, Sequence[str | Promise] | str | Promise] | str | Promise,
        message: str | Promise = "",
    ) -> None:
        if isinstance(errors, (str, Promise)):
            errors = {"__all__": [errors]}
        normalised: dict[str, list[str | Promise]] = {}
        for field, messages in errors.items():
            if isinstance(messages, (str, Promise)):
                normalised[field] = [messages]
            else:
                normalised[field] = list(messages)
        self.errors = normalised
        first = next(iter(normalised.values()))[0] if normalised else message
        super().__init__(message or first)

    def as_text(self) -> dict[str, list[str]]:
        """Return the field errors with lazy translations evaluated."""
        return {field: [str(m) for m in messages] for field, messages in self.errors.items()}
