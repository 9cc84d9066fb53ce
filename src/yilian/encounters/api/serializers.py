"""Serializers of the encounters API: visits and inpatient stays, monthly service volumes.

Also the patient summary the referral API shows, and ``encounter_by_id``,
the resolver other apps' payloads use to name a stay.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.accounts.api.serializers import DepartmentSummarySerializer
from yilian.core.api.fields import EnumField, ReferenceField
from yilian.core.exceptions import NotAllowed
from yilian.encounters.choices import EncounterKind
from yilian.encounters.models import Encounter
from yilian.encounters.selectors import encounter_get_for
from yilian.institutions.api.serializers import (
    InstitutionSummarySerializer,
    department_by_id,
    institution_by_id,
)
from yilian.people.choices import Gender
from yilian.people.identifiers import mask_name
from yilian.people.policies import can_view_people
from yilian.people.selectors import person_get_for
from yilian.people.services import age_on
from yilian.referrals.choices import RecoveryPhase

MAX_INT = 2_147_483_647


# Resolvers --------------------------------------------------------------------------------------


def encounter_by_id(actor: Any, public_id: Any) -> Encounter:
    """An encounter the actor may see, by public id (NotFound otherwise)."""
    return encounter_get_for(actor, public_id)


def person_by_id(actor: Any, public_id: Any) -> Any:
    """A person the actor may see (need-to-know), by public id; NotAllowed for those who see no patients."""
    if not can_view_people(actor):
        raise NotAllowed(_("您没有查看居民信息的权限。"))
    return person_get_for(actor, public_id)


# Patients ---------------------------------------------------------------------------------------


class PatientSerializer(serializers.Serializer):
    """The patient as the requester may see them.

    Clinical staff and administrators of either end see the name, masked ID
    number, gender and age (``visible`` true); the consortium office,
    regulators and platform administrators read a masked name only.
    """

    visible = serializers.BooleanField(read_only=True, help_text="是否可查看患者信息")
    public_id = serializers.UUIDField(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True, help_text="姓名；无权查看时为脱敏姓名，如“张*”")
    id_number_masked = serializers.CharField(read_only=True, allow_null=True, help_text="身份证号（脱敏）")
    gender = EnumField(Gender, read_only=True, allow_null=True)
    gender_label = serializers.CharField(read_only=True, allow_null=True)
    age = serializers.IntegerField(read_only=True, allow_null=True)


def patient_data(person: Any, *, visible: bool) -> dict[str, Any]:
    """The patient block: full for those who may see the patient, a masked name for the others."""
    if not visible:
        return {
            "visible": False,
            "public_id": None,
            "name": mask_name(person.name),
            "id_number_masked": None,
            "gender": None,
            "gender_label": None,
            "age": None,
        }
    return {
        "visible": True,
        "public_id": str(person.public_id),
        "name": person.name,
        "id_number_masked": person.id_number_masked,
        "gender": person.gender,
        "gender_label": str(person.get_gender_display()),
        "age": age_on(person),
    }


# Encounters -------------------------------------------------------------------------------------


class EncounterSerializer(serializers.Serializer):
    """An outpatient visit or inpatient stay."""

    public_id = serializers.UUIDField(read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    department = DepartmentSummarySerializer(read_only=True, allow_null=True)
    patient = serializers.SerializerMethodField()
    kind = EnumField(EncounterKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    his_number = serializers.CharField(read_only=True, help_text="病案号/门诊号")
    started_at = serializers.DateTimeField(read_only=True)
    ended_at = serializers.DateTimeField(read_only=True, allow_null=True)
    is_current = serializers.SerializerMethodField()
    diagnosis_code = serializers.CharField(read_only=True)
    diagnosis_name = serializers.CharField(read_only=True)
    recovery_phase = serializers.CharField(read_only=True, help_text="可下转阶段；空为未标记")
    recovery_flagged_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(PatientSerializer)
    def get_patient(self, encounter: Encounter) -> dict[str, Any]:
        """The patient (the requester works at the encounter's institution, so sees them)."""
        return patient_data(encounter.person, visible=True)

    def get_is_current(self, encounter: Encounter) -> bool:
        """An inpatient stay not yet ended."""
        return encounter.kind == EncounterKind.INPATIENT and encounter.ended_at is None


class EncounterRecordSerializer(serializers.Serializer):
    """Record a visit or an admission at the requester's institution."""

    institution = ReferenceField(institution_by_id)
    person = ReferenceField(person_by_id, help_text="本机构可见的居民（先登记居民）")
    kind = EnumField(EncounterKind)
    department = ReferenceField(department_by_id, required=False, allow_null=True)
    his_number = serializers.CharField(max_length=18, required=False, allow_blank=True)
    started_at = serializers.DateTimeField()
    diagnosis_code = serializers.CharField(max_length=20, help_text="ICD-10（如 I63.9、I10.x00）")
    diagnosis_name = serializers.CharField(max_length=50)


class EncounterQuerySerializer(serializers.Serializer):
    """Filters of the encounter list."""

    institution = ReferenceField(institution_by_id, required=False, help_text="本人所在机构之一")
    kind = EnumField(EncounterKind, required=False)
    current = serializers.BooleanField(required=False, default=False, help_text="只看在院患者")


class DischargeSerializer(serializers.Serializer):
    """End an inpatient stay."""

    ended_at = serializers.DateTimeField(required=False, allow_null=True, help_text="省略时为现在")


class FlagRecoverySerializer(serializers.Serializer):
    """Mark a current inpatient ready to go down (an empty value clears the mark)."""

    recovery_phase = EnumField(RecoveryPhase, allow_blank=True)


# Service volumes --------------------------------------------------------------------------------


class ServiceVolumeSerializer(serializers.Serializer):
    """One month's outpatient visits, admissions and discharges of an institution or department."""

    institution = ReferenceField(institution_by_id)
    department = ReferenceField(
        department_by_id, required=False, allow_null=True, help_text="省略时为全院合计"
    )
    month = serializers.DateField(
        input_formats=["%Y-%m", "iso-8601"], help_text="月份（YYYY-MM，或该月任一天）"
    )
    outpatient_visits = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, default=0)
    admissions = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, default=0)
    discharges = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, default=0)


class ServiceVolumeResultSerializer(serializers.Serializer):
    """A stored month of service volume."""

    institution = InstitutionSummarySerializer(read_only=True)
    department = DepartmentSummarySerializer(read_only=True, allow_null=True)
    month = serializers.DateField(read_only=True)
    outpatient_visits = serializers.IntegerField(read_only=True)
    admissions = serializers.IntegerField(read_only=True)
    discharges = serializers.IntegerField(read_only=True)
