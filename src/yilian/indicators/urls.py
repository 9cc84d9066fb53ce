"""URLs of indicators under /indicators/: the catalogue, data items, figures, refresh runs, ranking policy."""

from __future__ import annotations

from django.urls import URLPattern

from yilian.indicators.views import catalogue, figures

app_name = "indicators"

urlpatterns: list[URLPattern] = [*figures.urlpatterns, *catalogue.urlpatterns]
