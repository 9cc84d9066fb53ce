"""处方与用药目录 API routes."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer

from yilian.core.api.views import PassthroughRenderer
from yilian.prescriptions.api.views import (
    DeliveryViewSet,
    DrugViewSet,
    FormularyViewSet,
    PrescriptionViewSet,
    StatisticsViewSet,
    StockViewSet,
)

ONE = {"pagination_class": None}

urlpatterns: list[URLPattern | URLResolver] = [
    path("drugs", DrugViewSet.as_view({"get": "list", "post": "create"}), name="api-drug-list"),
    path(
        "stock-lists/<str:public_id>",
        StockViewSet.as_view({"get": "list", "post": "create"}),
        name="api-stock-list",
    ),
    path(
        "stock-lists/<str:public_id>/import",
        StockViewSet.as_view({"post": "upload"}, parser_classes=[MultiPartParser], **ONE),
        name="api-stock-import",
    ),
    path(
        "stock-lists/<str:public_id>/drugs/<str:drug_id>",
        StockViewSet.as_view({"delete": "destroy"}, **ONE),
        name="api-stock-item",
    ),
    path(
        "formularies/<str:public_id>",
        FormularyViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-formulary",
    ),
    path(
        "prescriptions",
        PrescriptionViewSet.as_view({"get": "list", "post": "create"}),
        name="api-prescription-list",
    ),
    path(
        "prescriptions/statistics",
        StatisticsViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-prescription-statistics",
    ),
    path(
        "prescriptions/<str:public_id>",
        PrescriptionViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-prescription-detail",
    ),
    path(
        "prescriptions/<str:public_id>/void",
        PrescriptionViewSet.as_view({"post": "void"}, **ONE),
        name="api-prescription-void",
    ),
    path(
        "prescriptions/<str:public_id>/pdf",
        PrescriptionViewSet.as_view(
            {"get": "pdf"}, renderer_classes=[JSONRenderer, PassthroughRenderer], **ONE
        ),
        name="api-prescription-pdf",
    ),
    path("deliveries", DeliveryViewSet.as_view({"get": "list"}), name="api-delivery-list"),
    path(
        "deliveries/<str:public_id>",
        DeliveryViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-delivery-detail",
    ),
    *[
        path(
            f"deliveries/<str:public_id>/{action}",
            DeliveryViewSet.as_view({"post": "step"}, **ONE),
            {"action": action},
            name=f"api-delivery-{action.replace('_', '-')}",
        )
        for action in ("dispatch", "receive", "hand_over", "cancel")
    ],
]
