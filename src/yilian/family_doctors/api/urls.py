"""Family-doctor API routes (under /api/v1/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from yilian.family_doctors.api.views import ContractViewSet, CoverageViewSet, PackageViewSet, TeamViewSet

ONE = {"pagination_class": None}

urlpatterns: list[URLPattern | URLResolver] = [
    path("care-teams", TeamViewSet.as_view({"get": "list", "post": "create"}), name="api-care-team-list"),
    path(
        "care-teams/<str:public_id>",
        TeamViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-care-team-detail",
    ),
    path(
        "care-teams/<str:public_id>/members",
        TeamViewSet.as_view({"post": "add_member"}, **ONE),
        name="api-care-team-members",
    ),
    path(
        "care-teams/<str:public_id>/members/<str:user_id>/remove",
        TeamViewSet.as_view({"post": "remove_member"}, **ONE),
        name="api-care-team-member-remove",
    ),
    path(
        "care-teams/<str:public_id>/members/<str:user_id>/leader",
        TeamViewSet.as_view({"post": "set_leader"}, **ONE),
        name="api-care-team-member-leader",
    ),
    path(
        "care-teams/<str:public_id>/panel", TeamViewSet.as_view({"get": "panel"}), name="api-care-team-panel"
    ),
    path(
        "service-packages",
        PackageViewSet.as_view({"get": "list", "post": "create"}),
        name="api-service-package-list",
    ),
    path(
        "service-packages/<str:public_id>",
        PackageViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-service-package-detail",
    ),
    path("contracts", ContractViewSet.as_view({"get": "list", "post": "create"}), name="api-contract-list"),
    path(
        "contracts/<str:public_id>",
        ContractViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-contract-detail",
    ),
    path(
        "contracts/<str:public_id>/renew",
        ContractViewSet.as_view({"post": "renew"}, **ONE),
        name="api-contract-renew",
    ),
    path(
        "contracts/<str:public_id>/terminate",
        ContractViewSet.as_view({"post": "terminate"}, **ONE),
        name="api-contract-terminate",
    ),
    path(
        "family-doctor-coverage",
        CoverageViewSet.as_view({"get": "list"}, **ONE),
        name="api-family-doctor-coverage",
    ),
]
