"""Serializers of the teleconsultation API: shape and rendering only; the services check the rules.

Ids are public ids. Patient details and clinical text are rendered only for
those who may see the patient (``policies.sees_patient``); the consortium
office, regulators and platform admins read a masked name.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.accounts.api.serializers import DepartmentSummarySerializer
from yilian.core.api.fields import EnumField, ReferenceField
from yilian.core.audit import action_label
from yilian.core.exceptions import NotAllowed
from yilian.encounters.api.serializers import PatientSerializer, patient_data
from yilian.institutions.api.serializers import (
    ConsortiumSummarySerializer,
    InstitutionSummarySerializer,
    consortium_by_id,
    department_by_id,
    institution_by_id,
)
from yilian.institutions.choices import DepartmentSpecialty
from yilian.people.selectors import person_get_for
from yilian.referrals.choices import ReferralKind
from yilian.telemedicine import policies, selectors
from yilian.telemedicine.choices import (
    AttachmentKind,
    ChargeDirection,
    ConsentRelationship,
    TeleconsultationKind,
    TeleconsultationOutcome,
    TeleconsultationSide,
    TeleconsultationStatus,
)
from yilian.telemedicine.models import Teleconsultation

MAX_INT = 2_147_483_647
TITLE_CHOICES = [
    ("chief_physician", _("主任医师")),
    ("associate_chief_physician", _("副主任医师")),
    ("attending_physician", _("主治医师")),
    ("resident_physician", _("医师")),
]


def person_for_teleconsultation(actor: Any, public_id: Any) -> Any:
    """The patient of a new teleconsultation: someone the actor may see, and the actor must invite."""
    if not policies.can_invite(actor):
        raise NotAllowed(_("您没有发起远程会诊的权限。"))
    return person_get_for(actor, public_id)


def free_time_by_id(actor: Any, public_id: Any) -> Any:
    """A published free time by public id."""
    return selectors.free_time_get(public_id)


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
        help_text="您看到的会诊单版本；也可用 If-Match 请求头；版本已变化时返回 409",
    )


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _name(user: Any) -> str:
    return (user.full_name or user.username) if user is not None else ""


class ExpertSummarySerializer(serializers.Serializer):
    """A user by public id, name and title."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.SerializerMethodField()
    professional_title = serializers.CharField(read_only=True)
    professional_title_label = serializers.CharField(source="get_professional_title_display", read_only=True)

    def get_name(self, user: Any) -> str:
        """Full name, else the username."""
        return _name(user)


class TeleconsultationEventSerializer(serializers.Serializer):
    """One step: what was done, by whom, for which side, when."""

    action = serializers.CharField(read_only=True)
    action_label = serializers.SerializerMethodField()
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)
    side = EnumField(TeleconsultationSide, read_only=True)
    actor_name = serializers.CharField(source="actor_label", read_only=True)
    institution_name = serializers.CharField(read_only=True)
    note = serializers.CharField(source="display_note", read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)

    def get_action_label(self, event: Any) -> str:
        """The step's readable name."""
        return action_label(f"teleconsultation.{event.action}")


class TeleconsultationAttachmentSerializer(serializers.Serializer):
    """A file sent with a teleconsultation (download it from ``download_url``)."""

    public_id = serializers.UUIDField(read_only=True)
    kind = EnumField(AttachmentKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    original_filename = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, attachment: Any) -> str:
        """Where those who see the patient download the file."""
        return reverse("api-teleconsultation-attachment-download", kwargs={"public_id": attachment.public_id})


class TeleconsultationAttachmentUploadSerializer(serializers.Serializer):
    """Attach a file (multipart): its kind and the file."""

    kind = EnumField(AttachmentKind)
    file = serializers.FileField(help_text="PDF、图片、DICOM、Word 或文本，不超过 20 MB")


class TeleconsultationReferralSerializer(serializers.Serializer):
    """The referral a decision created."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)


class TeleconsultationStateSerializer(serializers.Serializer):
    """A teleconsultation's state after a write, answered to ``Prefer: return=minimal``."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True, help_text="会诊单号")
    status = EnumField(TeleconsultationStatus, read_only=True)
    version = serializers.IntegerField(read_only=True, help_text="每次变更加一；操作时作为 If-Match 发回")
    updated_at = serializers.DateTimeField(read_only=True)


class TeleconsultationSerializer(serializers.Serializer):
    """A teleconsultation in a list: kind, both ends, patient, expert, times, state, what the requester may do."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True, help_text="会诊单号")
    status = EnumField(TeleconsultationStatus, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    version = serializers.IntegerField(read_only=True)
    kind = EnumField(TeleconsultationKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True, allow_null=True)
    patient = serializers.SerializerMethodField()
    inviting_institution = InstitutionSummarySerializer(read_only=True)
    inviting_department = DepartmentSummarySerializer(read_only=True, allow_null=True)
    inviting_doctor_name = serializers.SerializerMethodField()
    invited_institution = InstitutionSummarySerializer(read_only=True)
    invited_department = DepartmentSummarySerializer(read_only=True, allow_null=True)
    required_specialty = serializers.CharField(read_only=True)
    required_title = serializers.CharField(read_only=True)
    expert = ExpertSummarySerializer(read_only=True, allow_null=True)
    diagnosis_code = serializers.CharField(read_only=True)
    diagnosis_name = serializers.CharField(read_only=True)
    proposed_at = serializers.DateTimeField(read_only=True)
    scheduled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    fee_amount = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    outside_consortium = serializers.BooleanField(
        read_only=True,
        help_text="医联体外会诊：双方不在同一医联体（consortium 为邀请方所在医联体或空），"
        "费用为双方合作协议约定的金额，非医联体收费标准",
    )
    outcome = serializers.CharField(read_only=True)
    available_actions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def _actor(self) -> Any:
        return self.context["request"].user

    @extend_schema_field(PatientSerializer(allow_null=True))
    def get_patient(self, tc: Teleconsultation) -> dict[str, Any] | None:
        """The patient: details for those who see patients here, a masked name for oversight readers."""
        if tc.person_id is None:
            return None
        return patient_data(tc.person, visible=policies.sees_patient(self._actor(), tc))

    def get_inviting_doctor_name(self, tc: Teleconsultation) -> str:
        """The inviting doctor."""
        return _name(tc.inviting_doctor)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, tc: Teleconsultation) -> list[str]:
        """Workflow actions the requester may take now (POST /teleconsultations/{id}/{action})."""
        return selectors.available_actions(self._actor(), tc)


class TeleconsultationDetailSerializer(TeleconsultationSerializer):
    """A teleconsultation with its invitation, consent, answer, session, opinion, decision, timeline, files."""

    reason = serializers.CharField(read_only=True)
    purpose = serializers.CharField(read_only=True)
    clinical = serializers.SerializerMethodField()
    consent_signer_name = serializers.SerializerMethodField()
    consent_relationship = serializers.CharField(read_only=True)
    consent_signed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decline_reason = serializers.CharField(read_only=True)
    meeting_link = serializers.SerializerMethodField()
    opinion_signed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    opinion_signed_by_name = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    referral = TeleconsultationReferralSerializer(read_only=True, allow_null=True)
    timeline = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    def _sees(self, tc: Teleconsultation) -> bool:
        return policies.sees_patient(self._actor(), tc)

    @extend_schema_field(serializers.DictField(child=serializers.CharField(), allow_null=True))
    def get_clinical(self, tc: Teleconsultation) -> dict[str, str] | None:
        """Case summary, results, opinion and decision (only for those who may see the patient)."""
        if not self._sees(tc):
            return None
        return {
            "case_summary": tc.case_summary,
            "exam_results": tc.exam_results,
            "opinion": tc.opinion,
            "decision": tc.decision,
        }

    def get_consent_signer_name(self, tc: Teleconsultation) -> str:
        """Who signed the consent (only for those who may see the patient)."""
        return tc.consent_signer_name if self._sees(tc) else ""

    def get_meeting_link(self, tc: Teleconsultation) -> str:
        """The session's link (only for the participants)."""
        return tc.meeting_link if self._sees(tc) else ""

    def get_opinion_signed_by_name(self, tc: Teleconsultation) -> str:
        """会诊医师签名."""
        return _name(tc.opinion_signed_by)

    @extend_schema_field(TeleconsultationEventSerializer(many=True))
    def get_timeline(self, tc: Teleconsultation) -> list[Any]:
        """Every step, oldest first."""
        return list(TeleconsultationEventSerializer(self.context.get("timeline", []), many=True).data)

    @extend_schema_field(TeleconsultationAttachmentSerializer(many=True))
    def get_attachments(self, tc: Teleconsultation) -> list[Any]:
        """Files (only for those who may see the patient)."""
        return list(TeleconsultationAttachmentSerializer(self.context.get("attachments", []), many=True).data)


class TeleconsultationCreateSerializer(serializers.Serializer):
    """The consent and the invitation (WS 445.13 data elements)."""

    kind = EnumField(TeleconsultationKind)
    person = ReferenceField(
        person_for_teleconsultation, required=False, allow_null=True, help_text="患者（远程教学可不填）"
    )
    inviting_institution = ReferenceField(institution_by_id, help_text="邀请机构（本人有会诊申请权限的机构）")
    inviting_department = ReferenceField(
        department_by_id, required=False, allow_null=True, help_text="申请科室"
    )
    invited_institution = ReferenceField(institution_by_id, help_text="受邀机构")
    invited_department = ReferenceField(
        department_by_id, required=False, allow_null=True, help_text="会诊科室"
    )
    required_specialty = EnumField(
        DepartmentSpecialty, required=False, allow_blank=True, help_text="所需专业"
    )
    required_title = serializers.ChoiceField(choices=TITLE_CHOICES, help_text="所需最低职称")
    reason = serializers.CharField(max_length=200, allow_blank=True, help_text="会诊原因")
    purpose = serializers.CharField(max_length=50, allow_blank=True, help_text="会诊目的")
    proposed_at = serializers.DateTimeField(required=False, allow_null=True, help_text="拟会诊时间")
    proposed_slot = ReferenceField(
        free_time_by_id, required=False, allow_null=True, help_text="选用的专家可预约时间（决定拟会诊时间）"
    )
    case_summary = serializers.CharField(max_length=2000, allow_blank=True, help_text="病历摘要")
    exam_results = _text(1000, help_text="辅助检查结果")
    diagnosis_code = _text(20, help_text="西医诊断编码（ICD-10）")
    diagnosis_name = _text(50, help_text="西医诊断名称")
    consent_signer_name = _text(50, help_text="知情同意书签署人")
    consent_relationship = EnumField(ConsentRelationship, required=False, allow_blank=True)
    consent_signed_at = serializers.DateTimeField(required=False, allow_null=True, help_text="签署时间")
    agreed_fee = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        help_text="协议约定费用（元）：两机构不在同一医联体时必填（≥ 0，精确到分），"
        "为双方远程医疗合作协议约定的本次费用；同一医联体内按医联体收费标准，忽略此项",
    )


class TeleconsultationNoteSerializer(serializers.Serializer):
    """Fields any action may carry (the workflow table decides which are required)."""

    note = _text(500, help_text="说明（记入会诊进程）")
    expected_version = _version()


class TeleconsultationExpertSerializer(TeleconsultationNoteSerializer):
    """Accept or re-assign: the expert (a doctor of the invited institution with a qualifying title)."""

    expert = serializers.UUIDField(required=False, allow_null=True, help_text="会诊专家（用户 public_id）")


class TeleconsultationReasonSerializer(TeleconsultationNoteSerializer):
    """Decline or cancel with a reason."""

    reason = serializers.CharField(max_length=200, allow_blank=True, required=False, help_text="原因（必填）")


class TeleconsultationScheduleSerializer(TeleconsultationNoteSerializer):
    """Set the session: a time (or a free time of the expert) and the meeting link."""

    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, help_text="会诊时间")
    availability = serializers.UUIDField(required=False, allow_null=True, help_text="预约专家的可预约时间")
    meeting_link = _text(300, help_text="会议链接（http/https）")


class TeleconsultationOpinionSerializer(TeleconsultationNoteSerializer):
    """The expert's signed opinion."""

    opinion = serializers.CharField(max_length=2000, allow_blank=True, required=False, help_text="会诊意见")


class TeleconsultationConcludeSerializer(TeleconsultationNoteSerializer):
    """The inviting doctor's decision and where the patient goes."""

    decision = serializers.CharField(max_length=2000, allow_blank=True, required=False, help_text="诊疗决定")
    outcome = EnumField(TeleconsultationOutcome, required=False, allow_blank=True)
    referral_to_department = serializers.UUIDField(
        required=False, allow_null=True, help_text="转诊时：接收科室（一步生成并提交转诊单）"
    )
    referral_kind = EnumField(ReferralKind, required=False, help_text="转诊类型")
    acknowledge_missing = serializers.BooleanField(required=False, help_text="转诊资料不全仍提交")


class TeleconsultationQuerySerializer(serializers.Serializer):
    """Filters of the list."""

    box = serializers.ChoiceField(
        choices=["all", "incoming", "outgoing", "assigned"],
        required=False,
        default="all",
        help_text="incoming 受邀、outgoing 邀请、assigned 我是专家",
    )
    status = EnumField(TeleconsultationStatus, required=False)
    kind = EnumField(TeleconsultationKind, required=False)
    open = serializers.BooleanField(required=False, default=False, help_text="只看未结束的")
    q = _text(50, help_text="单号、诊断或患者姓名")
    consortium = ReferenceField(consortium_by_id, required=False)


class TeleconsultationFreeTimeQuerySerializer(serializers.Serializer):
    """Which free times: of qualified experts, optionally at one institution, within dates."""

    institution = ReferenceField(institution_by_id, required=False, help_text="受邀机构")
    specialty = EnumField(DepartmentSpecialty, required=False, allow_blank=True)
    title = serializers.ChoiceField(choices=TITLE_CHOICES, required=False, allow_blank=True)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """The end date may not precede the start."""
        if values.get("date_from") and values.get("date_to") and values["date_to"] < values["date_from"]:
            raise serializers.ValidationError({"date_to": [_("结束日期不能早于开始日期。")]})
        return values


class ExpertAvailabilitySerializer(serializers.Serializer):
    """A published free time of an expert."""

    public_id = serializers.UUIDField(read_only=True)
    expert = ExpertSummarySerializer(read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    is_booked = serializers.SerializerMethodField()

    def get_is_booked(self, slot: Any) -> bool:
        """Taken by a teleconsultation."""
        return slot.taken_by_id is not None


class ExpertAvailabilityCreateSerializer(serializers.Serializer):
    """Publish a free time (for oneself, or for a doctor of the institution one coordinates)."""

    institution = ReferenceField(institution_by_id, help_text="机构")
    expert = serializers.UUIDField(required=False, allow_null=True, help_text="专家（默认本人）")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class TeleconsultationChargeSerializer(serializers.Serializer):
    """A billing record of one end."""

    public_id = serializers.UUIDField(read_only=True)
    teleconsultation = TeleconsultationStateSerializer(read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    counterpart = InstitutionSummarySerializer(read_only=True)
    consortium = ConsortiumSummarySerializer(
        read_only=True,
        allow_null=True,
        help_text="双方同属的医联体；医联体外会诊为空（费用为双方合作协议约定，不属任何医联体内部结算）",
    )
    outside_consortium = serializers.BooleanField(
        source="teleconsultation.outside_consortium",
        read_only=True,
        help_text="医联体外会诊：双方不在同一医联体，费用为双方合作协议约定的金额",
    )
    direction = EnumField(ChargeDirection, read_only=True)
    direction_label = serializers.CharField(source="get_direction_display", read_only=True)
    kind = EnumField(TeleconsultationKind, read_only=True)
    amount = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class TeleconsultationChargeQuerySerializer(serializers.Serializer):
    """Filters of the billing records."""

    direction = EnumField(ChargeDirection, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class TeleconsultationFeeSerializer(serializers.Serializer):
    """A fee of the consortium's agreement for one kind."""

    kind = EnumField(TeleconsultationKind)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    amount = serializers.DecimalField(max_digits=8, decimal_places=2)
    agreement = serializers.UUIDField(source="agreement.public_id", read_only=True, allow_null=True)


class TeleconsultationFeeWriteSerializer(serializers.Serializer):
    """Set one fee."""

    kind = EnumField(TeleconsultationKind)
    amount = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0)
    agreement = serializers.UUIDField(required=False, allow_null=True, help_text="依据的远程医疗合作协议")


class TeleconsultationFeesUpdateSerializer(serializers.Serializer):
    """Set the fees of several kinds at once."""

    fees = TeleconsultationFeeWriteSerializer(many=True)


class TeleconsultationStatisticsQuerySerializer(serializers.Serializer):
    """Period and consortium of the statistics."""

    consortium = ReferenceField(consortium_by_id, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class TeleconsultationSummarySerializer(serializers.Serializer):
    """Counts per kind, member and month, and the share of patients kept local."""

    total = serializers.IntegerField(read_only=True)
    by_kind = serializers.ListField(child=serializers.DictField(), read_only=True)
    by_member = serializers.ListField(child=serializers.DictField(), read_only=True)
    by_month = serializers.ListField(child=serializers.DictField(), read_only=True)
    concluded_with_patient = serializers.IntegerField(read_only=True)
    stayed_local = serializers.IntegerField(read_only=True)
    kept_local_share = serializers.FloatField(read_only=True, allow_null=True, help_text="留在本地治疗的比例")
