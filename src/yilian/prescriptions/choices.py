"""Code lists of prescriptions across levels: drug categories and forms, prescription kinds and
states, frequencies, routes, and the states of a consortium delivery (配送)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class DrugCategory(models.TextChoices):
    """Therapeutic category of a drug, as the gap report groups it."""

    ANTIHYPERTENSIVE = "antihypertensive", _("降压药")
    ANTIDIABETIC = "antidiabetic", _("降糖药")
    LIPID_LOWERING = "lipid_lowering", _("调脂药")
    ANTIPLATELET = "antiplatelet", _("抗血小板药")
    ANTICOAGULANT = "anticoagulant", _("抗凝药")
    CARDIAC = "cardiac", _("心血管其他用药")
    RESPIRATORY = "respiratory", _("呼吸系统用药")
    ANTI_INFECTIVE = "anti_infective", _("抗感染药")
    DIGESTIVE = "digestive", _("消化系统用药")
    NERVOUS = "nervous", _("神经精神用药")
    ANALGESIC = "analgesic", _("解热镇痛抗炎药")
    ENDOCRINE = "endocrine", _("内分泌其他用药")
    URINARY = "urinary", _("泌尿系统用药")
    TCM = "tcm", _("中成药")
    OTHER = "other", _("其他")


class DosageForm(models.TextChoices):
    """Dosage form (剂型)."""

    TABLET = "tablet", _("片剂")
    SUSTAINED = "sustained", _("缓释/控释片")
    CAPSULE = "capsule", _("胶囊剂")
    GRANULE = "granule", _("颗粒剂")
    ORAL_LIQUID = "oral_liquid", _("口服溶液剂")
    INJECTION = "injection", _("注射剂")
    INHALER = "inhaler", _("吸入剂")
    OINTMENT = "ointment", _("软膏剂")
    DROPS = "drops", _("滴剂")
    PILL = "pill", _("丸剂")
    OTHER = "other", _("其他剂型")


class PrescriptionKind(models.TextChoices):
    """Kinds of prescription (``Prescription.kind``)."""

    REGULAR = "regular", _("普通处方")
    LONG = "long", _("长处方")
    EXTENDED = "extended", _("延伸处方")


class PrescriptionStatus(models.TextChoices):
    """A prescription is active until voided; whether it is still valid is read from ``valid_until``."""

    ACTIVE = "active", _("有效")
    VOIDED = "voided", _("已作废")


class Frequency(models.TextChoices):
    """How often a dose is taken (用药频次)."""

    QD = "qd", _("每日一次")
    BID = "bid", _("每日两次")
    TID = "tid", _("每日三次")
    QID = "qid", _("每日四次")
    QN = "qn", _("每晚一次")
    QW = "qw", _("每周一次")
    PRN = "prn", _("必要时")


DOSES_PER_DAY: dict[str, Decimal] = {
    Frequency.QD: Decimal(1),
    Frequency.BID: Decimal(2),
    Frequency.TID: Decimal(3),
    Frequency.QID: Decimal(4),
    Frequency.QN: Decimal(1),
    Frequency.QW: Decimal(1) / Decimal(7),
    Frequency.PRN: Decimal(1),
}
"""Doses a day of each frequency (as needed counts as once a day for the supply)."""


class Route(models.TextChoices):
    """Route of administration (给药途径)."""

    ORAL = "oral", _("口服")
    SUBLINGUAL = "sublingual", _("舌下含服")
    SUBCUTANEOUS = "subcutaneous", _("皮下注射")
    INTRAMUSCULAR = "intramuscular", _("肌内注射")
    INTRAVENOUS = "intravenous", _("静脉滴注")
    INHALATION = "inhalation", _("吸入")
    TOPICAL = "topical", _("外用")


class DeliveryStatus(models.TextChoices):
    """States of a consortium delivery of an extended prescription's drugs."""

    REQUESTED = "requested", _("待发药")
    DISPATCHED = "dispatched", _("已发出")
    RECEIVED = "received", _("已签收")
    HANDED = "handed", _("已交付患者")
    CANCELLED = "cancelled", _("已取消")


OPEN_DELIVERY_STATUSES = frozenset(
    {DeliveryStatus.REQUESTED, DeliveryStatus.DISPATCHED, DeliveryStatus.RECEIVED}
)
"""Deliveries still under way."""

DELIVERY_STEPS: dict[str, tuple[str, str]] = {
    "dispatch": (DeliveryStatus.REQUESTED, DeliveryStatus.DISPATCHED),
    "receive": (DeliveryStatus.DISPATCHED, DeliveryStatus.RECEIVED),
    "hand_over": (DeliveryStatus.RECEIVED, DeliveryStatus.HANDED),
    "cancel": (DeliveryStatus.REQUESTED, DeliveryStatus.CANCELLED),
}
"""Each delivery action: the state it starts from and the state it leads to."""
