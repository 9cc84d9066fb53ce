"""处方与用药目录 pages under /prescriptions/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from yilian.prescriptions.views import clinical, formulary

app_name = "prescriptions"
urlpatterns: list[URLPattern | URLResolver] = [*formulary.urlpatterns, *clinical.urlpatterns]
