"""Teleconsultation: the request and its work, its timeline and files, fees per agreement, the billing
records both ends keep, and the free times experts publish."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.messages import RenderedNote
from yilian.core.models import BaseModel
from yilian.telemedicine.choices import (
    AttachmentKind,
    ChargeDirection,
    ConsentRelationship,
    TeleconsultationKind,
    TeleconsultationOutcome,
    TeleconsultationSide,
    TeleconsultationStatus,
)


class ExpertAvailability(BaseModel):
    """A time an expert of an institution is free for teleconsultations (published by them or their
    coordinator). ``taken_by`` is set when a teleconsultation is scheduled on it; taking it is a
    conditional update (``taken_by IS NULL``), so two schedulers racing for it cannot both win.
    Slots of one expert never overlap (checked by the service)."""

    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("专家"),
        on_delete=models.CASCADE,
        related_name="teleconsultation_availability",
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("机构"),
        on_delete=models.CASCADE,
        related_name="teleconsultation_availability",
    )
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    taken_by = models.OneToOneField(
        "Teleconsultation",
        verbose_name=_("已预约的会诊"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="booked_slot",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("专家可预约时间")
        verbose_name_plural = _("专家可预约时间")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="availability_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expert_id} {self.starts_at:%Y-%m-%d %H:%M}"


class TeleconsultationFee(models.Model):
    """The fee a consortium's telemedicine agreement sets for one kind of remote service.

    The inviting institution pays it to the invited one; the amount shown
    on the patient's consent is copied onto the teleconsultation.
    """

    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.CASCADE,
        related_name="teleconsultation_fees",
    )
    kind = models.CharField(_("会诊类型"), max_length=20, choices=TeleconsultationKind.choices)
    amount = models.DecimalField(_("收费标准（元）"), max_digits=8, decimal_places=2)
    agreement = models.ForeignKey(
        "institutions.Agreement",
        verbose_name=_("依据协议"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teleconsultation_fees",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["consortium", "kind"]
        verbose_name = _("远程会诊收费标准")
        verbose_name_plural = _("远程会诊收费标准")
        constraints = [
            models.UniqueConstraint(fields=["consortium", "kind"], name="teleconsultation_fee_unique"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="teleconsultation_fee_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class Teleconsultation(BaseModel):
    """A request from one institution (邀请方) for a remote opinion by another (受邀方), and its work.

    Follows the 2018 norm: written consent with the fee, an invitation with
    reason, purpose, time, case summary and the required specialty and
    title, the invited side's answer, an assigned qualified expert, the
    scheduled session, the signed opinion and the inviting doctor's
    decision. ``outside_consortium`` marks an invitation between institutions
    that share no consortium: ``consortium`` is then the inviting end's own
    (for filing) and ``fee_amount`` the fee their cooperation agreement sets,
    not a consortium schedule's. ``status`` moves only through ``telemedicine.workflow``;
    ``version`` guards against concurrent answers. Content follows the WS
    445.13 consultation data elements.
    """

    number = models.CharField(_("会诊单号"), max_length=20, unique=True)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=TeleconsultationStatus.choices,
        default=TeleconsultationStatus.REQUESTED,
        db_index=True,
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    kind = models.CharField(_("会诊类型"), max_length=20, choices=TeleconsultationKind.choices)
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teleconsultations",
    )
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("患者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teleconsultations",
    )
    inviting_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("邀请机构"),
        on_delete=models.PROTECT,
        related_name="teleconsultations_sent",
    )
    inviting_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("申请科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teleconsultations_sent",
    )
    inviting_doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请医师"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="teleconsultations_requested",
    )
    invited_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("受邀机构"),
        on_delete=models.PROTECT,
        related_name="teleconsultations_received",
    )
    invited_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("会诊科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teleconsultations_received",
    )
    required_specialty = models.CharField(_("所需专业"), max_length=4, blank=True)
    required_title = models.CharField(_("所需职称"), max_length=32)
    reason = models.CharField(_("会诊原因"), max_length=200)
    purpose = models.CharField(_("会诊目的"), max_length=50)
    proposed_at = models.DateTimeField(_("拟会诊时间"))
    proposed_slot = models.ForeignKey(
        ExpertAvailability,
        verbose_name=_("拟预约专家时间"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
    )
    case_summary = models.TextField(_("病历摘要"), max_length=2000)
    exam_results = models.TextField(_("辅助检查结果"), max_length=1000, blank=True)
    diagnosis_code = models.CharField(_("西医诊断编码"), max_length=11, blank=True)
    diagnosis_name = models.CharField(_("西医诊断名称"), max_length=50, blank=True)
    consent_signer_name = models.CharField(_("知情同意签署人"), max_length=50, blank=True)
    consent_relationship = models.CharField(
        _("签署人与患者关系"), max_length=10, choices=ConsentRelationship.choices, blank=True
    )
    consent_signed_at = models.DateTimeField(_("知情同意签署时间"), null=True, blank=True)
    fee_amount = models.DecimalField(
        _("告知的会诊费用（元）"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    # Set at creation: the two ends share no consortium, so no consortium's fee schedule binds the
    # invited end; the fee is the one their cooperation agreement sets, typed by the requester.
    outside_consortium = models.BooleanField(_("医联体外会诊"), default=False)
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("会诊专家"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teleconsultations_as_expert",
    )
    answered_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decline_reason = models.CharField(_("谢绝/取消原因"), max_length=200, blank=True)
    scheduled_at = models.DateTimeField(_("会诊时间"), null=True, blank=True)
    meeting_link = models.URLField(_("会议链接"), max_length=300, blank=True)
    opinion = models.TextField(_("会诊意见"), max_length=2000, blank=True)
    opinion_signed_at = models.DateTimeField(_("会诊日期时间"), null=True, blank=True)
    opinion_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("会诊医师签名"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision = models.TextField(_("诊疗决定"), max_length=2000, blank=True)
    outcome = models.CharField(
        _("患者去向"), max_length=16, choices=TeleconsultationOutcome.choices, blank=True
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    referral = models.ForeignKey(
        "referrals.Referral",
        verbose_name=_("转诊单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teleconsultations",
    )
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("远程会诊")
        verbose_name_plural = _("远程会诊")
        indexes = [
            models.Index(fields=["invited_institution", "status"], name="telecons_incoming_idx"),
            models.Index(fields=["inviting_institution", "status"], name="telecons_outgoing_idx"),
            models.Index(fields=["consortium", "created_at"], name="telecons_consortium_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="teleconsultation_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(inviting_institution=models.F("invited_institution")),
                name="teleconsultation_not_to_itself",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class TeleconsultationEvent(RenderedNote, models.Model):
    """One step on a teleconsultation's timeline: what was done, by whom, for which side, when.

    Both ends read it on the teleconsultation; ``AuditEvent`` records the
    same change for administrators.
    """

    teleconsultation = models.ForeignKey(Teleconsultation, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    side = models.CharField(_("操作方"), max_length=10, choices=TeleconsultationSide.choices)
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
        verbose_name = _("会诊进程")
        verbose_name_plural = _("会诊进程")

    def __str__(self) -> str:
        return f"{self.teleconsultation_id} {self.action}"


def attachment_upload_to(instance: TeleconsultationAttachment, filename: str) -> str:
    """Store under the teleconsultation's public id with a random name; the original name stays on the row."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"telemedicine/{instance.teleconsultation.public_id}/{uuid.uuid4().hex}.{suffix[:8]}"


class TeleconsultationAttachment(BaseModel):
    """A file sent with a teleconsultation (images, reports, the signed consent, the opinion…)."""

    teleconsultation = models.ForeignKey(
        Teleconsultation, on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(_("资料类型"), max_length=20, choices=AttachmentKind.choices)
    file = models.FileField(_("文件"), upload_to=attachment_upload_to, max_length=300)
    original_filename = models.CharField(_("原文件名"), max_length=255)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("会诊资料")
        verbose_name_plural = _("会诊资料")

    def __str__(self) -> str:
        return self.original_filename


class TeleconsultationCharge(BaseModel):
    """A billing record one end keeps for a teleconsultation: the inviting institution's payable and the
    invited institution's receivable, both written when the opinion is signed (one transaction).

    ``consortium`` is the one both ends share; empty for a teleconsultation outside the consortium
    (``Teleconsultation.outside_consortium``), whose fee the two institutions' agreement sets."""

    teleconsultation = models.ForeignKey(Teleconsultation, on_delete=models.PROTECT, related_name="charges")
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        related_name="teleconsultation_charges",
    )
    counterpart = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("对方机构"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teleconsultation_charges",
    )
    direction = models.CharField(_("方向"), max_length=12, choices=ChargeDirection.choices)
    amount = models.DecimalField(_("金额（元）"), max_digits=8, decimal_places=2)
    kind = models.CharField(_("会诊类型"), max_length=20, choices=TeleconsultationKind.choices)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("远程会诊费用记录")
        verbose_name_plural = _("远程会诊费用记录")
        constraints = [
            models.UniqueConstraint(
                fields=["teleconsultation", "direction"], name="teleconsultation_charge_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="teleconsultation_charge_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teleconsultation_id} {self.direction} {self.amount}"
