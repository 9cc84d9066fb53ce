"""App configuration of teleconsultation: audit labels and menu entries."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelemedicineConfig(AppConfig):
    name = "yilian.telemedicine"
    label = "telemedicine"
    verbose_name = _("远程会诊")
