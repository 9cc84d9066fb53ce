"""Code lists of ingestion."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    """What a file holds."""

    ENCOUNTERS = "encounters", _("诊疗记录")
    CLAIMS = "claims", _("医保结算记录")


class ImportStatus(models.TextChoices):
    """Where an import job stands."""

    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")
    REJECTED = "rejected", _("未导入（存在错误行）")
