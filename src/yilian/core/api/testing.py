"""Test helpers for the REST API (framework only)."""

from __future__ import annotations

from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def api_client(user: Any = None, *, language: str = "zh-hans") -> APIClient:
    """An API client speaking ``language``, authenticated with ``user``'s token (anonymous if None).

    Every request authenticates afresh, as in production, so scope caching
    and query counts are those of real requests.
    """
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def error_of(response: Any) -> dict[str, Any]:
    """The error envelope's body, asserting the envelope's shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "request_id"} <= set(error), error
    assert error["request_id"] == response["X-Request-ID"]
    return error
