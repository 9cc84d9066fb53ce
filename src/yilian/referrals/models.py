"""Two-way referral: the referral itself, its timeline, attachments, closed-loop duties,
the consortium's criteria catalogue and settings, reserved capacity and subsidy rules."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.messages import RenderedActor, RenderedNote
from yilian.core.models import BaseModel
from yilian.referrals.choices import (
    ENDED_STATUSES,
    PRIORITY_RANK,
    CapacityKind,
    CriterionCategory,
    FollowUpTaskKind,
    MissingMaterialAction,
    ReferralDirection,
    ReferralKind,
    ReferralPriority,
    ReferralSide,
    ReferralStatus,
)


def default_answer_hours() -> dict[str, int]:
    """Hours the receiver has to answer, per priority (NHS e-RS-style booking windows; a setting)."""
    return {ReferralPriority.EMERGENCY: 1, ReferralPriority.URGENT: 24, ReferralPriority.ROUTINE: 72}


def default_grade_bounds() -> dict[str, list[float]]:
    """Percent bounds of 优/良/中 (the rest is 差) for the two monthly rates.

    The up-referral rate is better when lower (patients kept at primary
    level), the down-referral rate when higher.
    """
    return {"up_rate": [2.0, 4.0, 6.0], "down_rate": [8.0, 5.0, 2.0]}


class ReferralSettings(models.Model):
    """A consortium's referral settings: answer deadlines, arrival grace, closed-loop deadlines, grading."""

    consortium = models.OneToOneField(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.CASCADE,
        related_name="referral_settings",
    )
    answer_hours = models.JSONField(_("响应时限（小时，按优先级）"), default=default_answer_hours)
    expiry_grace_hours = models.PositiveSmallIntegerField(_("超过响应时限后自动过期（小时）"), default=24)
    arrival_grace_days = models.PositiveSmallIntegerField(_("预约后到诊宽限（天）"), default=1)
    follow_up_hours = models.PositiveSmallIntegerField(_("下转后首次随访时限（小时）"), default=48)
    rehabilitation_days = models.PositiveSmallIntegerField(_("下转后首次康复记录时限（天）"), default=7)
    grade_bounds = models.JSONField(_("评级界值（%）"), default=default_grade_bounds)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("转诊设置")
        verbose_name_plural = _("转诊设置")

    def __str__(self) -> str:
        return str(self.consortium)


class ReferralCriterion(BaseModel):
    """One rule of a consortium's referral catalogue, for an ICD-10 code range.

    ``category`` says where such patients belong; ``triggers`` lists the
    clinical signs that make the rule apply (shown to the doctor);
    ``required_materials`` and ``completeness_threshold`` (percent of them
    present) are checked on submit, and ``missing_action`` decides whether
    a shortfall blocks the submission or only warns. For down-referral
    rules, ``min_stay_days`` suggests inpatients for the worklist.
    """

    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.CASCADE,
        related_name="referral_criteria",
    )
    name = models.CharField(_("名称"), max_length=100)
    category = models.CharField(_("类别"), max_length=24, choices=CriterionCategory.choices)
    icd_from = models.CharField(_("ICD-10 起"), max_length=11)
    icd_to = models.CharField(_("ICD-10 止"), max_length=11)
    triggers = models.JSONField(_("触发条件"), default=list, blank=True)
    required_materials = models.JSONField(_("必需资料"), default=list, blank=True)
    completeness_threshold = models.PositiveSmallIntegerField(_("资料完整度阈值（%）"), default=85)
    missing_action = models.CharField(
        _("资料不全时"),
        max_length=8,
        choices=MissingMaterialAction.choices,
        default=MissingMaterialAction.WARN,
    )
    min_stay_days = models.PositiveSmallIntegerField(_("建议下转的最短住院日"), null=True, blank=True)
    source = models.CharField(_("依据"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["icd_from", "category", "name"]
        verbose_name = _("转诊标准")
        verbose_name_plural = _("转诊标准")

    def __str__(self) -> str:
        return f"{self.name}（{self.icd_from}–{self.icd_to}）"


class DeductibleSubsidy(models.Model):
    """The deductible difference subsidy a consortium pays per completed admitting referral, by insurance scheme.

    Only kinds in ``ADMITTING_KINDS`` earn it (the patient pays the hospitalisation start line again).
    """

    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.CASCADE,
        related_name="deductible_subsidies",
    )
    insurance_scheme = models.CharField(_("参保类型"), max_length=10)
    amount = models.DecimalField(_("补贴金额（元）"), max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("起付线差价补贴")
        verbose_name_plural = _("起付线差价补贴")
        constraints = [
            models.UniqueConstraint(fields=["consortium", "insurance_scheme"], name="subsidy_unique"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="subsidy_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.insurance_scheme} {self.amount}"


class ReservedCapacity(BaseModel):
    """Green-channel capacity a receiving department reserves for referrals from members, for one day.

    Booking increments ``booked`` with a conditional update
    (``booked < quantity``), so two clients racing for the last slot
    cannot both win. ``signed_residents_only`` places are kept for residents
    with a family-doctor contract in force (the seeds' priority for signed
    residents); a department may publish both kinds for the same day.
    """

    department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("科室"),
        on_delete=models.CASCADE,
        related_name="reserved_capacity",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=CapacityKind.choices)
    date = models.DateField(_("日期"))
    quantity = models.PositiveSmallIntegerField(_("预留数量"))
    booked = models.PositiveSmallIntegerField(_("已预约"), default=0)
    signed_residents_only = models.BooleanField(
        _("仅限签约居民"),
        default=False,
        help_text=_("为家庭医生签约居民预留：只有患者有生效签约的转诊可以预约。"),
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["date", "kind"]
        verbose_name = _("预留号源/床位")
        verbose_name_plural = _("预留号源/床位")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "kind", "date", "signed_residents_only"], name="capacity_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("quantity")), name="capacity_not_overbooked"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.get_kind_display()} {self.date}"

    @property
    def remaining(self) -> int:
        """Places still free."""
        return max(self.quantity - self.booked, 0)


def ended_rank() -> models.Case:
    """0 while something can still happen to the referral, 1 once it has ended: the inbox's first sort
    key (what awaits an answer or a visit stands above what is done), stored in its ordering index."""
    return models.Case(
        models.When(status__in=sorted(ENDED_STATUSES), then=models.Value(1)),
        default=models.Value(0),
        output_field=models.IntegerField(),
    )


def priority_rank() -> models.Case:
    """The priority as a number, most urgent first (0 emergency, 1 urgent, 2 routine): the inbox's
    sort key after ``ended_rank``, and an expression its ordering index stores."""
    return models.Case(
        *[
            models.When(priority=priority, then=models.Value(rank))
            for priority, rank in PRIORITY_RANK.items()
        ],
        default=models.Value(9),
        output_field=models.IntegerField(),
    )


class Referral(BaseModel):
    """A request from one institution that another take over a patient, and the work of fulfilling it.

    Both ends' institutions are on the row; each end sees it (the receiver
    from submission on), the consortium office and the regulator read it.
    ``direction`` and ``inside_consortium`` are derived on submit, as is
    ``signed_resident`` (the patient has a family-doctor contract in force:
    the green channel, ahead of others of the same priority in the inbox).
    ``status`` moves only through ``referrals.workflow``; ``version`` guards
    against concurrent answers. Content follows the WS 445.16 data set.
    """

    number = models.CharField(_("转诊单号"), max_length=20, unique=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT, db_index=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    direction = models.CharField(
        _("转诊方向"), max_length=8, choices=ReferralDirection.choices, db_index=True
    )
    kind = models.CharField(_("转诊类型"), max_length=12, choices=ReferralKind.choices)
    priority = models.CharField(
        _("优先级"), max_length=8, choices=ReferralPriority.choices, default=ReferralPriority.ROUTINE
    )
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    inside_consortium = models.BooleanField(_("医联体内转诊"), default=False)
    signed_resident = models.BooleanField(
        _("签约居民（绿色通道）"),
        default=False,
        help_text=_("提交时患者有生效的家庭医生签约：绿色通道优先处理。"),
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("患者"), on_delete=models.PROTECT, related_name="referrals"
    )
    from_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("转出机构"),
        on_delete=models.PROTECT,
        related_name="referrals_sent",
    )
    from_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("转出科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_sent",
    )
    from_doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("转诊医生"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="referrals_written",
    )
    to_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("接收机构"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    to_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("接收科室"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    encounter = models.ForeignKey(
        "encounters.Encounter",
        verbose_name=_("来源住院/就诊"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    diagnosis_code = models.CharField(_("疾病诊断编码"), max_length=11)
    diagnosis_name = models.CharField(_("疾病诊断名称"), max_length=50)
    reason = models.CharField(_("转诊原因"), max_length=100)
    recovery_phase = models.CharField(_("下转阶段"), max_length=24, blank=True)
    history = models.TextField(_("病史（含外伤史）"), blank=True)
    exam_results = models.TextField(_("检查检验结果"), blank=True)
    medications = models.TextField(_("用药情况"), blank=True)
    procedures = models.TextField(_("手术/操作"), blank=True)
    treatment = models.TextField(_("治疗经过"), blank=True)
    plan = models.TextField(_("今后治疗方案"), blank=True)
    patient_consented = models.BooleanField(_("患者知情同意"), default=False)
    criterion = models.ForeignKey(
        ReferralCriterion,
        verbose_name=_("适用转诊标准"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    criteria_met = models.BooleanField(_("符合转诊标准"), null=True)
    completeness = models.PositiveSmallIntegerField(_("资料完整度（%）"), null=True)
    missing_materials = models.JSONField(_("缺少资料"), default=list, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, db_index=True)
    answer_due_at = models.DateTimeField(_("响应截止时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接诊人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decline_reason = models.CharField(_("拒绝/撤销原因"), max_length=200, blank=True)
    scheduled_for = models.DateField(_("预约日期"), null=True, blank=True)
    booking = models.ForeignKey(
        ReservedCapacity,
        verbose_name=_("预留号源/床位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    arrived_at = models.DateTimeField(_("到诊时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("回传时间"), null=True, blank=True)
    outcome_diagnosis_code = models.CharField(_("出院/接诊诊断编码"), max_length=11, blank=True)
    outcome_diagnosis_name = models.CharField(_("出院/接诊诊断名称"), max_length=50, blank=True)
    outcome_summary = models.TextField(_("诊疗经过与结果"), blank=True)
    discharge_summary = models.TextField(_("出院小结"), blank=True)
    follow_up_plan = models.TextField(_("随访与康复计划"), blank=True)
    closed_at = models.DateTimeField(_("闭环时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    redirected_from = models.OneToOneField(
        "self",
        verbose_name=_("改派自"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="redirected_to",
    )
    subsidy_amount = models.DecimalField(
        _("起付线差价补贴（元）"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("转诊单")
        verbose_name_plural = _("转诊单")
        indexes = [
            models.Index(fields=["to_institution", "status"], name="referral_inbox_idx"),
            models.Index(fields=["from_institution", "status"], name="referral_outbox_idx"),
            models.Index(fields=["consortium", "submitted_at"], name="referral_consortium_idx"),
            # The lists' two orders, so a page's keys are read from an index walk, not a sort of every
            # visible referral: newest first, and an institution's inbox (``selectors.referral_list``).
            models.Index(fields=["-created_at", "-id"], name="referral_newest_idx"),
            models.Index(
                models.F("to_institution"),
                ended_rank(),
                priority_rank(),
                models.F("signed_resident").desc(),
                models.F("answer_due_at"),
                models.F("id"),
                name="referral_inbox_order_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="referral_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_institution=models.F("to_institution"))
                | ~models.Q(from_department=models.F("to_department")),
                name="referral_not_to_itself",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ReferralEvent(RenderedNote, RenderedActor, models.Model):
    """One step on a referral's timeline: what was done, by whom, for which side, when, with what note.

    Users read it on the referral; the platform-wide ``AuditEvent`` records
    the same change for administrators.
    """

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    side = models.CharField(_("操作方"), max_length=10, choices=ReferralSide.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    institution_name = models.CharField(_("机构"), max_length=200, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    note_params = models.JSONField(_("说明参数"), default=dict, db_default={}, blank=True)
    occurred_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("转诊进程")
        verbose_name_plural = _("转诊进程")

    def __str__(self) -> str:
        return f"{self.referral_id} {self.action}"


def attachment_upload_to(instance: ReferralAttachment, filename: str) -> str:
    """Store under the referral's public id with a random name; the original name is kept on the row."""
    import uuid

    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"referrals/{instance.referral.public_id}/{uuid.uuid4().hex}.{suffix[:8]}"


class ReferralAttachment(BaseModel):
    """A file sent with a referral (lab report, imaging report, ECG, discharge summary, consent…)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="attachments")
    material = models.CharField(_("资料类型"), max_length=20)
    file = models.FileField(_("文件"), upload_to=attachment_upload_to, max_length=300)
    original_filename = models.CharField(_("原文件名"), max_length=255)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("转诊资料")
        verbose_name_plural = _("转诊资料")

    def __str__(self) -> str:
        return self.original_filename


class FollowUpTask(BaseModel):
    """A closed-loop duty of the primary institution after a down-referral: due by ``due_at``.

    Created when the down-referral's patient arrives; done when the primary
    institution records the follow-up or first rehabilitation record.
    Overdue ones show to both ends.
    """

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="follow_up_tasks")
    kind = models.CharField(_("类型"), max_length=16, choices=FollowUpTaskKind.choices)
    due_at = models.DateTimeField(_("截止时间"), db_index=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("记录"), blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("下转闭环任务")
        verbose_name_plural = _("下转闭环任务")
        constraints = [models.UniqueConstraint(fields=["referral", "kind"], name="follow_up_task_unique")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind}"
