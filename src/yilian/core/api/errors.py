"""One error envelope for every API error, with messages in the requester's language.

{"error": {"code": "invalid", "message": "...", "fields": {"credit_code": ["..."]},
           "request_id": "..."}}
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from yilian.core.context import current_request_id
from yilian.core.exceptions import Conflict, DomainError, Invalid, NotAllowed, NotFound

_STATUS = {Invalid: 400, NotAllowed: 403, NotFound: 404, Conflict: 409}
_INTERNAL_TAG = re.compile(r"^[a-z][a-z0-9_.]*$")


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "__all__" if key in ("non_field_errors", "detail") else f"{prefix}{key}"
            for sub_key, messages in _flatten(value, f"{name}.").items():
                fields.setdefault(sub_key.rstrip(".") if sub_key.endswith(".") else sub_key, []).extend(
                    messages
                )
            if not isinstance(value, (dict, list)):
                fields.setdefault(name, []).append(str(value))
    elif isinstance(detail, list):
        for item in detail:
            if isinstance(item, (dict, list)):
                for key, messages in _flatten(item, prefix).items():
                    fields.setdefault(key, []).extend(messages)
            else:
                fields.setdefault(prefix.rstrip(".") or "__all__", []).append(str(item))
    else:
        fields.setdefault(prefix.rstrip(".") or "__all__", []).append(str(detail))
    return fields


def envelope(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Build the error body."""
    body: dict[str, Any] = {"code": code, "message": message, "request_id": current_request_id()}
    if fields:
        body["fields"] = fields
    return {"error": body}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: domain errors and DRF errors → the envelope and the right status."""
    if isinstance(exc, DomainError):
        status_code = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        if isinstance(exc, Invalid):
            fields = exc.as_text()
            message = str(exc.message) or _("输入有误，请检查。")
            return Response(envelope(exc.code, message, fields), status=status_code)
        message = str(exc.message)
        if isinstance(exc, NotFound):
            message = _("未找到该对象，或您无权查看。")
        elif isinstance(exc, NotAllowed) and (not message or _INTERNAL_TAG.match(message)):
            # Selectors raise NotAllowed("registry"): a tag for logs, not a message for people.
            message = _("您没有执行此操作的权限。")
        response = Response(envelope(exc.code, message), status=status_code)
        if getattr(exc, "code", "") == "login_locked":
            response.status_code = status.HTTP_429_TOO_MANY_REQUESTS
            response["Retry-After"] = str(getattr(settings, "LOGIN_FAILURE_WINDOW_SECONDS", 900))
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.values()))[0] if fields else _("输入有误，请检查。")
        response.data = envelope("invalid", first, fields)
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.data = envelope("not_authenticated", str(exc.detail))
    elif isinstance(exc, exceptions.PermissionDenied):
        response.data = envelope("not_allowed", str(exc.detail))
    elif isinstance(exc, exceptions.NotFound):
        response.data = envelope("not_found", _("未找到该对象，或您无权查看。"))
    elif isinstance(exc, exceptions.Throttled):
        response.data = envelope("throttled", str(exc.detail))
    elif isinstance(exc, exceptions.APIException):
        response.data = envelope(exc.default_code, str(exc.detail))
    return response
