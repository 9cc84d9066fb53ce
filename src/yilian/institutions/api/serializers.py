"""Serializers of the registry API: shape and rendering only; the services check the rules.

Foreign keys in payloads: institutions, consortia, members, departments and
grids by ``public_id``; regions by ``code``. They are resolved through the
registry selectors as the requesting user.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yilian.core.api.fields import EnumField, ReferenceField
from yilian.institutions import selectors
from yilian.institutions.choices import (
    AgreementKind,
    ConsortiumStatus,
    ConsortiumType,
    DepartmentSpecialty,
    DepartmentSubject,
    HospitalClass,
    HospitalGrade,
    InstitutionCategory,
    InstitutionStatus,
    Integration,
    ManagementBodyKind,
    MemberRole,
    Ownership,
    ProfitStatus,
    RegionLevel,
)
from yilian.institutions.models import Agreement, Grid, GridAssignment

CODE_PREFIX = r"^\d{1,12}$"
MAX_INT = 2_147_483_647
"""Largest value the integer columns hold on every supported database."""


# Resolvers: a payload's id → the object, through the selectors, as the actor --


def region_by_code(actor: Any, code: str) -> Any:
    """A region by GB/T 2260 code."""
    return selectors.region_get(actor, code)


def institution_by_id(actor: Any, public_id: Any) -> Any:
    """An institution by public id."""
    return selectors.institution_get(actor, public_id)


def department_by_id(actor: Any, public_id: Any) -> Any:
    """A department by public id."""
    return selectors.department_get(actor, public_id)


def consortium_by_id(actor: Any, public_id: Any) -> Any:
    """A consortium by public id."""
    return selectors.consortium_get(actor, public_id)


def member_by_id(actor: Any, public_id: Any) -> Any:
    """A consortium membership row by public id."""
    return selectors.consortium_member_get(actor, public_id)


def grid_by_id(actor: Any, public_id: Any) -> Any:
    """A grid by public id."""
    return selectors.grid_get(actor, public_id)


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, **kwargs)


def _query_text() -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="搜索词")


def _prefix(help_text: str) -> serializers.RegexField:
    return serializers.RegexField(CODE_PREFIX, required=False, help_text=help_text)


# Summaries used inside other objects ------------------------------------------


class RegionSummarySerializer(serializers.Serializer):
    """A region by code and name."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    level = EnumField(RegionLevel, read_only=True)


class InstitutionSummarySerializer(serializers.Serializer):
    """An institution by public id and name."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class ConsortiumSummarySerializer(serializers.Serializer):
    """A consortium by public id and name."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    type = EnumField(ConsortiumType, read_only=True)


# Regions ------------------------------------------------------------------------


class RegionSerializer(serializers.Serializer):
    """A GB/T 2260 region (6 digits) or its township (9) / village (12) extension."""

    code = serializers.CharField(max_length=12, help_text="区划代码；创建时按 GB/T 2260 校验")
    name = _text(100, help_text="名称；省略时取代码表中的名称")
    level = EnumField(RegionLevel, read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    prefix = serializers.CharField(read_only=True)
    parent = ReferenceField(kind="code", read_only=True, allow_null=True)
    population = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, allow_null=True)


class RegionQuerySerializer(serializers.Serializer):
    """Filters of the region list."""

    q = _query_text()
    level = EnumField(RegionLevel, required=False)
    parent = serializers.RegexField(CODE_PREFIX, required=False, help_text="上级区划代码（直接下级）")
    within = _prefix("区划代码前缀（整棵子树）")


class RegionImportSerializer(serializers.Serializer):
    """A CSV file with columns ``code,name[,population]`` (header optional; UTF-8 or GB18030)."""

    file = serializers.FileField()


class RegionImportResultSerializer(serializers.Serializer):
    """How many rows were created, updated or already up to date."""

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


# Institutions and departments ------------------------------------------------


class InstitutionSerializer(serializers.Serializer):
    """A health institution; also the payload of create (POST) and change (PATCH)."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=200)
    short_name = _text(60)
    credit_code = serializers.CharField(max_length=40, help_text="统一社会信用代码（GB 32100）")
    category = EnumField(InstitutionCategory, help_text="机构类别（WS 218）")
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    grade = EnumField(HospitalGrade, required=False)
    grade_class = EnumField(HospitalClass, required=False)
    hospital_level = serializers.CharField(source="level_label", read_only=True)
    ownership = EnumField(Ownership)
    profit_status = EnumField(ProfitStatus, required=False)
    is_tcm = serializers.BooleanField(required=False)
    may_serve_across_grids = serializers.BooleanField(
        required=False, help_text="省略时按类别和级别确定（第十条）"
    )
    region = ReferenceField(region_by_code, kind="code")
    address = _text(300)
    phone = _text(40)
    beds = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False)
    status = EnumField(InstitutionStatus, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    is_primary = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class InstitutionQuerySerializer(serializers.Serializer):
    """Filters of the institution list."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="名称、简称、拼音首字母（如 xrmyy）、拼音或统一社会信用代码",
    )
    category = EnumField(InstitutionCategory, required=False)
    within = _prefix("所在区划代码前缀")
    status = EnumField(InstitutionStatus, required=False)
    consortium = ReferenceField(consortium_by_id, required=False, help_text="在册成员所属医联体")
    primary = serializers.BooleanField(required=False, allow_null=True, help_text="只看基层机构（或非基层）")


class DepartmentSerializer(serializers.Serializer):
    """A department of an institution; also the payload of create and change."""

    public_id = serializers.UUIDField(read_only=True)
    institution = ReferenceField(read_only=True)
    name = serializers.CharField(max_length=100)
    code = _text(20)
    specialty = EnumField(DepartmentSpecialty, required=False)
    specialty_label = serializers.CharField(source="get_specialty_display", read_only=True)
    subject = EnumField(
        DepartmentSubject,
        required=False,
        allow_blank=True,
        help_text="二级诊疗科目（《医疗机构诊疗科目名录》的专业，如 03.04 心血管内科专业），须属于 specialty；"
        "空字符串表示未细分或未登记。",
    )
    subject_label = serializers.CharField(source="get_subject_display", read_only=True)
    is_clinical = serializers.BooleanField(required=False)
    beds = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False)
    phone = _text(40)
    is_active = serializers.BooleanField(required=False)
    updated_at = serializers.DateTimeField(read_only=True, help_text="最近保存时间")
    seen_updated_at = serializers.DateTimeField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="修改时：所编辑科室的 updated_at；科室已被他人保存过时返回 409，不做修改",
    )


class DepartmentQuerySerializer(serializers.Serializer):
    """Filters of the department list."""

    include_inactive = serializers.BooleanField(required=False, default=False)


# Consortia -----------------------------------------------------------------------


class ConsortiumLeadSerializer(serializers.Serializer):
    """A lead institution of a consortium."""

    member = serializers.UUIDField(source="public_id", read_only=True, help_text="成员记录编号")
    public_id = serializers.UUIDField(source="institution.public_id", read_only=True)
    name = serializers.CharField(source="institution.name", read_only=True)


class ConsortiumSerializer(serializers.Serializer):
    """A medical consortium with its version (for concurrent edits), leads and member count."""

    public_id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    type = EnumField(ConsortiumType, read_only=True)
    type_label = serializers.CharField(source="get_type_display", read_only=True)
    integration = EnumField(Integration, read_only=True)
    region = ReferenceField(kind="code", read_only=True)
    established_on = serializers.DateField(read_only=True, allow_null=True)
    status = EnumField(ConsortiumStatus, read_only=True)
    description = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True, help_text="每次修改加一；修改时作为 If-Match 发回")
    member_count = serializers.IntegerField(read_only=True, help_text="在册成员数")
    leads = ConsortiumLeadSerializer(source="lead_members", many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ConsortiumCreateSerializer(serializers.Serializer):
    """Create a consortium with its first lead institution."""

    name = serializers.CharField(max_length=200)
    type = EnumField(ConsortiumType)
    integration = EnumField(Integration, required=False)
    region = ReferenceField(region_by_code, kind="code", help_text="规划区域（省、市或县级）")
    lead_institution = ReferenceField(institution_by_id)
    established_on = serializers.DateField(required=False, allow_null=True)
    joined_on = serializers.DateField(required=False, allow_null=True, help_text="牵头单位加入日期")
    description = serializers.CharField(required=False, allow_blank=True)


class ConsortiumUpdateSerializer(serializers.Serializer):
    """Change a consortium's profile (its form cannot change)."""

    name = serializers.CharField(max_length=200)
    type = EnumField(ConsortiumType, help_text="组织形式创建后不能更改；提交其他值会得到 400")
    integration = EnumField(Integration)
    region = ReferenceField(region_by_code, kind="code")
    established_on = serializers.DateField(allow_null=True)
    status = EnumField(ConsortiumStatus)
    description = serializers.CharField(allow_blank=True)
    expected_version = serializers.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        required=False,
        allow_null=True,
        help_text="您看到的版本；也可用 If-Match 请求头",
    )


class ConsortiumQuerySerializer(serializers.Serializer):
    """Filters of the consortium list."""

    q = _query_text()
    type = EnumField(ConsortiumType, required=False)
    within = _prefix("规划区域代码前缀")
    status = EnumField(ConsortiumStatus, required=False)


class ConsortiumMemberSerializer(serializers.Serializer):
    """An institution's membership of a consortium (a row of the membership history)."""

    public_id = serializers.UUIDField(read_only=True)
    institution = InstitutionSummarySerializer(read_only=True)
    role = EnumField(MemberRole, read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    parent = ReferenceField(read_only=True, allow_null=True, help_text="上级牵头单位的成员记录编号")
    parent_institution = InstitutionSummarySerializer(
        source="parent.institution", read_only=True, allow_null=True
    )
    joined_on = serializers.DateField(read_only=True)
    left_on = serializers.DateField(read_only=True, allow_null=True)
    is_active = serializers.BooleanField(read_only=True)
    leave_reason = serializers.CharField(read_only=True)
    notes = serializers.CharField(read_only=True)


class ConsortiumMemberDetailSerializer(ConsortiumMemberSerializer):
    """A membership row with its consortium and the consortium's current version."""

    consortium = ReferenceField(read_only=True)
    consortium_version = serializers.IntegerField(source="consortium.version", read_only=True)


class MemberQuerySerializer(serializers.Serializer):
    """Filters of the member list."""

    history = serializers.BooleanField(required=False, default=False, help_text="包含已退出的成员")


class MemberAddSerializer(serializers.Serializer):
    """Add an institution to a consortium."""

    institution = ReferenceField(institution_by_id)
    role = EnumField(MemberRole, required=False)
    parent = ReferenceField(member_by_id, required=False, allow_null=True, help_text="上级的成员记录编号")
    joined_on = serializers.DateField(required=False, allow_null=True)
    notes = _text(300)
    expected_version = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, required=False, allow_null=True
    )


class MemberUpdateSerializer(serializers.Serializer):
    """Change a member's role, parent or notes."""

    role = EnumField(MemberRole)
    parent = ReferenceField(member_by_id, allow_null=True)
    notes = serializers.CharField(max_length=300, allow_blank=True)
    expected_version = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, required=False, allow_null=True
    )


class MemberRemoveSerializer(serializers.Serializer):
    """Record that a member left."""

    left_on = serializers.DateField(required=False, allow_null=True)
    reason = _text(300)
    expected_version = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, required=False, allow_null=True
    )


class ManagementBodySerializer(serializers.Serializer):
    """A governing body of a consortium; also the payload of create and change."""

    public_id = serializers.UUIDField(read_only=True)
    kind = EnumField(ManagementBodyKind)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    name = serializers.CharField(max_length=100)
    head_name = _text(50)
    host_institution = ReferenceField(institution_by_id, required=False, allow_null=True)
    phone = _text(40)
    duties = serializers.CharField(required=False, allow_blank=True)


class AgreementSerializer(serializers.Serializer):
    """A charter or agreement: metadata (the file is downloaded separately)."""

    public_id = serializers.UUIDField(read_only=True)
    kind = EnumField(AgreementKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    title = serializers.CharField(read_only=True)
    original_filename = serializers.CharField(read_only=True)
    signed_on = serializers.DateField(read_only=True, allow_null=True)
    effective_from = serializers.DateField(read_only=True)
    effective_to = serializers.DateField(read_only=True, allow_null=True)
    parties = InstitutionSummarySerializer(many=True, read_only=True)
    notes = serializers.CharField(read_only=True)
    download_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    def get_download_url(self, agreement: Agreement) -> str:
        """Where members and managers download the file."""
        return reverse("api-agreement-download", kwargs={"public_id": agreement.public_id})


class AgreementCreateSerializer(serializers.Serializer):
    """Upload a charter or agreement (multipart): the file, dates and signing parties."""

    kind = EnumField(AgreementKind)
    title = serializers.CharField(max_length=200)
    file = serializers.FileField(help_text="PDF、OFD、Word、Excel 或图片")
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(required=False, allow_null=True)
    signed_on = serializers.DateField(required=False, allow_null=True)
    parties = serializers.ListField(
        child=ReferenceField(institution_by_id), required=False, help_text="签约机构（须为在册成员）"
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class AgreementUpdateSerializer(serializers.Serializer):
    """End an agreement or change its notes."""

    effective_to = serializers.DateField(allow_null=True)
    notes = serializers.CharField(allow_blank=True)


# Grids -----------------------------------------------------------------------------


class GridAssignmentSerializer(serializers.Serializer):
    """A period during which a consortium served a grid."""

    public_id = serializers.UUIDField(read_only=True)
    grid = ReferenceField(read_only=True)
    consortium = ConsortiumSummarySerializer(read_only=True)
    assigned_from = serializers.DateField(read_only=True)
    assigned_to = serializers.DateField(read_only=True, allow_null=True)
    is_current = serializers.BooleanField(read_only=True)


class GridSerializer(serializers.Serializer):
    """A grid of a region's consortium plan, with its current consortium."""

    public_id = serializers.UUIDField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    region = ReferenceField(kind="code", read_only=True)
    population = serializers.IntegerField(read_only=True, allow_null=True)
    description = serializers.CharField(read_only=True)
    area_count = serializers.SerializerMethodField()
    current_consortium = serializers.SerializerMethodField()

    def get_area_count(self, grid: Grid) -> int:
        """Townships and villages covered."""
        areas = self.context.get("areas")
        return len(areas) if areas is not None else int(getattr(grid, "area_count", 0))

    @extend_schema_field(ConsortiumSummarySerializer(allow_null=True))
    def get_current_consortium(self, grid: Grid) -> dict[str, Any] | None:
        """The consortium serving the grid now."""
        assignments = self.context.get("assignments")
        if assignments is None:
            assignments = getattr(grid, "current_assignments", [])
        current = [assignment for assignment in assignments if assignment.is_current]
        if not current:
            return None
        return dict(ConsortiumSummarySerializer(current[0].consortium).data)


class GridDetailSerializer(GridSerializer):
    """A grid with the areas it covers and every consortium that has served it."""

    areas = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()

    @extend_schema_field(RegionSummarySerializer(many=True))
    def get_areas(self, grid: Grid) -> list[Any]:
        """Townships and villages covered."""
        return list(RegionSummarySerializer(self.context.get("areas", []), many=True).data)

    @extend_schema_field(GridAssignmentSerializer(many=True))
    def get_assignments(self, grid: Grid) -> list[Any]:
        """Assignment history, current first."""
        assignments: list[GridAssignment] = self.context.get("assignments", [])
        return list(GridAssignmentSerializer(assignments, many=True).data)


class GridCreateSerializer(serializers.Serializer):
    """Plan a grid covering townships and villages."""

    region = ReferenceField(region_by_code, kind="code", help_text="规划区域（地级或县级）")
    code = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=100)
    area_codes = serializers.ListField(
        child=serializers.CharField(max_length=12), required=False, help_text="乡镇或村的区划代码"
    )
    population = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True)


class GridUpdateSerializer(serializers.Serializer):
    """Rename a grid or change what it covers (``area_codes`` replaces the whole list)."""

    name = serializers.CharField(max_length=100)
    population = serializers.IntegerField(min_value=0, max_value=MAX_INT)
    description = serializers.CharField(allow_blank=True)
    area_codes = serializers.ListField(child=serializers.CharField(max_length=12))


class GridQuerySerializer(serializers.Serializer):
    """Filters of the grid list."""

    q = _query_text()
    within = _prefix("规划区域代码前缀")
    consortium = ReferenceField(consortium_by_id, required=False, help_text="当前负责的医联体")


class GridAssignSerializer(serializers.Serializer):
    """Make a city group or county community responsible for a grid."""

    consortium = ReferenceField(consortium_by_id)
    assigned_from = serializers.DateField(required=False, allow_null=True)
    replace = serializers.BooleanField(required=False, default=False, help_text="交接：结束当前医联体的责任")


class GridUnassignSerializer(serializers.Serializer):
    """End the current consortium's responsibility."""

    assigned_to = serializers.DateField(required=False, allow_null=True)


class CoverageQuerySerializer(serializers.Serializer):
    """The region of a coverage report."""

    region = ReferenceField(region_by_code, kind="code")


class GridSummarySerializer(serializers.Serializer):
    """A grid by public id, code and name."""

    public_id = serializers.UUIDField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class CoverageInstitutionSerializer(InstitutionSummarySerializer):
    """An institution in no consortium."""

    category = EnumField(InstitutionCategory, read_only=True)
    region = ReferenceField(kind="code", read_only=True)


class CoverageSerializer(serializers.Serializer):
    """Which townships and villages are in no grid, which grids have no consortium, which
    institutions are in no consortium."""

    region = RegionSummarySerializer(read_only=True)
    covered_share = serializers.FloatField(read_only=True)
    township_count = serializers.IntegerField(read_only=True)
    village_count = serializers.IntegerField(read_only=True)
    uncovered_townships = RegionSummarySerializer(many=True, read_only=True)
    uncovered_villages = RegionSummarySerializer(many=True, read_only=True)
    grid_count = serializers.IntegerField(read_only=True)
    unassigned_grids = GridSummarySerializer(many=True, read_only=True)
    institution_count = serializers.IntegerField(read_only=True)
    institutions_without_consortium = CoverageInstitutionSerializer(many=True, read_only=True)
