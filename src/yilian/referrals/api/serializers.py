"""Serializers of the referral API: shape and rendering only; the services check the rules.

Ids are public ids. ``to_department`` is resolved by
``selectors.department_for_referral`` (an unknown or inactive department is
a 400 on the field, not a 404); persons through the people selectors (need
to know); institutions, departments and consortia through the registry.
Patient details are rendered only for those who may see the patient
(``policies.sees_patient``); the consortium office and regulators read a
masked name.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.accounts.api.serializers import DepartmentSummarySerializer
from yilian.core.api.fields import EnumField, ReferenceField
from yilian.core.api.views import pick
from yilian.core.audit import action_label
from yilian.core.exceptions import Invalid, NotAllowed
from yilian.encounters.api.serializers import PatientSerializer, encounter_by_id, patient_data
from yilian.institutions.api.serializers import (
    ConsortiumSummarySerializer,
    InstitutionSummarySerializer,
    consortium_by_id,
    department_by_id,
    institution_by_id,
)
from yilian.institutions.choices import DepartmentSpecialty
from yilian.people.choices import InsuranceScheme
from yilian.people.selectors import person_get_for
from yilian.referrals import policies, selectors
from yilian.referrals.choices import (
    CapacityKind,
    CriterionCategory,
    DepartmentGroup,
    FollowUpTaskKind,
    Grade,
    Material,
    MissingMaterialAction,
    RecoveryPhase,
    ReferralDirection,
    ReferralKind,
    ReferralPriority,
    ReferralSide,
    ReferralStatus,
)
from yilian.referrals.models import Referral
from yilian.referrals.schemes import SCHEMES

MAX_INT = 2_147_483_647
MAX_REPORT_DAYS = 731
"""Longest period a statistics request may cover (two years), in days."""


# Resolvers --------------------------------------------------------------------------------------


def person_for_referral(actor: Any, public_id: Any) -> Any:
    """The patient of a new referral: someone the actor may see, and the actor must be able to refer."""
    if not policies.can_write_referrals(actor):
        raise NotAllowed(_("您没有发起转诊的权限。"))
    return person_get_for(actor, public_id)


def statistics_consortium(actor: Any, public_id: Any) -> Any:
    """A consortium whose statistics the actor may read (NotFound otherwise)."""
    if not policies.can_view_statistics(actor):
        raise NotAllowed(_("只有医联体管理办公室、卫生健康行政部门可以查看转诊统计。"))
    return pick(selectors.member_consortia_for_statistics(actor), public_id=public_id)


class BookingPoolField(ReferenceField):
    """A pool of reserved places by public id (``referral-capacity/bookable`` lists them). A bad id is a
    400 on the field; whether the pool fits the referral the service decides."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(self._resolve, **kwargs)

    def _resolve(self, actor: Any, public_id: Any) -> Any:
        try:
            return selectors.reserved_capacity_get(public_id, field=self.field_name)
        except Invalid as error:
            raise serializers.ValidationError(error.as_text()[self.field_name]) from error


BOOKING_HELP = (
    "提交时预约的预留号源/床位：bookable 列出的某一组号源的 public_id。同一天可能有普通号源和"
    "仅限签约居民的号源（signed_residents_only），只占用所选的这一组；患者没有生效签约时不能选后者。"
)
BOOKING_DATE_HELP = (
    "按日期预约（不指定哪一组号源）：签约居民先用仅限签约居民的号源，再用普通号源。"
    "与 booking 同时给出时须是其日期。"
)


class ReferralDepartmentField(ReferenceField):
    """A department to refer to: active, of an institution in operation. A bad id is a 400 on the field."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(self._resolve, **kwargs)

    def _resolve(self, actor: Any, public_id: Any) -> Any:
        try:
            return selectors.department_for_referral(public_id, field=self.field_name)
        except Invalid as error:
            raise serializers.ValidationError(
                error.as_text().get(self.field_name) or next(iter(error.as_text().values()))
            ) from error


class RenamedFieldsMixin:
    """Query fields whose public names are Python keywords (``from``): declared under another
    attribute name and renamed here, so the schema, the parameters and the errors all say ``from``."""

    renamed: dict[str, str] = {}

    def get_fields(self) -> dict[str, Any]:
        """The declared fields, with the renamed ones under their public names."""
        fields = super().get_fields()  # type: ignore[misc]
        for attribute, name in self.renamed.items():
            fields[name] = fields.pop(attribute)
        return fields


def _period(
    values: dict[str, Any], first: datetime.date, last: datetime.date, longest: int
) -> dict[str, Any]:
    if last < first:
        raise serializers.ValidationError({"to": [_("结束日期不能早于开始日期。")]})
    if (last - first).days > longest:
        raise serializers.ValidationError({"to": [_("一次最多查询 {days} 天。").format(days=longest)]})
    values["from"], values["to"] = first, last
    return values


def _text(max_length: int | None = None, **kwargs: Any) -> serializers.CharField:
    if max_length is not None:
        kwargs["max_length"] = max_length
    return serializers.CharField(required=False, allow_blank=True, **kwargs)


def _version() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        required=False,
        allow_null=True,
        help_text="您看到的转诊单版本；也可用 If-Match 请求头；版本已变化时返回 409",
    )


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


# Summaries --------------------------------------------------------------------------------------


class MaterialSerializer(serializers.Serializer):
    """A material by code and name."""

    material = EnumField(Material, read_only=True)
    label = serializers.CharField(read_only=True)


def materials(codes: list[str]) -> list[dict[str, str]]:
    """Material codes with their names."""
    return [{"material": code, "label": _label(Material, code)} for code in codes]


class ReferralRefSerializer(serializers.Serializer):
    """Another referral by public id, number and status."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    status = EnumField(ReferralStatus, read_only=True)


class CriterionSummarySerializer(serializers.Serializer):
    """The catalogue rule a referral was judged by."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    category = EnumField(CriterionCategory, read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)


class BookingSerializer(serializers.Serializer):
    """The reserved place a referral holds."""

    public_id = serializers.UUIDField(read_only=True)
    kind = EnumField(CapacityKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    date = serializers.DateField(read_only=True)
    signed_residents_only = serializers.BooleanField(read_only=True, help_text="仅限家庭医生签约居民的号源")


class OutcomeSerializer(serializers.Serializer):
    """What the receiver sent back on completion."""

    diagnosis_code = serializers.CharField(source="outcome_diagnosis_code", read_only=True)
    diagnosis_name = serializers.CharField(source="outcome_diagnosis_name", read_only=True)
    summary = serializers.CharField(source="outcome_summary", read_only=True)
    discharge_summary = serializers.CharField(read_only=True)
    follow_up_plan = serializers.CharField(read_only=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    subsidy_amount = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)


class TimelineEventSerializer(serializers.Serializer):
    """One step of a referral: what was done, by whom, for which side, when."""

    action = serializers.CharField(read_only=True)
    action_label = serializers.SerializerMethodField()
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)
    to_status_label = serializers.SerializerMethodField()
    side = EnumField(ReferralSide, read_only=True)
    side_label = serializers.CharField(source="get_side_display", read_only=True)
    actor_name = serializers.CharField(source="display_actor", read_only=True)
    institution_name = serializers.CharField(read_only=True)
    note = serializers.CharField(source="display_note", read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)

    def get_action_label(self, event: Any) -> str:
        """The step's readable name."""
        return action_label(f"referral.{event.action}")

    def get_to_status_label(self, event: Any) -> str:
        """The state after the step."""
        return _label(ReferralStatus, event.to_status)


class AttachmentKindSerializer(serializers.Serializer):
    """How many files of one material were sent with a referral (no names: every reader gets this)."""

    material = EnumField(Material, read_only=True)
    material_label = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)


class AttachmentSerializer(serializers.Serializer):
    """A file sent with a referral (download it from ``download_url``)."""

    public_id = serializers.UUIDField(read_only=True)
    material = EnumField(Material, read_only=True)
    material_label = serializers.SerializerMethodField()
    original_filename = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    download_url = serializers.SerializerMethodField()

    def get_material_label(self, attachment: Any) -> str:
        """The material's name."""
        return _label(Material, attachment.material)

    def get_download_url(self, attachment: Any) -> str:
        """Where the two ends download the file."""
        return reverse("api-referral-attachment-download", kwargs={"public_id": attachment.public_id})


class AttachmentUploadSerializer(serializers.Serializer):
    """Attach a file (multipart): its kind and the file."""

    material = EnumField(
        Material, help_text="资料类型：lab_report、imaging_report、ecg、discharge_summary、consent、other"
    )
    file = serializers.FileField(help_text="PDF、图片、DICOM、Word 或文本，不超过 20 MB")


class FollowUpTaskSerializer(serializers.Serializer):
    """A closed-loop duty of the primary institution after a down-referral."""

    public_id = serializers.UUIDField(read_only=True)
    kind = EnumField(FollowUpTaskKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    due_at = serializers.DateTimeField(read_only=True)
    done_at = serializers.DateTimeField(read_only=True, allow_null=True)
    done_by_name = serializers.SerializerMethodField()
    note = serializers.CharField(read_only=True)
    is_overdue = serializers.SerializerMethodField()

    def get_done_by_name(self, task: Any) -> str:
        """Who recorded it."""
        user = task.done_by
        return (user.full_name or user.username) if user is not None else ""

    def get_is_overdue(self, task: Any) -> bool:
        """Not done and past its deadline (or done late)."""
        return (task.done_at or timezone.now()) > task.due_at


class FollowUpTaskListSerializer(FollowUpTaskSerializer):
    """A duty with its referral and patient (the worklist of duties)."""

    referral = ReferralRefSerializer(read_only=True)
    patient = serializers.SerializerMethodField()
    from_institution = InstitutionSummarySerializer(source="referral.from_institution", read_only=True)
    to_institution = InstitutionSummarySerializer(source="referral.to_institution", read_only=True)

    @extend_schema_field(PatientSerializer)
    def get_patient(self, task: Any) -> dict[str, Any]:
        """The patient, as far as the requester may see them."""
        request = self.context["request"]
        referral = task.referral
        return patient_data(referral.person, visible=policies.sees_patient(request.user, referral))


class FollowUpRecordSerializer(serializers.Serializer):
    """Record the follow-up or first rehabilitation record."""

    note = serializers.CharField(max_length=2000, help_text="随访或康复记录")


class FollowUpQuerySerializer(serializers.Serializer):
    """Which duties: those the requester's institutions owe (default) or every overdue one they see."""

    overdue = serializers.BooleanField(
        required=False, default=False, help_text="只看已超时的（转出方也可见）"
    )


# Referrals --------------------------------------------------------------------------------------


class ReferralStateSerializer(serializers.Serializer):
    """A referral's state after a write, answered to ``Prefer: return=minimal`` (RFC 7240)."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True, help_text="转诊单号")
    status = EnumField(ReferralStatus, read_only=True)
    version = serializers.IntegerField(read_only=True, help_text="每次变更加一；操作时作为 If-Match 发回")
    updated_at = serializers.DateTimeField(read_only=True)


class ReferralSerializer(serializers.Serializer):
    """A referral in a list: who, from where to where, what, its state and what the requester may do now."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True, help_text="转诊单号")
    status = EnumField(ReferralStatus, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    version = serializers.IntegerField(read_only=True, help_text="每次变更加一；操作时作为 If-Match 发回")
    direction = EnumField(ReferralDirection, read_only=True, help_text="上转/下转/平转，由两端机构推定")
    direction_label = serializers.CharField(source="get_direction_display", read_only=True)
    kind = EnumField(ReferralKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    priority = EnumField(ReferralPriority, read_only=True)
    priority_label = serializers.CharField(source="get_priority_display", read_only=True)
    inside_consortium = serializers.BooleanField(read_only=True)
    signed_resident = serializers.BooleanField(
        read_only=True, help_text="提交时患者有生效的家庭医生签约（签约居民绿色通道，同优先级内优先处理）"
    )
    consortium = ConsortiumSummarySerializer(read_only=True, allow_null=True)
    patient = serializers.SerializerMethodField()
    from_institution = InstitutionSummarySerializer(read_only=True)
    from_department = DepartmentSummarySerializer(read_only=True, allow_null=True)
    from_doctor_name = serializers.SerializerMethodField()
    to_institution = InstitutionSummarySerializer(read_only=True)
    to_department = DepartmentSummarySerializer(read_only=True)
    diagnosis_code = serializers.CharField(read_only=True)
    diagnosis_name = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)
    criteria_met = serializers.BooleanField(read_only=True, allow_null=True, help_text="是否符合转诊标准")
    completeness = serializers.IntegerField(read_only=True, allow_null=True, help_text="资料完整度（%）")
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    answer_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    scheduled_for = serializers.DateField(read_only=True, allow_null=True)
    arrived_at = serializers.DateTimeField(read_only=True, allow_null=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    ended_at = serializers.DateTimeField(read_only=True, allow_null=True)
    available_actions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def _actor(self) -> Any:
        return self.context["request"].user

    @extend_schema_field(PatientSerializer)
    def get_patient(self, referral: Referral) -> dict[str, Any]:
        """The patient: details for the two ends' staff, a masked name for the office and regulators."""
        return patient_data(referral.person, visible=policies.sees_patient(self._actor(), referral))

    def get_from_doctor_name(self, referral: Referral) -> str:
        """The referring doctor."""
        doctor = referral.from_doctor
        return (doctor.full_name or doctor.username) if doctor is not None else ""

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, referral: Referral) -> list[str]:
        """Workflow actions the requester may take now (POST /referrals/{id}/{action})."""
        return selectors.available_actions(self._actor(), referral)


class ReferralDetailSerializer(ReferralSerializer):
    """A referral with its content (WS 445.16), criteria check, booking, outcome, timeline, files and duties."""

    recovery_phase = serializers.CharField(read_only=True, help_text="下转阶段")
    history = serializers.CharField(read_only=True)
    exam_results = serializers.CharField(read_only=True)
    medications = serializers.CharField(read_only=True)
    procedures = serializers.CharField(read_only=True)
    treatment = serializers.CharField(read_only=True)
    plan = serializers.CharField(read_only=True)
    patient_consented = serializers.BooleanField(read_only=True)
    encounter = ReferenceField(read_only=True, allow_null=True, help_text="来源住院/就诊记录")
    criterion = CriterionSummarySerializer(read_only=True, allow_null=True)
    missing_materials = serializers.SerializerMethodField()
    decline_reason = serializers.CharField(read_only=True, help_text="拒绝/改派/撤销原因")
    booking = BookingSerializer(read_only=True, allow_null=True)
    outcome = serializers.SerializerMethodField()
    redirected_from = ReferralRefSerializer(read_only=True, allow_null=True)
    redirected_to = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    attachment_kinds = serializers.SerializerMethodField()
    follow_up_tasks = serializers.SerializerMethodField()

    @extend_schema_field(MaterialSerializer(many=True))
    def get_missing_materials(self, referral: Referral) -> list[dict[str, str]]:
        """Required materials missing at submission."""
        return materials(list(referral.missing_materials or []))

    @extend_schema_field(OutcomeSerializer(allow_null=True))
    def get_outcome(self, referral: Referral) -> dict[str, Any] | None:
        """The receiver's result, once completed."""
        if referral.completed_at is None:
            return None
        return dict(OutcomeSerializer(referral).data)

    @extend_schema_field(ReferralRefSerializer(allow_null=True))
    def get_redirected_to(self, referral: Referral) -> dict[str, Any] | None:
        """The referral this one was redirected to."""
        if referral.status != ReferralStatus.REDIRECTED:
            return None
        successor = getattr(referral, "redirected_to", None)
        return dict(ReferralRefSerializer(successor).data) if successor is not None else None

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, referral: Referral) -> list[Any]:
        """Every step, oldest first."""
        return list(TimelineEventSerializer(self.context.get("timeline", []), many=True).data)

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, referral: Referral) -> list[Any]:
        """Files sent with the referral, with their names (only for those who may see the patient)."""
        return list(AttachmentSerializer(self.context.get("attachments", []), many=True).data)

    @extend_schema_field(AttachmentKindSerializer(many=True))
    def get_attachment_kinds(self, referral: Referral) -> list[dict[str, Any]]:
        """How many files of each material were sent, for every reader (the office and regulators too, who
        get no names or files)."""
        return [
            {"material": material, "material_label": _label(Material, material), "count": count}
            for material, count in self.context.get("attachment_kinds", [])
        ]

    @extend_schema_field(FollowUpTaskSerializer(many=True))
    def get_follow_up_tasks(self, referral: Referral) -> list[Any]:
        """Closed-loop duties of a down-referral."""
        return list(FollowUpTaskSerializer(self.context.get("follow_up_tasks", []), many=True).data)


class ReferralContentSerializer(serializers.Serializer):
    """What the sender writes on a draft (also the body of PATCH on a draft)."""

    kind = EnumField(ReferralKind, required=False)
    priority = EnumField(ReferralPriority, required=False)
    to_department = ReferralDepartmentField(help_text="接收科室（启用中的科室）")
    from_department = ReferenceField(department_by_id, required=False, allow_null=True, help_text="转出科室")
    diagnosis_code = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="ICD-10（如 I10、I63.9、I10.x00）"
    )
    diagnosis_name = _text(50)
    reason = _text(100, help_text="转诊原因")
    recovery_phase = EnumField(RecoveryPhase, required=False, allow_blank=True, help_text="下转阶段")
    history = _text(help_text="病史（含外伤史）")
    exam_results = _text(help_text="检查检验结果")
    medications = _text(help_text="用药情况")
    procedures = _text(help_text="手术/操作")
    treatment = _text(help_text="治疗经过")
    plan = _text(help_text="今后治疗方案")
    patient_consented = serializers.BooleanField(required=False, help_text="患者（或家属）已知情同意")
    encounter = ReferenceField(
        encounter_by_id, required=False, allow_null=True, help_text="来源住院/就诊记录"
    )


class ReferralCreateSerializer(ReferralContentSerializer):
    """Write a referral as a draft of the sender's institution; ``submit`` sends it at once."""

    person = ReferenceField(person_for_referral, help_text="患者（本机构可见的居民）")
    from_institution = ReferenceField(institution_by_id, help_text="转出机构（本人有转诊权限的机构）")
    submit = serializers.BooleanField(required=False, default=False, help_text="保存后立即提交")
    booking = BookingPoolField(required=False, allow_null=True, help_text=BOOKING_HELP)
    booking_date = serializers.DateField(required=False, allow_null=True, help_text=BOOKING_DATE_HELP)
    acknowledge_missing = serializers.BooleanField(
        required=False, default=False, help_text="资料不全仍提交（仅对“提示”类标准有效）"
    )


class ReferralUpdateSerializer(ReferralContentSerializer):
    """Change a draft; send only the fields that change."""

    expected_version = _version()


class SubmitActionSerializer(serializers.Serializer):
    """Send a draft."""

    booking = BookingPoolField(required=False, allow_null=True, help_text=BOOKING_HELP)
    booking_date = serializers.DateField(required=False, allow_null=True, help_text=BOOKING_DATE_HELP)
    patient_consented = serializers.BooleanField(
        required=False,
        help_text="提交时确认患者（或家属）已知情同意（草稿未记录时；记入转诊进程）",
    )
    acknowledge_missing = serializers.BooleanField(
        required=False, help_text="资料不全仍提交（仅对“提示”类标准有效）"
    )
    expected_version = _version()


class NoteActionSerializer(serializers.Serializer):
    """An action with an optional note for the timeline."""

    note = _text(500, help_text="说明（记入转诊进程）")
    expected_version = _version()


class ReasonActionSerializer(serializers.Serializer):
    """An action that needs a reason."""

    reason = serializers.CharField(max_length=200, allow_blank=True, help_text="原因（必填）")
    expected_version = _version()


class RedirectActionSerializer(serializers.Serializer):
    """Pass the referral on to another department."""

    to_department = ReferralDepartmentField(help_text="改派的接收科室")
    reason = serializers.CharField(max_length=200, allow_blank=True, help_text="改派原因（必填）")
    expected_version = _version()


class ScheduleActionSerializer(serializers.Serializer):
    """Set or move the appointment."""

    scheduled_for = serializers.DateField(help_text="预约日期（不早于今天）")
    book = serializers.BooleanField(required=False, help_text="占用当天的预留号源/床位")
    note = _text(500, help_text="说明（记入转诊进程）")
    expected_version = _version()


class CompleteActionSerializer(serializers.Serializer):
    """Send the result back."""

    outcome_diagnosis_code = _text(20, help_text="出院/接诊诊断 ICD-10")
    outcome_diagnosis_name = _text(50, help_text="出院/接诊诊断名称")
    outcome_summary = serializers.CharField(allow_blank=True, help_text="诊疗经过与结果（必填）")
    discharge_summary = _text(help_text="出院小结")
    follow_up_plan = _text(help_text="随访与康复计划")
    expected_version = _version()


class ReferralQuerySerializer(RenamedFieldsMixin, serializers.Serializer):
    """Filters of the referral list."""

    renamed = {"submitted_from": "from", "submitted_to": "to"}

    box = serializers.ChoiceField(
        choices=[("all", _("全部")), ("inbox", _("收到的")), ("outbox", _("发出的"))],
        required=False,
        default="all",
        help_text="inbox 按紧急程度和响应时限排序；其余按新建时间倒序",
    )
    scope = serializers.ChoiceField(
        choices=[(selectors.INBOX_DEPARTMENT, _("本科室")), (selectors.INBOX_INSTITUTION, _("全院"))],
        required=False,
        default=selectors.INBOX_DEPARTMENT,
        help_text="只对 inbox 有效：department 为转给本人所在科室的（未限定科室的岗位为全院），"
        "institution 为全院收到的",
    )
    status = EnumField(ReferralStatus, required=False)
    direction = EnumField(ReferralDirection, required=False)
    priority = EnumField(ReferralPriority, required=False)
    open = serializers.BooleanField(required=False, default=False, help_text="只看未结束的")
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="转诊单号、诊断、患者姓名或拼音首字母"
    )
    consortium = ReferenceField(consortium_by_id, required=False)
    institution = ReferenceField(institution_by_id, required=False, help_text="转出或接收机构")
    department = ReferenceField(department_by_id, required=False, help_text="转出或接收科室")
    submitted_from = serializers.DateField(required=False, help_text="提交日期起")
    submitted_to = serializers.DateField(required=False, help_text="提交日期止")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The two dates in order."""
        first, last = attrs.get("from"), attrs.get("to")
        if first and last and last < first:
            raise serializers.ValidationError({"to": [_("结束日期不能早于开始日期。")]})
        return attrs


# Worklist, receivers, capacity ------------------------------------------------------------------


class EncounterBriefSerializer(serializers.Serializer):
    """The inpatient stay on a worklist row."""

    public_id = serializers.UUIDField(read_only=True)
    department = DepartmentSummarySerializer(read_only=True, allow_null=True)
    his_number = serializers.CharField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    diagnosis_code = serializers.CharField(read_only=True)
    diagnosis_name = serializers.CharField(read_only=True)
    recovery_phase = serializers.CharField(read_only=True)


class WorklistRowSerializer(serializers.Serializer):
    """An inpatient who may go down: why, for how long, where to, and any referral already open."""

    encounter = EncounterBriefSerializer(read_only=True)
    patient = serializers.SerializerMethodField()
    days_in_hospital = serializers.IntegerField(read_only=True)
    flagged = serializers.BooleanField(read_only=True, help_text="医生已标记可下转")
    rule = CriterionSummarySerializer(read_only=True, allow_null=True, help_text="匹配的下转康复标准")
    suggested_institution = InstitutionSummarySerializer(
        read_only=True, allow_null=True, help_text="建议接收的基层机构（患者住址所在）"
    )
    open_referral = ReferralRefSerializer(read_only=True, allow_null=True)

    @extend_schema_field(PatientSerializer)
    def get_patient(self, row: Any) -> dict[str, Any]:
        """The inpatient (the requester works where they stay)."""
        return patient_data(row.encounter.person, visible=True)


class WorklistQuerySerializer(serializers.Serializer):
    """Filters of the down-referral worklist."""

    department = ReferenceField(department_by_id, required=False, help_text="本机构科室")


class ReceiverSerializer(serializers.Serializer):
    """A department to suggest as a receiver."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    specialty = EnumField(DepartmentSpecialty, read_only=True)
    specialty_label = serializers.CharField(source="get_specialty_display", read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    match = serializers.SerializerMethodField(
        help_text="与诊断的相符程度：subject 诊断对应的专业（如心血管内科）；specialty 机构未设该专业时"
        "同一诊疗科目的科室（如内科）；none 不推荐。推荐的科室排在前面，最相符的在最前。"
    )

    @extend_schema_field(EnumField(selectors.ReceiverMatch))
    def get_match(self, department: Any) -> str:
        """The fit computed by the view for the whole list (an institution's fallback depends on its others)."""
        return str(self.context.get("matches", {}).get(department.pk, selectors.ReceiverMatch.NONE))


class ReceiverQuerySerializer(serializers.Serializer):
    """Where the referral leaves from, and its diagnosis (departments of the usual specialty first)."""

    from_institution = ReferenceField(institution_by_id)
    diagnosis_code = serializers.CharField(required=False, allow_blank=True, max_length=20)


class CapacityDepartmentSerializer(DepartmentSummarySerializer):
    """A department with its institution."""

    institution = InstitutionSummarySerializer(read_only=True)


class CapacitySerializer(serializers.Serializer):
    """Places a department reserves on one day for referrals from members (green channel)."""

    public_id = serializers.UUIDField(read_only=True)
    department = CapacityDepartmentSerializer(read_only=True)
    kind = EnumField(CapacityKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    date = serializers.DateField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    booked = serializers.IntegerField(read_only=True)
    remaining = serializers.IntegerField(read_only=True)
    signed_residents_only = serializers.BooleanField(read_only=True, help_text="仅限家庭医生签约居民预约")


class CapacityPublishSerializer(serializers.Serializer):
    """Publish (or change) one day's reserved places of a department."""

    department = ReferenceField(department_by_id)
    kind = EnumField(CapacityKind)
    date = serializers.DateField()
    quantity = serializers.IntegerField(min_value=0, max_value=500)
    signed_residents_only = serializers.BooleanField(
        required=False, default=False, help_text="为家庭医生签约居民预留的号源（与普通预留号源分开发布）"
    )


class CapacityQuerySerializer(RenamedFieldsMixin, serializers.Serializer):
    """Which capacity: one department (default: those the requester may publish for), between two days."""

    renamed = {"first_day": "from", "last_day": "to"}

    department = ReferenceField(department_by_id, required=False)
    kind = EnumField(CapacityKind, required=False)
    first_day = serializers.DateField(required=False, help_text="起（默认今天）")
    last_day = serializers.DateField(required=False, help_text="止（默认起日后 13 天，最多 92 天）")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Defaults, and at most 92 days."""
        first = attrs.get("from") or timezone.localdate()
        last = attrs.get("to") or first + datetime.timedelta(days=13)
        return _period(attrs, first, last, 92)


class BookableQuerySerializer(serializers.Serializer):
    """The receiving department and the kind of referral."""

    department = ReferralDepartmentField()
    kind = EnumField(ReferralKind, help_text="急诊转诊走绿色通道，没有可预约的号源")


class BookableDaySerializer(serializers.Serializer):
    """A day with free reserved places."""

    public_id = serializers.UUIDField(read_only=True)
    kind = EnumField(CapacityKind, read_only=True)
    date = serializers.DateField(read_only=True)
    remaining = serializers.IntegerField(read_only=True)
    signed_residents_only = serializers.BooleanField(read_only=True, help_text="仅限家庭医生签约居民预约")


# Consortium configuration -----------------------------------------------------------------------


class CriterionSerializer(serializers.Serializer):
    """One rule of a consortium's referral catalogue; also the body of create (POST) and change (PATCH)."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=100)
    category = EnumField(CriterionCategory)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    icd_from = serializers.CharField(max_length=20, help_text="ICD-10 起（如 I60）")
    icd_to = serializers.CharField(max_length=20, help_text="ICD-10 止（如 I69）")
    triggers = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, help_text="触发条件（给医生看）"
    )
    required_materials = serializers.ListField(child=EnumField(Material), required=False)
    required_material_labels = serializers.SerializerMethodField()
    completeness_threshold = serializers.IntegerField(min_value=0, max_value=100, required=False)
    missing_action = EnumField(MissingMaterialAction, required=False)
    min_stay_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, allow_null=True, help_text="建议下转的最短住院日"
    )
    source = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="依据")
    is_active = serializers.BooleanField(required=False)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_required_material_labels(self, criterion: Any) -> list[str]:
        """Names of the required materials."""
        return [_label(Material, code) for code in criterion.required_materials or []]


class CriteriaCheckSerializer(serializers.Serializer):
    """How a referral stands against its consortium's criteria catalogue now."""

    criterion = serializers.SerializerMethodField()
    category_fits = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="标准类别与转诊方向是否相符"
    )
    met = serializers.BooleanField(read_only=True, allow_null=True, help_text="是否符合；无适用标准时为 null")
    completeness = serializers.IntegerField(read_only=True, allow_null=True, help_text="资料完整度（%）")
    missing_materials = serializers.SerializerMethodField()
    blocks = serializers.BooleanField(read_only=True, help_text="资料不足时是否阻止提交")

    @extend_schema_field(CriterionSerializer(allow_null=True))
    def get_criterion(self, check: Any) -> dict[str, Any] | None:
        """The matching rule with its triggers, or null when the diagnosis is outside the catalogue."""
        if check.criterion is None:
            return None
        return dict(CriterionSerializer(check.criterion).data)

    @extend_schema_field(MaterialSerializer(many=True))
    def get_missing_materials(self, check: Any) -> list[dict[str, str]]:
        """Required materials still missing."""
        return materials(list(check.missing))


class LoadSchemeSerializer(serializers.Serializer):
    """Which shipped example scheme to add."""

    scheme = serializers.ChoiceField(
        choices=sorted(SCHEMES), help_text="hypertension：县域高血压分级诊疗技术方案"
    )


class AnswerHoursSerializer(serializers.Serializer):
    """Hours the receiver has to answer, per priority."""

    routine = serializers.IntegerField(min_value=1, max_value=720)
    urgent = serializers.IntegerField(min_value=1, max_value=720)
    stat = serializers.IntegerField(min_value=1, max_value=720, help_text="急危重")


class GradeBoundsSerializer(serializers.Serializer):
    """Percent bounds of 优/良/中 (the rest is 差): up-referral rate low to high, down-referral rate high to low."""

    up_rate = serializers.ListField(child=serializers.FloatField(min_value=0), min_length=3, max_length=3)
    down_rate = serializers.ListField(child=serializers.FloatField(min_value=0), min_length=3, max_length=3)


class ReferralSettingsSerializer(serializers.Serializer):
    """A consortium's referral settings (the defaults until the office saves them)."""

    answer_hours = AnswerHoursSerializer()
    expiry_grace_hours = serializers.IntegerField(min_value=1, max_value=720)
    arrival_grace_days = serializers.IntegerField(min_value=1, max_value=30)
    follow_up_hours = serializers.IntegerField(min_value=1, max_value=720)
    rehabilitation_days = serializers.IntegerField(min_value=1, max_value=90)
    grade_bounds = GradeBoundsSerializer()
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


class SubsidySerializer(serializers.Serializer):
    """The deductible difference subsidy paid per completed admitting referral (住院, 急诊; up or down, inside
    the consortium) for one insurance scheme."""

    insurance_scheme = EnumField(InsuranceScheme, help_text="resident 或 employee")
    insurance_scheme_label = serializers.SerializerMethodField()
    amount = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, help_text="元")

    def get_insurance_scheme_label(self, row: Any) -> str:
        """The scheme's name."""
        value = row["insurance_scheme"] if isinstance(row, dict) else row.insurance_scheme
        return _label(InsuranceScheme, value)


class SubsidiesSerializer(serializers.Serializer):
    """Every subsidy amount of a consortium (PUT sets the listed schemes)."""

    subsidies = SubsidySerializer(many=True)


# Statistics -------------------------------------------------------------------------------------


class StatisticsQuerySerializer(RenamedFieldsMixin, serializers.Serializer):
    """A consortium and a period of submission dates."""

    renamed = {"first_day": "from", "last_day": "to"}

    consortium = ReferenceField(statistics_consortium)
    first_day = serializers.DateField(required=False, help_text="起（默认本月 1 日）")
    last_day = serializers.DateField(required=False, help_text="止（默认今天）")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Defaults, and at most two years."""
        last = attrs.get("to") or timezone.localdate()
        first = attrs.get("from") or last.replace(day=1)
        return _period(attrs, first, last, MAX_REPORT_DAYS)


class MonthRowSerializer(serializers.Serializer):
    """One month of the summary."""

    month = serializers.DateField(read_only=True)
    submitted = serializers.IntegerField(read_only=True)
    up = serializers.IntegerField(read_only=True)
    down = serializers.IntegerField(read_only=True)
    completed = serializers.IntegerField(read_only=True)
    subsidy = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        help_text="该月完成（回传结果）的转诊的起付线差价补贴，与补贴明细同口径；其余数字按提交月份计",
    )


class SummarySerializer(serializers.Serializer):
    """Headline figures of the referrals submitted in the period."""

    submitted = serializers.IntegerField(read_only=True)
    up = serializers.IntegerField(read_only=True)
    down = serializers.IntegerField(read_only=True)
    lateral = serializers.IntegerField(read_only=True)
    inside = serializers.IntegerField(read_only=True, help_text="医联体内转诊数")
    inside_share = serializers.FloatField(read_only=True, allow_null=True, help_text="%")
    answered = serializers.IntegerField(read_only=True)
    accepted = serializers.IntegerField(read_only=True)
    acceptance_rate = serializers.FloatField(read_only=True, allow_null=True, help_text="%")
    completed = serializers.IntegerField(read_only=True)
    completion_rate = serializers.FloatField(read_only=True, allow_null=True, help_text="%")
    closed = serializers.IntegerField(read_only=True)
    closed_loop_rate = serializers.FloatField(read_only=True, allow_null=True, help_text="%")
    expired = serializers.IntegerField(read_only=True)
    criteria_met = serializers.IntegerField(read_only=True)
    standard_rate = serializers.FloatField(read_only=True, allow_null=True, help_text="符合标准的比例（%）")
    response_hours_median = serializers.FloatField(read_only=True, allow_null=True)
    response_hours_mean = serializers.FloatField(read_only=True, allow_null=True)
    subsidy_total = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        help_text="期间内完成（回传结果）的转诊的起付线差价补贴合计，与补贴明细同口径",
    )
    by_month = MonthRowSerializer(many=True, read_only=True)


class RateRowSerializer(serializers.Serializer):
    """One institution's (up) or lead-hospital department's (down) rate in one month, graded and ranked."""

    month = serializers.DateField(read_only=True)
    institution_name = serializers.CharField(read_only=True)
    department_name = serializers.CharField(read_only=True)
    group = serializers.CharField(read_only=True, help_text="medicine / surgery（下转率分内外科排名）")
    group_label = serializers.SerializerMethodField()
    referrals = serializers.IntegerField(read_only=True)
    denominator = serializers.IntegerField(
        read_only=True, help_text="门急诊+入院人次（上转）或出院人次（下转）"
    )
    rate = serializers.FloatField(read_only=True, allow_null=True, help_text="%")
    grade = serializers.CharField(read_only=True, help_text="excellent / good / fair / poor")
    grade_label = serializers.SerializerMethodField()
    rank = serializers.IntegerField(read_only=True, allow_null=True)

    def get_group_label(self, row: Any) -> str:
        """内科系统 / 外科系统."""
        return _label(DepartmentGroup, row.group) if row.group else ""

    def get_grade_label(self, row: Any) -> str:
        """优 / 良 / 中 / 差."""
        return _label(Grade, row.grade) if row.grade else ""


class StatisticsSerializer(RenamedFieldsMixin, serializers.Serializer):
    """Referral statistics of a consortium over a period (``from``–``to``, submission dates)."""

    renamed = {"first_day": "from", "last_day": "to"}

    consortium = ConsortiumSummarySerializer(read_only=True)
    first_day = serializers.DateField(read_only=True)
    last_day = serializers.DateField(read_only=True)
    summary = SummarySerializer(read_only=True)
    up_rates = RateRowSerializer(many=True, read_only=True, help_text="成员单位月度上转率（越低越好）")
    down_rates = RateRowSerializer(many=True, read_only=True, help_text="牵头医院科室月度下转率（越高越好）")


class SubsidyQuerySerializer(serializers.Serializer):
    """A consortium and a month."""

    consortium = ReferenceField(statistics_consortium)
    month = serializers.DateField(input_formats=["%Y-%m", "iso-8601"], help_text="月份（YYYY-MM）")


class SubsidyRowSerializer(serializers.Serializer):
    """A completed referral that earned a subsidy."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    completed_at = serializers.DateTimeField(read_only=True)
    patient = serializers.SerializerMethodField()
    insurance_scheme = serializers.CharField(source="person.insurance_scheme", read_only=True)
    direction = EnumField(ReferralDirection, read_only=True)
    from_institution = InstitutionSummarySerializer(read_only=True)
    to_institution = InstitutionSummarySerializer(read_only=True)
    subsidy_amount = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)

    @extend_schema_field(PatientSerializer)
    def get_patient(self, referral: Referral) -> dict[str, Any]:
        """The patient as far as the requester may see them (the office reads a masked name)."""
        return patient_data(
            referral.person, visible=policies.sees_patient(self.context["request"].user, referral)
        )


class SubsidyReportSerializer(serializers.Serializer):
    """The month's subsidised referrals and their total."""

    consortium = ConsortiumSummarySerializer(read_only=True)
    month = serializers.DateField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    referrals = SubsidyRowSerializer(many=True, read_only=True)
