"""专家下沉 API routes."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.renderers import JSONRenderer

from yilian.core.api.views import PassthroughRenderer
from yilian.outreach.api.views import (
    BatchViewSet,
    BookingViewSet,
    IndicatorViewSet,
    PostingViewSet,
    ReportViewSet,
    SessionViewSet,
    StatisticsViewSet,
    VisitViewSet,
)

ONE = {"pagination_class": None}

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "outreach-batches",
        BatchViewSet.as_view({"get": "list", "post": "create"}),
        name="api-outreach-batches",
    ),
    path(
        "outreach-batches/<str:public_id>",
        BatchViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-outreach-batch-detail",
    ),
    path(
        "outreach-batches/<str:public_id>/visits",
        BatchViewSet.as_view({"post": "add_visit"}, **ONE),
        name="api-outreach-batch-visits",
    ),
    path(
        "outreach-batches/<str:public_id>/<str:action>",
        BatchViewSet.as_view({"post": "act"}, **ONE),
        name="api-outreach-batch-act",
    ),
    path(
        "outreach-visits/<str:public_id>",
        VisitViewSet.as_view({"patch": "partial_update", "delete": "destroy"}, **ONE),
        name="api-outreach-visit-detail",
    ),
    path(
        "outreach-postings",
        PostingViewSet.as_view({"get": "list", "post": "create"}),
        name="api-outreach-postings",
    ),
    path(
        "outreach-postings/<str:public_id>",
        PostingViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-outreach-posting-detail",
    ),
    path(
        "outreach-postings/<str:public_id>/<str:action>",
        PostingViewSet.as_view({"post": "act"}, **ONE),
        name="api-outreach-posting-act",
    ),
    path(
        "outreach-posting-indicator",
        IndicatorViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-outreach-posting-indicator",
    ),
    path(
        "expert-clinic-sessions",
        SessionViewSet.as_view({"get": "list", "post": "create"}),
        name="api-expert-clinic-sessions",
    ),
    path(
        "expert-clinic-sessions/<str:public_id>",
        SessionViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-expert-clinic-session-detail",
    ),
    path(
        "expert-clinic-sessions/<str:public_id>/cancel",
        SessionViewSet.as_view({"post": "cancel"}, **ONE),
        name="api-expert-clinic-session-cancel",
    ),
    path(
        "expert-clinic-slots/<str:public_id>/booking",
        BookingViewSet.as_view({"post": "create"}, **ONE),
        name="api-expert-clinic-slot-booking",
    ),
    path(
        "expert-clinic-bookings", BookingViewSet.as_view({"get": "list"}), name="api-expert-clinic-bookings"
    ),
    path(
        "expert-clinic-bookings/<str:public_id>/cancel",
        BookingViewSet.as_view({"post": "cancel"}, **ONE),
        name="api-expert-clinic-booking-cancel",
    ),
    path("outreach-report", ReportViewSet.as_view({"get": "retrieve"}, **ONE), name="api-outreach-report"),
    path(
        "outreach-report/export",
        ReportViewSet.as_view({"get": "export"}, renderer_classes=[JSONRenderer, PassthroughRenderer], **ONE),
        name="api-outreach-report-export",
    ),
    path(
        "outreach-statistics",
        StatisticsViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-outreach-statistics",
    ),
]
