"""Code lists of expert outreach (专家下沉): kinds of work, states of batches, postings, sessions, bookings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yilian.accounts.choices import ProfessionalTitle


class OutreachKind(models.TextChoices):
    """What an expert did at the member (``OutreachVisit.kind``), as the consortium reports count it."""

    CLINIC = "clinic", _("坐诊")
    WARD_ROUND = "ward_round", _("业务查房")
    TEACHING = "teaching", _("带教")
    SURGERY = "surgery", _("手术指导")
    LECTURE = "lecture", _("讲座")
    QUALITY = "quality", _("质控督导")
    RECORD_REVIEW = "record_review", _("病历质控")
    PRESCRIPTION_REVIEW = "prescription_review", _("处方点评")
    FREE_CLINIC = "free_clinic", _("义诊")


class BatchStatus(models.TextChoices):
    """States of a dispatch batch (派出批次); which may follow which is ``outreach.workflow``."""

    PLANNED = "planned", _("已计划")
    DONE = "done", _("已完成待确认")
    CONFIRMED = "confirmed", _("成员单位已确认")
    CANCELLED = "cancelled", pgettext_lazy("outreach batch status", "已取消")


COUNTED_BATCH_STATUSES = frozenset({BatchStatus.DONE, BatchStatus.CONFIRMED})
"""Batches the reports count (the work was done; confirmation is shown separately)."""


class BatchSide(models.TextChoices):
    """Who acted on a batch: the sending (lead) institution or the receiving member."""

    SENDING = "sending", _("派出单位")
    HOST = "host", _("接收单位")


class PostingStatus(models.TextChoices):
    """States of a long-term posting (派驻)."""

    PLANNED = "planned", _("待派驻")
    ACTIVE = "active", _("派驻中")
    COMPLETED = "completed", _("期满结束")
    ENDED_EARLY = "ended_early", _("提前结束")
    CANCELLED = "cancelled", pgettext_lazy("posting status", "已取消")


STARTED_POSTING_STATUSES = frozenset(
    {PostingStatus.ACTIVE, PostingStatus.COMPLETED, PostingStatus.ENDED_EARLY}
)
"""Postings that really took place (the indicator reads only these)."""


class SessionStatus(models.TextChoices):
    """States of an expert clinic session (专家门诊)."""

    OPEN = "open", _("已发布")
    CANCELLED = "cancelled", pgettext_lazy("clinic session status", "已取消")


class BookingStatus(models.TextChoices):
    """States of a booking of a clinic slot."""

    BOOKED = "booked", _("已预约")
    CANCELLED = "cancelled", pgettext_lazy("booking status", "已取消")
    SESSION_CANCELLED = "session_cancelled", _("门诊停诊")


INTERMEDIATE_PHYSICIAN_TITLES = frozenset(
    {
        ProfessionalTitle.CHIEF_PHYSICIAN,
        ProfessionalTitle.ASSOCIATE_CHIEF_PHYSICIAN,
        ProfessionalTitle.ATTENDING_PHYSICIAN,
    }
)
"""中级及以上医师: 主治医师 and above — the physicians the national posting indicator counts."""

PHYSICIAN_TITLES = frozenset(
    {
        ProfessionalTitle.CHIEF_PHYSICIAN,
        ProfessionalTitle.ASSOCIATE_CHIEF_PHYSICIAN,
        ProfessionalTitle.ATTENDING_PHYSICIAN,
        ProfessionalTitle.RESIDENT_PHYSICIAN,
        ProfessionalTitle.ASSISTANT_PHYSICIAN,
    }
)
"""医师系列职称: the titles a posted physician (派驻医师) may hold; nurses, technicians and village doctors
are not posted."""

SECONDARY_AND_ABOVE_GRADES = frozenset({"2", "3"})
"""Hospital grades (``Institution.grade``) of secondary-and-above institutions."""

LONG_TERM_DAYS = 183
"""A posting counts as long-term (≥ 6 months) from this many days."""
