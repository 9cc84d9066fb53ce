"""Chronic-disease management: registries, enrolled cases, follow-up visits and the referral rule."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yilian.chronic_care.choices import (
    Adherence,
    CaseStatus,
    CloseReason,
    ComplicationChange,
    Control,
    FollowUpMethod,
    SideEffects,
    Suggestion,
    SuggestionState,
)
from yilian.core.models import BaseModel


class ChronicRegistry(BaseModel):
    """A chronic disease managed as a registry (慢病病种): hypertension and type 2 diabetes ship with the
    platform; the consortium office or a platform administrator adds others as data.

    ``icd10_ranges`` lists inclusive ranges ``[["I10", "I15"]]`` an enrolment diagnosis must fall in;
    ``measures`` what each follow-up records (``choices.Measure``); the thresholds decide the control
    status of a visit. ``thresholds_confirmed`` is false while a threshold is a working definition.
    """

    code = models.SlugField(_("病种代码"), max_length=30, unique=True)
    name = models.CharField(_("病种名称"), max_length=60)
    icd10_ranges = models.JSONField(_("ICD-10 范围"), default=list)
    measures = models.JSONField(_("随访测量项目"), default=list)
    follow_ups_per_year = models.PositiveSmallIntegerField(
        _("每年规范随访次数"), default=4, validators=[MinValueValidator(4)]
    )
    systolic_below = models.PositiveSmallIntegerField(_("收缩压控制目标（低于）"), null=True, blank=True)
    diastolic_below = models.PositiveSmallIntegerField(_("舒张压控制目标（低于）"), null=True, blank=True)
    elderly_age = models.PositiveSmallIntegerField(_("老年人年龄（岁及以上）"), null=True, blank=True)
    elderly_systolic_below = models.PositiveSmallIntegerField(
        _("老年人收缩压目标（低于）"), null=True, blank=True
    )
    elderly_diastolic_below = models.PositiveSmallIntegerField(
        _("老年人舒张压目标（低于）"), null=True, blank=True
    )
    fasting_glucose_below = models.DecimalField(
        _("空腹血糖控制目标（低于，mmol/L）"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    referral_department_names = models.CharField(
        _("转诊科室名称关键词"),
        max_length=200,
        blank=True,
        help_text=_("以逗号分隔，按顺序匹配牵头医院的科室名称，例如：心血管内科,心内科"),
    )
    threshold_source = models.TextField(_("标准来源"), blank=True)
    thresholds_confirmed = models.BooleanField(_("标准已核实"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("慢病病种")
        verbose_name_plural = _("慢病病种")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(follow_ups_per_year__gte=4), name="chronic_registry_min_follow_ups"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def interval_days(self) -> int:
        """Days between scheduled follow-ups (365 ÷ follow-ups per year)."""
        return max(1, 365 // max(1, self.follow_ups_per_year))


class ChronicCase(BaseModel):
    """A resident enrolled in a registry (建档/纳入管理) by a primary institution, managed by it and,
    where one is named, by a family-doctor care team.

    The fields below the line are derived from the follow-ups and kept up to date by the service that
    records a follow-up under a lock of this row: ``next_due_on`` is denormalised and indexed so the
    overdue list stays fast over a large history. One active case per person and registry (partial
    unique index).
    """

    person = models.ForeignKey(
        "people.Person", verbose_name=_("居民"), on_delete=models.PROTECT, related_name="chronic_cases"
    )
    registry = models.ForeignKey(
        ChronicRegistry, verbose_name=_("病种"), on_delete=models.PROTECT, related_name="cases"
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=pgettext_lazy("chronic-disease case's managing institution", "管理机构"),
        on_delete=models.PROTECT,
        related_name="chronic_cases",
    )
    care_team = models.ForeignKey(
        "family_doctors.CareTeam",
        verbose_name=_("家庭医生团队"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chronic_cases",
    )
    diagnosis_code = models.CharField(_("确诊诊断编码"), max_length=20)
    diagnosis_name = models.CharField(_("诊断名称"), max_length=100, blank=True)
    enrolled_on = models.DateField(_("纳入管理日期"))
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("建档医生"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.ACTIVE, db_index=True
    )
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    close_reason = models.CharField(_("结案原因"), max_length=20, choices=CloseReason.choices, blank=True)
    close_note = models.CharField(_("结案说明"), max_length=300, blank=True)
    # Derived from the follow-ups (written under a row lock by follow_up_record).
    last_follow_up_on = models.DateField(_("最近随访"), null=True, blank=True)
    last_control = models.CharField(
        _("最近控制情况"), max_length=12, choices=Control.choices, default=Control.UNKNOWN
    )
    consecutive_uncontrolled = models.PositiveSmallIntegerField(_("连续控制不满意次数"), default=0)
    follow_up_count = models.PositiveIntegerField(_("随访次数"), default=0)
    next_due_on = models.DateField(_("下次随访日期"), null=True, blank=True)

    class Meta:
        ordering = ["-enrolled_on", "-id"]
        verbose_name = _("慢病管理档案")
        verbose_name_plural = _("慢病管理档案")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "registry"],
                condition=models.Q(status=CaseStatus.ACTIVE),
                name="chronic_case_one_active_per_registry",
            ),
            models.CheckConstraint(
                condition=models.Q(status=CaseStatus.ACTIVE) | models.Q(closed_on__isnull=False),
                name="chronic_case_closed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_due_on"], name="chronic_case_due"),
            models.Index(fields=["institution", "status", "next_due_on"], name="chronic_case_inst_due"),
            models.Index(fields=["care_team", "status", "next_due_on"], name="chronic_case_team_due"),
        ]

    def __str__(self) -> str:
        return f"{self.registry_id} {self.person_id}"

    @property
    def is_active(self) -> bool:
        """True while under management."""
        return self.status == CaseStatus.ACTIVE

    def days_overdue(self, today: datetime.date) -> int:
        """Days past ``next_due_on`` (0 when not overdue)."""
        if self.next_due_on is None or self.next_due_on >= today:
            return 0
        return (today - self.next_due_on).days


class FollowUp(BaseModel):
    """One follow-up visit (随访) of a case: measurements, medication, adherence, side effects,
    complications and danger signs; the control status computed from the registry's thresholds; the
    follow-up rule's suggestion and, once sent, the referral it led to.

    ``due_on`` is the date the visit was due (the case's ``next_due_on`` when it was recorded), which
    the on-time rate compares ``visited_on`` with.
    """

    case = models.ForeignKey(
        ChronicCase, verbose_name=_("管理档案"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    visited_on = models.DateField(_("随访日期"))
    method = models.CharField(_("随访方式"), max_length=10, choices=FollowUpMethod.choices)
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("随访机构"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("随访医生"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    systolic = models.PositiveSmallIntegerField(_("收缩压（mmHg）"), null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(_("舒张压（mmHg）"), null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(_("心率（次/分）"), null=True, blank=True)
    fasting_glucose = models.DecimalField(
        _("空腹血糖（mmol/L）"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    random_glucose = models.DecimalField(
        _("随机血糖（mmol/L）"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    hba1c = models.DecimalField(_("糖化血红蛋白（%）"), max_digits=4, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(_("体重（kg）"), max_digits=5, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(_("身高（cm）"), max_digits=4, decimal_places=1, null=True, blank=True)
    bmi = models.DecimalField(_("体质指数"), max_digits=4, decimal_places=1, null=True, blank=True)
    medication = models.TextField(_("用药情况"), blank=True, help_text=_("每行一种药物及用法用量"))
    adherence = models.CharField(_("服药依从性"), max_length=12, choices=Adherence.choices)
    side_effects = models.CharField(
        _("药物不良反应"), max_length=12, choices=SideEffects.choices, default=SideEffects.NONE
    )
    complications = models.CharField(
        _("并发症"), max_length=8, choices=ComplicationChange.choices, default=ComplicationChange.NONE
    )
    complications_note = models.CharField(_("并发症说明"), max_length=300, blank=True)
    danger_signs = models.JSONField(_("危险征象"), default=list, blank=True)
    symptoms = models.CharField(_("症状"), max_length=300, blank=True)
    lifestyle_advice = models.TextField(_("生活方式指导"), blank=True)
    control = models.CharField(
        _("控制情况"), max_length=12, choices=Control.choices, default=Control.UNKNOWN, db_index=True
    )
    due_on = models.DateField(_("应随访日期"), null=True, blank=True)
    next_due_on = models.DateField(_("下次随访日期"))
    suggestion = models.CharField(
        _("转诊建议"), max_length=16, choices=Suggestion.choices, default=Suggestion.NONE
    )
    suggestion_reasons = models.JSONField(_("建议原因"), default=list, blank=True)
    suggestion_state = models.CharField(
        _("建议处理"),
        max_length=10,
        choices=SuggestionState.choices,
        default=SuggestionState.NONE,
        blank=True,
    )
    suggestion_note = models.CharField(_("处理说明"), max_length=300, blank=True)
    outcome_check_due_on = models.DateField(_("转诊结果核查日期"), null=True, blank=True)
    referral = models.ForeignKey(
        "referrals.Referral",
        verbose_name=_("转诊单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The form's one-time key: a second post of the same form (a double click) returns the first record
    # instead of counting the visit twice.
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("随访记录")
        verbose_name_plural = _("随访记录")
        indexes = [
            models.Index(fields=["case", "visited_on"], name="chronic_fu_case_day"),
            models.Index(fields=["visited_on"], name="chronic_fu_day"),
            models.Index(fields=["suggestion_state"], name="chronic_fu_suggestion"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(systolic__isnull=True)
                | models.Q(diastolic__isnull=True)
                | models.Q(diastolic__lt=models.F("systolic")),
                name="chronic_fu_diastolic_below_systolic",
            ),
            models.UniqueConstraint(
                fields=["recorded_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="chronic_fu_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.visited_on}"

    @property
    def blood_pressure(self) -> str:
        """ "142/88" or empty."""
        if self.systolic is None or self.diastolic is None:
            return ""
        return f"{self.systolic}/{self.diastolic}"

    @property
    def medication_lines(self) -> list[str]:
        """The medication text as non-empty lines."""
        return [line.strip() for line in self.medication.splitlines() if line.strip()]
