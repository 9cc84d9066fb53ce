"""REST routes of people."""

from __future__ import annotations

from django.urls import path

from yilian.people.api.views import PersonViewSet

urlpatterns = [
    path("persons", PersonViewSet.as_view({"get": "list", "post": "create"}), name="api-person-list"),
    path(
        "persons/lookup",
        PersonViewSet.as_view({"post": "lookup"}, pagination_class=None),
        name="api-person-lookup",
    ),
    path(
        "persons/<str:public_id>",
        PersonViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-person-detail",
    ),
    path(
        "persons/<str:public_id>/reveal-id-number",
        PersonViewSet.as_view({"post": "reveal_id_number"}),
        name="api-person-reveal-id-number",
    ),
]
