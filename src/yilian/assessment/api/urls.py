"""API URLs of assessment (/api/v1/assessment/...)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer

from yilian.assessment.api.views import RoundViewSet, SchemeViewSet
from yilian.core.api.views import PassthroughRenderer

ONE = {"pagination_class": None}
FILE = {"renderer_classes": [JSONRenderer, PassthroughRenderer], **ONE}
P = "assessment/"

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        f"{P}schemes", SchemeViewSet.as_view({"get": "list", "post": "create"}), name="api-assessment-schemes"
    ),
    path(
        f"{P}schemes/<str:public_id>",
        SchemeViewSet.as_view({"get": "retrieve", "put": "update"}, **ONE),
        name="api-assessment-scheme",
    ),
    path(f"{P}rounds", RoundViewSet.as_view({"get": "list", "post": "create"}), name="api-assessment-rounds"),
    path(
        f"{P}rounds/<str:public_id>/report.pdf",
        RoundViewSet.as_view({"get": "pdf"}, **FILE),
        name="api-assessment-round-pdf",
    ),
    path(
        f"{P}rounds/<str:public_id>/report.xlsx",
        RoundViewSet.as_view({"get": "xlsx"}, **FILE),
        name="api-assessment-round-xlsx",
    ),
    path(
        f"{P}rounds/<str:public_id>",
        RoundViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-assessment-round",
    ),
    *[
        path(
            f"{P}rounds/<str:public_id>/{action}",
            RoundViewSet.as_view({method: action}, **ONE),
            name=f"api-assessment-round-{action}",
        )
        for action, method in (
            ("compute", "post"),
            ("freeze", "post"),
            ("publish", "post"),
            ("compare", "get"),
        )
    ],
    path(
        f"{P}rounds/<str:public_id>/totals",
        RoundViewSet.as_view({"get": "totals"}),
        name="api-assessment-round-totals",
    ),
    path(
        f"{P}rounds/<str:public_id>/results",
        RoundViewSet.as_view({"get": "results"}),
        name="api-assessment-round-results",
    ),
    path(
        f"{P}rounds/<str:public_id>/judgements",
        RoundViewSet.as_view({"post": "judge"}, **ONE),
        name="api-assessment-round-judgements",
    ),
    path(
        f"{P}rounds/<str:public_id>/evidence",
        RoundViewSet.as_view({"post": "evidence"}, parser_classes=[MultiPartParser], **ONE),
        name="api-assessment-round-evidence",
    ),
]
