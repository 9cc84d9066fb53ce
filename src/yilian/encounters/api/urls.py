"""Encounter API routes."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from yilian.encounters.api.views import EncounterViewSet, ServiceVolumeViewSet

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "encounters", EncounterViewSet.as_view({"get": "list", "post": "create"}), name="api-encounter-list"
    ),
    path(
        "encounters/<str:public_id>",
        EncounterViewSet.as_view({"get": "retrieve"}),
        name="api-encounter-detail",
    ),
    path(
        "encounters/<str:public_id>/discharge",
        EncounterViewSet.as_view({"post": "discharge"}),
        name="api-encounter-discharge",
    ),
    path(
        "encounters/<str:public_id>/flag-recovery",
        EncounterViewSet.as_view({"post": "flag_recovery"}),
        name="api-encounter-flag-recovery",
    ),
    path("service-volumes", ServiceVolumeViewSet.as_view({"post": "create"}), name="api-service-volumes"),
]
