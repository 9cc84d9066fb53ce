"""Code lists of teleconsultation (远程会诊): kind, status, side, outcome, consent, charges, titles."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yilian.accounts.choices import ProfessionalTitle


class TeleconsultationKind(models.TextChoices):
    """Forms of remote service named by the national rules (会诊类型, WS 445.13 DE06.00.319.00)."""

    CONSULTATION = "consultation", _("会诊")
    MULTIDISCIPLINARY = "multidisciplinary", _("多学科会诊")
    WARD_ROUND = "ward_round", _("远程查房")
    TEACHING = "teaching", _("远程教学")
    READING = "reading", _("远程阅片")


PATIENTLESS_KINDS = frozenset({TeleconsultationKind.TEACHING})
"""Kinds that may run without a patient (and so without a consent)."""


class TeleconsultationStatus(models.TextChoices):
    """States of a teleconsultation; which may follow which is ``telemedicine.workflow.TRANSITIONS``."""

    REQUESTED = "requested", _("待受邀方响应")
    ACCEPTED = "accepted", _("已接受")
    DECLINED = "declined", _("已谢绝")
    SCHEDULED = "scheduled", _("已排期")
    OPINION_SIGNED = "opinion_signed", _("会诊意见已签署")
    CONCLUDED = "concluded", _("已完成")
    CANCELLED = "cancelled", pgettext_lazy("teleconsultation status", "已取消")


ENDED_STATUSES = frozenset(
    {TeleconsultationStatus.DECLINED, TeleconsultationStatus.CONCLUDED, TeleconsultationStatus.CANCELLED}
)
"""Teleconsultations nothing more can happen to."""


class TeleconsultationSide(models.TextChoices):
    """Who acts: the inviting end (邀请方), the invited end (受邀方) or the assigned expert."""

    INVITING = "inviting", _("邀请方")
    INVITED = "invited", _("受邀方")
    EXPERT = "expert", _("会诊专家")


class TeleconsultationOutcome(models.TextChoices):
    """What the inviting doctor decided after the opinion."""

    STAYED_LOCAL = "stayed_local", _("留在本地治疗")
    REFERRED = "referred", _("转诊")
    OTHER = "other", _("其他")


class ConsentRelationship(models.TextChoices):
    """Who signed the written consent (远程医疗服务知情同意书)."""

    PATIENT = "patient", _("患者本人")
    GUARDIAN = "guardian", _("监护人")
    RELATIVE = "relative", _("近亲属")


class ChargeDirection(models.TextChoices):
    """A billing record seen from its institution: it pays (inviting) or receives (invited)."""

    PAYABLE = "payable", _("应付")
    RECEIVABLE = "receivable", _("应收")


class AttachmentKind(models.TextChoices):
    """What a file sent with a teleconsultation is."""

    CONSENT = "consent", _("知情同意书")
    IMAGING = "imaging", _("影像资料")
    LAB_REPORT = "lab_report", _("检验报告")
    ECG = "ecg", _("心电图")
    PATHOLOGY = "pathology", _("病理资料")
    RECORD = "record", _("病历资料")
    OPINION = "opinion", _("会诊意见书")
    OTHER = "other", _("其他资料")


TITLE_RANK: dict[str, int] = {
    ProfessionalTitle.CHIEF_PHYSICIAN: 4,
    ProfessionalTitle.ASSOCIATE_CHIEF_PHYSICIAN: 3,
    ProfessionalTitle.ATTENDING_PHYSICIAN: 2,
    ProfessionalTitle.RESIDENT_PHYSICIAN: 1,
}
"""Physician titles from highest to lowest; an expert qualifies when their rank is at least the required one."""

REQUIRED_TITLE_CHOICES = [(value, ProfessionalTitle(value).label) for value in TITLE_RANK]
"""Titles an invitation may require (physician titles only)."""


def titles_at_least(required: str) -> list[str]:
    """Physician titles of at least the rank of ``required`` (every physician title when blank)."""
    floor = TITLE_RANK.get(required, 1)
    return [title for title, rank in TITLE_RANK.items() if rank >= floor]


def title_qualifies(title: str, required: str) -> bool:
    """True when a holder of ``title`` may serve where ``required`` is asked for."""
    return title in titles_at_least(required)
