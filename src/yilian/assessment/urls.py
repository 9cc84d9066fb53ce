"""URLs of assessment (/assessment/...)."""

from __future__ import annotations

from django.urls import URLPattern

from yilian.assessment.views import pages

app_name = "assessment"

urlpatterns: list[URLPattern] = pages.urlpatterns
