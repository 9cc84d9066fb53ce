"""Code lists of the shared diagnostic centres: centre kinds, order states, priorities, rejection reasons."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CentreKind(models.TextChoices):
    """What a shared centre does (the five centres of the consortium guidance)."""

    IMAGING = "imaging", _("医学影像中心")
    ECG = "ecg", _("心电中心")
    LAB = "lab", _("检验中心")
    PATHOLOGY = "pathology", _("病理中心")
    STERILISATION = "sterilisation", _("消毒供应中心")


SPECIMEN_KINDS = frozenset({CentreKind.LAB, CentreKind.PATHOLOGY, CentreKind.STERILISATION})
"""Centres that receive a labelled specimen or package (a barcode is printed on order)."""

STUDY_KINDS = frozenset({CentreKind.IMAGING, CentreKind.ECG})
"""Centres whose study is acquired at the ordering institution and uploaded."""

PATIENT_KINDS = frozenset({CentreKind.IMAGING, CentreKind.ECG, CentreKind.LAB, CentreKind.PATHOLOGY})
"""Centres that serve patients: only their items are ordered for a resident. The sterilisation
supply centre reprocesses the institutions' instrument packages; nobody is its patient."""


class OrderStatus(models.TextChoices):
    """States of a diagnostic order; which may follow which is ``diagnostics.workflow.TRANSITIONS``."""

    ORDERED = "ordered", _("已开单")
    COLLECTED = "collected", _("已采集/贴码")
    IN_TRANSIT = "in_transit", _("运送中")
    RECEIVED = "received", _("待诊断")
    REJECTED = "rejected", _("已拒收")
    READING = "reading", _("诊断中")
    PRELIMINARY = "preliminary", _("初步报告")
    AWAITING_SECOND = "awaiting_second", _("待复核")
    FINAL = "final", _("已发布")
    CANCELLED = "cancelled", pgettext_lazy("diagnostic order status", "已撤销")


PENDING_STATUSES = (
    OrderStatus.RECEIVED,
    OrderStatus.READING,
    OrderStatus.PRELIMINARY,
    OrderStatus.AWAITING_SECOND,
)
"""Orders on a centre's reading list: the study or specimen is there and no final report yet."""

ENDED_STATUSES = frozenset({OrderStatus.REJECTED, OrderStatus.FINAL, OrderStatus.CANCELLED})


class OrderPriority(models.TextChoices):
    """FHIR ServiceRequest.priority subset."""

    ROUTINE = "routine", _("普通")
    URGENT = "urgent", _("加急")
    STAT = "stat", _("急诊")


PRIORITY_RANK = {OrderPriority.STAT: 0, OrderPriority.URGENT: 1, OrderPriority.ROUTINE: 2}
"""Reading-list order: the most urgent first (stored on the order as ``priority_rank``)."""


class RejectionReason(models.TextChoices):
    """Why a centre refuses a specimen or study (the sender sees it); which apply depends on the centre
    kind (``rejection_reasons_for``)."""

    HAEMOLYSED = "haemolysed", _("溶血")
    WRONG_TUBE = "wrong_tube", _("采集管错误")
    UNLABELLED = "unlabelled", _("无标签或标签不清")
    INSUFFICIENT = "insufficient", _("标本量不足")
    CLOTTED = "clotted", _("凝血")
    LEAKED = "leaked", _("容器破损渗漏")
    DELAYED = "delayed", _("送检超时")
    IMAGE_QUALITY = "image_quality", _("图像质量不合格")
    WRONG_BODY_PART = "wrong_body_part", _("检查部位不符")
    INCOMPLETE = "incomplete", _("影像上传不完整")
    PATIENT_MISMATCH = "patient_mismatch", _("患者信息不符")
    OTHER = "other", _("其他")


SPECIMEN_REJECTION_REASONS = (
    RejectionReason.HAEMOLYSED,
    RejectionReason.WRONG_TUBE,
    RejectionReason.UNLABELLED,
    RejectionReason.INSUFFICIENT,
    RejectionReason.CLOTTED,
    RejectionReason.LEAKED,
    RejectionReason.DELAYED,
    RejectionReason.OTHER,
)
"""Reasons to refuse a specimen or package that travelled (lab, pathology, sterilisation supply)."""

STUDY_REJECTION_REASONS = (
    RejectionReason.IMAGE_QUALITY,
    RejectionReason.WRONG_BODY_PART,
    RejectionReason.INCOMPLETE,
    RejectionReason.PATIENT_MISMATCH,
    RejectionReason.OTHER,
)
"""Reasons to refuse an uploaded study (imaging, ECG): nothing was drawn into a tube."""


def rejection_reasons_for(kind: str) -> tuple[RejectionReason, ...]:
    """The rejection reasons that apply to a centre of ``kind``."""
    return STUDY_REJECTION_REASONS if kind in STUDY_KINDS else SPECIMEN_REJECTION_REASONS


class RecognitionScope(models.TextChoices):
    """Where a recognised result counts: inside the rule's consortium, or anywhere in its region."""

    CONSORTIUM = "consortium", _("医联体内")
    REGION = "region", _("区域内")


class StudyFileKind(models.TextChoices):
    """What an uploaded study file is."""

    DICOM = "dicom", _("DICOM 影像")
    ECG = "ecg", _("心电波形")
    PDF = "pdf", _("PDF 文件")
    IMAGE = "image", _("图片")


class ReportStatus(models.TextChoices):
    """A report version's state; amendments supersede the previous final version."""

    PRELIMINARY = "preliminary", _("初步报告")
    AWAITING_SECOND = "awaiting_second", _("待复核")
    FINAL = "final", _("正式报告")
    SUPERSEDED = "superseded", _("已被修订")


class RecognitionOutcome(models.TextChoices):
    """What the orderer did with a recognised prior result."""

    USED = "used", _("采用既往结果")
    REPEATED = "repeated", _("重复检查")


class OrderSide(models.TextChoices):
    """Who acts on an order: the ordering institution, the centre, or the platform's jobs."""

    ORDERING = "ordering", _("开单方")
    CENTRE = "centre", _("诊断中心")
    SYSTEM = "system", _("系统")
