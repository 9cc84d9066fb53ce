"""Choices of family-doctor contracting."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TeamMemberRole(models.TextChoices):
    """What a member does in a contract team (Art. 22: primary GPs and nurses, hospital specialists,
    public-health staff)."""

    GENERAL_PRACTITIONER = "general_practitioner", _("全科医生")
    NURSE = "nurse", _("护士")
    SPECIALIST = "specialist", _("专科医生")
    PUBLIC_HEALTH = "public_health", _("公共卫生人员")


class PackageKind(models.TextChoices):
    """A service package is the free basic one or a paid personalised one."""

    BASIC = "basic", _("基础服务包（免费）")
    PERSONALISED = "personalised", _("个性化服务包（付费）")


class ContractStatus(models.TextChoices):
    """Where a contract stands. Signed and renewed contracts are in force; the daily sweep expires
    those whose term has passed."""

    SIGNED = "signed", _("已签约")
    RENEWED = "renewed", _("已续约")
    TERMINATED = "terminated", _("已解约")
    EXPIRED = "expired", _("已到期")


ACTIVE_STATUSES = (ContractStatus.SIGNED, ContractStatus.RENEWED)
"""Statuses of a contract in force (one per resident, enforced by a partial unique index)."""


class PriorityGroup(models.TextChoices):
    """The priority groups of family-doctor contracting (key populations, 重点人群)."""

    ELDERLY = "elderly", _("65岁及以上老年人")
    HYPERTENSION = "hypertension", _("高血压患者")
    DIABETES = "diabetes", _("2型糖尿病患者")
    PREGNANT = "pregnant", _("孕产妇")
    CHILDREN = "children", _("0–6岁儿童")
    DISABLED = "disabled", _("残疾人")
    POOR = "poor", _("脱贫人口/低收入人群")


class TerminationReason(models.TextChoices):
    """Why a contract ended before its term."""

    RESIDENT_REQUEST = "resident_request", _("居民申请解约")
    MOVED_AWAY = "moved_away", _("迁出本网格")
    CHANGE_TEAM = "change_team", _("改签其他团队")
    DECEASED = "deceased", _("死亡")
    TEAM_DISSOLVED = "team_dissolved", _("团队撤销")
    OTHER = "other", _("其他")
