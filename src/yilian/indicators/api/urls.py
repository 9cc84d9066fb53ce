"""API URLs of indicators (/api/v1/...)."""

from __future__ import annotations

from django.urls import URLPattern, path

from yilian.core.api.pagination import CappedKeysFirstPagination
from yilian.indicators.api.views import (
    CatalogueViewSet,
    DataItemViewSet,
    IndicatorViewSet,
    RefreshViewSet,
    ValueViewSet,
)

ONE = {"pagination_class": None}

urlpatterns: list[URLPattern] = [
    path("indicator-catalogues", CatalogueViewSet.as_view({"get": "list"}), name="api-indicator-catalogues"),
    path(
        "indicators", IndicatorViewSet.as_view({"get": "list", "post": "create"}), name="api-indicator-list"
    ),
    path(
        "indicators/<str:public_id>",
        IndicatorViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-indicator-detail",
    ),
    path("data-items", DataItemViewSet.as_view({"get": "list"}, **ONE), name="api-data-items"),
    path("indicator-values", ValueViewSet.as_view({"get": "list"}), name="api-indicator-values"),
    path(
        "indicator-values/parts",
        ValueViewSet.as_view({"get": "parts"}, **ONE),
        name="api-indicator-value-parts",
    ),
    path(
        "indicator-values/records",
        # A county's year holds millions of records: count at most a thousand, read keys first.
        ValueViewSet.as_view({"get": "records"}, pagination_class=CappedKeysFirstPagination),
        name="api-indicator-value-records",
    ),
    path(
        "indicator-refreshes",
        RefreshViewSet.as_view({"get": "list", "post": "create"}),
        name="api-indicator-refreshes",
    ),
]
