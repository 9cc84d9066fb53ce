"""REST routes of institutions: regions, institutions, departments, consortia, members, grids."""

from __future__ import annotations

from django.urls import path
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer

from yilian.core.api.views import PassthroughRenderer
from yilian.institutions.api.consortia import AgreementViewSet, ConsortiumMemberViewSet, ConsortiumViewSet
from yilian.institutions.api.grids import CoverageViewSet, GridViewSet
from yilian.institutions.api.registry import DepartmentViewSet, InstitutionViewSet, RegionViewSet

UPLOAD = {"parser_classes": [MultiPartParser]}

urlpatterns = [
    path("regions", RegionViewSet.as_view({"get": "list", "post": "create"}), name="api-region-list"),
    path(
        "regions/import",
        RegionViewSet.as_view({"post": "import_csv"}, **UPLOAD),
        name="api-region-import",
    ),
    path("regions/<str:code>", RegionViewSet.as_view({"get": "retrieve"}), name="api-region-detail"),
    path(
        "institutions",
        InstitutionViewSet.as_view({"get": "list", "post": "create"}),
        name="api-institution-list",
    ),
    path(
        "institutions/<str:public_id>",
        InstitutionViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-institution-detail",
    ),
    path(
        "institutions/<str:public_id>/departments",
        InstitutionViewSet.as_view({"get": "departments", "post": "create_department"}),
        name="api-institution-departments",
    ),
    path(
        "departments/<str:public_id>",
        DepartmentViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-department-detail",
    ),
    path(
        "consortia",
        ConsortiumViewSet.as_view({"get": "list", "post": "create"}),
        name="api-consortium-list",
    ),
    path(
        "consortia/<str:public_id>",
        ConsortiumViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-consortium-detail",
    ),
    path(
        "consortia/<str:public_id>/members",
        ConsortiumViewSet.as_view({"get": "members", "post": "add_member"}),
        name="api-consortium-members",
    ),
    path(
        "consortia/<str:public_id>/management-bodies",
        ConsortiumViewSet.as_view({"get": "bodies", "post": "create_body"}),
        name="api-consortium-bodies",
    ),
    path(
        "consortia/<str:public_id>/management-bodies/<str:body_id>",
        ConsortiumViewSet.as_view({"patch": "update_body", "delete": "delete_body"}),
        name="api-consortium-body-detail",
    ),
    path(
        "consortia/<str:public_id>/agreements",
        ConsortiumViewSet.as_view({"get": "agreements", "post": "create_agreement"}, **UPLOAD),
        name="api-consortium-agreements",
    ),
    path(
        "consortium-members/<str:public_id>",
        ConsortiumMemberViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-consortium-member-detail",
    ),
    path(
        "consortium-members/<str:public_id>/remove",
        ConsortiumMemberViewSet.as_view({"post": "remove"}),
        name="api-consortium-member-remove",
    ),
    path(
        "agreements/<str:public_id>",
        AgreementViewSet.as_view({"patch": "partial_update"}),
        name="api-agreement-detail",
    ),
    path(
        "agreements/<str:public_id>/download",
        AgreementViewSet.as_view({"get": "download"}, renderer_classes=[JSONRenderer, PassthroughRenderer]),
        name="api-agreement-download",
    ),
    path("grids", GridViewSet.as_view({"get": "list", "post": "create"}), name="api-grid-list"),
    path(
        "grids/<str:public_id>",
        GridViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-grid-detail",
    ),
    path("grids/<str:public_id>/assign", GridViewSet.as_view({"post": "assign"}), name="api-grid-assign"),
    path(
        "grids/<str:public_id>/unassign",
        GridViewSet.as_view({"post": "unassign"}),
        name="api-grid-unassign",
    ),
    path("coverage", CoverageViewSet.as_view({"get": "retrieve"}), name="api-coverage"),
]
