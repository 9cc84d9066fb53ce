"""Shared diagnostic centres: centres and their catalogues, recognition rules, orders with their
timeline, study files, reports (versioned), critical-value alerts and recognition decisions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yilian.core.messages import RenderedActor, RenderedNote
from yilian.core.models import BaseModel
from yilian.diagnostics.choices import (
    PENDING_STATUSES,
    CentreKind,
    OrderPriority,
    OrderSide,
    OrderStatus,
    RecognitionOutcome,
    RecognitionScope,
    RejectionReason,
    ReportStatus,
    StudyFileKind,
)


class SharedCentre(BaseModel):
    """A shared centre of a consortium (imaging, ECG, lab, pathology, sterilisation supply).

    Run by ``department`` of the hub institution; serves the named member
    institutions (the hub itself always). Unacknowledged critical values
    escalate after ``critical_ack_minutes``.
    """

    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.PROTECT,
        related_name="shared_centres",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=CentreKind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    hub_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("牵头机构"),
        on_delete=models.PROTECT,
        related_name="shared_centres_run",
    )
    department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("承担科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shared_centres",
    )
    served_institutions = models.ManyToManyField(
        "institutions.Institution",
        verbose_name=_("服务机构"),
        blank=True,
        related_name="shared_centres_served",
    )
    critical_ack_minutes = models.PositiveIntegerField(_("危急值确认时限（分钟）"), default=30)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["consortium_id", "kind", "name"]
        verbose_name = _("共享诊断中心")
        verbose_name_plural = _("共享诊断中心")
        constraints = [models.UniqueConstraint(fields=["consortium", "name"], name="shared_centre_unique")]

    def __str__(self) -> str:
        return self.name


class DiagnosticItem(BaseModel):
    """One item of a centre's catalogue: code, name, price, turnaround target, specimen."""

    centre = models.ForeignKey(
        SharedCentre, verbose_name=_("中心"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.CharField(_("项目编码"), max_length=30)
    name = models.CharField(_("项目名称"), max_length=100)
    price = models.DecimalField(_("价格（元）"), max_digits=10, decimal_places=2)
    turnaround_hours = models.PositiveIntegerField(_("报告时限（小时）"), default=24)
    specimen = models.CharField(_("标本/采集管"), max_length=100, blank=True)
    requires_second_reader = models.BooleanField(_("需二次审核"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["centre_id", "code"]
        verbose_name = _("检查检验项目")
        verbose_name_plural = _("检查检验项目")
        constraints = [
            models.UniqueConstraint(fields=["centre", "code"], name="diagnostic_item_unique"),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="diagnostic_item_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RecognitionRule(BaseModel):
    """A consortium's mutual-recognition entry: results of ``item_code`` count for ``validity_days``.

    ``scope`` says whose results count: the consortium's own centres, or any
    centre in the consortium's region (across consortia).
    """

    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.CASCADE,
        related_name="recognition_rules",
    )
    item_code = models.CharField(_("项目编码"), max_length=30)
    name = models.CharField(_("项目名称"), max_length=100)
    validity_days = models.PositiveIntegerField(_("有效期（天）"))
    scope = models.CharField(
        _("互认范围"), max_length=12, choices=RecognitionScope.choices, default=RecognitionScope.CONSORTIUM
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["consortium_id", "item_code"]
        verbose_name = _("互认项目")
        verbose_name_plural = _("互认项目")
        constraints = [
            models.UniqueConstraint(fields=["consortium", "item_code"], name="recognition_rule_unique")
        ]
        indexes = [models.Index(fields=["item_code", "is_active"], name="recognition_rule_item_idx")]

    def __str__(self) -> str:
        return f"{self.item_code} {self.name}"


class DiagnosticOrder(BaseModel):
    """An order for one catalogue item for a patient, sent from a member institution to a centre.

    The patient stays; the specimen (lab, pathology) or the study (imaging,
    ECG) travels. ``status`` moves only through ``diagnostics.workflow``;
    ``version`` guards against concurrent actions. ``item_code``,
    ``consortium`` and ``region_code`` are copied from the item and the
    centre so the recognition lookup is one indexed query. ``priority_rank``
    mirrors ``priority`` for the reading list's index.
    """

    number = models.CharField(_("申请单号"), max_length=20, unique=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.ORDERED, db_index=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("患者"), on_delete=models.PROTECT, related_name="diagnostic_orders"
    )
    ordering_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("开单机构"),
        on_delete=models.PROTECT,
        related_name="diagnostic_orders",
    )
    ordering_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("开单科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="diagnostic_orders",
    )
    ordering_doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开单医生"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="diagnostic_orders",
    )
    centre = models.ForeignKey(
        SharedCentre,
        verbose_name=_("诊断中心"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # the reading-list indexes lead with the centre
    )
    item = models.ForeignKey(
        DiagnosticItem, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="orders"
    )
    item_code = models.CharField(_("项目编码"), max_length=30)
    item_name = models.CharField(_("项目名称"), max_length=100)
    price = models.DecimalField(_("价格（元）"), max_digits=10, decimal_places=2)
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.PROTECT,
        related_name="diagnostic_orders",
    )
    region_code = models.CharField(_("中心所在区划"), max_length=12)
    priority = models.CharField(
        _("优先级"), max_length=8, choices=OrderPriority.choices, default=OrderPriority.ROUTINE
    )
    priority_rank = models.PositiveSmallIntegerField(default=2, editable=False)
    clinical_info = models.TextField(_("临床资料"), blank=True)
    diagnosis_code = models.CharField(_("临床诊断编码"), max_length=11)
    diagnosis_name = models.CharField(_("临床诊断"), max_length=50, blank=True)
    barcode = models.CharField(_("标本条码"), max_length=24, null=True, blank=True, unique=True)
    ordered_at = models.DateTimeField(_("开单时间"), default=timezone.now)
    collected_at = models.DateTimeField(_("采集时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("送出时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("拒收时间"), null=True, blank=True)
    rejection_reason = models.CharField(
        _("拒收原因"), max_length=16, choices=RejectionReason.choices, blank=True
    )
    rejection_note = models.CharField(_("拒收说明"), max_length=300, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("诊断医生"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    reported_at = models.DateTimeField(_("初次签发时间"), null=True, blank=True)
    final_at = models.DateTimeField(_("报告发布时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("报告截止时间"), null=True, blank=True)
    is_abnormal = models.BooleanField(_("结果异常"), default=False)
    needs_second_reader = models.BooleanField(_("需二次审核"), default=False)
    cancel_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    recognised_prior = models.ForeignKey(
        "self",
        verbose_name=_("可互认的既往结果"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeated_by",
    )
    repeat_reason = models.CharField(_("重复检查原因"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("检查检验申请")
        verbose_name_plural = _("检查检验申请")
        indexes = [
            models.Index(
                fields=["centre", "status", "priority_rank", "ordered_at", "id"], name="diag_order_centre_idx"
            ),
            models.Index(
                fields=["centre", "priority_rank", "ordered_at", "id"],
                condition=models.Q(status__in=PENDING_STATUSES),
                name="diag_reading_list_idx",
            ),
            models.Index(fields=["ordering_institution", "ordered_at"], name="diag_order_outbox_idx"),
            models.Index(fields=["person", "item_code", "final_at"], name="diag_order_recognition_idx"),
            models.Index(fields=["consortium", "ordered_at"], name="diag_order_consortium_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="diag_order_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderEvent(RenderedNote, RenderedActor, models.Model):
    """One step on an order's timeline: what was done, by whom, on which side, when, with what note.

    Users read it on the order; ``AuditEvent`` records the same change for administrators.
    """

    order = models.ForeignKey(DiagnosticOrder, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    side = models.CharField(_("操作方"), max_length=10, choices=OrderSide.choices)
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
        verbose_name = _("检查进程")
        verbose_name_plural = _("检查进程")

    def __str__(self) -> str:
        return f"{self.order_id} {self.action}"


def study_upload_to(instance: StudyFile, filename: str) -> str:
    """Store under the order's public id with a random name; the original name is kept on the row."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"diagnostics/{instance.order.public_id}/{uuid.uuid4().hex}.{suffix[:8]}"


class StudyFile(BaseModel):
    """A file of an uploaded study (DICOM instance, ECG waveform, PDF, image).

    ``metadata`` holds what the DICOM header says (modality, study date,
    description, SOP class); it is shown, never trusted: the patient is the order's.
    """

    order = models.ForeignKey(DiagnosticOrder, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("类型"), max_length=8, choices=StudyFileKind.choices)
    file = models.FileField(_("文件"), upload_to=study_upload_to, max_length=300)
    original_filename = models.CharField(_("原文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    content_type = models.CharField(_("文件类型"), max_length=100)
    metadata = models.JSONField(_("元数据"), default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("检查文件")
        verbose_name_plural = _("检查文件")

    def __str__(self) -> str:
        return self.original_filename


class DiagnosticReport(BaseModel):
    """One version of an order's report.

    Written preliminary, signed (final, or awaiting a second reader who must
    be another doctor); an amendment writes a new final version with a
    reason and marks the previous one superseded, which stays readable.
    """

    order = models.ForeignKey(DiagnosticOrder, on_delete=models.CASCADE, related_name="reports")
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    status = models.CharField(
        _("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.PRELIMINARY
    )
    findings = models.TextField(_("检查所见"), blank=True)
    conclusion = models.TextField(_("诊断意见"))
    is_abnormal = models.BooleanField(_("结果异常"), default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报告医生"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("签发时间"), null=True, blank=True)
    second_reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核医生"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    second_signed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    amendment_reason = models.CharField(_("修订原因"), max_length=300, blank=True)
    superseded_at = models.DateTimeField(_("被修订时间"), null=True, blank=True)

    class Meta:
        ordering = ["order_id", "-version"]
        verbose_name = _("诊断报告")
        verbose_name_plural = _("诊断报告")
        constraints = [
            models.UniqueConstraint(fields=["order", "version"], name="diagnostic_report_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order_id} v{self.version}"


class CriticalValueAlert(BaseModel):
    """A critical value (危急值) found on a report: the ordering doctor must acknowledge it.

    Unacknowledged after the centre's minutes it escalates to the ordering
    institution (level 1), after another period to the consortium office (level 2).
    """

    order = models.ForeignKey(DiagnosticOrder, on_delete=models.CASCADE, related_name="critical_alerts")
    report = models.ForeignKey(
        DiagnosticReport, null=True, on_delete=models.SET_NULL, related_name="critical_alerts"
    )
    description = models.CharField(_("危急值内容"), max_length=300)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收医生"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报告人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("报告时间"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledgement_note = models.CharField(_("处置说明"), max_length=300, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("升级级别"), default=0)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("危急值")
        verbose_name_plural = _("危急值")
        indexes = [models.Index(fields=["acknowledged_at", "raised_at"], name="critical_alert_open_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.description[:30]}"


class RecognitionDecision(BaseModel):
    """What happened when a recognised prior result was found on order entry: used, or repeated with a reason.

    ``saved_amount`` is the price not spent (used) or zero (repeated).
    """

    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("患者"),
        on_delete=models.PROTECT,
        related_name="recognition_decisions",
    )
    item_code = models.CharField(_("项目编码"), max_length=30)
    prior_order = models.ForeignKey(
        DiagnosticOrder,
        verbose_name=_("既往结果"),
        on_delete=models.PROTECT,
        related_name="recognition_decisions",
    )
    rule = models.ForeignKey(RecognitionRule, null=True, on_delete=models.SET_NULL, related_name="decisions")
    outcome = models.CharField(_("处理"), max_length=10, choices=RecognitionOutcome.choices)
    reason = models.CharField(_("重复原因"), max_length=200, blank=True)
    saved_amount = models.DecimalField(_("节省费用（元）"), max_digits=10, decimal_places=2, default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("医生"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+"
    )
    consortium = models.ForeignKey(
        "institutions.Consortium", verbose_name=_("医联体"), on_delete=models.PROTECT, related_name="+"
    )
    new_order = models.OneToOneField(
        DiagnosticOrder,
        verbose_name=_("新申请单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recognition_decision",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("互认记录")
        verbose_name_plural = _("互认记录")
        indexes = [models.Index(fields=["consortium", "created_at"], name="recognition_decision_idx")]

    def __str__(self) -> str:
        return f"{self.item_code} {self.outcome}"
