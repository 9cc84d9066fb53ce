"""Insurance API routes (/api/v1/...)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.renderers import JSONRenderer

from yilian.core.api.views import PassthroughRenderer
from yilian.insurance.api import cost_stories as cost_story_api
from yilian.insurance.api.views import (
    BudgetViewSet,
    ClaimViewSet,
    MemberTierViewSet,
    RuleViewSet,
    SettlementViewSet,
    WhatIfViewSet,
)

ONE = {"pagination_class": None}
FILE = {"renderer_classes": [JSONRenderer, PassthroughRenderer], **ONE}

urlpatterns: list[URLPattern | URLResolver] = [
    path("budgets", BudgetViewSet.as_view({"get": "list", "post": "create"}), name="api-budget-list"),
    path(
        "budgets/<str:public_id>",
        BudgetViewSet.as_view({"get": "retrieve", "put": "update"}, **ONE),
        name="api-budget-detail",
    ),
    path(
        "budgets/<str:public_id>/monthly",
        BudgetViewSet.as_view({"get": "monthly"}, **ONE),
        name="api-budget-monthly",
    ),
    path(
        "budgets/<str:public_id>/rules",
        RuleViewSet.as_view({"get": "list", "post": "create"}),
        name="api-budget-rules",
    ),
    path(
        "budgets/<str:public_id>/tiers",
        MemberTierViewSet.as_view({"get": "retrieve", "put": "update"}, **ONE),
        name="api-budget-tiers",
    ),
    path(
        "budgets/<str:public_id>/whatif",
        WhatIfViewSet.as_view({"post": "create"}, **ONE),
        name="api-budget-whatif",
    ),
    path(
        "budgets/<str:public_id>/settlements",
        SettlementViewSet.as_view({"get": "list", "post": "create"}),
        name="api-budget-settlements",
    ),
    path(
        "settlements/<str:public_id>.pdf",
        SettlementViewSet.as_view({"get": "pdf"}, **FILE),
        name="api-settlement-pdf",
    ),
    path(
        "settlements/<str:public_id>.xlsx",
        SettlementViewSet.as_view({"get": "xlsx"}, **FILE),
        name="api-settlement-xlsx",
    ),
    path(
        "settlements/<str:public_id>/reopen",
        SettlementViewSet.as_view({"post": "reopen"}, **ONE),
        name="api-settlement-reopen",
    ),
    path(
        "settlements/<str:public_id>",
        SettlementViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-settlement",
    ),
    path("claims", ClaimViewSet.as_view({"get": "list"}), name="api-claim-list"),
    path(
        "claims/aggregates", ClaimViewSet.as_view({"get": "aggregates"}, **ONE), name="api-claim-aggregates"
    ),
    path(
        "claims/<str:source_record_id>/unreasonable",
        ClaimViewSet.as_view({"post": "mark"}, **ONE),
        name="api-claim-mark",
    ),
]
urlpatterns += cost_story_api.urlpatterns
