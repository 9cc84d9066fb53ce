"""The client's address, as far as the configured proxies can be trusted."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent the request.

    Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, the client is the entry
    that many places from the right of ``X-Forwarded-For`` (each proxy
    appends the address it saw); entries further left can be forged by the
    client and are ignored. With no trusted proxies it is ``REMOTE_ADDR``.
    Login throttling keys on this, so a wrong setting either locks out
    everyone behind one proxy (too low) or lets a client pick its key (too high).
    """
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= trusted:
            return forwarded[-trusted]
    return str(request.META.get("REMOTE_ADDR", "") or "")
