"""API authentication by expiring tokens: ``Authorization: Token <key>``.

The header is DRF's (so clients of ``rest_framework.authtoken`` keep
working); the key is checked by ``accounts.selectors.api_token_user``
against the stored hash, the expiry and the account's status.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from yilian.accounts import selectors, services


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>`` with a key issued by ``accounts.services.api_token_issue``.

    ``request.auth`` is the presented key, so the logout endpoint can revoke
    exactly that token. Unknown, expired and revoked keys, and keys of
    deactivated accounts, all answer 401 with the same message.
    """

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, str]:
        """The user of a live key; AuthenticationFailed otherwise."""
        user = selectors.api_token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("令牌无效或已过期，请重新登录获取。"))
        return user, key

    @classmethod
    def credentials_for(cls, user: Any) -> str:
        """The ``Authorization`` header value of a newly issued token of ``user`` (audited).

        ``core.api.testing.api_client`` uses it, so test clients authenticate
        exactly as real clients do, without core knowing this app.
        """
        return f"{cls.keyword} {services.api_token_issue(user=user)}"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token scheme in the OpenAPI document (``tokenAuth``)."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        """An API key in the ``Authorization`` header, prefixed with ``Token``."""
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Send "Token <token>" from POST /api/v1/auth/token. Tokens expire '
            "(API_TOKEN_TTL_HOURS, 12 by default) and are revoked by POST /api/v1/auth/logout, "
            "a password change or deactivation of the account.",
        }
