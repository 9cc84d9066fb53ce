"""Helpers shared by the account pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from yilian.accounts import selectors
from yilian.core.exceptions import DomainError, Invalid

AUDIT_PAGE_SIZE = 50
USER_PAGE_SIZE = 50
STAFF_PAGE_SIZE = 50


def _safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` parameter when it points inside this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


def _posted(request: HttpRequest) -> Any:
    """The POST data on a POST (even when empty), None on a GET, so forms bind exactly on submit."""
    return request.POST if request.method == "POST" else None


def _require_platform_admin(request: HttpRequest) -> None:
    """403 unless the user is a platform administrator."""
    if not selectors.scope_for(request.user).is_platform_admin:
        raise PermissionDenied(_("仅平台管理员可以使用此功能。"))


def _report(request: HttpRequest, error: DomainError) -> None:
    """Show a domain error that cannot be shown inline as a page message."""
    if isinstance(error, Invalid):
        for field_messages in error.as_text().values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.error(request, str(error.message))
