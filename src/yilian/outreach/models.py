"""Expert outreach (专家下沉, "送下去"): dispatch batches and the experts' visits in them, long-term
postings (派驻), expert clinic sessions at members with bookable slots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yilian.accounts.choices import ProfessionalTitle
from yilian.core.messages import RenderedNote
from yilian.core.models import BaseModel
from yilian.outreach.choices import (
    BatchSide,
    BatchStatus,
    BookingStatus,
    OutreachKind,
    PostingStatus,
    SessionStatus,
)


class OutreachBatch(BaseModel):
    """A dispatch batch (派出批次): one trip of one or more experts of a sending hospital to one member.

    Recorded by the sending institution (its administrator or an expert
    travelling), confirmed by the receiving member's administrator.
    ``status`` moves only through ``outreach.workflow``; ``version`` guards
    against concurrent actions. The reports count batches and person-times
    (distinct experts per batch) from here and the visits below.
    """

    number = models.CharField(_("批次编号"), max_length=20, unique=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=BatchStatus.choices, default=BatchStatus.PLANNED, db_index=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.PROTECT,
        related_name="outreach_batches",
    )
    sending_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("派出单位"),
        on_delete=models.PROTECT,
        related_name="outreach_batches_sent",
    )
    host_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("接收单位"),
        on_delete=models.PROTECT,
        related_name="outreach_batches_received",
    )
    starts_on = models.DateField(_("开始日期"), db_index=True)
    ends_on = models.DateField(_("结束日期"))
    purpose = models.CharField(_("帮扶内容"), max_length=200)
    summary = models.TextField(_("工作小结"), max_length=2000, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancel_reason = models.CharField(_("取消/退回原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("派出批次")
        verbose_name_plural = _("派出批次")
        indexes = [
            models.Index(fields=["host_institution", "starts_on"], name="outreach_batch_host_idx"),
            models.Index(fields=["sending_institution", "starts_on"], name="outreach_batch_sender_idx"),
            models.Index(fields=["consortium", "starts_on"], name="outreach_batch_consortium_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="outreach_batch_dates_in_order"
            ),
            models.CheckConstraint(
                condition=~models.Q(sending_institution=models.F("host_institution")),
                name="outreach_batch_not_to_itself",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OutreachVisit(BaseModel):
    """One expert's work of one kind in a batch (专家下沉): what, when, how much, what was found or taught.

    ``sessions`` counts the occasions of the kind (half-days of clinic, ward
    rounds, lectures, reviews…); the other counts are the workload the
    seeds' reports name. ``title_at_visit`` copies the expert's title.
    """

    batch = models.ForeignKey(OutreachBatch, on_delete=models.CASCADE, related_name="visits")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("专家"),
        on_delete=models.PROTECT,
        related_name="outreach_visits",
    )
    home_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("所在科室"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outreach_visits",
    )
    title_at_visit = models.CharField(_("职称"), max_length=32, blank=True)
    kind = models.CharField(_("帮扶形式"), max_length=20, choices=OutreachKind.choices, db_index=True)
    visit_on = models.DateField(_("日期"), db_index=True)
    sessions = models.PositiveSmallIntegerField(_("次数/半天"), default=1)
    patients_seen = models.PositiveIntegerField(_("诊疗人次"), default=0)
    attendees = models.PositiveIntegerField(_("参加人次"), default=0)
    surgeries = models.PositiveSmallIntegerField(_("指导手术台次"), default=0)
    records_reviewed = models.PositiveIntegerField(_("点评病历/处方份数"), default=0)
    hazards_found = models.PositiveSmallIntegerField(_("发现隐患"), default=0)
    hazards_fixed = models.PositiveSmallIntegerField(_("已整改隐患"), default=0)
    findings = models.TextField(_("发现的问题与指导内容"), max_length=2000, blank=True)

    class Meta:
        ordering = ["visit_on", "id"]
        verbose_name = _("专家下沉记录")
        verbose_name_plural = _("专家下沉记录")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hazards_fixed__lte=models.F("hazards_found")),
                name="outreach_visit_fixed_within_found",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.kind} {self.visit_on}"


class OutreachEvent(RenderedNote, models.Model):
    """One step on a batch's timeline: what was done, by whom, for which side, when."""

    batch = models.ForeignKey(OutreachBatch, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, blank=True)
    side = models.CharField(_("操作方"), max_length=10, choices=BatchSide.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    note_params = models.JSONField(_("说明参数"), default=dict, db_default={}, blank=True)
    occurred_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("派出批次进程")
        verbose_name_plural = _("派出批次进程")

    def __str__(self) -> str:
        return f"{self.batch_id} {self.action}"


class Posting(BaseModel):
    """A long-term posting (派驻, ≥ 6 months) of a physician of a hospital to a primary institution.

    ``title_at_posting`` copies the user's ``professional_title`` when the
    posting is recorded: the national indicator counts 中级+ physicians by
    the title they held when posted. The actual period (``actual_*``) is
    set when the posting starts and ends; an end before the planned one
    needs a reason. ``version`` guards against concurrent changes.
    """

    status = models.CharField(
        _("状态"), max_length=12, choices=PostingStatus.choices, default=PostingStatus.PLANNED, db_index=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.PROTECT,
        related_name="outreach_postings",
    )
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("派驻医师"),
        on_delete=models.PROTECT,
        related_name="outreach_postings",
    )
    home_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("派出单位"),
        on_delete=models.PROTECT,
        related_name="outreach_postings_sent",
    )
    home_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("所在科室"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outreach_postings",
    )
    host_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("派驻单位"),
        on_delete=models.PROTECT,
        related_name="outreach_postings_received",
    )
    title_at_posting = models.CharField(_("派驻时职称"), max_length=32, blank=True)
    planned_start = models.DateField(_("计划开始日期"))
    planned_end = models.DateField(_("计划结束日期"))
    actual_start = models.DateField(_("实际开始日期"), null=True, blank=True)
    actual_end = models.DateField(_("实际结束日期"), null=True, blank=True)
    early_end_reason = models.CharField(_("提前结束原因"), max_length=200, blank=True)
    duties = models.CharField(_("派驻任务"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-planned_start", "-id"]
        verbose_name = _("长期派驻")
        verbose_name_plural = _("长期派驻")
        indexes = [
            models.Index(fields=["host_institution", "actual_start"], name="outreach_posting_host_idx"),
            models.Index(fields=["home_institution", "actual_start"], name="outreach_posting_home_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gt=models.F("planned_start")),
                name="outreach_posting_planned_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(actual_end__isnull=True)
                | models.Q(actual_start__isnull=False, actual_end__gte=models.F("actual_start")),
                name="outreach_posting_actual_in_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(home_institution=models.F("host_institution")),
                name="outreach_posting_not_to_itself",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expert_id} → {self.host_institution_id} {self.planned_start}"

    @property
    def title_label(self) -> str:
        """The title when posted, readable (— when none was recorded)."""
        if self.title_at_posting in ProfessionalTitle.values and self.title_at_posting:
            return str(ProfessionalTitle(self.title_at_posting).label)
        return "—"


class ExpertClinicSession(BaseModel):
    """An expert clinic session (专家门诊) a hospital's expert holds at a member, cut into bookable slots.

    Member staff book the slots for residents (``ClinicBooking``); a
    cancelled session releases and notifies its bookings.
    """

    status = models.CharField(
        _("状态"), max_length=12, choices=SessionStatus.choices, default=SessionStatus.OPEN, db_index=True
    )
    consortium = models.ForeignKey(
        "institutions.Consortium",
        verbose_name=_("医联体"),
        on_delete=models.PROTECT,
        related_name="expert_clinic_sessions",
    )
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("专家"),
        on_delete=models.PROTECT,
        related_name="expert_clinic_sessions",
    )
    home_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("专家所在单位"),
        on_delete=models.PROTECT,
        related_name="expert_clinic_sessions_sent",
    )
    host_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("坐诊单位"),
        on_delete=models.PROTECT,
        related_name="expert_clinic_sessions",
    )
    host_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("坐诊科室"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="expert_clinic_sessions",
    )
    title_at_session = models.CharField(_("职称"), max_length=32, blank=True)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(pgettext_lazy("end of a scheduled time span", "结束时间"))
    slot_minutes = models.PositiveSmallIntegerField(_("每号时长（分钟）"), default=15)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    cancel_reason = models.CharField(_("停诊原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("专家门诊")
        verbose_name_plural = _("专家门诊")
        indexes = [models.Index(fields=["host_institution", "starts_at"], name="outreach_session_host_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="outreach_session_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expert_id} {self.starts_at:%Y-%m-%d %H:%M}"


class ClinicSlot(BaseModel):
    """One bookable time of a session. ``is_booked`` flips by a conditional UPDATE (``is_booked`` false),
    so two bookings racing for it cannot both win; the booking table's constraint is the backstop."""

    session = models.ForeignKey(ExpertClinicSession, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(pgettext_lazy("end of a scheduled time span", "结束时间"))
    is_booked = models.BooleanField(_("已预约"), default=False)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("专家门诊号源")
        verbose_name_plural = _("专家门诊号源")
        constraints = [
            models.UniqueConstraint(fields=["session", "starts_at"], name="outreach_slot_unique_time"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.starts_at:%H:%M}"


class ClinicBooking(BaseModel):
    """A resident booked into a slot by member staff. At most one live booking per slot and one per
    person per session (partial unique constraints)."""

    slot = models.ForeignKey(ClinicSlot, on_delete=models.PROTECT, related_name="bookings")
    session = models.ForeignKey(ExpertClinicSession, on_delete=models.PROTECT, related_name="bookings")
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("居民"),
        on_delete=models.PROTECT,
        related_name="expert_clinic_bookings",
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=BookingStatus.choices, default=BookingStatus.BOOKED, db_index=True
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("预约人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["slot__starts_at", "id"]
        verbose_name = _("专家门诊预约")
        verbose_name_plural = _("专家门诊预约")
        constraints = [
            models.UniqueConstraint(
                fields=["slot"],
                condition=models.Q(status=BookingStatus.BOOKED),
                name="outreach_booking_one_per_slot",
            ),
            models.UniqueConstraint(
                fields=["session", "person"],
                condition=models.Q(status=BookingStatus.BOOKED),
                name="outreach_booking_one_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slot_id} {self.status}"
