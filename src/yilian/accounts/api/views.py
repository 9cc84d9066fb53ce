"""Accounts API: API tokens, the current user, staff accounts, role grants and the audit log."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from yilian.accounts import policies, selectors, services
from yilian.accounts.api import serializers as s
from yilian.accounts.api.serializers import MembershipSerializer, UserSerializer
from yilian.core.api.schema import ErrorSerializer
from yilian.core.api.views import ServiceViewSet, pick, request_address
from yilian.core.exceptions import NotAllowed

ACCOUNTS = ["accounts"]


@extend_schema(tags=["auth"])
class TokenViewSet(ServiceViewSet):
    """Exchange a username and password for an API token."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "login"
    serializer_class = s.CredentialsSerializer
    error_statuses = (400, 429)

    @extend_schema(
        request=s.CredentialsSerializer,
        responses={200: s.TokenSerializer, 429: ErrorSerializer},
        auth=[],
        description="Send the token as `Authorization: Token <token>`. Each call issues a new "
        "token, shown only in this response; it expires after API_TOKEN_TTL_HOURS (12 by default) "
        "and is revoked by `POST /api/v1/auth/logout`, a password change or deactivation. "
        "Repeated failures for a username or from an address lock further attempts for a while (429).",
    )
    def create(self, request: Request) -> Response:
        """Obtain an API token."""
        data = self.payload(s.CredentialsSerializer)
        user = services.login(
            username=data["username"], password=data["password"], address=request_address(request)
        )
        return Response({"token": services.api_token_issue(user=user)}, headers={"Cache-Control": "no-store"})


@extend_schema(tags=["auth"])
class LogoutViewSet(ServiceViewSet):
    """Revoke the API token this request was authenticated with."""

    serializer_class = s.TokenSerializer
    error_statuses = (400, 401)

    @extend_schema(request=None, responses={204: None})
    def create(self, request: Request) -> Response:
        """Log out: the presented token stops working at once (other tokens of the user stay valid)."""
        services.api_token_revoke(actor=self.actor, key=request.auth if isinstance(request.auth, str) else "")
        return Response(status=204)


@extend_schema(tags=ACCOUNTS)
class MeViewSet(ServiceViewSet):
    """The current user."""

    serializer_class = s.MeSerializer
    error_statuses = (401,)

    @extend_schema(responses={200: s.MeSerializer})
    def retrieve(self, request: Request) -> Response:
        """Who I am, and my roles."""
        memberships = list(selectors.membership_list_for_user(self.actor, self.actor))
        return self.rendered(self.actor, s.MeSerializer, memberships=memberships)


@extend_schema(tags=ACCOUNTS)
class UserViewSet(ServiceViewSet):
    """Login accounts: all for platform administrators, their own staff for institution administrators."""

    serializer_class = UserSerializer

    @extend_schema(parameters=[s.UserQuerySerializer], responses={200: UserSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible accounts, searchable by login name or name."""
        params = self.query(s.UserQuerySerializer)
        institution = params.get("institution")
        users = selectors.user_list(
            self.actor,
            query=params.get("q", ""),
            institution_id=institution.pk if institution is not None else None,
        )
        return self.paginated(users, UserSerializer)

    @extend_schema(responses={200: UserSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One account."""
        return self.rendered(selectors.user_get_for(self.actor, self.object_id()), UserSerializer)

    @extend_schema(request=s.UserCreateSerializer, responses={201: UserSerializer})
    def create(self, request: Request) -> Response:
        """Create an account; with ``institution`` and ``role``, as staff of that institution with that role."""
        data = self.payload(s.UserCreateSerializer)
        password = data.pop("password")
        if "institution" in data:
            user, _membership = services.staff_account_create(
                actor=self.actor,
                institution=data.pop("institution"),
                role=data.pop("role"),
                department=data.pop("department", None),
                password=password,
                **data,
            )
        else:
            data.pop("department", None)
            user = services.user_create(actor=self.actor, password=password, **data)
        return self.rendered(user, UserSerializer, status=201)

    @extend_schema(request=UserSerializer, responses={200: UserSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change an account's profile or deactivate it."""
        user = selectors.user_get_for(self.actor, self.object_id())
        data = self.payload(UserSerializer, partial=True)
        user = services.user_update(actor=self.actor, user=user, **data)
        return self.rendered(user, UserSerializer)

    @extend_schema(request=s.PasswordSerializer, responses={204: None})
    def set_password(self, request: Request, public_id: str) -> Response:
        """Set a new password (own account, or staff the actor administers)."""
        user = selectors.user_get_for(self.actor, self.object_id())
        data = self.payload(s.PasswordSerializer)
        services.user_set_password(actor=self.actor, user=user, password=data["password"])
        return Response(status=204)


@extend_schema(tags=ACCOUNTS)
class MembershipViewSet(ServiceViewSet):
    """Role grants: a user's role within an institution, a consortium or a region."""

    serializer_class = MembershipSerializer
    error_statuses = (400, 401, 403, 404, 409)

    @extend_schema(parameters=[s.MembershipQuerySerializer], responses={200: MembershipSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible grants: one user's (with history), one institution's staff, or all visible."""
        params = self.query(s.MembershipQuerySerializer)
        memberships: Any
        if params.get("user") is not None:
            memberships = selectors.membership_list_for_user(self.actor, params["user"])
        elif params.get("institution") is not None:
            memberships = selectors.staff_of_institution(
                self.actor, params["institution"].pk, query=params.get("q", "")
            )
        else:
            memberships = selectors.membership_visible_to(self.actor)
        return self.paginated(memberships, MembershipSerializer)

    @extend_schema(request=s.MembershipGrantSerializer, responses={201: MembershipSerializer})
    def create(self, request: Request) -> Response:
        """Grant a role (platform administrators; institution administrators in their institution)."""
        data = self.payload(s.MembershipGrantSerializer)
        membership = services.membership_grant(
            actor=self.actor,
            user=data["user"],
            role=data["role"],
            institution=data.get("institution"),
            consortium=data.get("consortium"),
            region=data.get("region"),
            department=data.get("department"),
        )
        return self.rendered(membership, MembershipSerializer, status=201)

    @extend_schema(responses={200: MembershipSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One grant."""
        membership = pick(selectors.membership_visible_to(self.actor), public_id=self.object_id())
        return self.rendered(membership, MembershipSerializer)

    @extend_schema(request=None, responses={200: MembershipSerializer})
    def revoke(self, request: Request, public_id: str) -> Response:
        """Revoke a role; the grant stays as history."""
        membership = pick(selectors.membership_visible_to(self.actor), public_id=self.object_id())
        membership = services.membership_revoke(actor=self.actor, membership=membership)
        return self.rendered(membership, MembershipSerializer)


@extend_schema(tags=ACCOUNTS)
class AuditEventViewSet(ServiceViewSet):
    """The audit log, as far as the requester's scope reaches."""

    serializer_class = s.AuditEventSerializer

    @extend_schema(parameters=[s.AuditQuerySerializer], responses={200: s.AuditEventSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Audit events, newest first (platform admins all; regulators, offices, institution admins their scope)."""
        if not policies.can_view_audit(self.actor):
            raise NotAllowed()
        params = self.query(s.AuditQuerySerializer)
        events = selectors.audit_list(
            self.actor,
            query=params.get("q", ""),
            action=params.get("action", ""),
            object_type=params.get("object_type", ""),
            object_id=params.get("object_id", ""),
            actor_username=params.get("actor", ""),
            since=params.get("since"),
            until=params.get("until"),
        )
        return self.paginated(events, s.AuditEventSerializer)
