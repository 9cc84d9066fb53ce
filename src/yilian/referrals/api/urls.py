"""Referral API routes.

Workflow actions are ``POST referrals/<id>/<action>`` with the action named
exactly as in ``available_actions`` (``accept``, ``no_show``, ``request_cancel``…).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer

from yilian.core.api.views import PassthroughRenderer
from yilian.referrals.api.views import (
    ACTION_VIEWS,
    AttachmentViewSet,
    CapacityViewSet,
    ConsortiumReferralViewSet,
    CriterionViewSet,
    FollowUpViewSet,
    PdfRenderer,
    ReceiverViewSet,
    ReferralViewSet,
    StatisticsViewSet,
    WorklistViewSet,
    XlsxRenderer,
)

UPLOAD = {"parser_classes": [MultiPartParser]}
ONE = {"pagination_class": None}

urlpatterns: list[URLPattern | URLResolver] = [
    path("referrals", ReferralViewSet.as_view({"get": "list", "post": "create"}), name="api-referral-list"),
    path(
        "referrals/<str:public_id>",
        ReferralViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-referral-detail",
    ),
    path(
        "referrals/<str:public_id>/check",
        ReferralViewSet.as_view({"get": "check"}, **ONE),
        name="api-referral-check",
    ),
    path(
        "referrals/<str:public_id>/attachments",
        ReferralViewSet.as_view({"post": "attach"}, **UPLOAD, **ONE),
        name="api-referral-attachments",
    ),
    path(
        "referrals/<str:public_id>/slip.pdf",
        ReferralViewSet.as_view({"get": "slip"}, renderer_classes=[JSONRenderer, PdfRenderer], **ONE),
        name="api-referral-slip",
    ),
    path(
        "referrals/<str:public_id>/ws445",
        ReferralViewSet.as_view({"get": "ws445"}, **ONE),
        name="api-referral-ws445",
    ),
    *[
        path(
            f"referrals/<str:public_id>/{action}",
            view.as_view({"post": "create"}, **ONE),
            name=f"api-referral-{action.replace('_', '-')}",
        )
        for action, view in ACTION_VIEWS.items()
    ],
    path(
        "referral-attachments/<str:public_id>/download",
        AttachmentViewSet.as_view(
            {"get": "download"}, renderer_classes=[JSONRenderer, PassthroughRenderer], **ONE
        ),
        name="api-referral-attachment-download",
    ),
    path("referral-follow-ups", FollowUpViewSet.as_view({"get": "list"}), name="api-referral-follow-ups"),
    path(
        "referral-follow-ups/<str:public_id>/record",
        FollowUpViewSet.as_view({"post": "record"}, **ONE),
        name="api-referral-follow-up-record",
    ),
    path("referral-worklist", WorklistViewSet.as_view({"get": "list"}), name="api-referral-worklist"),
    path(
        "referral-receivers",
        ReceiverViewSet.as_view({"get": "list"}, **ONE),
        name="api-referral-receivers",
    ),
    path(
        "referral-capacity",
        CapacityViewSet.as_view({"get": "list", "post": "create"}),
        name="api-referral-capacity",
    ),
    path(
        "referral-capacity/bookable",
        CapacityViewSet.as_view({"get": "bookable"}, **ONE),
        name="api-referral-capacity-bookable",
    ),
    path(
        "consortia/<str:public_id>/referral-criteria",
        ConsortiumReferralViewSet.as_view({"get": "criteria", "post": "create_criterion"}),
        name="api-consortium-referral-criteria",
    ),
    path(
        "consortia/<str:public_id>/referral-criteria/load-scheme",
        ConsortiumReferralViewSet.as_view({"post": "load_scheme"}, **ONE),
        name="api-consortium-referral-criteria-load-scheme",
    ),
    path(
        "consortia/<str:public_id>/referral-settings",
        ConsortiumReferralViewSet.as_view({"get": "read_settings", "put": "update_settings"}, **ONE),
        name="api-consortium-referral-settings",
    ),
    path(
        "consortia/<str:public_id>/referral-subsidies",
        ConsortiumReferralViewSet.as_view({"get": "subsidies", "put": "update_subsidies"}, **ONE),
        name="api-consortium-referral-subsidies",
    ),
    path(
        "referral-criteria/<str:public_id>",
        CriterionViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-referral-criterion-detail",
    ),
    path(
        "referral-statistics",
        StatisticsViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-referral-statistics",
    ),
    path(
        "referral-statistics/export.xlsx",
        StatisticsViewSet.as_view({"get": "export"}, renderer_classes=[JSONRenderer, XlsxRenderer], **ONE),
        name="api-referral-statistics-export",
    ),
    path(
        "referral-statistics/subsidies",
        StatisticsViewSet.as_view({"get": "subsidies"}, **ONE),
        name="api-referral-statistics-subsidies",
    ),
    path(
        "referral-statistics/subsidies.xlsx",
        StatisticsViewSet.as_view(
            {"get": "subsidies_export"}, renderer_classes=[JSONRenderer, XlsxRenderer], **ONE
        ),
        name="api-referral-statistics-subsidies-export",
    ),
]
