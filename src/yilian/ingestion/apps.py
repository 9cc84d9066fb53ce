"""App configuration of ingestion: HIS encounter and insurance claim files imported as background jobs."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestionConfig(AppConfig):
    name = "yilian.ingestion"
    label = "ingestion"
    verbose_name = _("数据导入")
