"""Test helpers for the REST API (framework only)."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.test import APIClient


def authorization_for(user: Any) -> str:
    """An ``Authorization`` header value that authenticates ``user`` with a freshly issued credential.

    Asks the first configured authentication class that can issue one
    (a ``credentials_for(user)`` class method), so core needs to know no app.
    Raises LookupError when none can.
    """
    for authentication_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        issue = getattr(authentication_class, "credentials_for", None)
        if issue is not None:
            return str(issue(user))
    raise LookupError("No authentication class in REST_FRAMEWORK issues credentials (credentials_for).")


def api_client(user: Any = None, *, language: str = "zh-hans") -> APIClient:
    """An API client speaking ``language``, authenticated with a new token of ``user`` (anonymous if None).

    Every request authenticates afresh, as in production, so scope caching
    and query counts are those of real requests. Issuing the token is
    audited (``api_token.issue``), as for any client.
    """
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization_for(user))
    return client


def error_of(response: Any) -> dict[str, Any]:
    """The error envelope's body, asserting the envelope's shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "request_id"} <= set(error), error
    assert error["request_id"] == response["X-Request-ID"]
    return error
