"""URLs of cockpit: /cockpit/ and /cockpit/regulator/, each with an Excel export."""

from __future__ import annotations

from django.urls import URLPattern

from yilian.cockpit.views import urlpatterns as page_patterns

app_name = "cockpit"

urlpatterns: list[URLPattern] = [*page_patterns]
