"""REST routes of accounts: API tokens (issue, logout), the current user, users, role grants, the audit log."""

from __future__ import annotations

from django.urls import path

from yilian.accounts.api.views import (
    AuditEventViewSet,
    LogoutViewSet,
    MembershipViewSet,
    MeViewSet,
    TokenViewSet,
    UserViewSet,
)

urlpatterns = [
    path("auth/token", TokenViewSet.as_view({"post": "create"}), name="api-auth-token"),
    path("auth/logout", LogoutViewSet.as_view({"post": "create"}), name="api-auth-logout"),
    path("me", MeViewSet.as_view({"get": "retrieve"}), name="api-me"),
    path("users", UserViewSet.as_view({"get": "list", "post": "create"}), name="api-user-list"),
    path(
        "users/<str:public_id>",
        UserViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-user-detail",
    ),
    path(
        "users/<str:public_id>/set-password",
        UserViewSet.as_view({"post": "set_password"}),
        name="api-user-set-password",
    ),
    path(
        "memberships",
        MembershipViewSet.as_view({"get": "list", "post": "create"}),
        name="api-membership-list",
    ),
    path(
        "memberships/<str:public_id>",
        MembershipViewSet.as_view({"get": "retrieve"}),
        name="api-membership-detail",
    ),
    path(
        "memberships/<str:public_id>/revoke",
        MembershipViewSet.as_view({"post": "revoke"}),
        name="api-membership-revoke",
    ),
    path("audit-events", AuditEventViewSet.as_view({"get": "list"}), name="api-audit-event-list"),
]
