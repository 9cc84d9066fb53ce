"""Capacity building: training courses and attendance, refresher fellowships, new techniques, equipment support.

Every record is filed under a consortium, so its management office reads it,
and names the institutions at both ends (organiser and members, host and
home, supporter and member, donor and recipient) that scope who sees it.
These records hold staff, never patients.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yilian.capacity_building.choices import (
    AssessmentResult,
    CourseKind,
    CourseMode,
    CourseStatus,
    DeviceType,
    FellowshipStatus,
    MaintenanceStatus,
    SupportKind,
    TechniqueCategory,
    TechniqueStatus,
)
from yilian.core.models import BaseModel


class TrainingCourse(BaseModel):
    """A course, teaching round, joint film reading, nursing training, skills contest or lecture (培训).

    Organised by a department of an institution (mostly the lead hospital),
    held on site or online over one or more days, open either to every
    member of the consortium or to the listed ``audience`` institutions.
    The organiser records who signed in (``TrainingAttendance``).
    """

    consortium = models.ForeignKey(
        "institutions.Consortium", verbose_name=_("医联体"), on_delete=models.PROTECT, related_name="+"
    )
    organiser = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("主办机构"),
        on_delete=models.PROTECT,
        related_name="organised_courses",
    )
    organiser_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("主办科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("培训形式"), max_length=20, choices=CourseKind.choices, db_index=True)
    title = models.CharField(_("培训名称"), max_length=200)
    topic = models.TextField(_("培训内容"), max_length=2000, blank=True)
    trainers = models.CharField(_("授课人"), max_length=200)
    mode = models.CharField(
        _("举办方式"), max_length=10, choices=CourseMode.choices, default=CourseMode.ON_SITE
    )
    place = models.CharField(_("地点/线上链接"), max_length=200, blank=True)
    venue = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("举办地机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hosted_courses",
        help_text=_("在成员单位现场举办时填写。"),
    )
    starts_on = models.DateField(_("开始日期"), db_index=True)
    ends_on = models.DateField(_("结束日期"))
    hours = models.DecimalField(_("学时"), max_digits=5, decimal_places=1, default=Decimal("0"))
    credits = models.DecimalField(_("学分"), max_digits=4, decimal_places=1, default=Decimal("0"))
    open_to_all_members = models.BooleanField(_("面向全体成员单位"), default=True)
    audience = models.ManyToManyField(
        "institutions.Institution", verbose_name=_("面向机构"), blank=True, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=CourseStatus.choices, default=CourseStatus.PLANNED, db_index=True
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("培训")
        verbose_name_plural = _("培训")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="course_ends_after_start"),
            models.CheckConstraint(
                condition=Q(hours__gte=0, credits__gte=0), name="course_hours_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_on:%Y-%m-%d} {self.title}"


class TrainingAttendance(BaseModel):
    """One person signed in at a course: a member's staff by account, or an external name with
    institution. ``institution`` is the attendee's home institution (what person-times count under).
    The database refuses a second record of the same account, or the same external name and
    institution, at one course."""

    course = models.ForeignKey(
        TrainingCourse, verbose_name=_("培训"), on_delete=models.CASCADE, related_name="attendances"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("学员账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="training_attendances",
    )
    name = models.CharField(_("学员姓名"), max_length=50)
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("所在机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    institution_name = models.CharField(_("所在机构名称"), max_length=200)
    signed_in_at = models.DateTimeField(_("签到时间"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["institution_name", "name", "id"]
        verbose_name = _("培训签到")
        verbose_name_plural = _("培训签到")
        constraints = [
            models.UniqueConstraint(
                fields=["course", "user"], condition=Q(user__isnull=False), name="attendance_account_once"
            ),
            models.UniqueConstraint(
                fields=["course", "name", "institution_name"],
                condition=Q(user__isnull=True),
                name="attendance_external_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.institution_name}）"


class Fellowship(BaseModel):
    """A refresher fellowship (进修) of a member's staff at a department of the lead hospital.

    The member's administrator applies (planned); the host's administrator
    or the supervisor starts it (in progress), completes it with the
    assessment result and certificate number, or either side withdraws it
    with a reason. Status changes are conditional UPDATEs on the expected
    status, so of two concurrent changes only one lands.
    """

    consortium = models.ForeignKey(
        "institutions.Consortium", verbose_name=_("医联体"), on_delete=models.PROTECT, related_name="+"
    )
    trainee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("进修人员"),
        on_delete=models.PROTECT,
        related_name="fellowships",
    )
    home_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("选派单位"),
        on_delete=models.PROTECT,
        related_name="sent_fellowships",
    )
    host_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("进修医院"),
        on_delete=models.PROTECT,
        related_name="hosted_fellowships",
    )
    host_department = models.ForeignKey(
        "institutions.Department", verbose_name=_("进修科室"), on_delete=models.PROTECT, related_name="+"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("带教老师"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_fellowships",
    )
    specialty_goal = models.CharField(_("进修方向与目标"), max_length=300, blank=True)
    planned_start = models.DateField(_("计划开始日期"))
    planned_months = models.PositiveSmallIntegerField(_("计划进修月数"))
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=FellowshipStatus.choices,
        default=FellowshipStatus.PLANNED,
        db_index=True,
    )
    started_on = models.DateField(_("实际开始日期"), null=True, blank=True, db_index=True)
    ended_on = models.DateField(_("结束日期"), null=True, blank=True, db_index=True)
    assessment = models.CharField(_("结业考核"), max_length=10, choices=AssessmentResult.choices, blank=True)
    assessment_note = models.CharField(_("考核评语"), max_length=500, blank=True)
    certificate_number = models.CharField(_("结业证书编号"), max_length=40, blank=True)
    withdraw_reason = models.CharField(_("退出原因"), max_length=300, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-planned_start", "-id"]
        verbose_name = _("进修")
        verbose_name_plural = _("进修")
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_months__gte=1, planned_months__lte=12), name="fellowship_months_1_12"
            ),
            models.CheckConstraint(
                condition=~Q(status=FellowshipStatus.COMPLETED)
                | (~Q(assessment="") & Q(ended_on__isnull=False)),
                name="fellowship_completed_assessed",
            ),
            models.UniqueConstraint(
                fields=["certificate_number"],
                condition=~Q(certificate_number=""),
                name="fellowship_certificate_unique",
            ),
            # One open fellowship per trainee: a second application waits until the first ends.
            models.UniqueConstraint(
                fields=["trainee"],
                condition=Q(status__in=[FellowshipStatus.PLANNED, FellowshipStatus.IN_PROGRESS]),
                name="fellowship_one_open_per_trainee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trainee} @ {self.host_department}"


class TechniqueTransfer(BaseModel):
    """A new technique or project (新技术新项目) introduced at a member with the lead hospital's help.

    The member's administrator records it; the consortium office confirms
    it (only confirmed ones count in the national figure) or returns it
    with a reason. ``cases_to_date`` is the latest of its case updates.
    """

    consortium = models.ForeignKey(
        "institutions.Consortium", verbose_name=_("医联体"), on_delete=models.PROTECT, related_name="+"
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("引进机构"),
        on_delete=models.PROTECT,
        related_name="introduced_techniques",
    )
    name = models.CharField(_("技术/项目名称"), max_length=200)
    category = models.CharField(_("类别"), max_length=16, choices=TechniqueCategory.choices, db_index=True)
    description = models.TextField(_("简介"), max_length=2000, blank=True)
    supporting_institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("支持单位"),
        on_delete=models.PROTECT,
        related_name="supported_techniques",
    )
    supporting_department = models.ForeignKey(
        "institutions.Department",
        verbose_name=_("支持科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("指导专家"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    introduced_on = models.DateField(_("引进日期"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=TechniqueStatus.choices, default=TechniqueStatus.RECORDED
    )
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    cases_to_date = models.PositiveIntegerField(_("累计开展例数"), default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-introduced_on", "-id"]
        verbose_name = _("新技术新项目")
        verbose_name_plural = _("新技术新项目")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "name"],
                condition=~Q(status=TechniqueStatus.REJECTED),
                name="technique_unique_per_institution",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TechniqueCaseUpdate(BaseModel):
    """A report of the cases performed with a technique so far (累计例数), as of a date."""

    technique = models.ForeignKey(
        TechniqueTransfer,
        verbose_name=_("新技术新项目"),
        on_delete=models.CASCADE,
        related_name="case_updates",
    )
    as_of = models.DateField(_("截至日期"))
    cases_to_date = models.PositiveIntegerField(_("累计开展例数"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name = _("开展例数更新")
        verbose_name_plural = _("开展例数更新")

    def __str__(self) -> str:
        return f"{self.as_of} {self.cases_to_date}"


class SupportedDevice(BaseModel):
    """A device the lead hospital donated or lent to a member (设备支持).

    Lent devices carry the date they are due back and, once back, the
    return date. The serial number is unique per donor.
    """

    consortium = models.ForeignKey(
        "institutions.Consortium", verbose_name=_("医联体"), on_delete=models.PROTECT, related_name="+"
    )
    donor = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("支持单位"),
        on_delete=models.PROTECT,
        related_name="supported_devices",
    )
    recipient = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("受援机构"),
        on_delete=models.PROTECT,
        related_name="received_devices",
    )
    device_type = models.CharField(_("设备类型"), max_length=16, choices=DeviceType.choices, db_index=True)
    name = models.CharField(_("设备名称"), max_length=100)
    model = models.CharField(_("型号"), max_length=100, blank=True)
    serial_number = models.CharField(_("序列号"), max_length=60)
    value = models.DecimalField(_("价值（元）"), max_digits=12, decimal_places=2, default=Decimal("0"))
    support_kind = models.CharField(_("支持方式"), max_length=10, choices=SupportKind.choices)
    delivered_on = models.DateField(_("交付日期"), db_index=True)
    lent_until = models.DateField(_("借用截止日期"), null=True, blank=True)
    returned_on = models.DateField(_("归还日期"), null=True, blank=True)
    notes = models.CharField(_("备注"), max_length=300, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-delivered_on", "-id"]
        verbose_name = _("支持设备")
        verbose_name_plural = _("支持设备")
        constraints = [
            models.UniqueConstraint(fields=["donor", "serial_number"], name="device_serial_unique_per_donor"),
            models.CheckConstraint(condition=Q(value__gte=0), name="device_value_not_negative"),
            models.CheckConstraint(
                condition=Q(
                    support_kind=SupportKind.DONATED, lent_until__isnull=True, returned_on__isnull=True
                )
                | Q(support_kind=SupportKind.LENT, lent_until__isnull=False),
                name="device_lent_has_due_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.model} ({self.serial_number})"

    @property
    def in_service(self) -> bool:
        """True while the member still has the device (donated, or lent and not returned)."""
        return self.returned_on is None


class MaintenanceRequest(BaseModel):
    """A maintenance / repair request for a supported device (设备维修记录).

    The member reports the fault; an engineer of the donor takes it (or the
    donor's administrator assigns one) and closes it as repaired or not
    repairable with the work done, parts and cost (free support is the
    norm). Taking is a conditional UPDATE on ``status='requested'``: of two
    engineers racing for one request only one gets it.
    """

    device = models.ForeignKey(
        SupportedDevice, verbose_name=_("设备"), on_delete=models.PROTECT, related_name="maintenance"
    )
    number = models.CharField(_("维修单号"), max_length=20, unique=True)
    fault_description = models.TextField(_("故障描述"), max_length=1000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报修人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("报修时间"), db_index=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=MaintenanceStatus.choices,
        default=MaintenanceStatus.REQUESTED,
        db_index=True,
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维修工程师"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="maintenance_jobs",
    )
    assigned_at = models.DateTimeField(_("派工时间"), null=True, blank=True)
    completed_on = models.DateField(_("完成日期"), null=True, blank=True, db_index=True)
    work_done = models.TextField(_("维修情况"), max_length=1000, blank=True)
    parts = models.CharField(_("更换配件"), max_length=300, blank=True)
    cost = models.DecimalField(_("费用（元）"), max_digits=10, decimal_places=2, default=Decimal("0"))
    cancel_reason = models.CharField(_("撤销原因"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("设备维修")
        verbose_name_plural = _("设备维修")
        constraints = [
            models.CheckConstraint(condition=Q(cost__gte=0), name="maintenance_cost_not_negative"),
            models.CheckConstraint(
                condition=Q(status=MaintenanceStatus.REQUESTED)
                | Q(status=MaintenanceStatus.CANCELLED)
                | Q(engineer__isnull=False),
                name="maintenance_engineer_when_taken",
            ),
            # One open request per device: a second report joins the first.
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(status__in=[MaintenanceStatus.REQUESTED, MaintenanceStatus.ASSIGNED]),
                name="maintenance_one_open_per_device",
            ),
        ]

    def __str__(self) -> str:
        return self.number
