"""Serializers of the prescriptions API: shape and rendering only; the services check the rules.

Patient details are rendered only for those who may see the patient (``policies.sees_patient``); the
consortium office and platform admins read a masked name.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.core.api.fields import EnumField, ReferenceField
from yilian.core.exceptions import NotAllowed
from yilian.encounters.api.serializers import PatientSerializer, patient_data
from yilian.institutions.api.serializers import (
    ConsortiumSummarySerializer,
    InstitutionSummarySerializer,
    department_by_id,
    institution_by_id,
)
from yilian.people.selectors import person_get_for
from yilian.prescriptions import policies, selectors
from yilian.prescriptions.choices import (
    DeliveryStatus,
    DosageForm,
    DrugCategory,
    Frequency,
    PrescriptionKind,
    PrescriptionStatus,
    Route,
)

MAX_INT = 2_147_483_647


def drug_by_id(actor: Any, public_id: Any) -> Any:
    """A catalogue drug by public id."""
    return selectors.drug_get(actor, public_id)


def person_by_id(actor: Any, public_id: Any) -> Any:
    """The patient of a new prescription: someone the actor sees; only doctors prescribe (403)."""
    if not policies.can_prescribe(actor):
        raise NotAllowed(_("您没有开具处方的权限。"))
    return person_get_for(actor, public_id)


def prescription_by_id(actor: Any, public_id: Any) -> Any:
    """The source of an extended prescription: a prescription of a person the actor sees."""
    return selectors.source_get_for(actor, public_id)


def _name(user: Any) -> str:
    return (user.full_name or user.username) if user is not None else ""


class DrugSerializer(serializers.Serializer):
    """A catalogue drug."""

    public_id = serializers.UUIDField(read_only=True)
    code = serializers.CharField(read_only=True, help_text="国家医保药品代码（23 位）")
    name = serializers.CharField(read_only=True, help_text="通用名")
    dosage_form = EnumField(DosageForm, read_only=True)
    strength = serializers.CharField(read_only=True, help_text="规格")
    dose_unit = serializers.CharField(read_only=True)
    package_size = serializers.IntegerField(read_only=True)
    package_unit = serializers.CharField(read_only=True)
    category = EnumField(DrugCategory, read_only=True)
    is_chronic = serializers.BooleanField(read_only=True, help_text="慢病用药")
    is_essential = serializers.BooleanField(read_only=True, help_text="国家基本药物")


class DrugWriteSerializer(serializers.Serializer):
    """A new catalogue drug."""

    code = serializers.CharField(max_length=30, help_text="国家医保药品代码（23 位，X 西药 / Z 中成药开头）")
    name = serializers.CharField(max_length=100, help_text="通用名")
    dosage_form = EnumField(DosageForm)
    strength = serializers.CharField(max_length=40)
    dose_unit = serializers.CharField(max_length=8, required=False, default="片")
    package_size = serializers.IntegerField(min_value=1, max_value=10000)
    package_unit = serializers.CharField(max_length=8, required=False, default="盒")
    category = EnumField(DrugCategory)
    is_chronic = serializers.BooleanField(required=False, default=False)
    is_essential = serializers.BooleanField(required=False, default=False)


class DrugQuerySerializer(serializers.Serializer):
    """Filters of the catalogue."""

    q = serializers.CharField(required=False, max_length=50, help_text="通用名、拼音首字母或代码")
    category = EnumField(DrugCategory, required=False)
    chronic = serializers.BooleanField(required=False, allow_null=True, default=None)
    essential = serializers.BooleanField(required=False, allow_null=True, default=None)


class StockItemSerializer(serializers.Serializer):
    """A drug on an institution's stock list."""

    drug = DrugSerializer(read_only=True)
    is_local_addition = serializers.BooleanField(read_only=True, help_text="本地增补")


class StockAddSerializer(serializers.Serializer):
    """Put a drug on the stock list."""

    drug = ReferenceField(drug_by_id)
    is_local_addition = serializers.BooleanField(required=False, default=False)


class StockImportSerializer(serializers.Serializer):
    """An Excel stock list (医保药品代码, 通用名, 本地增补)."""

    file = serializers.FileField()
    replace = serializers.BooleanField(required=False, default=False, help_text="移除文件中没有的药品")


class StockImportResultSerializer(serializers.Serializer):
    """What an import did."""

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    removed = serializers.IntegerField()


class MemberGapSerializer(serializers.Serializer):
    """One member's gap against the reference list."""

    institution = InstitutionSummarySerializer(read_only=True)
    role = serializers.CharField(read_only=True)
    stocked = serializers.IntegerField(read_only=True)
    reference = serializers.IntegerField(read_only=True)
    missing = serializers.IntegerField(read_only=True)
    missing_chronic = serializers.IntegerField(read_only=True)
    local_additions = serializers.IntegerField(read_only=True)
    unaligned = serializers.IntegerField(read_only=True)
    aligned = serializers.BooleanField(read_only=True)
    coverage = serializers.FloatField(read_only=True)
    missing_by_category = serializers.DictField(child=serializers.IntegerField(), read_only=True)


class FormularySerializer(serializers.Serializer):
    """A consortium's formulary limits and the gap of each member visible to the requester."""

    consortium = ConsortiumSummarySerializer(read_only=True)
    reference_institution = InstitutionSummarySerializer(read_only=True)
    long_max_days = serializers.IntegerField(read_only=True)
    extended_max_days = serializers.IntegerField(read_only=True)
    regular_max_days = serializers.IntegerField(read_only=True)
    source_recent_months = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    members = MemberGapSerializer(many=True, read_only=True)


class FormularyUpdateSerializer(serializers.Serializer):
    """New limits (any subset)."""

    long_max_days = serializers.IntegerField(required=False, min_value=1, max_value=180)
    extended_max_days = serializers.IntegerField(required=False, min_value=1, max_value=180)
    regular_max_days = serializers.IntegerField(required=False, min_value=1, max_value=90)
    source_recent_months = serializers.IntegerField(required=False, min_value=1, max_value=24)
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_INT
    )


class PrescriptionItemSerializer(serializers.Serializer):
    """One drug on a prescription."""

    drug = DrugSerializer(read_only=True)
    dose = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    frequency = EnumField(Frequency, read_only=True)
    route = EnumField(Route, read_only=True)
    days = serializers.IntegerField(read_only=True)
    quantity = serializers.IntegerField(read_only=True, help_text="数量（包装）")
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    delivered_by_consortium = serializers.BooleanField(read_only=True)


class PrescriptionItemWriteSerializer(serializers.Serializer):
    """One drug to prescribe; ``quantity`` (packages) is computed when left out."""

    drug = ReferenceField(drug_by_id)
    dose = serializers.DecimalField(max_digits=8, decimal_places=2, help_text="单次剂量（剂量单位）")
    frequency = EnumField(Frequency)
    route = EnumField(Route)
    days = serializers.IntegerField(min_value=1, max_value=365)
    quantity = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=9999)


class PrescriptionSerializer(serializers.Serializer):
    """A prescription in a list."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True, help_text="处方编号")
    kind = EnumField(PrescriptionKind, read_only=True)
    status = EnumField(PrescriptionStatus, read_only=True)
    version = serializers.IntegerField(read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True, allow_null=True)
    institution = InstitutionSummarySerializer(read_only=True)
    prescriber_name = serializers.CharField(read_only=True, help_text="开方医师")
    patient = serializers.SerializerMethodField()
    diagnosis_code = serializers.CharField(read_only=True)
    diagnosis_name = serializers.CharField(read_only=True)
    prescribed_on = serializers.DateField(read_only=True)
    valid_until = serializers.DateField(read_only=True)
    days = serializers.IntegerField(read_only=True)

    @extend_schema_field(PatientSerializer)
    def get_patient(self, prescription: Any) -> dict[str, Any]:
        """The patient (masked for oversight readers)."""
        actor = self.context["request"].user
        return patient_data(prescription.person, visible=policies.sees_patient(actor, prescription))


class PrescriptionDetailSerializer(PrescriptionSerializer):
    """A prescription with its items, source and delivery."""

    items = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()
    delivery = serializers.SerializerMethodField()
    note = serializers.CharField(read_only=True)
    void_reason = serializers.CharField(read_only=True)
    voided_at = serializers.DateTimeField(read_only=True, allow_null=True)

    @extend_schema_field(PrescriptionItemSerializer(many=True))
    def get_items(self, prescription: Any) -> list[Any]:
        """The drugs."""
        return list(PrescriptionItemSerializer(self.context.get("items", []), many=True).data)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_source(self, prescription: Any) -> str | None:
        """The number of the continued lead-hospital prescription."""
        return prescription.source.number if prescription.source_id else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_delivery(self, prescription: Any) -> str | None:
        """The delivery's public id (extended prescriptions)."""
        delivery = self.context.get("delivery")
        return str(delivery.public_id) if delivery is not None else None


class PrescriptionCreateSerializer(serializers.Serializer):
    """A new prescription."""

    institution = ReferenceField(institution_by_id, help_text="开方机构（本人为该机构医师）")
    person = ReferenceField(person_by_id, help_text="患者")
    kind = EnumField(PrescriptionKind)
    diagnosis_code = serializers.CharField(max_length=20, help_text="ICD-10")
    diagnosis_name = serializers.CharField(max_length=50)
    items = PrescriptionItemWriteSerializer(many=True)
    source = ReferenceField(prescription_by_id, required=False, allow_null=True, help_text="延伸处方的原处方")
    department = ReferenceField(department_by_id, required=False, allow_null=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class PrescriptionQuerySerializer(serializers.Serializer):
    """Filters of the prescription list."""

    kind = EnumField(PrescriptionKind, required=False)
    status = EnumField(PrescriptionStatus, required=False)
    current = serializers.BooleanField(required=False, default=False, help_text="只看有效期内")
    person = ReferenceField(person_by_id, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    q = serializers.CharField(required=False, max_length=50)


class PrescriptionVoidSerializer(serializers.Serializer):
    """Why the prescription is voided."""

    reason = serializers.CharField(max_length=200)
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_INT
    )


class DeliveryEventSerializer(serializers.Serializer):
    """One step of a delivery."""

    action = serializers.CharField(read_only=True)
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)
    actor_label = serializers.CharField(read_only=True)
    institution_name = serializers.CharField(read_only=True)
    note = serializers.CharField(source="display_note", read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)


class DeliverySerializer(serializers.Serializer):
    """A consortium delivery."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True, help_text="配送单号")
    status = EnumField(DeliveryStatus, read_only=True)
    prescription = serializers.SerializerMethodField()
    from_institution = InstitutionSummarySerializer(read_only=True)
    to_institution = InstitutionSummarySerializer(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    dispatched_at = serializers.DateTimeField(read_only=True, allow_null=True)
    received_at = serializers.DateTimeField(read_only=True, allow_null=True)
    handed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    note = serializers.CharField(read_only=True)
    available_actions = serializers.SerializerMethodField()

    @extend_schema_field(serializers.UUIDField())
    def get_prescription(self, delivery: Any) -> str:
        """The extended prescription's public id."""
        return str(delivery.prescription.public_id)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, delivery: Any) -> list[str]:
        """Steps the requester may take now (POST /deliveries/{id}/{action})."""
        return selectors.delivery_actions(self.context["request"].user, delivery)


class DeliveryDetailSerializer(DeliverySerializer):
    """A delivery with its timeline."""

    timeline = serializers.SerializerMethodField()

    @extend_schema_field(DeliveryEventSerializer(many=True))
    def get_timeline(self, delivery: Any) -> list[Any]:
        """Steps, oldest first."""
        return list(DeliveryEventSerializer(self.context.get("timeline", []), many=True).data)


class DeliveryQuerySerializer(serializers.Serializer):
    """Filters of the delivery list."""

    box = serializers.ChoiceField(choices=["out", "in", "all"], required=False, default="all")
    status = EnumField(DeliveryStatus, required=False)
    open = serializers.BooleanField(required=False, default=False)


class DeliveryStepSerializer(serializers.Serializer):
    """A note with the step (required to cancel)."""

    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class PrescriptionStatisticsQuerySerializer(serializers.Serializer):
    """Consortium and period of the statistics."""

    consortium = serializers.UUIDField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()


class PrescriptionMemberMonthSerializer(serializers.Serializer):
    """Long and extended prescriptions of one member in one month."""

    institution_name = serializers.CharField()
    month = serializers.DateField()
    long = serializers.IntegerField()
    extended = serializers.IntegerField()


class DeliveryFiguresSerializer(serializers.Serializer):
    """Deliveries of one receiving member."""

    institution_name = serializers.CharField()
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    mean_hours_to_hand = serializers.FloatField(allow_null=True)


class PrescriptionStatisticsSerializer(serializers.Serializer):
    """Statistics of a consortium and period."""

    months = PrescriptionMemberMonthSerializer(many=True)
    deliveries = DeliveryFiguresSerializer(many=True)
