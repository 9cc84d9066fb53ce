"""Serializers of the people API. A resident ID number is accepted on input but never rendered:
responses carry only ``id_number_masked``; the full number needs the audited reveal action."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from yilian.core.api.fields import EnumField, ReferenceField
from yilian.institutions.api.serializers import grid_by_id, institution_by_id, region_by_code
from yilian.people.choices import Gender, InsuranceScheme


class PersonSerializer(serializers.Serializer):
    """A resident or patient; also the payload of a change (PATCH)."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=50)
    id_number_masked = serializers.CharField(read_only=True, help_text="身份证号（脱敏）")
    gender = EnumField(Gender, required=False, help_text="GB/T 2261.1")
    gender_label = serializers.CharField(source="get_gender_display", read_only=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    address_region = ReferenceField(region_by_code, kind="code", required=False, allow_null=True)
    insurance_scheme = EnumField(InsuranceScheme, required=False)
    home_grid = ReferenceField(grid_by_id, required=False, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class PersonRegisterSerializer(PersonSerializer):
    """Register a person at an institution (or link the existing person with the same ID number)."""

    institution = ReferenceField(institution_by_id, write_only=True, help_text="登记机构")
    id_number = serializers.CharField(
        max_length=32, required=False, allow_blank=True, write_only=True, help_text="身份证号（GB 11643）"
    )


class PersonQuerySerializer(serializers.Serializer):
    """Filters of the person list. A resident ID number is refused here (ADR 0004): query
    strings land in URLs and access logs; ``POST /api/v1/persons/lookup`` takes it in the body."""

    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="姓名、拼音首字母或电话"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Refuse ``id_number`` (without echoing it) and point to the lookup endpoint."""
        if "id_number" in self.initial_data:
            raise serializers.ValidationError(
                {"id_number": [_("身份证号不能放在网址中，请改用 POST /api/v1/persons/lookup 查找。")]}
            )
        return attrs


class PersonLookupSerializer(serializers.Serializer):
    """Exact lookup by resident ID number, kept out of URLs and access logs."""

    id_number = serializers.CharField(max_length=32)


class RevealPurposeSerializer(serializers.Serializer):
    """Why the full number is needed (recorded in the audit log)."""

    purpose = serializers.CharField(max_length=200)


class RevealResultSerializer(serializers.Serializer):
    """The full resident ID number."""

    id_number = serializers.CharField(read_only=True)
