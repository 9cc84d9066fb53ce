"""Per-request context (the request id) carried in a context variable.

The middleware sets it; ``record_event`` reads it so audit events can be
tied to the request that caused them, from any layer, without passing it.
"""

from __future__ import annotations

import contextvars
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def new_request_id() -> str:
    """Return a fresh request id."""
    return uuid.uuid4().hex


def set_request_id(value: str) -> contextvars.Token[str]:
    """Make ``value`` the current request id; returns a token to reset it."""
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token[str]) -> None:
    """Restore the previous request id."""
    _request_id.reset(token)


def current_request_id() -> str:
    """Return the current request id, or an empty string outside a request."""
    return _request_id.get()
