"""Serializers of the family-doctor API: shape and rendering only; the services check the rules."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from yilian.core.api.fields import EnumField, ReferenceField
from yilian.family_doctors import selectors
from yilian.family_doctors.choices import (
    ContractStatus,
    PackageKind,
    PriorityGroup,
    TeamMemberRole,
    TerminationReason,
)
from yilian.institutions.api.serializers import (
    ConsortiumSummarySerializer,
    GridSummarySerializer,
    InstitutionSummarySerializer,
    grid_by_id,
    institution_by_id,
)

MAX_INT = 2_147_483_647


def package_by_id(actor: Any, public_id: Any) -> Any:
    """A visible service package by public id."""
    return selectors.package_get_for(actor, public_id)


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, **kwargs)


def _version() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        required=False,
        allow_null=True,
        help_text="您看到的协议版本（version）；版本已变化时返回 409",
    )


class TeamUserSerializer(serializers.Serializer):
    """A staff member by public id and name."""

    public_id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class CareTeamMemberSerializer(serializers.Serializer):
    """A team member (current or past)."""

    user = TeamUserSerializer(read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    role = EnumField(TeamMemberRole, read_only=True)
    is_leader = serializers.BooleanField(read_only=True)
    joined_on = serializers.DateField(read_only=True)
    left_on = serializers.DateField(read_only=True, allow_null=True)


class CareTeamSerializer(serializers.Serializer):
    """A care team in a list: member count and contracts in force."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    grid = GridSummarySerializer(read_only=True, allow_null=True)
    description = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    member_count = serializers.IntegerField(read_only=True)
    active_contracts = serializers.IntegerField(read_only=True)


class CareTeamDetailSerializer(CareTeamSerializer):
    """A care team with its members (current first, then history)."""

    members = serializers.SerializerMethodField()
    sees_residents = serializers.SerializerMethodField()

    def get_members(self, team: Any) -> list[dict[str, Any]]:
        """Current members and history."""
        return CareTeamMemberSerializer(self.context["members"], many=True).data  # type: ignore[return-value]

    def get_sees_residents(self, team: Any) -> bool:
        """Whether the requester may open the team's panel and contracts."""
        return bool(self.context["sees_residents"])


class CareTeamQuerySerializer(serializers.Serializer):
    """Filters of the team list."""

    q = _text(50, help_text="团队名称或拼音")
    include_inactive = serializers.BooleanField(required=False, default=False)


class CareTeamCreateSerializer(serializers.Serializer):
    """Form a team of a primary institution with its leader."""

    institution = ReferenceField(institution_by_id, help_text="所属基层机构（public_id）")
    name = serializers.CharField(max_length=100)
    grid = ReferenceField(grid_by_id, required=False, allow_null=True, help_text="服务网格（public_id）")
    description = _text(300)
    leader = serializers.UUIDField(help_text="团队长的用户 public_id（本机构医生）")
    leader_role = EnumField(TeamMemberRole, required=False, default=TeamMemberRole.GENERAL_PRACTITIONER)


class CareTeamUpdateSerializer(serializers.Serializer):
    """Change a team."""

    name = serializers.CharField(max_length=100, required=False)
    grid = ReferenceField(grid_by_id, required=False, allow_null=True)
    description = _text(300)
    is_active = serializers.BooleanField(required=False)


class CareTeamMemberAddSerializer(serializers.Serializer):
    """Add a member (a doctor or nurse of the allowed institutions)."""

    user = serializers.UUIDField(help_text="用户 public_id")
    role = EnumField(TeamMemberRole)
    is_leader = serializers.BooleanField(required=False, default=False)
    joined_on = serializers.DateField(required=False, allow_null=True)


class CareTeamMemberRemoveSerializer(serializers.Serializer):
    """End a membership."""

    left_on = serializers.DateField(required=False, allow_null=True)


class ServicePackageSerializer(serializers.Serializer):
    """A service package."""

    public_id = serializers.UUIDField(read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = EnumField(PackageKind, read_only=True)
    annual_price = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    target_groups = serializers.CharField(read_only=True)
    contents = serializers.SerializerMethodField()
    is_active = serializers.BooleanField(read_only=True)

    def get_contents(self, package: Any) -> list[str]:
        """The services, one per item."""
        return package.content_lines()


class ServicePackageWriteSerializer(serializers.Serializer):
    """Create or change a package (the consortium office)."""

    consortium = serializers.UUIDField(required=False, help_text="医联体 public_id（新增时必填）")
    name = serializers.CharField(max_length=100, required=False)
    kind = EnumField(PackageKind, required=False)
    annual_price = serializers.DecimalField(max_digits=8, decimal_places=2, required=False, min_value=0)
    target_groups = _text(200)
    contents = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50
    )
    is_active = serializers.BooleanField(required=False)


class ContractResidentSerializer(serializers.Serializer):
    """The contracted resident (shown only to those who see the team's residents)."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    gender = serializers.CharField(read_only=True)
    birth_date = serializers.DateField(read_only=True, allow_null=True)
    id_number_masked = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)


class ContractTeamSerializer(serializers.Serializer):
    """A team by public id and name."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class ServicePackageSummarySerializer(serializers.Serializer):
    """A package by public id and name."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = EnumField(PackageKind, read_only=True)


class ContractSerializer(serializers.Serializer):
    """A contract in a list or panel."""

    public_id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    status = EnumField(ContractStatus, read_only=True)
    person = ContractResidentSerializer(read_only=True)
    team = ContractTeamSerializer(read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    package = ServicePackageSummarySerializer(read_only=True)
    annual_price = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    starts_on = serializers.DateField(read_only=True)
    term_starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    terms = serializers.IntegerField(read_only=True)
    priority_groups = serializers.SerializerMethodField()
    version = serializers.IntegerField(read_only=True)

    def get_priority_groups(self, contract: Any) -> list[str]:
        """The priority groups (``PriorityGroup`` values)."""
        return [row.group for row in contract.priority_groups.all()]


class ContractTermSerializer(serializers.Serializer):
    """One term of a contract."""

    sequence = serializers.IntegerField(read_only=True)
    package = ServicePackageSummarySerializer(read_only=True)
    annual_price = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)


class ContractDetailSerializer(ContractSerializer):
    """A contract with its terms and termination."""

    terminated_on = serializers.DateField(read_only=True, allow_null=True)
    termination_reason = serializers.CharField(read_only=True)
    termination_note = serializers.CharField(read_only=True)
    notes = serializers.CharField(read_only=True)
    term_history = serializers.SerializerMethodField()

    def get_term_history(self, contract: Any) -> list[dict[str, Any]]:
        """Every term, first signing first."""
        return ContractTermSerializer(self.context["terms"], many=True).data  # type: ignore[return-value]


class ContractQuerySerializer(serializers.Serializer):
    """Filters of the contract list / panel."""

    team = serializers.UUIDField(required=False, help_text="签约团队 public_id")
    status = serializers.ChoiceField(
        choices=["active", "all", *ContractStatus.values], required=False, default="active"
    )
    group = EnumField(PriorityGroup, required=False)
    expiring = serializers.BooleanField(required=False, default=False, help_text="30 天内到期")
    q = _text(50, help_text="姓名、拼音首字母、电话或协议编号")


class ContractNewResidentSerializer(serializers.Serializer):
    """A resident not yet registered, registered with the signing."""

    name = serializers.CharField(max_length=50)
    id_number = _text(18)
    gender = _text(1)
    birth_date = serializers.DateField(required=False, allow_null=True)
    phone = _text(20)
    address = _text(300)


class ContractSignSerializer(serializers.Serializer):
    """Sign a resident of the team's grid (``person``) or register and sign a new one (``resident``)."""

    team = serializers.UUIDField(help_text="签约团队 public_id")
    person = serializers.UUIDField(required=False, allow_null=True, help_text="本网格居民 public_id")
    resident = ContractNewResidentSerializer(required=False, allow_null=True)
    package = ReferenceField(package_by_id, help_text="服务包 public_id")
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True, help_text="不填为一年")
    priority_groups = serializers.ListField(child=EnumField(PriorityGroup), required=False, max_length=7)
    notes = _text(300)


class ContractRenewSerializer(serializers.Serializer):
    """Renew for a new term."""

    package = ReferenceField(package_by_id, required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    priority_groups = serializers.ListField(child=EnumField(PriorityGroup), required=False, max_length=7)
    expected_version = _version()


class ContractTerminateSerializer(serializers.Serializer):
    """End a contract early."""

    reason = EnumField(TerminationReason)
    note = _text(200)
    on = serializers.DateField(required=False, allow_null=True)
    expected_version = _version()


class PriorityGroupCoverageSerializer(serializers.Serializer):
    """One priority group's coverage."""

    group = EnumField(PriorityGroup, read_only=True)
    signed = serializers.IntegerField(read_only=True)
    denominator = serializers.IntegerField(read_only=True, allow_null=True)
    rate = serializers.FloatField(read_only=True, allow_null=True)


class FamilyDoctorCoverageSerializer(serializers.Serializer):
    """Coverage of one unit."""

    label = serializers.CharField(read_only=True)
    institution = serializers.CharField(read_only=True)
    residents = serializers.IntegerField(read_only=True, allow_null=True)
    signed = serializers.IntegerField(read_only=True)
    rate = serializers.FloatField(read_only=True, allow_null=True)
    groups = PriorityGroupCoverageSerializer(many=True, read_only=True)


class FamilyDoctorCoverageQuerySerializer(serializers.Serializer):
    """Unit of the coverage table."""

    by = serializers.ChoiceField(
        choices=["team", "institution", "consortium"], required=False, default="team"
    )
