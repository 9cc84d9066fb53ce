"""Teleconsultation pages under /telemedicine/."""

from __future__ import annotations

from yilian.telemedicine.views import clinical

app_name = "telemedicine"
urlpatterns = clinical.urlpatterns
