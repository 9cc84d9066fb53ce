"""Assessment schemes, rounds, their frozen results and the evidence and judgements of qualitative items.

A scheme says what is assessed (members, the lead unit's departments, or
consortia), which indicators count with which weight and scoring rule, and
how totals become grades (优/良/中/差) and rewards. A round applies a scheme
to one consortium (or region) and period: its draft is recomputed at will;
freezing snapshots every figure with the indicator version it came from as
version n; publishing makes that version read-only and visible to members.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.assessment.choices import (
    GradingMethod,
    GroupBy,
    RoundKind,
    RoundStatus,
    SchemeSubject,
    ScoringRule,
    Verdict,
)
from yilian.core.models import BaseModel
from yilian.indicators.choices import PeriodType
from yilian.indicators.models import shown_name, shown_unit

SCORE_DIGITS = {"max_digits": 12, "decimal_places": 2}
VALUE_DIGITS = {"max_digits": 24, "decimal_places": 6}


class AssessmentScheme(BaseModel):
    """How a kind of assessment scores and grades: items, grade bands (or quartiles) and rewards.

    ``consortium`` empty means a shared scheme kept by regulators (the
    regulator's annual assessment of consortia, and the shipped templates);
    set means the consortium office's own. ``grade_bands`` maps grade →
    minimum total score; ``rewards`` maps grade → reward text.
    ``department_groups`` maps department id → group label when
    ``group_by`` is custom. ``version`` grows with every edit.
    """

    code = models.SlugField(_("编码"), max_length=60, blank=True)
    name = models.CharField(_("方案名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("所属医联体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject = models.CharField(_("考核对象"), max_length=12, choices=SchemeSubject.choices)
    period_type = models.CharField(_("考核周期"), max_length=10, choices=PeriodType.choices)
    grading = models.CharField(
        _("评级方式"), max_length=10, choices=GradingMethod.choices, default=GradingMethod.BANDS
    )
    grade_bands = models.JSONField(_("等级分数线"), default=dict, blank=True)
    rewards = models.JSONField(_("奖惩"), default=dict, blank=True)
    group_by = models.CharField(_("分组排名"), max_length=10, choices=GroupBy.choices, default="", blank=True)
    department_groups = models.JSONField(_("科室分组"), default=dict, blank=True)
    is_shipped = models.BooleanField(_("系统内置"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")

    def __str__(self) -> str:
        return self.name


class SchemeItem(models.Model):
    """One indicator of a scheme with its weight and scoring rule.

    ``bands`` (banded rule) is an optional list ``{"from", "to", "share"}``
    (share of the weight, 0–1); without it the indicator's legend colours
    score green = full, yellow = half, red = zero. Qualitative indicators
    score from the judgement: met = full, partly = half, not met = zero.
    """

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="items")
    indicator = models.ForeignKey(
        "indicators.Indicator", verbose_name=_("指标"), on_delete=models.PROTECT, related_name="+"
    )
    weight = models.DecimalField(_("分值"), max_digits=8, decimal_places=2, default=Decimal(10))
    rule = models.CharField(
        _("计分规则"), max_length=8, choices=ScoringRule.choices, default=ScoringRule.TARGET
    )
    bands = models.JSONField(_("分段"), default=list, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "indicator"], name="schemeitem_indicator_unique")
        ]
        verbose_name = _("考核项目")
        verbose_name_plural = _("考核项目")

    def __str__(self) -> str:
        return f"{self.scheme_id}:{self.indicator_id}"


class AssessmentRound(BaseModel):
    """One application of a scheme to a consortium (or a region's consortia) for one period.

    ``version`` counts freezes (0 = never frozen); ``published_version`` is
    the version members read. Freezing a published round makes version
    n + 1; earlier versions stay readable.
    """

    scheme = models.ForeignKey(
        AssessmentScheme, verbose_name=_("考核方案"), on_delete=models.PROTECT, related_name="rounds"
    )
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        "institutions.Region",
        verbose_name=_("行政区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("考核类型"), max_length=20, choices=RoundKind.choices)
    period_type = models.CharField(_("考核周期"), max_length=10, choices=PeriodType.choices)
    period_start = models.DateField(_("周期开始"))
    title = models.CharField(_("标题"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.DRAFT
    )
    version = models.PositiveIntegerField(_("版本"), default=0)
    published_version = models.PositiveIntegerField(_("发布版本"), null=True, blank=True)
    computed_at = models.DateTimeField(_("草稿计算时间"), null=True, blank=True)
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-period_start", "-created_at"]
        verbose_name = _("考核轮次")
        verbose_name_plural = _("考核轮次")

    def __str__(self) -> str:
        return self.title or f"{self.scheme} {self.period_start}"


class RoundResult(models.Model):
    """One subject's figure and score on one indicator in one version of a round (0 = the draft).

    Snapshots everything shown: the subject's name, the indicator's code,
    name, version and working-definition mark, numerator, denominator and
    value, so later edits and refreshes change nothing here.
    """

    round = models.ForeignKey(AssessmentRound, on_delete=models.CASCADE, related_name="results")
    version = models.PositiveIntegerField(_("版本"))
    subject_kind = models.CharField(_("对象类型"), max_length=12)
    subject_id = models.BigIntegerField(_("对象"))
    subject_name = models.CharField(_("对象名称"), max_length=300)
    group = models.CharField(_("分组"), max_length=60, blank=True)
    indicator = models.ForeignKey(
        "indicators.Indicator", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    indicator_code = models.CharField(_("指标编码"), max_length=60)
    indicator_name = models.CharField(_("指标名称"), max_length=200)
    indicator_name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    indicator_version = models.PositiveIntegerField(_("指标版本"))
    is_working_definition = models.BooleanField(_("工作定义"), default=False)
    is_qualitative = models.BooleanField(_("定性"), default=False)
    unit = models.CharField(_("单位"), max_length=30, blank=True)
    numerator = models.DecimalField(_("分子"), null=True, **VALUE_DIGITS)
    denominator = models.DecimalField(_("分母"), null=True, **VALUE_DIGITS)
    value = models.DecimalField(_("指标值"), null=True, **VALUE_DIGITS)
    verdict = models.CharField(_("评判"), max_length=8, choices=Verdict.choices, blank=True)
    weight = models.DecimalField(_("分值"), max_digits=8, decimal_places=2)
    score = models.DecimalField(_("得分"), **SCORE_DIGITS)
    rank = models.PositiveIntegerField(_("排名"), null=True)

    class Meta:
        ordering = ["round", "version", "subject_name", "indicator_code"]
        indexes = [models.Index(fields=["round", "version"], name="roundresult_round_version")]
        verbose_name = _("考核指标结果")
        verbose_name_plural = _("考核指标结果")

    def __str__(self) -> str:
        return f"{self.round_id} v{self.version} {self.subject_name} {self.indicator_code}"

    @property
    def display_indicator_name(self) -> str:
        """The snapshot indicator name in the reader's language (English when one was snapshot)."""
        return shown_name(self.indicator_name, self.indicator_name_en)

    @property
    def display_unit(self) -> str:
        """The snapshot unit in the reader's language (a known unit translated, any other as stored)."""
        return shown_unit(self.unit)


class RoundTotal(models.Model):
    """One subject's total score, grade, rank and reward in one version of a round (0 = the draft)."""

    round = models.ForeignKey(AssessmentRound, on_delete=models.CASCADE, related_name="totals")
    version = models.PositiveIntegerField(_("版本"))
    subject_kind = models.CharField(_("对象类型"), max_length=12)
    subject_id = models.BigIntegerField(_("对象"))
    subject_name = models.CharField(_("对象名称"), max_length=300)
    group = models.CharField(_("分组"), max_length=60, blank=True)
    score = models.DecimalField(_("总分"), **SCORE_DIGITS)
    grade = models.CharField(_("等级"), max_length=10, blank=True)
    rank = models.PositiveIntegerField(_("排名"), null=True)
    reward = models.CharField(_("奖惩"), max_length=300, blank=True)

    class Meta:
        ordering = ["round", "version", "group", "rank", "subject_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "version", "subject_kind", "subject_id"], name="roundtotal_subject_unique"
            )
        ]
        verbose_name = _("考核总分")
        verbose_name_plural = _("考核总分")

    def __str__(self) -> str:
        return f"{self.round_id} v{self.version} {self.subject_name} {self.score}"


class EvidenceFile(BaseModel):
    """A file uploaded as evidence for a qualitative indicator of a round and subject (under MEDIA_ROOT)."""

    round = models.ForeignKey(AssessmentRound, on_delete=models.CASCADE, related_name="evidence")
    indicator = models.ForeignKey("indicators.Indicator", on_delete=models.PROTECT, related_name="+")
    subject_kind = models.CharField(_("对象类型"), max_length=12)
    subject_id = models.BigIntegerField(_("对象"))
    file = models.FileField(_("文件"), upload_to="assessment/evidence/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")

    def __str__(self) -> str:
        return self.original_name


class Judgement(BaseModel):
    """An assessor's judgement of a qualitative indicator for one subject of a round (the latest one counts)."""

    round = models.ForeignKey(AssessmentRound, on_delete=models.CASCADE, related_name="judgements")
    indicator = models.ForeignKey("indicators.Indicator", on_delete=models.PROTECT, related_name="+")
    subject_kind = models.CharField(_("对象类型"), max_length=12)
    subject_id = models.BigIntegerField(_("对象"))
    verdict = models.CharField(_("评判"), max_length=8, choices=Verdict.choices)
    comment = models.TextField(_("评语"), blank=True)
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    judged_at = models.DateTimeField(_("评判时间"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "indicator", "subject_kind", "subject_id"], name="judgement_subject_unique"
            )
        ]
        verbose_name = _("定性评判")
        verbose_name_plural = _("定性评判")

    def __str__(self) -> str:
        return f"{self.round_id} {self.indicator_id} {self.verdict}"
