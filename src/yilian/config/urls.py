"""Top-level URLs: the UI, the REST API, its schema and docs, health check, admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from yilian.core.ui import views as shell_views

urlpatterns = [
    path("", shell_views.home, name="home"),
    path("healthz", shell_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("yilian.accounts.urls")),
    path("registry/", include("yilian.institutions.urls")),
    path("people/", include("yilian.people.urls")),
    path("referrals/", include("yilian.referrals.urls")),
    path("diagnostics/", include("yilian.diagnostics.urls")),
    path("telemedicine/", include("yilian.telemedicine.urls")),
    path("family-doctors/", include("yilian.family_doctors.urls")),
    path("chronic-care/", include("yilian.chronic_care.urls")),
    path("prescriptions/", include("yilian.prescriptions.urls")),
    path("outreach/", include("yilian.outreach.urls")),
    path("capacity/", include("yilian.capacity_building.urls")),
    path("insurance/", include("yilian.insurance.urls")),
    path("imports/", include("yilian.ingestion.urls")),
    path("indicators/", include("yilian.indicators.urls")),
    path("assessment/", include("yilian.assessment.urls")),
    path("cockpit/", include("yilian.cockpit.urls")),
    path("notifications/", include("yilian.notifications.urls")),
    path("api/v1/", include("yilian.config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
