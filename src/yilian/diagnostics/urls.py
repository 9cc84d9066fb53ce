"""Diagnostics pages under /diagnostics/."""

from __future__ import annotations

from yilian.diagnostics.views import clinical, management

app_name = "diagnostics"
urlpatterns = clinical.urlpatterns + management.urlpatterns
