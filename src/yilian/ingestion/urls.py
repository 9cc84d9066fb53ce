"""UI URLs of ingestion (数据导入) under /imports/."""

from __future__ import annotations

from django.urls import URLPattern

from yilian.ingestion.views import urlpatterns as view_patterns

app_name = "ingestion"

urlpatterns: list[URLPattern] = [*view_patterns]
