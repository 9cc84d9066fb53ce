"""App configuration of the shared diagnostic centres: audit labels and menu entries."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiagnosticsConfig(AppConfig):
    name = "yilian.diagnostics"
    label = "diagnostics"
    verbose_name = _("共享诊断中心")
