"""慢病管理 API routes (under /api/v1/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from yilian.chronic_care.api.views import CaseViewSet, FollowUpViewSet, RateViewSet, RegistryViewSet

ONE = {"pagination_class": None}

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "chronic-registries",
        RegistryViewSet.as_view({"get": "list", "post": "create"}),
        name="api-chronic-registry-list",
    ),
    path(
        "chronic-registries/<str:code>",
        RegistryViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-chronic-registry-detail",
    ),
    path(
        "chronic-cases", CaseViewSet.as_view({"get": "list", "post": "create"}), name="api-chronic-case-list"
    ),
    path("chronic-cases/overdue", CaseViewSet.as_view({"get": "overdue"}), name="api-chronic-case-overdue"),
    path(
        "chronic-cases/<str:public_id>",
        CaseViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-chronic-case-detail",
    ),
    path(
        "chronic-cases/<str:public_id>/close",
        CaseViewSet.as_view({"post": "close"}, **ONE),
        name="api-chronic-case-close",
    ),
    path(
        "chronic-cases/<str:public_id>/follow-ups",
        FollowUpViewSet.as_view({"get": "list", "post": "create"}),
        name="api-chronic-follow-up-list",
    ),
    path(
        "chronic-follow-ups/suggestions",
        FollowUpViewSet.as_view({"get": "suggestions"}),
        name="api-chronic-suggestion-list",
    ),
    path(
        "chronic-follow-ups/<str:public_id>",
        FollowUpViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-chronic-follow-up-detail",
    ),
    path(
        "chronic-follow-ups/<str:public_id>/referral-proposal",
        FollowUpViewSet.as_view({"get": "proposal"}, **ONE),
        name="api-chronic-follow-up-proposal",
    ),
    path(
        "chronic-follow-ups/<str:public_id>/refer",
        FollowUpViewSet.as_view({"post": "refer"}, **ONE),
        name="api-chronic-follow-up-refer",
    ),
    path(
        "chronic-follow-ups/<str:public_id>/dismiss",
        FollowUpViewSet.as_view({"post": "dismiss"}, **ONE),
        name="api-chronic-follow-up-dismiss",
    ),
    path("chronic-rates", RateViewSet.as_view({"get": "list"}, **ONE), name="api-chronic-rates"),
]
