"""Diagnostics API routes. Workflow actions are ``POST diagnostic-orders/<id>/<action>``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer

from yilian.core.api.views import PassthroughRenderer
from yilian.diagnostics.api.views import (
    ACTION_VIEWS,
    AlertViewSet,
    CentreViewSet,
    FileViewSet,
    ItemViewSet,
    OrderViewSet,
    PdfRenderer,
    ReadingListViewSet,
    RuleViewSet,
    StatisticsViewSet,
)

ONE = {"pagination_class": None}
PDF = {"renderer_classes": [JSONRenderer, PdfRenderer], **ONE}

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "diagnostic-centres",
        CentreViewSet.as_view({"get": "list", "post": "create"}),
        name="api-diag-centres",
    ),
    path(
        "diagnostic-centres/<str:public_id>",
        CentreViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-diag-centre",
    ),
    path("diagnostic-items", ItemViewSet.as_view({"get": "list", "post": "create"}), name="api-diag-items"),
    path(
        "diagnostic-items/<str:public_id>",
        ItemViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-diag-item",
    ),
    path("recognition-rules", RuleViewSet.as_view({"get": "list", "post": "create"}), name="api-diag-rules"),
    path(
        "recognition-rules/<str:public_id>",
        RuleViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-diag-rule",
    ),
    path(
        "diagnostic-orders", OrderViewSet.as_view({"get": "list", "post": "create"}), name="api-diag-orders"
    ),
    path(
        "diagnostic-orders/recognised",
        OrderViewSet.as_view({"get": "recognised"}, **ONE),
        name="api-diag-recognised",
    ),
    path(
        "diagnostic-orders/recognised/use",
        OrderViewSet.as_view({"post": "use_recognised"}, **ONE),
        name="api-diag-recognised-use",
    ),
    path(
        "diagnostic-orders/receive", OrderViewSet.as_view({"post": "receive"}, **ONE), name="api-diag-receive"
    ),
    path(
        "diagnostic-orders/<str:public_id>",
        OrderViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-diag-order",
    ),
    path(
        "diagnostic-orders/<str:public_id>/files",
        OrderViewSet.as_view({"post": "upload"}, parser_classes=[MultiPartParser], **ONE),
        name="api-diag-order-files",
    ),
    path(
        "diagnostic-orders/<str:public_id>/report.pdf",
        OrderViewSet.as_view({"get": "report_pdf"}, **PDF),
        name="api-diag-order-report",
    ),
    path(
        "diagnostic-orders/<str:public_id>/label.pdf",
        OrderViewSet.as_view({"get": "label_pdf"}, **PDF),
        name="api-diag-order-label",
    ),
    path(
        "diagnostic-orders/<str:public_id>/critical-value",
        OrderViewSet.as_view({"post": "critical_value"}, **ONE),
        name="api-diag-order-critical-value",
    ),
    *[
        path(
            f"diagnostic-orders/<str:public_id>/{action}",
            view.as_view({"post": "create"}, **ONE),
            name=f"api-diag-order-{action.replace('_', '-')}",
        )
        for action, view in ACTION_VIEWS.items()
    ],
    path(
        "diagnostic-files/<str:public_id>/download",
        FileViewSet.as_view({"get": "download"}, renderer_classes=[JSONRenderer, PassthroughRenderer], **ONE),
        name="api-diag-file-download",
    ),
    path("reading-list", ReadingListViewSet.as_view({"get": "list"}), name="api-diag-reading-list"),
    path("critical-alerts", AlertViewSet.as_view({"get": "list"}), name="api-diag-alerts"),
    path(
        "critical-alerts/<str:public_id>/acknowledge",
        AlertViewSet.as_view({"post": "acknowledge"}, **ONE),
        name="api-diag-alert-acknowledge",
    ),
    path(
        "diagnostics/statistics",
        StatisticsViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-diag-statistics",
    ),
]
