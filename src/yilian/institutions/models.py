"""Registry models: regions, institutions, departments, consortia, members, agreements, grids."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yilian.core.models import BaseModel, SearchableNameMixin
from yilian.institutions.choices import (
    PRIMARY_CATEGORY_PREFIXES,
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


class Region(SearchableNameMixin, models.Model):
    """An administrative division: a GB/T 2260 code (6 digits) or its 9-/12-digit extension.

    ``prefix`` is the significant part of the code (province "34", prefecture
    "3415", county "341522", township and village the whole code); every
    descendant's code starts with it, so a subtree is one ``startswith`` query.
    """

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("级别"), max_length=12, choices=RegionLevel.choices, db_index=True)
    prefix = models.CharField(_("代码前缀"), max_length=12, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    population = models.PositiveIntegerField(_("常住人口"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class RegionBoundary(models.Model):
    """A region's outline: a GeoJSON Polygon or MultiPolygon geometry (WGS 84 lon/lat).

    Loaded by ``institutions.boundaries.boundaries_load`` and drawn by the
    cockpit's maps; never used for lookups. Kept out of ``Region`` so that the
    many reads of regions (every institution's ``select_related``) carry no
    geometry.
    """

    region = models.OneToOneField(
        Region,
        verbose_name=_("行政区划"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="boundary",
    )
    geometry = models.JSONField(_("边界（GeoJSON）"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("区划边界")
        verbose_name_plural = _("区划边界")

    def __str__(self) -> str:
        return str(self.region_id)


class Institution(BaseModel, SearchableNameMixin):
    """A health institution (医疗卫生机构): hospital, health centre, village clinic, CDC…

    Identified by its unified social credit code (GB 32100); categorised by
    WS 218; hospital level stored as 级 and 等 separately.
    """

    name = models.CharField(_("机构名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    category = models.CharField(
        _("机构类别（WS 218）"), max_length=4, choices=InstitutionCategory.choices, db_index=True
    )
    grade = models.CharField(
        _("医院级别"), max_length=1, choices=HospitalGrade.choices, default=HospitalGrade.UNGRADED
    )
    grade_class = models.CharField(
        _("医院等次"), max_length=8, choices=HospitalClass.choices, default=HospitalClass.UNRATED
    )
    ownership = models.CharField(_("举办主体"), max_length=8, choices=Ownership.choices)
    profit_status = models.CharField(
        _("分类管理"), max_length=1, choices=ProfitStatus.choices, default=ProfitStatus.NON_PROFIT
    )
    is_tcm = models.BooleanField(_("中医类机构"), default=False)
    may_serve_across_grids = models.BooleanField(_("可跨网格服务"), default=False)
    region = models.ForeignKey(
        Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="institutions"
    )
    address = models.CharField(_("地址"), max_length=300, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    beds = models.PositiveIntegerField(_("编制床位"), default=0)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=InstitutionStatus.choices,
        default=InstitutionStatus.ACTIVE,
    )
    description = models.TextField(_("简介"), blank=True)

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("医疗卫生机构")
        verbose_name_plural = _("医疗卫生机构")

    def __str__(self) -> str:
        return self.name

    @property
    def is_primary(self) -> bool:
        """True for primary institutions (community / township health centres, clinics)."""
        return self.category.startswith(PRIMARY_CATEGORY_PREFIXES)

    @property
    def level_label(self) -> str:
        """The hospital level as one label, e.g. "三级甲等", "二级", "未定级"."""
        if self.grade == HospitalGrade.UNGRADED:
            return str(HospitalGrade.UNGRADED.label)
        grade = str(self.get_grade_display())
        if self.grade_class == HospitalClass.UNRATED:
            return grade
        # Chinese writes "三级甲等" in one run; English needs a space ("Level III Grade A").
        return gettext("{grade}{grade_class}").format(grade=grade, grade_class=self.get_grade_class_display())


class Department(BaseModel, SearchableNameMixin):
    """A department (科室) of an institution, grouped by a subject of the 诊疗科目 list.

    ``specialty`` is the first-level subject (03 内科); ``subject`` the
    optional second-level one (03.04 心血管内科专业), blank for an undivided
    department (内科) or where none was recorded. The subject always belongs
    to the specialty (03.04 only under 03): the registry services refuse
    anything else with a field error and the database checks it too.
    """

    institution = models.ForeignKey(
        Institution, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="departments"
    )
    name = models.CharField(_("科室名称"), max_length=100)
    code = models.CharField(_("科室代码"), max_length=20, blank=True)
    specialty = models.CharField(
        _("诊疗科目"),
        max_length=2,
        choices=DepartmentSpecialty.choices,
        default=DepartmentSpecialty.OTHER,
    )
    subject = models.CharField(
        _("二级诊疗科目"),
        max_length=5,
        choices=DepartmentSubject.choices,
        blank=True,
        default="",
        help_text=_(
            "《医疗机构诊疗科目名录》的专业，如 03.04 心血管内科专业；须属于所选诊疗科目，未细分的科室留空。"
        ),
    )
    is_clinical = models.BooleanField(_("临床科室"), default=True)
    beds = models.PositiveIntegerField(_("床位"), default=0)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["institution_id", "code", "name"]
        verbose_name = _("科室")
        verbose_name_plural = _("科室")
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="department_unique_name"),
            models.CheckConstraint(
                condition=Q(subject="") | Q(subject__startswith=Concat("specialty", Value("."))),
                name="department_subject_within_specialty",
                violation_error_message=_("二级诊疗科目须属于所选诊疗科目。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Consortium(BaseModel, SearchableNameMixin):
    """A medical consortium (医联体): one of the four forms, tight or loose, in a planning region."""

    name = models.CharField(_("医联体名称"), max_length=200, unique=True)
    type = models.CharField(_("组织形式"), max_length=24, choices=ConsortiumType.choices, db_index=True)
    integration = models.CharField(
        _("紧密程度"), max_length=8, choices=Integration.choices, default=Integration.LOOSE
    )
    region = models.ForeignKey(
        Region, verbose_name=_("规划区域"), on_delete=models.PROTECT, related_name="consortia"
    )
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ConsortiumStatus.choices, default=ConsortiumStatus.ACTIVE
    )
    description = models.TextField(_("简介"), blank=True)
    version = models.PositiveIntegerField(
        _("版本"), default=1, help_text=_("每次修改成员或资料加一，用于发现并发修改。")
    )

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("医联体")
        verbose_name_plural = _("医联体")

    def __str__(self) -> str:
        return self.name


class ConsortiumMember(BaseModel):
    """An institution's membership of a consortium over a period, with its role.

    A member's ``parent`` is the lead or sub-lead it sits under (the sub-lead
    hierarchy). Rows are never deleted: leaving sets ``left_on``, so the
    table is the membership history. ``grid_form`` copies whether the
    consortium is a city group or county community, so the database itself
    refuses a second active membership of such a consortium.
    """

    consortium = models.ForeignKey(
        Consortium, verbose_name=_("医联体"), on_delete=models.PROTECT, related_name="members"
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        related_name="consortium_memberships",
    )
    role = models.CharField(_("角色"), max_length=10, choices=MemberRole.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级牵头单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    joined_on = models.DateField(_("加入日期"))
    left_on = models.DateField(_("退出日期"), null=True, blank=True)
    is_active = models.BooleanField(_("在册"), default=True)
    leave_reason = models.CharField(_("退出原因"), max_length=300, blank=True)
    grid_form = models.BooleanField(default=False, editable=False)
    notes = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        ordering = ["consortium_id", "role", "joined_on"]
        verbose_name = _("医联体成员")
        verbose_name_plural = _("医联体成员")
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "institution"],
                condition=Q(is_active=True),
                name="consortium_member_unique_active",
                violation_error_message=_("该机构已是本医联体的成员。"),
            ),
            models.UniqueConstraint(
                fields=["institution"],
                condition=Q(is_active=True, grid_form=True),
                name="one_grid_consortium_per_institution",
                violation_error_message=_("一个机构同一时间只能加入一个城市医疗集团或县域医共体。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} @ {self.consortium}（{self.get_role_display()}）"


class ManagementBody(BaseModel):
    """A governing body of a consortium: management committee, office, management centre."""

    consortium = models.ForeignKey(
        Consortium,
        verbose_name=_("医联体"),
        on_delete=models.CASCADE,
        related_name="management_bodies",
    )
    kind = models.CharField(_("类型"), max_length=20, choices=ManagementBodyKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    head_name = models.CharField(_("负责人"), max_length=50, blank=True)
    host_institution = models.ForeignKey(
        Institution,
        verbose_name=_("设在机构"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    duties = models.TextField(_("职责"), blank=True)

    class Meta:
        ordering = ["consortium_id", "kind", "name"]
        verbose_name = _("管理机构")
        verbose_name_plural = _("管理机构")

    def __str__(self) -> str:
        return self.name


def agreement_upload_to(instance: Agreement, filename: str) -> str:
    """Store uploads under the consortium's public id with a random name (no user path)."""
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"agreements/{instance.consortium.public_id}/{uuid.uuid4().hex}{suffix}"


class Agreement(BaseModel):
    """A charter or agreement of a consortium: the file, its dates and the parties that signed."""

    consortium = models.ForeignKey(
        Consortium, verbose_name=_("医联体"), on_delete=models.CASCADE, related_name="agreements"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=AgreementKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    file = models.FileField(_("文件"), upload_to=agreement_upload_to, max_length=300)
    original_filename = models.CharField(_("原文件名"), max_length=255, blank=True)
    signed_on = models.DateField(_("签署日期"), null=True, blank=True)
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    parties = models.ManyToManyField(
        Institution, verbose_name=_("签约方"), related_name="agreements", blank=True
    )
    notes = models.TextField(_("备注"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["consortium_id", "-effective_from"]
        verbose_name = _("章程与协议")
        verbose_name_plural = _("章程与协议")

    def __str__(self) -> str:
        return self.title


class Grid(BaseModel, SearchableNameMixin):
    """A grid (网格) of a region's consortium plan: the townships and villages it covers.

    Served by one city group or county community at a time through
    ``GridAssignment`` rows (Art. 10).
    """

    region = models.ForeignKey(
        Region, verbose_name=_("规划区域"), on_delete=models.PROTECT, related_name="grids"
    )
    code = models.CharField(_("网格编码"), max_length=30, unique=True)
    name = models.CharField(_("网格名称"), max_length=100)
    population = models.PositiveIntegerField(_("服务人口"), null=True, blank=True)
    description = models.TextField(_("说明"), blank=True)
    areas = models.ManyToManyField(
        Region,
        verbose_name=_("覆盖区域"),
        through="GridArea",
        related_name="covering_grids",
        blank=True,
    )

    class Meta:
        ordering = ["region__code", "code"]
        verbose_name = _("网格")
        verbose_name_plural = _("网格")

    def __str__(self) -> str:
        return self.name


class GridArea(models.Model):
    """A township or village covered by a grid. An area belongs to at most one grid."""

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="area_links")
    area = models.OneToOneField(Region, on_delete=models.PROTECT, related_name="grid_link")

    class Meta:
        verbose_name = _("网格覆盖区域")
        verbose_name_plural = _("网格覆盖区域")

    def __str__(self) -> str:
        return f"{self.grid} ← {self.area}"


class GridAssignment(BaseModel):
    """Which consortium serves a grid over a period. At most one open assignment per grid."""

    grid = models.ForeignKey(
        Grid, verbose_name=_("网格"), on_delete=models.CASCADE, related_name="assignments"
    )
    consortium = models.ForeignKey(
        Consortium,
        verbose_name=_("负责医联体"),
        on_delete=models.PROTECT,
        related_name="grid_assignments",
    )
    assigned_from = models.DateField(_("起始日期"))
    assigned_to = models.DateField(_("截止日期"), null=True, blank=True)
    is_current = models.BooleanField(_("当前"), default=True)

    class Meta:
        ordering = ["grid_id", "-assigned_from"]
        verbose_name = _("网格责任")
        verbose_name_plural = _("网格责任")
        constraints = [
            models.UniqueConstraint(
                fields=["grid"],
                condition=Q(is_current=True),
                name="one_current_consortium_per_grid",
                violation_error_message=_("一个网格同一时间只能由一个医联体负责。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.grid} → {self.consortium}"
