"""Teleconsultation API routes.

Workflow actions are ``POST teleconsultations/<id>/<action>`` with the action
named exactly as in ``available_actions`` (``accept``, ``sign_opinion``…).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer

from yilian.core.api.views import PassthroughRenderer
from yilian.telemedicine.api.views import (
    ACTION_VIEWS,
    AttachmentViewSet,
    AvailabilityViewSet,
    ChargeViewSet,
    FeeViewSet,
    FreeTimeViewSet,
    StatisticsViewSet,
    TeleconsultationViewSet,
)

UPLOAD = {"parser_classes": [MultiPartParser]}
ONE = {"pagination_class": None}

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "teleconsultations",
        TeleconsultationViewSet.as_view({"get": "list", "post": "create"}),
        name="api-teleconsultation-list",
    ),
    path(
        "teleconsultations/free-times",
        FreeTimeViewSet.as_view({"get": "list"}),
        name="api-teleconsultation-free-times",
    ),
    path(
        "teleconsultations/<str:public_id>",
        TeleconsultationViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-teleconsultation-detail",
    ),
    path(
        "teleconsultations/<str:public_id>/attachments",
        TeleconsultationViewSet.as_view({"post": "attach"}, **UPLOAD, **ONE),
        name="api-teleconsultation-attachments",
    ),
    *[
        path(
            f"teleconsultations/<str:public_id>/{action}",
            view.as_view({"post": "create"}, **ONE),
            name=f"api-teleconsultation-{action.replace('_', '-')}",
        )
        for action, view in ACTION_VIEWS.items()
    ],
    path(
        "teleconsultation-attachments/<str:public_id>/download",
        AttachmentViewSet.as_view(
            {"get": "download"}, renderer_classes=[JSONRenderer, PassthroughRenderer], **ONE
        ),
        name="api-teleconsultation-attachment-download",
    ),
    path(
        "teleconsultation-availability",
        AvailabilityViewSet.as_view({"get": "list", "post": "create"}),
        name="api-teleconsultation-availability",
    ),
    path(
        "teleconsultation-availability/<str:public_id>",
        AvailabilityViewSet.as_view({"delete": "destroy"}, **ONE),
        name="api-teleconsultation-availability-detail",
    ),
    path(
        "teleconsultation-charges",
        ChargeViewSet.as_view({"get": "list"}),
        name="api-teleconsultation-charges",
    ),
    path(
        "consortia/<str:public_id>/teleconsultation-fees",
        FeeViewSet.as_view({"get": "read", "put": "update"}, **ONE),
        name="api-consortium-teleconsultation-fees",
    ),
    path(
        "teleconsultation-statistics",
        StatisticsViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-teleconsultation-statistics",
    ),
]
