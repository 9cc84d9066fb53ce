"""REST API v1: each app contributes its routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("yilian.accounts.api.urls")),
    path("", include("yilian.institutions.api.urls")),
    path("", include("yilian.people.api.urls")),
    path("", include("yilian.referrals.api.urls")),
    path("", include("yilian.diagnostics.api.urls")),
    path("", include("yilian.encounters.api.urls")),
    path("", include("yilian.notifications.api.urls")),
    path("", include("yilian.telemedicine.api.urls")),
    path("", include("yilian.family_doctors.api.urls")),
    path("", include("yilian.chronic_care.api.urls")),
    path("", include("yilian.prescriptions.api.urls")),
    path("", include("yilian.outreach.api.urls")),
    path("", include("yilian.capacity_building.api.urls")),
    path("", include("yilian.insurance.api.urls")),
    path("", include("yilian.ingestion.api.urls")),
    path("", include("yilian.indicators.api.urls")),
    path("", include("yilian.assessment.api.urls")),
]
