"""Code lists of two-way referral: direction, kind, priority, status, criteria, capacity."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReferralDirection(models.TextChoices):
    """上转 / 下转 / 平转, derived from the two institutions, never typed by hand."""

    UP = "up", _("上转")
    DOWN = "down", _("下转")
    LATERAL = "lateral", _("平转")


class ReferralKind(models.TextChoices):
    """What the receiver is asked to do."""

    OUTPATIENT = "outpatient", _("门诊就诊")
    ADMISSION = "admission", _("住院（住院证直通车）")
    EXAM = "exam", _("检查检验")
    EMERGENCY = "emergency", _("急诊")


class ReferralPriority(models.TextChoices):
    """FHIR ServiceRequest.priority subset; each has its own answer deadline (consortium setting)."""

    ROUTINE = "routine", _("普通")
    URGENT = "urgent", _("加急")
    EMERGENCY = "stat", _("急危重（绿色通道）")


PRIORITY_RANK = {ReferralPriority.EMERGENCY: 0, ReferralPriority.URGENT: 1, ReferralPriority.ROUTINE: 2}
"""Inbox order: the most urgent first."""


class ReferralStatus(models.TextChoices):
    """States of a referral; which may follow which is ``referrals.workflow.TRANSITIONS``."""

    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待接收")
    ACCEPTED = "accepted", _("已接收")
    DECLINED = "declined", _("已拒绝")
    REDIRECTED = "redirected", _("已改派")
    SCHEDULED = "scheduled", _("已预约")
    ARRIVED = "arrived", _("已到诊")
    COMPLETED = "completed", _("已回传结果")
    CLOSED = "closed", _("已闭环")
    CANCEL_REQUESTED = "cancel_requested", _("申请撤销")
    CANCELLED = "cancelled", pgettext_lazy("referral status", "已撤销")
    NO_SHOW = "no_show", _("未到诊")
    # In context: an expired referral is over ("Expired"), not merely late like an overdue duty ("Overdue").
    EXPIRED = "expired", pgettext_lazy("referral status", "已超时")


OPEN_STATUSES = frozenset(
    {
        ReferralStatus.SUBMITTED,
        ReferralStatus.ACCEPTED,
        ReferralStatus.SCHEDULED,
        ReferralStatus.ARRIVED,
        ReferralStatus.CANCEL_REQUESTED,
    }
)
"""Referrals the receiver still has to act on."""

ENDED_STATUSES = frozenset(
    {
        ReferralStatus.DECLINED,
        ReferralStatus.REDIRECTED,
        ReferralStatus.CLOSED,
        ReferralStatus.CANCELLED,
        ReferralStatus.NO_SHOW,
        ReferralStatus.EXPIRED,
    }
)
"""Referrals nothing more can happen to."""


class ReferralSide(models.TextChoices):
    """Who acts: the sending end, the receiving end, or the platform's own jobs."""

    SENDER = "sender", _("转出方")
    RECEIVER = "receiver", _("接收方")
    SYSTEM = "system", _("系统")


class CriterionCategory(models.TextChoices):
    """The four categories of a county referral catalogue."""

    MUST_UP = "must_up", _("必须上转")
    CONSULT_THEN_UP = "consult_then_up", _("会诊后上转")
    STAY_PRIMARY = "stay_primary", _("基层诊治")
    DOWN_REHABILITATION = "down_rehabilitation", _("下转康复")


class MissingMaterialAction(models.TextChoices):
    """What happens on submit when required materials are missing."""

    BLOCK = "block", _("阻止提交")
    WARN = "warn", _("提示后可提交")


class Material(models.TextChoices):
    """Materials a referral can carry: the WS 445.16 summary sections and attachment kinds."""

    HISTORY = "history", _("病史（含外伤史）")
    EXAM_RESULTS = "exam_results", _("检查检验结果")
    MEDICATIONS = "medications", _("用药情况")
    PROCEDURES = "procedures", _("手术/操作")
    TREATMENT = "treatment", _("治疗经过")
    PLAN = "plan", _("今后治疗方案")
    LAB_REPORT = "lab_report", _("检验报告")
    IMAGING_REPORT = "imaging_report", _("影像报告")
    ECG = "ecg", _("心电图")
    DISCHARGE_SUMMARY = "discharge_summary", _("出院小结")
    CONSENT = "consent", _("知情同意书")
    OTHER = "other", _("其他资料")


SUMMARY_MATERIALS = (
    Material.HISTORY,
    Material.EXAM_RESULTS,
    Material.MEDICATIONS,
    Material.PROCEDURES,
    Material.TREATMENT,
    Material.PLAN,
)
"""Materials that are text sections of the referral itself; the rest are attachments."""

ATTACHMENT_MATERIALS = tuple(m for m in Material if m not in SUMMARY_MATERIALS)


class RecoveryPhase(models.TextChoices):
    """Why an inpatient may go down (down-referral reason codes, Art. 18 of the seeds)."""

    RECOVERY = "recovery", _("急性病恢复期")
    POST_OPERATIVE = "post_operative", _("术后恢复期")
    STABILISED_CRITICAL = "stabilised_critical", _("危重症稳定期")
    STABLE_CHRONIC = "stable_chronic", _("慢性病稳定期")


class CapacityKind(models.TextChoices):
    """What a receiving department reserves for referrals from members (green channel)."""

    OUTPATIENT_SLOT = "outpatient_slot", _("门诊号源")
    BED = "bed", _("床位")
    EXAM_SLOT = "exam_slot", _("检查号源")


KIND_CAPACITY = {
    ReferralKind.OUTPATIENT: CapacityKind.OUTPATIENT_SLOT,
    ReferralKind.ADMISSION: CapacityKind.BED,
    ReferralKind.EXAM: CapacityKind.EXAM_SLOT,
}
"""Which reserved capacity a referral of each kind books (emergency bypasses booking)."""

ADMITTING_KINDS = frozenset({ReferralKind.ADMISSION, ReferralKind.EMERGENCY})
"""Kinds whose patient is admitted at the receiving end, so pays the hospitalisation start line (起付线) again.

Only these earn the deductible difference subsidy (`000_` 篇2 §2): the start
line is paid per admission, so an outpatient or exam referral never pays it
twice. 住院（住院证直通车） is an admission both ways (up: the member's
admission slip; down: continued inpatient care or rehabilitation at the
primary institution). 急诊 counts too: an emergency referral is the green
channel's transfer of a critical patient, taken in as an inpatient.
"""


class FollowUpTaskKind(models.TextChoices):
    """Closed-loop duties of the primary institution after a down-referral."""

    FOLLOW_UP = "follow_up", _("首次随访")
    REHABILITATION = "rehabilitation", _("首次康复记录")


class Grade(models.TextChoices):
    """优 / 良 / 中 / 差."""

    EXCELLENT = "excellent", _("优")
    GOOD = "good", _("良")
    FAIR = "fair", _("中")
    POOR = "poor", _("差")


class DepartmentGroup(models.TextChoices):
    """Medicine and surgery are ranked apart in the down-referral assessment."""

    MEDICINE = "medicine", _("内科系统")
    SURGERY = "surgery", _("外科系统")
    OTHER = "other", _("其他")
