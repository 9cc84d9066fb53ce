"""Code lists of assessment: what a scheme assesses, how items score, rounds and grades."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.indicators.choices import PeriodType


class SchemeSubject(models.TextChoices):
    """What a scheme grades: the consortium's members, the lead unit's departments, or consortia."""

    MEMBERS = "members", _("成员单位")
    DEPARTMENTS = "departments", _("牵头单位临床科室")
    CONSORTIA = "consortia", _("医联体")


SUBJECT_UNIT_KIND = {
    SchemeSubject.MEMBERS: "institution",
    SchemeSubject.DEPARTMENTS: "department",
    SchemeSubject.CONSORTIA: "consortium",
}
"""The indicator unit kind whose figures each subject reads."""


class GradingMethod(models.TextChoices):
    """Grades from score thresholds, or by quartile of the ranking."""

    BANDS = "bands", _("按分数段")
    QUARTILE = "quartile", _("按四分位")


class Grade(models.TextChoices):
    """优 / 良 / 中 / 差."""

    EXCELLENT = "excellent", _("优")
    GOOD = "good", _("良")
    FAIR = "fair", _("中")
    POOR = "poor", _("差")


GRADE_COLOURS = {"excellent": "green", "good": "blue", "fair": "yellow", "poor": "red"}
"""Colour of each grade in tables and charts."""


class ScoringRule(models.TextChoices):
    """How a scheme item turns an indicator value into points."""

    TARGET = "target", _("目标值达成")
    BANDED = "banded", _("分段计分")
    RANK = "rank", _("按排名")


class GroupBy(models.TextChoices):
    """How subjects are split before ranking (departments: medicine and surgery ranked apart)."""

    NONE = "", _("不分组")
    SPECIALTY = "specialty", _("按诊疗科目（内科/外科）")
    CUSTOM = "custom", _("按方案指定的分组")


class RoundKind(models.TextChoices):
    """The kinds of assessment round the seeds describe."""

    MONTHLY_RANKING = "monthly_ranking", _("月度排名")
    HALF_YEAR_TARGET = "half_year_target", _("半年目标考核")
    SELF = "self", _("自评")
    REGULATOR_ANNUAL = "regulator_annual", _("年度综合绩效考核")


ROUND_KIND_PERIOD = {
    RoundKind.MONTHLY_RANKING: PeriodType.MONTH,
    RoundKind.HALF_YEAR_TARGET: PeriodType.HALF_YEAR,
    RoundKind.REGULATOR_ANNUAL: PeriodType.YEAR,
}
"""The period type a round kind's name promises; a self-assessment (not listed) takes any period."""


class RoundStatus(models.TextChoices):
    """Draft (figures recomputed at will) → frozen (a snapshot version) → published (read-only)."""

    DRAFT = "draft", _("草稿")
    FROZEN = "frozen", _("已冻结")
    PUBLISHED = "published", _("已发布")


class Verdict(models.TextChoices):
    """An assessor's judgement of a qualitative indicator."""

    MET = "met", _("达到")
    PARTLY = "partly", _("部分达到")
    NOT_MET = "not_met", _("未达到")
