"""App configuration of insurance: settlement records (claims), the global budget and its settlement."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsuranceConfig(AppConfig):
    name = "yilian.insurance"
    label = "insurance"
    verbose_name = _("医保")
