"""Serializers of the capacity-building API: shape and rendering only; the services check the rules.

Objects are addressed by public id. Staff accounts in payloads resolve only
among the members of the requester's consortia (``selectors.staff_user_in_reach``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.accounts.api.serializers import UserSummarySerializer
from yilian.capacity_building import selectors
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
from yilian.core.api.fields import EnumField, ReferenceField
from yilian.institutions.api.serializers import (
    ConsortiumSummarySerializer,
    InstitutionSummarySerializer,
    department_by_id,
    institution_by_id,
)

MAX_INT = 2_147_483_647


def staff_by_id(actor: Any, public_id: Any) -> Any:
    """A staff account among the members of the requester's consortia."""
    return selectors.staff_user_in_reach(actor, public_id)


def device_by_id(actor: Any, public_id: Any) -> Any:
    """A device the requester may read."""
    return selectors.device_get_for(actor, public_id)


def statistics_consortium_by_id(actor: Any, public_id: Any) -> Any:
    """A consortium whose figures the requester reads."""
    return selectors.statistics_consortium_get(actor, public_id)


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, **kwargs)


def _version() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        required=False,
        allow_null=True,
        help_text="您看到的版本号；版本已变化时返回 409",
    )


class TrainingDepartmentSerializer(serializers.Serializer):
    """A department by public id and name."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class _Query(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="搜索词")


# Courses ------------------------------------------------------------------------------------------


class CourseSerializer(serializers.Serializer):
    """A training course, teaching round, film reading, nursing training, contest or lecture."""

    public_id = serializers.UUIDField(read_only=True)
    kind = EnumField(CourseKind, read_only=True)
    title = serializers.CharField(read_only=True)
    topic = serializers.CharField(read_only=True)
    trainers = serializers.CharField(read_only=True)
    mode = EnumField(CourseMode, read_only=True)
    place = serializers.CharField(read_only=True)
    venue = InstitutionSummarySerializer(read_only=True, allow_null=True)
    organiser = InstitutionSummarySerializer(read_only=True)
    organiser_department = TrainingDepartmentSerializer(read_only=True, allow_null=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    hours = serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True)
    credits = serializers.DecimalField(max_digits=4, decimal_places=1, read_only=True)
    open_to_all_members = serializers.BooleanField(read_only=True)
    status = EnumField(CourseStatus, read_only=True)
    cancel_reason = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    attendance_count = serializers.IntegerField(read_only=True, required=False)


class CourseDetailSerializer(CourseSerializer):
    """A course with the institutions it is listed for (empty when open to every member)."""

    audience = serializers.SerializerMethodField()

    @extend_schema_field(InstitutionSummarySerializer(many=True))
    def get_audience(self, course: Any) -> list[dict[str, Any]]:
        return InstitutionSummarySerializer(selectors.course_audience(course), many=True).data  # type: ignore[return-value]


class CourseQuerySerializer(_Query):
    """Filters of the course list."""

    box = serializers.ChoiceField(
        choices=["all", "organised", "attended"],
        required=False,
        default="all",
        help_text="all：可见的全部；organised：本机构主办；attended：本人参加",
    )
    kind = EnumField(CourseKind, required=False)
    status = EnumField(CourseStatus, required=False)
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


class CourseWriteSerializer(serializers.Serializer):
    """Publish (POST) or change (PATCH) a course."""

    organiser = ReferenceField(institution_by_id, help_text="主办机构（仅发布时）")
    organiser_department = ReferenceField(department_by_id, required=False, allow_null=True)
    kind = EnumField(CourseKind)
    title = serializers.CharField(max_length=200)
    topic = _text(2000)
    trainers = serializers.CharField(max_length=200)
    mode = EnumField(CourseMode, required=False, default=CourseMode.ON_SITE)
    place = _text(200)
    venue = ReferenceField(institution_by_id, required=False, allow_null=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    hours = serializers.DecimalField(max_digits=5, decimal_places=1, required=False, allow_null=True)
    credits = serializers.DecimalField(max_digits=4, decimal_places=1, required=False, allow_null=True)
    open_to_all_members = serializers.BooleanField(required=False, default=True)
    audience = serializers.ListField(
        child=ReferenceField(institution_by_id),
        required=False,
        max_length=500,
        help_text="面向机构（不面向全体时）",
    )
    expected_version = _version()


class CapacityReasonSerializer(serializers.Serializer):
    """A reason."""

    reason = serializers.CharField(max_length=300)
    expected_version = _version()


class CapacityEmptySerializer(serializers.Serializer):
    """No body."""


class AttendanceSerializer(serializers.Serializer):
    """One sign-in at a course."""

    public_id = serializers.UUIDField(read_only=True)
    user = UserSummarySerializer(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True)
    institution = InstitutionSummarySerializer(read_only=True, allow_null=True)
    institution_name = serializers.CharField(read_only=True)
    signed_in_at = serializers.DateTimeField(read_only=True)


class AttendanceCreateSerializer(serializers.Serializer):
    """Sign in staff accounts (``users``), or one external attendee (``name`` and ``institution_name``)."""

    users = serializers.ListField(
        child=ReferenceField(staff_by_id), required=False, max_length=200, help_text="成员单位人员账号"
    )
    name = _text(50, help_text="外部人员姓名")
    institution_name = _text(200, help_text="外部人员所在机构")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("users") and not (attrs.get("name") or attrs.get("institution_name")):
            raise serializers.ValidationError(_("请提供 users，或外部人员的 name 和 institution_name。"))
        if attrs.get("users") and (attrs.get("name") or attrs.get("institution_name")):
            raise serializers.ValidationError(_("users 与外部人员不能同时提交。"))
        return attrs


# Fellowships -------------------------------------------------------------------------------------


class FellowshipSerializer(serializers.Serializer):
    """A refresher fellowship at the lead hospital."""

    public_id = serializers.UUIDField(read_only=True)
    trainee = UserSummarySerializer(read_only=True)
    home_institution = InstitutionSummarySerializer(read_only=True)
    host_institution = InstitutionSummarySerializer(read_only=True)
    host_department = TrainingDepartmentSerializer(read_only=True)
    supervisor = UserSummarySerializer(read_only=True, allow_null=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    specialty_goal = serializers.CharField(read_only=True)
    planned_start = serializers.DateField(read_only=True)
    planned_months = serializers.IntegerField(read_only=True)
    status = EnumField(FellowshipStatus, read_only=True)
    started_on = serializers.DateField(read_only=True, allow_null=True)
    ended_on = serializers.DateField(read_only=True, allow_null=True)
    assessment = serializers.CharField(
        read_only=True, help_text="结业考核：excellent/good/pass/fail，未结业为空"
    )
    assessment_note = serializers.CharField(read_only=True)
    certificate_number = serializers.CharField(read_only=True)
    withdraw_reason = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)


class FellowshipQuerySerializer(_Query):
    """Filters of the fellowship list."""

    status = EnumField(FellowshipStatus, required=False)
    open = serializers.BooleanField(required=False, default=False, help_text="仅未结束")
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


class FellowshipCreateSerializer(serializers.Serializer):
    """Apply for a fellowship (the member's administrator)."""

    trainee = ReferenceField(staff_by_id)
    home_institution = ReferenceField(institution_by_id)
    host_department = ReferenceField(department_by_id)
    supervisor = ReferenceField(staff_by_id, required=False, allow_null=True)
    specialty_goal = _text(300)
    planned_start = serializers.DateField()
    planned_months = serializers.IntegerField(min_value=-MAX_INT, max_value=MAX_INT)


class FellowshipStartSerializer(serializers.Serializer):
    """Record the trainee's arrival."""

    started_on = serializers.DateField(required=False, allow_null=True)
    expected_version = _version()


class FellowshipCompleteSerializer(serializers.Serializer):
    """Finish the fellowship."""

    assessment = EnumField(AssessmentResult)
    certificate_number = _text(40)
    assessment_note = _text(500)
    ended_on = serializers.DateField(required=False, allow_null=True)
    expected_version = _version()


# Techniques --------------------------------------------------------------------------------------


class TechniqueSerializer(serializers.Serializer):
    """A new technique or project introduced at a member."""

    public_id = serializers.UUIDField(read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    name = serializers.CharField(read_only=True)
    category = EnumField(TechniqueCategory, read_only=True)
    description = serializers.CharField(read_only=True)
    supporting_institution = InstitutionSummarySerializer(read_only=True)
    supporting_department = TrainingDepartmentSerializer(read_only=True, allow_null=True)
    expert = UserSummarySerializer(read_only=True, allow_null=True)
    introduced_on = serializers.DateField(read_only=True)
    status = EnumField(TechniqueStatus, read_only=True)
    review_note = serializers.CharField(read_only=True)
    cases_to_date = serializers.IntegerField(read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    version = serializers.IntegerField(read_only=True)


class TechniqueQuerySerializer(_Query):
    """Filters of the technique list."""

    status = EnumField(TechniqueStatus, required=False)
    category = EnumField(TechniqueCategory, required=False)
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


class TechniqueCreateSerializer(serializers.Serializer):
    """Record a technique (the member's administrator)."""

    institution = ReferenceField(institution_by_id)
    name = serializers.CharField(max_length=200)
    category = EnumField(TechniqueCategory)
    description = _text(2000)
    supporting_department = ReferenceField(department_by_id)
    expert = ReferenceField(staff_by_id, required=False, allow_null=True)
    introduced_on = serializers.DateField()
    cases_to_date = serializers.IntegerField(min_value=-MAX_INT, max_value=MAX_INT, required=False, default=0)


class TechniqueReviewSerializer(serializers.Serializer):
    """The office confirms (``confirm: true``) or returns with a ``note``."""

    confirm = serializers.BooleanField()
    note = _text(300)
    expected_version = _version()


class CaseUpdateSerializer(serializers.Serializer):
    """A report of the cases performed so far."""

    public_id = serializers.UUIDField(read_only=True)
    as_of = serializers.DateField(required=False, allow_null=True)
    cases_to_date = serializers.IntegerField(min_value=-MAX_INT, max_value=MAX_INT)
    note = _text(300)


# Devices and maintenance ------------------------------------------------------------------------


class DeviceSerializer(serializers.Serializer):
    """A device donated or lent to a member."""

    public_id = serializers.UUIDField(read_only=True)
    donor = InstitutionSummarySerializer(read_only=True)
    recipient = InstitutionSummarySerializer(read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    device_type = EnumField(DeviceType, read_only=True)
    name = serializers.CharField(read_only=True)
    model = serializers.CharField(read_only=True)
    serial_number = serializers.CharField(read_only=True)
    value = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    support_kind = EnumField(SupportKind, read_only=True)
    delivered_on = serializers.DateField(read_only=True)
    lent_until = serializers.DateField(read_only=True, allow_null=True)
    returned_on = serializers.DateField(read_only=True, allow_null=True)
    notes = serializers.CharField(read_only=True)
    open_requests = serializers.IntegerField(read_only=True, required=False)


class DeviceQuerySerializer(_Query):
    """Filters of the device list."""

    device_type = EnumField(DeviceType, required=False)
    support_kind = EnumField(SupportKind, required=False)
    in_service = serializers.BooleanField(required=False, default=False)


class DeviceCreateSerializer(serializers.Serializer):
    """Register a device (the donor's administrator or engineer)."""

    donor = ReferenceField(institution_by_id)
    recipient = ReferenceField(institution_by_id)
    device_type = EnumField(DeviceType)
    name = serializers.CharField(max_length=100)
    model = _text(100)
    serial_number = serializers.CharField(max_length=60)
    value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    support_kind = EnumField(SupportKind)
    delivered_on = serializers.DateField()
    lent_until = serializers.DateField(required=False, allow_null=True)
    notes = _text(300)


class DeviceReturnSerializer(serializers.Serializer):
    """A lent device came back."""

    returned_on = serializers.DateField(required=False, allow_null=True)


class MaintenanceSerializer(serializers.Serializer):
    """A repair request and its outcome."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    device = DeviceSerializer(read_only=True)
    fault_description = serializers.CharField(read_only=True)
    requested_by = UserSummarySerializer(read_only=True, allow_null=True)
    requested_at = serializers.DateTimeField(read_only=True)
    status = EnumField(MaintenanceStatus, read_only=True)
    engineer = UserSummarySerializer(read_only=True, allow_null=True)
    assigned_at = serializers.DateTimeField(read_only=True, allow_null=True)
    completed_on = serializers.DateField(read_only=True, allow_null=True)
    work_done = serializers.CharField(read_only=True)
    parts = serializers.CharField(read_only=True)
    cost = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    cancel_reason = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)


class MaintenanceQuerySerializer(_Query):
    """Filters of the repair lists."""

    box = serializers.ChoiceField(
        choices=["worklist", "requests", "all"],
        required=False,
        default="all",
        help_text="worklist：工程师工单；requests：本机构报修；all：可见的全部",
    )
    status = EnumField(MaintenanceStatus, required=False)
    open = serializers.BooleanField(required=False, default=False)


class MaintenanceCreateSerializer(serializers.Serializer):
    """Report a fault of a device the requester's institution holds."""

    device = ReferenceField(device_by_id)
    fault_description = serializers.CharField(max_length=1000)


class MaintenanceAssignSerializer(serializers.Serializer):
    """Assign to an engineer of the donor."""

    engineer = ReferenceField(staff_by_id)
    expected_version = _version()


class MaintenanceCompleteSerializer(serializers.Serializer):
    """Close as ``repaired`` or ``not_repairable``."""

    outcome = serializers.ChoiceField(
        choices=[MaintenanceStatus.REPAIRED.value, MaintenanceStatus.NOT_REPAIRABLE.value]
    )
    work_done = serializers.CharField(max_length=1000)
    parts = _text(300)
    cost = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True)
    completed_on = serializers.DateField(required=False, allow_null=True)
    expected_version = _version()


# Statistics --------------------------------------------------------------------------------------


class CapacityStatisticsQuerySerializer(serializers.Serializer):
    """The consortium and year."""

    consortium = ReferenceField(
        statistics_consortium_by_id, required=False, help_text="默认为可查看的第一个医联体"
    )
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


class CapacityCountsSerializer(serializers.Serializer):
    """One member's yearly figures."""

    courses = serializers.IntegerField(read_only=True)
    course_person_times = serializers.IntegerField(read_only=True)
    course_trainees = serializers.IntegerField(read_only=True)
    fellows_started = serializers.IntegerField(read_only=True)
    fellows_completed = serializers.IntegerField(read_only=True)
    techniques_introduced = serializers.IntegerField(read_only=True)
    devices_supported = serializers.IntegerField(read_only=True)
    devices_donated = serializers.IntegerField(read_only=True)
    devices_lent = serializers.IntegerField(read_only=True)
    maintenance_completed = serializers.IntegerField(read_only=True)


class MemberFiguresSerializer(serializers.Serializer):
    """A member and its figures."""

    institution = InstitutionSummarySerializer(read_only=True)
    role = serializers.CharField(read_only=True)
    counts = CapacityCountsSerializer(read_only=True)


class KindRowSerializer(serializers.Serializer):
    """The consortium's courses of one kind."""

    kind = EnumField(CourseKind, read_only=True)
    sessions = serializers.IntegerField(read_only=True)
    person_times = serializers.IntegerField(read_only=True)
    hours = serializers.DecimalField(max_digits=9, decimal_places=1, read_only=True)


class CapacityStatisticsSerializer(serializers.Serializer):
    """A consortium's capacity-building figures of one year."""

    consortium = ConsortiumSummarySerializer(read_only=True)
    year = serializers.IntegerField(read_only=True)
    rows = MemberFiguresSerializer(many=True, read_only=True)
    total = CapacityCountsSerializer(read_only=True)
    by_kind = KindRowSerializer(many=True, read_only=True)
