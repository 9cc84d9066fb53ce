"""Serializers of the accounts API: tokens, users, role grants and the audit log."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.accounts import selectors
from yilian.accounts.choices import ProfessionalTitle
from yilian.accounts.models import Membership, User
from yilian.core.api.fields import EnumField, ReferenceField
from yilian.core.permissions import Role
from yilian.institutions.api.serializers import (
    ConsortiumSummarySerializer,
    InstitutionSummarySerializer,
    RegionSummarySerializer,
    consortium_by_id,
    department_by_id,
    institution_by_id,
    region_by_code,
)


def user_by_id(actor: Any, public_id: Any) -> User:
    """A user the actor may see, by public id."""
    return selectors.user_get_for(actor, public_id)


class CredentialsSerializer(serializers.Serializer):
    """Username and password."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    """A new API token: send it as ``Authorization: Token <token>``. It is shown only once."""

    token = serializers.CharField(read_only=True)


class UserSummarySerializer(serializers.Serializer):
    """A user by public id, login name and name."""

    public_id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class UserSerializer(serializers.Serializer):
    """A login account; also the payload of a profile change (PATCH)."""

    public_id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(max_length=150)
    full_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    professional_title = EnumField(ProfessionalTitle, required=False, allow_blank=True)
    professional_title_label = serializers.CharField(source="get_professional_title_display", read_only=True)
    is_active = serializers.BooleanField(required=False)
    date_joined = serializers.DateTimeField(read_only=True)
    last_login = serializers.DateTimeField(read_only=True, allow_null=True)


class UserCreateSerializer(UserSerializer):
    """A new login account with its first password.

    With ``institution`` and ``role`` (and optionally ``department``) the
    account is created as staff of that institution with that first role, in
    one step — the way institution administrators add their staff.
    """

    password = serializers.CharField(
        max_length=128, write_only=True, style={"input_type": "password"}, trim_whitespace=False
    )
    institution = ReferenceField(institution_by_id, required=False, write_only=True)
    role = EnumField(Role, required=False, write_only=True)
    department = ReferenceField(department_by_id, required=False, allow_null=True, write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """``institution`` and ``role`` come together."""
        if ("institution" in attrs) != ("role" in attrs):
            raise serializers.ValidationError({"role": "机构和角色需同时填写。"})
        return attrs


class PasswordSerializer(serializers.Serializer):
    """A new password (checked by the password validators)."""

    password = serializers.CharField(
        max_length=128, write_only=True, style={"input_type": "password"}, trim_whitespace=False
    )


class UserQuerySerializer(serializers.Serializer):
    """Filters of the user list."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="用户名或姓名")
    institution = ReferenceField(institution_by_id, required=False, help_text="只看该机构的在职人员")


class DepartmentSummarySerializer(serializers.Serializer):
    """A department by public id and name."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class MembershipSerializer(serializers.Serializer):
    """A role granted to a user within an institution, a consortium or a region (or platform-wide)."""

    public_id = serializers.UUIDField(read_only=True)
    user = UserSummarySerializer(read_only=True)
    role = EnumField(Role, read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    institution = InstitutionSummarySerializer(read_only=True, allow_null=True)
    department = DepartmentSummarySerializer(read_only=True, allow_null=True)
    consortium = ConsortiumSummarySerializer(read_only=True, allow_null=True)
    region = RegionSummarySerializer(read_only=True, allow_null=True)
    is_active = serializers.BooleanField(read_only=True)
    granted_at = serializers.DateTimeField(read_only=True)


class MembershipGrantSerializer(serializers.Serializer):
    """Grant a role: exactly one of institution, consortium or region (none for a platform admin)."""

    user = ReferenceField(user_by_id)
    role = EnumField(Role)
    institution = ReferenceField(institution_by_id, required=False, allow_null=True)
    department = ReferenceField(department_by_id, required=False, allow_null=True)
    consortium = ReferenceField(consortium_by_id, required=False, allow_null=True)
    region = ReferenceField(region_by_code, kind="code", required=False, allow_null=True)


class MembershipQuerySerializer(serializers.Serializer):
    """Filters of the membership list (``user`` takes precedence over ``institution``)."""

    user = ReferenceField(user_by_id, required=False, help_text="该用户的全部授权（含已撤销）")
    institution = ReferenceField(institution_by_id, required=False, help_text="该机构的在职授权")
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="用户名或姓名（与 institution 一起使用）"
    )


class MeSerializer(UserSerializer):
    """The current user with their active roles and memberships."""

    roles = serializers.SerializerMethodField()
    memberships = serializers.SerializerMethodField()

    def _active(self) -> list[Membership]:
        return [m for m in self.context.get("memberships", []) if m.is_active]

    @extend_schema_field(serializers.ListField(child=EnumField(Role)))
    def get_roles(self, user: User) -> list[str]:
        """Every role the user holds now."""
        return sorted({membership.role for membership in self._active()})

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, user: User) -> list[Any]:
        """Active role grants."""
        return list(MembershipSerializer(self._active(), many=True).data)


class AuditEventSerializer(serializers.Serializer):
    """One state change: who did what to which object, when, with the values before and after."""

    occurred_at = serializers.DateTimeField(read_only=True)
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True, default=None)
    actor_label = serializers.CharField(read_only=True)
    action = serializers.CharField(read_only=True)
    object_type = serializers.CharField(read_only=True)
    object_id = serializers.CharField(read_only=True)
    object_label = serializers.CharField(read_only=True)
    institution_public_id = serializers.UUIDField(read_only=True, allow_null=True)
    consortium_public_id = serializers.UUIDField(read_only=True, allow_null=True)
    region_code = serializers.CharField(read_only=True)
    request_id = serializers.CharField(read_only=True)
    before = serializers.JSONField(read_only=True, allow_null=True)
    after = serializers.JSONField(read_only=True, allow_null=True)
    details = serializers.JSONField(read_only=True, allow_null=True)


class AuditQuerySerializer(serializers.Serializer):
    """Filters of the audit log."""

    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="对象名称、操作人或操作"
    )
    action = serializers.CharField(required=False, max_length=100, help_text="如 consortium.member.add")
    object_type = serializers.CharField(
        required=False, max_length=100, help_text="如 institutions.consortium"
    )
    object_id = serializers.CharField(required=False, max_length=64, help_text="对象的公开编号")
    actor = serializers.CharField(required=False, max_length=150, help_text="操作人用户名")
    since = serializers.DateTimeField(required=False, help_text="起始时间（含）")
    until = serializers.DateTimeField(required=False, help_text="截止时间（不含）")
