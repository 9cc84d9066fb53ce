"""Serializers of the chronic-care API: shape and rendering only; the services check the rules.

Objects are addressed by public id (registries by code). Only case readers (the managing institution's
staff, the care team) get cases and follow-ups, so patient details are rendered in full; the office and
the regulator get rates only.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.chronic_care.choices import (
    Adherence,
    CaseStatus,
    CloseReason,
    ComplicationChange,
    Control,
    DangerSign,
    FollowUpMethod,
    Measure,
    SideEffects,
    Suggestion,
    SuggestionState,
)
from yilian.core.api.fields import EnumField, ReferenceField
from yilian.encounters.api.serializers import PatientSerializer, patient_data
from yilian.institutions.api.serializers import (
    InstitutionSummarySerializer,
    department_by_id,
    institution_by_id,
)
from yilian.people.selectors import person_get_for
from yilian.referrals.choices import ReferralKind, ReferralPriority


def care_team_by_id(actor: Any, public_id: Any) -> Any:
    """A care team by public id (the service checks it belongs to the managing institution)."""
    from yilian.core.exceptions import NotFound
    from yilian.family_doctors.models import CareTeam

    try:
        return CareTeam.objects.get(public_id=public_id)
    except CareTeam.DoesNotExist as error:
        raise NotFound("care_team") from error


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=max_length, **kwargs)


class ChronicRegistrySerializer(serializers.Serializer):
    """A registry with its schedule and thresholds."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    icd10_ranges = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()), read_only=True
    )
    measures = serializers.ListField(child=EnumField(Measure), read_only=True)
    follow_ups_per_year = serializers.IntegerField(read_only=True)
    systolic_below = serializers.IntegerField(read_only=True, allow_null=True)
    diastolic_below = serializers.IntegerField(read_only=True, allow_null=True)
    elderly_age = serializers.IntegerField(read_only=True, allow_null=True)
    elderly_systolic_below = serializers.IntegerField(read_only=True, allow_null=True)
    elderly_diastolic_below = serializers.IntegerField(read_only=True, allow_null=True)
    fasting_glucose_below = serializers.DecimalField(
        max_digits=4, decimal_places=1, read_only=True, allow_null=True
    )
    referral_department_names = serializers.CharField(read_only=True)
    threshold_source = serializers.CharField(read_only=True)
    thresholds_confirmed = serializers.BooleanField(read_only=True, help_text="false：阈值为工作定义，待核实")
    is_active = serializers.BooleanField(read_only=True)


class ChronicRegistryWriteSerializer(serializers.Serializer):
    """Create or update a registry (the consortium office or a platform administrator)."""

    code = serializers.CharField(max_length=30, required=False)
    name = serializers.CharField(max_length=60, required=False)
    icd10_ranges = serializers.CharField(max_length=200, required=False, help_text="如 “I10-I15, E11”")
    measures = serializers.ListField(child=EnumField(Measure), required=False)
    follow_ups_per_year = serializers.IntegerField(required=False, min_value=1, max_value=365)
    systolic_below = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=400)
    diastolic_below = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=400)
    elderly_age = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=120)
    elderly_systolic_below = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=400
    )
    elderly_diastolic_below = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=400
    )
    fasting_glucose_below = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True
    )
    referral_department_names = _text(200)
    threshold_source = _text(2000)
    thresholds_confirmed = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class ChronicCareTeamSummarySerializer(serializers.Serializer):
    """A care team, by public id and name."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class ChronicCaseSerializer(serializers.Serializer):
    """A case in a list."""

    public_id = serializers.UUIDField(read_only=True)
    patient = serializers.SerializerMethodField()
    registry = serializers.CharField(source="registry.code", read_only=True)
    registry_name = serializers.CharField(source="registry.name", read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    care_team = ChronicCareTeamSummarySerializer(read_only=True, allow_null=True)
    diagnosis_code = serializers.CharField(read_only=True)
    diagnosis_name = serializers.CharField(read_only=True)
    enrolled_on = serializers.DateField(read_only=True)
    status = EnumField(CaseStatus, read_only=True)
    closed_on = serializers.DateField(read_only=True, allow_null=True)
    close_reason = serializers.CharField(read_only=True)
    last_follow_up_on = serializers.DateField(read_only=True, allow_null=True)
    last_control = EnumField(Control, read_only=True)
    consecutive_uncontrolled = serializers.IntegerField(read_only=True)
    follow_up_count = serializers.IntegerField(read_only=True)
    next_due_on = serializers.DateField(read_only=True, allow_null=True)

    @extend_schema_field(PatientSerializer)
    def get_patient(self, case: Any) -> dict[str, Any]:
        """The patient (only case readers get cases)."""
        return patient_data(case.person, visible=True)


class ChronicOverdueCaseSerializer(ChronicCaseSerializer):
    """A case in the overdue list, with the days overdue and the village."""

    days_overdue = serializers.SerializerMethodField()
    village = serializers.SerializerMethodField()

    def get_days_overdue(self, case: Any) -> int:
        """Days past the due date."""
        return case.days_overdue(self.context["today"])

    def get_village(self, case: Any) -> str:
        """The patient's home grid."""
        return case.person.home_grid.name if case.person.home_grid_id else ""


class ChronicCaseCreateSerializer(serializers.Serializer):
    """Enrol a resident."""

    person = ReferenceField(person_get_for, help_text="居民 public_id")
    registry = serializers.CharField(max_length=30, help_text="病种代码，如 hypertension、diabetes_t2")
    institution = ReferenceField(institution_by_id, help_text="管理机构（基层）")
    care_team = ReferenceField(care_team_by_id, required=False, allow_null=True)
    diagnosis_code = serializers.CharField(max_length=20)
    diagnosis_name = _text(100)
    enrolled_on = serializers.DateField(required=False)


class ChronicCaseCloseSerializer(serializers.Serializer):
    """Close a case."""

    reason = EnumField(CloseReason)
    closed_on = serializers.DateField(required=False)
    note = _text(300)


class ChronicFollowUpSerializer(serializers.Serializer):
    """A follow-up visit, with the computed control status and the rule's suggestion."""

    public_id = serializers.UUIDField(read_only=True)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    visited_on = serializers.DateField(read_only=True)
    method = EnumField(FollowUpMethod, read_only=True)
    recorded_by = serializers.CharField(read_only=True, allow_null=True)
    systolic = serializers.IntegerField(read_only=True, allow_null=True)
    diastolic = serializers.IntegerField(read_only=True, allow_null=True)
    heart_rate = serializers.IntegerField(read_only=True, allow_null=True)
    fasting_glucose = serializers.DecimalField(
        max_digits=4, decimal_places=1, read_only=True, allow_null=True
    )
    random_glucose = serializers.DecimalField(max_digits=4, decimal_places=1, read_only=True, allow_null=True)
    hba1c = serializers.DecimalField(max_digits=4, decimal_places=1, read_only=True, allow_null=True)
    weight_kg = serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True, allow_null=True)
    height_cm = serializers.DecimalField(max_digits=4, decimal_places=1, read_only=True, allow_null=True)
    bmi = serializers.DecimalField(max_digits=4, decimal_places=1, read_only=True, allow_null=True)
    medication = serializers.CharField(read_only=True)
    adherence = EnumField(Adherence, read_only=True)
    side_effects = EnumField(SideEffects, read_only=True)
    complications = EnumField(ComplicationChange, read_only=True)
    complications_note = serializers.CharField(read_only=True)
    danger_signs = serializers.ListField(child=EnumField(DangerSign), read_only=True)
    symptoms = serializers.CharField(read_only=True)
    lifestyle_advice = serializers.CharField(read_only=True)
    control = EnumField(Control, read_only=True)
    due_on = serializers.DateField(read_only=True, allow_null=True)
    next_due_on = serializers.DateField(read_only=True)
    suggestion = EnumField(Suggestion, read_only=True)
    suggestion_reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    suggestion_state = EnumField(SuggestionState, read_only=True)
    outcome_check_due_on = serializers.DateField(read_only=True, allow_null=True)
    referral = serializers.SerializerMethodField()

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_referral(self, follow_up: Any) -> str | None:
        """The referral sent on the suggestion."""
        return str(follow_up.referral.public_id) if follow_up.referral_id else None


class ChronicFollowUpCreateSerializer(serializers.Serializer):
    """Record a follow-up (measurements as numbers or strings; the service checks the ranges)."""

    visited_on = serializers.DateField(required=False)
    method = EnumField(FollowUpMethod)
    systolic = serializers.IntegerField(required=False, allow_null=True)
    diastolic = serializers.IntegerField(required=False, allow_null=True)
    heart_rate = serializers.IntegerField(required=False, allow_null=True)
    fasting_glucose = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True
    )
    random_glucose = serializers.DecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)
    hba1c = serializers.DecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)
    weight_kg = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True)
    height_cm = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True)
    medication = _text(2000)
    adherence = EnumField(Adherence)
    side_effects = EnumField(SideEffects, required=False)
    complications = EnumField(ComplicationChange, required=False)
    complications_note = _text(300)
    danger_signs = serializers.ListField(child=EnumField(DangerSign), required=False)
    symptoms = _text(300)
    lifestyle_advice = _text(2000)
    next_due_on = serializers.DateField(required=False, allow_null=True)


class ChronicReferSerializer(serializers.Serializer):
    """Send the suggested referral; omitted fields take the prefilled proposal."""

    to_department = ReferenceField(department_by_id, required=False)
    kind = EnumField(ReferralKind, required=False)
    priority = EnumField(ReferralPriority, required=False)
    diagnosis_code = serializers.CharField(max_length=20, required=False)
    diagnosis_name = serializers.CharField(max_length=50, required=False)
    reason = serializers.CharField(max_length=100, required=False)
    exam_results = _text(4000)
    patient_consented = serializers.BooleanField(help_text="患者（或家属）已知情同意")
    acknowledge_missing = serializers.BooleanField(required=False, default=False)


class ChronicProposalSerializer(serializers.Serializer):
    """The prefilled referral of a suggestion."""

    lead_hospital = InstitutionSummarySerializer(read_only=True, allow_null=True)
    department = serializers.SerializerMethodField()
    kind = serializers.CharField(read_only=True)
    priority = serializers.CharField(read_only=True)
    diagnosis_code = serializers.CharField(read_only=True)
    diagnosis_name = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)
    history = serializers.CharField(read_only=True)
    exam_results = serializers.CharField(read_only=True)
    medications = serializers.CharField(read_only=True)

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_department(self, proposal: Any) -> str | None:
        """The receiving department chosen."""
        return str(proposal.department.public_id) if proposal.department else None


class ChronicDismissSerializer(serializers.Serializer):
    """Decide not to refer, with the reason."""

    note = serializers.CharField(max_length=300)


class ChronicReferralResultSerializer(serializers.Serializer):
    """The referral sent."""

    referral = serializers.UUIDField(source="public_id", read_only=True)
    number = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)


class ChronicCaseQuerySerializer(serializers.Serializer):
    """Filters of the case list."""

    registry = _text(30)
    status = EnumField(CaseStatus, required=False, allow_blank=True)
    team = serializers.UUIDField(required=False)
    institution = serializers.UUIDField(required=False)
    control = EnumField(Control, required=False, allow_blank=True)
    q = _text(50, help_text="姓名或拼音首字母")


class ChronicOverdueQuerySerializer(serializers.Serializer):
    """Filters and order of the overdue list."""

    registry = _text(30)
    team = serializers.UUIDField(required=False)
    institution = serializers.UUIDField(required=False)
    village = serializers.UUIDField(required=False, help_text="居民所属网格 public_id")
    order = serializers.ChoiceField(choices=["days", "-days", "name"], required=False, default="days")
    within_days = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=60, help_text="含今后 N 天内到期"
    )


class ChronicRateQuerySerializer(serializers.Serializer):
    """Period and grouping of the rates."""

    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    quarter = serializers.IntegerField(min_value=1, max_value=4, required=False, allow_null=True)
    group = serializers.ChoiceField(
        choices=["team", "institution", "consortium"], required=False, default="institution"
    )
    registry = _text(30)


class ChronicRateRowSerializer(serializers.Serializer):
    """One group's counts and rates (percent; null when nothing to divide)."""

    label = serializers.CharField(read_only=True)
    parent = serializers.CharField(read_only=True)
    managed = serializers.IntegerField(read_only=True, help_text="管理人数")
    standard = serializers.IntegerField(read_only=True, help_text="规范管理人数")
    controlled = serializers.IntegerField(read_only=True, help_text="控制满意人数")
    due = serializers.IntegerField(read_only=True, help_text="应随访次数")
    on_time = serializers.IntegerField(read_only=True, help_text="按时随访次数")
    standard_rate = serializers.FloatField(read_only=True, allow_null=True)
    control_rate = serializers.FloatField(read_only=True, allow_null=True)
    on_time_rate = serializers.FloatField(read_only=True, allow_null=True)


class ChronicRatesSerializer(serializers.Serializer):
    """Rates of a period."""

    period = serializers.CharField(read_only=True)
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    group = serializers.CharField(read_only=True)
    rows = ChronicRateRowSerializer(many=True, read_only=True)
    total = ChronicRateRowSerializer(read_only=True)
    definitions = serializers.DictField(child=serializers.CharField(), read_only=True)
