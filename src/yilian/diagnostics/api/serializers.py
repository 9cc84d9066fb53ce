"""Serializers of the diagnostics API: shape and rendering only; the services check the rules.

Ids are public ids. The patient is rendered in full only for those who may
see the patient (``policies.sees_patient``); the office, regulators and
platform administrators read a masked name.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.core.api.fields import EnumField, ReferenceField
from yilian.core.audit import action_label
from yilian.diagnostics import policies, selectors
from yilian.diagnostics.choices import (
    CentreKind,
    OrderPriority,
    OrderSide,
    OrderStatus,
    RecognitionOutcome,
    RecognitionScope,
    RejectionReason,
    ReportStatus,
    StudyFileKind,
)
from yilian.encounters.api.serializers import PatientSerializer, patient_data
from yilian.institutions.api.serializers import (
    ConsortiumSummarySerializer,
    InstitutionSummarySerializer,
    consortium_by_id,
    department_by_id,
    institution_by_id,
)
from yilian.people.selectors import person_get_for

MAX_INT = 2_147_483_647


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
        help_text="您看到的申请单版本；也可用 If-Match 请求头；版本已变化时返回 409",
    )


def centre_by_id(actor: Any, public_id: Any) -> Any:
    """A visible centre by public id."""
    return selectors.centre_get_for(actor, public_id)


def item_by_id(actor: Any, public_id: Any) -> Any:
    """A catalogue item of a visible centre by public id."""
    return selectors.item_get_for(actor, public_id)


def person_by_id(actor: Any, public_id: Any) -> Any:
    """A patient the actor may see."""
    return person_get_for(actor, public_id)


class DiagUserSummarySerializer(serializers.Serializer):
    """A user by name."""

    username = serializers.CharField(read_only=True)
    full_name = serializers.CharField(read_only=True)


# Centres, items, rules ------------------------------------------------------------------------------


class DiagCentreSerializer(serializers.Serializer):
    """A shared centre: kind, hub institution and department, the members it serves."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = EnumField(CentreKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    hub_institution = InstitutionSummarySerializer(read_only=True)
    department = InstitutionSummarySerializer(read_only=True, allow_null=True)
    served_institutions = InstitutionSummarySerializer(many=True, read_only=True)
    critical_ack_minutes = serializers.IntegerField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)


class DiagCentreWriteSerializer(serializers.Serializer):
    """Set up or change a centre (the consortium office)."""

    consortium = ReferenceField(consortium_by_id, required=True)
    kind = EnumField(CentreKind)
    name = serializers.CharField(max_length=100)
    hub_institution = ReferenceField(institution_by_id)
    department = ReferenceField(
        department_by_id,
        help_text="The hub's department that runs the centre; only its staff receive, read and sign.",
    )
    served_institutions = serializers.ListField(
        child=ReferenceField(institution_by_id), required=False, max_length=500
    )
    critical_ack_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    is_active = serializers.BooleanField(required=False)


class DiagCentreQuerySerializer(serializers.Serializer):
    """Filters of the centre list."""

    kind = EnumField(CentreKind, required=False)
    active = serializers.BooleanField(required=False, default=False)


class DiagItemSerializer(serializers.Serializer):
    """A catalogue item."""

    public_id = serializers.UUIDField(read_only=True)
    centre = ReferenceField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    turnaround_hours = serializers.IntegerField(read_only=True)
    specimen = serializers.CharField(read_only=True)
    requires_second_reader = serializers.BooleanField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)


class DiagItemWriteSerializer(serializers.Serializer):
    """Add or change a catalogue item (the consortium office)."""

    centre = ReferenceField(centre_by_id)
    code = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=100)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    turnaround_hours = serializers.IntegerField(min_value=1, max_value=1440)
    specimen = _text(100)
    requires_second_reader = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class DiagItemQuerySerializer(serializers.Serializer):
    """Filters of the item list."""

    centre = ReferenceField(centre_by_id, required=False)
    active = serializers.BooleanField(required=False, default=False)
    orderable = serializers.BooleanField(
        required=False,
        default=False,
        help_text="只列出可为患者开单的项目（启用的、服务患者的中心的项目；不含消毒供应中心）",
    )


class DiagRuleSerializer(serializers.Serializer):
    """A mutual-recognition catalogue entry."""

    public_id = serializers.UUIDField(read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    item_code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    validity_days = serializers.IntegerField(read_only=True)
    scope = EnumField(RecognitionScope, read_only=True)
    is_active = serializers.BooleanField(read_only=True)


class DiagRuleWriteSerializer(serializers.Serializer):
    """Add or change a recognition rule (the consortium office)."""

    consortium = ReferenceField(consortium_by_id)
    item_code = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=100)
    validity_days = serializers.IntegerField(min_value=1, max_value=3650)
    scope = EnumField(RecognitionScope, required=False)
    is_active = serializers.BooleanField(required=False)


# Orders ---------------------------------------------------------------------------------------------


class DiagOrderSerializer(serializers.Serializer):
    """An order in lists: number, status, patient (masked for overseers), item, centre, times."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    status = EnumField(OrderStatus, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    version = serializers.IntegerField(read_only=True)
    priority = EnumField(OrderPriority, read_only=True)
    patient = serializers.SerializerMethodField()
    item_code = serializers.CharField(read_only=True)
    item_name = serializers.CharField(read_only=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    centre = ReferenceField(read_only=True)
    centre_name = serializers.CharField(source="centre.name", read_only=True)
    ordering_institution = InstitutionSummarySerializer(read_only=True)
    ordering_doctor = DiagUserSummarySerializer(read_only=True, allow_null=True)
    barcode = serializers.CharField(read_only=True, allow_null=True)
    claimed_by = DiagUserSummarySerializer(read_only=True, allow_null=True)
    ordered_at = serializers.DateTimeField(read_only=True)
    received_at = serializers.DateTimeField(read_only=True, allow_null=True)
    due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    final_at = serializers.DateTimeField(read_only=True, allow_null=True)
    is_abnormal = serializers.BooleanField(read_only=True)

    @extend_schema_field(PatientSerializer)
    def get_patient(self, order: Any) -> dict[str, Any]:
        """The patient as the requester may see them."""
        actor = self.context["request"].user
        return patient_data(order.person, visible=policies.sees_patient(actor, order))


class ReadingListRowSerializer(DiagOrderSerializer):
    """A pending study on a centre's reading list (its page counts at most 1 000: ``count_capped``)."""


class DiagOrderStateSerializer(serializers.Serializer):
    """An order's number, status and version (the answer to a write under ``Prefer: return=minimal``)."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    status = EnumField(OrderStatus, read_only=True)
    version = serializers.IntegerField(read_only=True)


class DiagTimelineEventSerializer(serializers.Serializer):
    """One step of an order."""

    action = serializers.CharField(read_only=True)
    action_label = serializers.SerializerMethodField()
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)
    side = EnumField(OrderSide, read_only=True)
    actor_label = serializers.CharField(source="display_actor", read_only=True)
    institution_name = serializers.CharField(read_only=True)
    note = serializers.CharField(source="display_note", read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)

    def get_action_label(self, event: Any) -> str:
        """The action's readable name."""
        return action_label(f"diagnostics.{event.action}")


class DiagStudyFileSerializer(serializers.Serializer):
    """A file of the study with its (untrusted) DICOM metadata."""

    public_id = serializers.UUIDField(read_only=True)
    kind = EnumField(StudyFileKind, read_only=True)
    original_filename = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    content_type = serializers.CharField(read_only=True)
    metadata = serializers.DictField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class DiagReportSerializer(serializers.Serializer):
    """One report version."""

    public_id = serializers.UUIDField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    status = EnumField(ReportStatus, read_only=True)
    findings = serializers.CharField(read_only=True)
    conclusion = serializers.CharField(read_only=True)
    is_abnormal = serializers.BooleanField(read_only=True)
    author = DiagUserSummarySerializer(read_only=True, allow_null=True)
    signed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    second_reader = DiagUserSummarySerializer(read_only=True, allow_null=True)
    second_signed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    amendment_reason = serializers.CharField(read_only=True)


class DiagOrderDetailSerializer(DiagOrderSerializer):
    """An order with its clinical information, rejection, timeline, files, reports and available actions.

    Clinical content, files and reports are shown only to those who see the patient.
    """

    clinical_info = serializers.SerializerMethodField()
    diagnosis_code = serializers.CharField(read_only=True)
    diagnosis_name = serializers.CharField(read_only=True)
    rejection_reason = EnumField(RejectionReason, read_only=True, allow_blank=True)
    rejection_note = serializers.CharField(read_only=True)
    cancel_reason = serializers.CharField(read_only=True)
    repeat_reason = serializers.CharField(read_only=True)
    recognised_prior = serializers.SerializerMethodField()
    collected_at = serializers.DateTimeField(read_only=True, allow_null=True)
    dispatched_at = serializers.DateTimeField(read_only=True, allow_null=True)
    rejected_at = serializers.DateTimeField(read_only=True, allow_null=True)
    claimed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    reported_at = serializers.DateTimeField(read_only=True, allow_null=True)
    timeline = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    reports = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()

    def _sees(self, order: Any) -> bool:
        return policies.sees_patient(self.context["request"].user, order)

    def get_clinical_info(self, order: Any) -> str:
        """Clinical information (empty for overseers)."""
        return order.clinical_info if self._sees(order) else ""

    @extend_schema_field(DiagOrderStateSerializer(allow_null=True))
    def get_recognised_prior(self, order: Any) -> dict[str, Any] | None:
        """The recognised prior result this order repeats, if any."""
        prior = order.recognised_prior
        return DiagOrderStateSerializer(prior).data if prior else None

    @extend_schema_field(DiagTimelineEventSerializer(many=True))
    def get_timeline(self, order: Any) -> list[Any]:
        """Every step, oldest first."""
        return DiagTimelineEventSerializer(self.context.get("timeline", []), many=True).data

    @extend_schema_field(DiagStudyFileSerializer(many=True))
    def get_files(self, order: Any) -> list[Any]:
        """The study's files (to those who see the patient)."""
        return DiagStudyFileSerializer(self.context.get("files", []), many=True).data

    @extend_schema_field(DiagReportSerializer(many=True))
    def get_reports(self, order: Any) -> list[Any]:
        """Every report version, newest first (to those who see the patient)."""
        return DiagReportSerializer(self.context.get("reports", []), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, order: Any) -> list[str]:
        """What the requester may do now (POST diagnostic-orders/<id>/<action>)."""
        return selectors.available_actions(self.context["request"].user, order)


class DiagOrderCreateSerializer(serializers.Serializer):
    """A new order."""

    person = ReferenceField(person_by_id)
    institution = ReferenceField(institution_by_id)
    item = ReferenceField(item_by_id)
    department = ReferenceField(department_by_id, required=False, allow_null=True)
    priority = EnumField(OrderPriority, required=False)
    clinical_info = _text(4000)
    diagnosis_code = serializers.CharField(max_length=20)
    diagnosis_name = _text(50)
    repeat_reason = _text(200, help_text="已有可互认结果时必填：重复检查的原因")


class DiagOrderQuerySerializer(serializers.Serializer):
    """Filters of the order list."""

    box = serializers.ChoiceField(choices=["all", "ordering", "centre"], required=False, default="all")
    status = EnumField(OrderStatus, required=False)
    centre = ReferenceField(centre_by_id, required=False)
    person = ReferenceField(person_by_id, required=False)
    q = _text(100)


class DiagRecognisedQuerySerializer(serializers.Serializer):
    """Lookup of a recognised prior result on order entry."""

    person = ReferenceField(person_by_id)
    item = ReferenceField(item_by_id)
    institution = ReferenceField(institution_by_id)


class DiagRecognisedSerializer(serializers.Serializer):
    """A valid recognised prior result (or ``found`` false)."""

    found = serializers.BooleanField(read_only=True)
    order = DiagOrderStateSerializer(read_only=True, allow_null=True)
    item_name = serializers.CharField(read_only=True, allow_null=True)
    centre_name = serializers.CharField(read_only=True, allow_null=True)
    final_at = serializers.DateTimeField(read_only=True, allow_null=True)
    valid_until = serializers.DateTimeField(read_only=True, allow_null=True)
    conclusion = serializers.CharField(read_only=True, allow_null=True)


class DiagRecognitionUseSerializer(serializers.Serializer):
    """Use the recognised result instead of ordering."""

    person = ReferenceField(person_by_id)
    institution = ReferenceField(institution_by_id)
    item = ReferenceField(item_by_id)


class DiagRecognitionDecisionSerializer(serializers.Serializer):
    """A recorded recognition decision."""

    public_id = serializers.UUIDField(read_only=True)
    item_code = serializers.CharField(read_only=True)
    outcome = EnumField(RecognitionOutcome, read_only=True)
    saved_amount = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    prior_order = DiagOrderStateSerializer(read_only=True)


# Actions --------------------------------------------------------------------------------------------


class DiagNoteActionSerializer(serializers.Serializer):
    """An action with an optional note."""

    note = _text(500)
    expected_version = _version()


class DiagReasonActionSerializer(DiagNoteActionSerializer):
    """An action that needs a reason."""

    reason = _text(200)


class DiagRejectActionSerializer(DiagNoteActionSerializer):
    """Reject with a coded reason (and a note, required for "other")."""

    reason = EnumField(RejectionReason, required=False)


class DiagReportActionSerializer(DiagNoteActionSerializer):
    """Write, sign or amend the report."""

    findings = _text(10000)
    conclusion = _text(10000)
    is_abnormal = serializers.BooleanField(required=False)
    critical_value = _text(300, help_text="危急值内容（填写即通知开单医生）")
    request_second_reader = serializers.BooleanField(required=False)
    reason = _text(300, help_text="修订原因（amend 必填）")


class DiagSecondSignActionSerializer(DiagNoteActionSerializer):
    """Second reading."""

    critical_value = _text(300)


class DiagReceiveSerializer(serializers.Serializer):
    """Receive a specimen by scanning its barcode at a centre."""

    centre = ReferenceField(centre_by_id)
    barcode = serializers.CharField(max_length=40)


class DiagUploadSerializer(serializers.Serializer):
    """The study's files (multipart, field ``files``, repeatable)."""

    files = serializers.ListField(child=serializers.FileField(), allow_empty=False)
    expected_version = _version()


class DiagCriticalValueSerializer(serializers.Serializer):
    """Report a critical value on an order being read or reported."""

    description = serializers.CharField(max_length=300)


class DiagAcknowledgeSerializer(serializers.Serializer):
    """Acknowledge a critical value with the record of what was done."""

    note = serializers.CharField(max_length=300, help_text="处置记录（必填）：已对患者采取了哪些措施")


class DiagAlertSerializer(serializers.Serializer):
    """A critical value alert."""

    public_id = serializers.UUIDField(read_only=True)
    order = DiagOrderStateSerializer(read_only=True)
    item_name = serializers.CharField(source="order.item_name", read_only=True)
    patient = serializers.SerializerMethodField()
    description = serializers.CharField(read_only=True)
    recipient = DiagUserSummarySerializer(read_only=True, allow_null=True)
    raised_at = serializers.DateTimeField(read_only=True)
    acknowledged_at = serializers.DateTimeField(read_only=True, allow_null=True)
    acknowledged_by = DiagUserSummarySerializer(read_only=True, allow_null=True)
    acknowledgement_note = serializers.CharField(read_only=True)
    escalation_level = serializers.IntegerField(read_only=True)

    @extend_schema_field(PatientSerializer)
    def get_patient(self, alert: Any) -> dict[str, Any]:
        """The patient as the requester may see them."""
        actor = self.context["request"].user
        return patient_data(alert.order.person, visible=policies.sees_patient(actor, alert.order))


class DiagAlertQuerySerializer(serializers.Serializer):
    """Filters of the alert list."""

    open = serializers.BooleanField(required=False, default=False)


class DiagReadingListQuerySerializer(serializers.Serializer):
    """The centre whose reading list to show."""

    centre = ReferenceField(centre_by_id)
    status = EnumField(OrderStatus, required=False)


class DiagStatisticsQuerySerializer(serializers.Serializer):
    """Period and consortium of the dashboard."""

    consortium = ReferenceField(consortium_by_id, required=False)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """The period must not end before it starts."""
        if values.get("since") and values.get("until") and values["until"] < values["since"]:
            raise serializers.ValidationError({"until": [_("结束日期不能早于开始日期。")]})
        return values


class DiagStatisticsSerializer(serializers.Serializer):
    """Dashboard figures."""

    since = serializers.DateField(read_only=True, allow_null=True)
    until = serializers.DateField(read_only=True, allow_null=True)
    per_centre = serializers.ListField(child=serializers.DictField(), read_only=True)
    per_member = serializers.ListField(child=serializers.DictField(), read_only=True)
    rejections = serializers.ListField(child=serializers.DictField(), read_only=True)
    critical = serializers.DictField(read_only=True)
    recognition = serializers.DictField(read_only=True)
