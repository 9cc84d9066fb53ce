"""API URLs of ingestion (/api/v1/imports)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.parsers import MultiPartParser

from yilian.core.api.views import PassthroughRenderer
from yilian.ingestion.api.views import ImportJobViewSet, ImportTemplateViewSet

ONE = {"pagination_class": None}

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "imports",
        ImportJobViewSet.as_view({"get": "list", "post": "create"}, parser_classes=[MultiPartParser]),
        name="api-import-list",
    ),
    path(
        "imports/templates/<str:kind>.<str:fmt>",
        ImportTemplateViewSet.as_view({"get": "retrieve"}, renderer_classes=[PassthroughRenderer], **ONE),
        name="api-import-template",
    ),
    path(
        "imports/<str:public_id>",
        ImportJobViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-import-detail",
    ),
    path(
        "imports/<str:public_id>/errors",
        ImportJobViewSet.as_view({"get": "errors"}),
        name="api-import-errors",
    ),
    path(
        "imports/<str:public_id>/resume",
        ImportJobViewSet.as_view({"post": "resume"}, **ONE),
        name="api-import-resume",
    ),
]
