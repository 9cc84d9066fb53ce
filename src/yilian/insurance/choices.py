"""Code lists of insurance."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClaimKind(models.TextChoices):
    """What a settlement record paid for."""

    OUTPATIENT = "outpatient", _("门急诊")
    INPATIENT = "inpatient", _("住院")
    PHARMACY = "pharmacy", _("定点药店购药")


class ProviderPlace(models.TextChoices):
    """Where the providing institution stands relative to the consortium's pool (derived on import)."""

    MEMBER = "member", _("医共体成员")
    IN_COUNTY = "in_county", _("县域内其他机构")
    OUT_OF_COUNTY = "out_of_county", _("县域外")
    PHARMACY = "pharmacy", _("定点药店")


class SettlementTier(models.TextChoices):
    """The three tiers a surplus is split among (牵头医院 : 乡镇卫生院 : 村卫生室)."""

    LEAD = "lead", _("牵头医院")
    TOWNSHIP = "township", _("乡镇（社区）卫生院")
    VILLAGE = "village", _("村卫生室")


class SettlementStatus(models.TextChoices):
    """Where a frozen settlement version stands (derived, not stored: the latest unreopened version is in force)."""

    IN_FORCE = "in_force", _("生效")
    REOPENED = "reopened", _("已重新开放")
    SUPERSEDED = "superseded", _("已被新版本取代")
