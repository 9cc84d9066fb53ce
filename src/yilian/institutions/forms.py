"""Forms of the registry UI. They only shape input; every rule is checked by ``services``.

Choice fields run over selector querysets and carry public ids or region
codes, never integer primary keys. Filter forms turn a query string into
selector keyword arguments.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotFound
from yilian.core.permissions import Role
from yilian.core.ui.forms import IsoDateInput
from yilian.core.ui.live import enable_live_check
from yilian.institutions import policies, selectors
from yilian.institutions.choices import (
    GRID_CONSORTIUM_TYPES,
    AgreementKind,
    ConsortiumStatus,
    ConsortiumType,
    DepartmentSpecialty,
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
from yilian.institutions.models import Consortium, ConsortiumMember, Grid, Institution, Region

PICKER_LIMIT = 50
"""How many institutions an institution picker offers at once (narrow with the search box)."""

UPPER_LEVELS = (RegionLevel.PROVINCE, RegionLevel.PREFECTURE, RegionLevel.COUNTY)
AREA_LEVELS = (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)
IDEOGRAPHIC_SPACE = "\u3000"


def _blank(choices: Any, label: str | Any = "") -> list[tuple[str, Any]]:
    """Choices with an empty first option (for filters and optional selects)."""
    return [("", label or _("全部")), *choices]


def region_label(region: Region) -> str:
    """A region as shown in a select: indented by level so the list reads as a tree."""
    depth = {RegionLevel.PROVINCE: 0, RegionLevel.PREFECTURE: 1, RegionLevel.COUNTY: 2}.get(region.level, 3)
    return f"{IDEOGRAPHIC_SPACE * depth}{region.name}（{region.code}）"


def upper_region_choices(actor: Any, current: str = "") -> list[tuple[str, str]]:
    """Province, prefecture and county regions as (code, label), plus ``current`` if deeper (one query)."""
    regions = (
        selectors.region_list(actor)
        .filter(level__in=UPPER_LEVELS)
        .select_related(None)
        .only("code", "name", "level")
    )
    choices = [(region.code, region_label(region)) for region in regions]
    if current and all(code != current for code, _label in choices):
        choices.append((current, current))
    return choices


def institution_label(institution: Institution) -> str:
    """An institution as shown in a picker: name, region and category."""
    return f"{institution.name}（{institution.region.name} · {institution.get_category_display()}）"


class RegionCodeInput(forms.TextInput):
    """A text input for a region code with a ``<datalist>`` of suggestions (code and name)."""

    template_name = "institutions/widgets/region_code_input.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.suggestions: list[tuple[str, str]] = []

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        """Add the datalist id and options."""
        attrs = dict(attrs or {})
        attrs["list"] = f"{attrs.get('id', name)}-options"
        attrs.setdefault("inputmode", "numeric")
        attrs.setdefault("autocomplete", "off")
        context = super().get_context(name, value, attrs)
        context["widget"]["datalist_id"] = attrs["list"]
        context["widget"]["suggestions"] = self.suggestions
        return context

    def format_value(self, value: Any) -> str | None:
        """Show a region instance as its code."""
        if isinstance(value, Region):
            return value.code
        return super().format_value(value)


class RegionCodeField(forms.ModelChoiceField):
    """A region chosen by its GB/T 2260 code, typed or picked from suggestions."""

    widget = RegionCodeInput

    def __init__(self, queryset: QuerySet[Region], **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("error_messages", {"invalid_choice": _("区划代码不存在或不在您的管辖范围内。")})
        super().__init__(queryset, **kwargs)

    def suggest(self, regions: QuerySet[Region]) -> None:
        """Fill the widget's datalist from ``regions``."""
        self.widget.suggestions = [(region.code, region.name) for region in regions]  # type: ignore[attr-defined]


class InstitutionPickerField(forms.ModelChoiceField):
    """An institution chosen from a searchable select (options narrowed by a search term)."""

    def __init__(self, queryset: QuerySet[Institution], **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(queryset, **kwargs)

    def label_from_instance(self, obj: Institution) -> str:
        """Name with region and category."""
        return institution_label(obj)

    def offer(self, options: list[Institution], selected: Any = None) -> None:
        """Render only ``options`` (plus the selected institution), not the whole queryset."""
        chosen = list(options)
        if selected:
            if isinstance(selected, Institution):
                found: Institution | None = selected
            else:
                found = self.queryset.filter(public_id=selected).first() if _is_uuid(selected) else None
            if found is not None and all(item.pk != found.pk for item in chosen):
                chosen.insert(0, found)
        self.widget.choices = [("", "---------"), *((str(i.public_id), institution_label(i)) for i in chosen)]


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def picker_options(actor: Any, query: str = "", within: str = "") -> list[Institution]:
    """Active institutions matching ``query`` (name, pinyin initials, credit code), at most PICKER_LIMIT."""
    return list(selectors.institution_list(actor, query=query, within=within, status="active")[:PICKER_LIMIT])


class MemberChoiceField(forms.ModelChoiceField):
    """A lead or sub-lead of the consortium, by public id."""

    def __init__(self, queryset: QuerySet[ConsortiumMember], **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(queryset, **kwargs)

    def label_from_instance(self, obj: ConsortiumMember) -> str:
        """Institution name and role."""
        return f"{obj.institution.name}（{obj.get_role_display()}）"


# Filters -------------------------------------------------------------------


class RegionFilterForm(forms.Form):
    """Search regions by name, pinyin initials or code; filter by level."""

    q = forms.CharField(label=_("名称 / 拼音首字母 / 代码"), required=False, max_length=60)
    level = forms.ChoiceField(label=_("级别"), required=False, choices=_blank(RegionLevel.choices))

    def selector_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.region_list``."""
        data = self.cleaned_data if self.is_valid() else {}
        return {"query": data.get("q", "").strip(), "level": data.get("level", "")}


class _RegionFilterMixin:
    """A ``region`` select over province/prefecture/county regions; resolves to a subtree prefix."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def _setup_region(self, actor: Any, current: str) -> None:
        self.actor = actor
        self.fields["region"].choices = _blank(upper_region_choices(actor, current))  # type: ignore[attr-defined]

    def region_within(self) -> tuple[str, Region | None]:
        """The chosen region's prefix (for ``within=``) and the region, or ("", None)."""
        code = self.cleaned_data.get("region") or ""
        if not code:
            return "", None
        try:
            region = selectors.region_get(self.actor, code)
        except NotFound:
            return "", None
        return region.prefix, region


class InstitutionFilterForm(_RegionFilterMixin, forms.Form):
    """Filters of the institution list."""

    q = forms.CharField(label=_("名称 / 拼音首字母 / 信用代码"), required=False, max_length=60)
    category = forms.ChoiceField(
        label=_("机构类别"), required=False, choices=_blank(InstitutionCategory.choices)
    )
    region = forms.ChoiceField(label=_("所在区划"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=_blank(InstitutionStatus.choices))
    primary = forms.BooleanField(label=_("仅基层医疗卫生机构"), required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup_region(actor, str(self.data.get("region", "")))

    def selector_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.institution_list``."""
        if not self.is_valid():
            return {}
        within, _region = self.region_within()
        data = self.cleaned_data
        return {
            "query": data["q"].strip(),
            "category": data["category"],
            "within": within,
            "status": data["status"],
            "primary": True if data["primary"] else None,
        }


class ConsortiumFilterForm(_RegionFilterMixin, forms.Form):
    """Filters of the consortium list."""

    q = forms.CharField(label=_("名称 / 拼音首字母"), required=False, max_length=60)
    type = forms.ChoiceField(label=_("组织形式"), required=False, choices=_blank(ConsortiumType.choices))
    region = forms.ChoiceField(label=_("规划区域"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=_blank(ConsortiumStatus.choices))

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup_region(actor, str(self.data.get("region", "")))

    def selector_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.consortium_list``."""
        if not self.is_valid():
            return {}
        within, _region = self.region_within()
        data = self.cleaned_data
        return {"query": data["q"].strip(), "type": data["type"], "within": within, "status": data["status"]}


class GridFilterForm(_RegionFilterMixin, forms.Form):
    """Filters of the grid list."""

    q = forms.CharField(label=_("名称 / 拼音首字母 / 编码"), required=False, max_length=60)
    region = forms.ChoiceField(label=_("规划区域"), required=False)
    consortium = forms.ModelChoiceField(
        label=_("负责医联体"),
        required=False,
        queryset=Consortium.objects.none(),
        to_field_name="public_id",
        empty_label=_("全部"),
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup_region(actor, str(self.data.get("region", "")))
        self.fields["consortium"].queryset = grid_consortia(actor)  # type: ignore[attr-defined]

    def selector_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.grid_list``."""
        if not self.is_valid():
            return {}
        within, _region = self.region_within()
        data = self.cleaned_data
        return {"query": data["q"].strip(), "within": within, "consortium": data["consortium"]}


def grid_consortia(actor: Any) -> QuerySet[Consortium]:
    """Consortia that may serve grids (city groups and county communities), plain rows for a select."""
    return (
        selectors.consortium_list(actor)
        .filter(type__in=GRID_CONSORTIUM_TYPES)
        .prefetch_related(None)
        .only("public_id", "name", "region__code")
    )


class CoverageForm(forms.Form):
    """Pick the region of a coverage report."""

    region = forms.ChoiceField(label=_("区域"), required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = coverage_region_choices(actor)  # type: ignore[attr-defined]


def coverage_region_choices(actor: Any) -> list[tuple[str, str]]:
    """Regions the actor may see a coverage report for: all upper regions for admins, their own for regulators."""
    scope = scope_for(actor)
    regions = (
        selectors.region_list(actor)
        .filter(level__in=UPPER_LEVELS)
        .select_related(None)
        .only("code", "name", "level", "prefix")
    )
    if scope.is_platform_admin:
        return [(region.code, region_label(region)) for region in regions]
    prefixes = tuple(scope.region_prefixes_with(Role.REGULATOR))
    if not prefixes:
        return []
    return [(region.code, region_label(region)) for region in regions if region.code.startswith(prefixes)]


# Regions -------------------------------------------------------------------


class RegionCreateForm(forms.Form):
    """Create one region (GB/T 2260 code; township/village extensions allowed)."""

    code = forms.CharField(
        label=_("区划代码"),
        max_length=12,
        help_text=_("6 位县级及以上代码，或 9 位乡级、12 位村级统计用区划代码。"),
    )
    name = forms.CharField(
        label=_("名称"),
        max_length=100,
        required=False,
        help_text=_("县级及以上可留空，按 GB/T 2260 自动填写。"),
    )
    population = forms.IntegerField(label=_("常住人口"), required=False, min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        enable_live_check(self.fields["code"], reverse_lazy("institutions:check-region-code"), name="code")


class RegionImportForm(forms.Form):
    """Upload a CSV region list: ``code,name[,population]``, header optional, UTF-8 or GB18030."""

    file = forms.FileField(
        label=_("CSV 文件"),
        help_text=_("每行：区划代码,名称[,常住人口]；可有表头；UTF-8 或 GB18030 编码。"),
    )


# Institutions --------------------------------------------------------------


def _institution_regions(actor: Any) -> QuerySet[Region]:
    """Regions an institution may be registered in by this actor (all for admins, their subtree for regulators)."""
    regions = selectors.region_list(actor)
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return regions
    prefixes = scope.region_prefixes_with(Role.REGULATOR)
    if not prefixes:
        return regions.none()
    condition = Q()
    for prefix in prefixes:
        condition |= Q(code__startswith=prefix)
    return regions.filter(condition)


class InstitutionForm(forms.Form):
    """An institution's profile (edit). Region stays read-only for users who may not move it."""

    name = forms.CharField(label=_("机构名称"), max_length=200)
    short_name = forms.CharField(label=_("简称"), max_length=60, required=False)
    credit_code = forms.CharField(
        label=_("统一社会信用代码"), max_length=18, help_text=_("18 位，GB 32100，含校验位。")
    )
    category = forms.ChoiceField(
        label=_("机构类别（WS 218）"), choices=_blank(InstitutionCategory.choices, "---------")
    )
    grade = forms.ChoiceField(
        label=_("医院级别"), choices=HospitalGrade.choices, initial=HospitalGrade.UNGRADED
    )
    grade_class = forms.ChoiceField(
        label=_("医院等次"), choices=HospitalClass.choices, initial=HospitalClass.UNRATED
    )
    ownership = forms.ChoiceField(label=_("举办主体"), choices=_blank(Ownership.choices, "---------"))
    profit_status = forms.ChoiceField(
        label=_("分类管理"), choices=ProfitStatus.choices, initial=ProfitStatus.NON_PROFIT
    )
    is_tcm = forms.BooleanField(label=_("中医类机构"), required=False)
    may_serve_across_grids = forms.BooleanField(
        label=_("可跨网格服务"),
        required=False,
        help_text=_("三级医院及妇幼保健、公共卫生、康复、护理等机构可跨网格提供服务。"),
    )
    region = RegionCodeField(label=_("所在区划"), queryset=Region.objects.none())
    address = forms.CharField(label=_("地址"), max_length=300, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    beds = forms.IntegerField(label=_("编制床位"), min_value=0, initial=0)
    status = forms.ChoiceField(
        label=_("状态"), choices=InstitutionStatus.choices, initial=InstitutionStatus.ACTIVE
    )
    description = forms.CharField(label=_("简介"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, actor: Any, institution: Institution | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.institution = institution
        enable_live_check(
            self.fields["credit_code"], reverse_lazy("institutions:check-credit-code"), name="credit_code"
        )
        may_move = policies.can_create_institution(actor)
        if may_move:
            field: RegionCodeField = self.fields["region"]  # type: ignore[assignment]
            field.queryset = _institution_regions(actor)
            field.suggest(
                field.queryset.exclude(level=RegionLevel.VILLAGE)
                .select_related(None)
                .only("code", "name")[:500]
            )
            enable_live_check(field, reverse_lazy("institutions:check-region-code"), name="region")
        else:
            del self.fields["region"]

    @classmethod
    def initial_for(cls, institution: Institution) -> dict[str, Any]:
        """The form's initial values from an institution."""
        values = {name: getattr(institution, name) for name in cls.base_fields if name != "region"}
        values["region"] = institution.region.code
        return values

    def service_data(self) -> dict[str, Any]:
        """Cleaned values in the service's field names."""
        return dict(self.cleaned_data)


class InstitutionCreateForm(InstitutionForm):
    """Register an institution. Cross-grid service defaults from category and grade."""

    may_serve_across_grids = forms.TypedChoiceField(
        label=_("可跨网格服务"),
        required=False,
        choices=[("", _("按类别和级别自动判定")), ("1", _("是")), ("0", _("否"))],
        coerce=lambda value: value == "1",
        empty_value=None,
    )


class DepartmentForm(forms.Form):
    """Add or change a department (科室)."""

    name = forms.CharField(label=_("科室名称"), max_length=100)
    code = forms.CharField(label=_("科室代码"), max_length=20, required=False)
    specialty = forms.ChoiceField(
        label=_("诊疗科目"), choices=DepartmentSpecialty.choices, initial=DepartmentSpecialty.OTHER
    )
    is_clinical = forms.BooleanField(label=_("临床科室"), required=False, initial=True)
    beds = forms.IntegerField(label=_("床位"), min_value=0, initial=0)
    phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)


# Consortia -----------------------------------------------------------------


class ConsortiumForm(forms.Form):
    """Create a consortium with its first lead institution."""

    name = forms.CharField(label=_("医联体名称"), max_length=200)
    type = forms.ChoiceField(label=_("组织形式"), choices=_blank(ConsortiumType.choices, "---------"))
    integration = forms.ChoiceField(
        label=_("紧密程度"), choices=Integration.choices, initial=Integration.TIGHT
    )
    region = forms.ModelChoiceField(label=_("规划区域"), queryset=Region.objects.none(), to_field_name="code")
    lead_institution = InstitutionPickerField(
        label=_("牵头单位"),
        queryset=Institution.objects.none(),
        help_text=_("可先在上方搜索框按名称或拼音首字母查找。"),
    )
    established_on = forms.DateField(label=_("成立日期"), required=False, widget=IsoDateInput())
    description = forms.CharField(label=_("简介"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, actor: Any, search: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field: forms.ModelChoiceField = self.fields["region"]  # type: ignore[assignment]
        region_field.queryset = selectors.region_list(actor).filter(level__in=UPPER_LEVELS)
        region_field.label_from_instance = region_label  # type: ignore[method-assign]
        picker: InstitutionPickerField = self.fields["lead_institution"]  # type: ignore[assignment]
        picker.queryset = selectors.institution_list(actor)
        picker.offer(
            picker_options(actor, search), self.data.get("lead_institution") if self.is_bound else None
        )


class ConsortiumEditForm(forms.Form):
    """Change a consortium's profile (its form cannot change once created)."""

    name = forms.CharField(label=_("医联体名称"), max_length=200)
    integration = forms.ChoiceField(label=_("紧密程度"), choices=Integration.choices)
    region = forms.ModelChoiceField(label=_("规划区域"), queryset=Region.objects.none(), to_field_name="code")
    established_on = forms.DateField(label=_("成立日期"), required=False, widget=IsoDateInput())
    status = forms.ChoiceField(label=_("状态"), choices=ConsortiumStatus.choices)
    description = forms.CharField(label=_("简介"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field: forms.ModelChoiceField = self.fields["region"]  # type: ignore[assignment]
        region_field.queryset = selectors.region_list(actor).filter(level__in=UPPER_LEVELS)
        region_field.label_from_instance = region_label  # type: ignore[method-assign]

    @staticmethod
    def initial_for(consortium: Consortium) -> dict[str, Any]:
        """Initial values from a consortium (with its current version)."""
        return {
            "name": consortium.name,
            "integration": consortium.integration,
            "region": consortium.region.code,
            "established_on": consortium.established_on,
            "status": consortium.status,
            "description": consortium.description,
            "expected_version": consortium.version,
        }


def parent_choices(
    consortium: Consortium, exclude: ConsortiumMember | None = None
) -> QuerySet[ConsortiumMember]:
    """Active leads and sub-leads of the consortium (possible parents of a member)."""
    members = selectors.consortium_members(consortium).filter(role__in=[MemberRole.LEAD, MemberRole.SUB_LEAD])
    if exclude is not None:
        members = members.exclude(pk=exclude.pk)
    return members


class MemberAddForm(forms.Form):
    """Add an institution to a consortium. ``expected_version`` detects a concurrent change."""

    institution = InstitutionPickerField(
        label=_("机构"),
        queryset=Institution.objects.none(),
        help_text=_("可先在上方搜索框按名称、拼音首字母或信用代码查找。"),
    )
    role = forms.ChoiceField(label=_("角色"), choices=MemberRole.choices, initial=MemberRole.MEMBER)
    parent = MemberChoiceField(
        label=_("上级牵头单位"),
        queryset=ConsortiumMember.objects.none(),
        required=False,
        help_text=_("二级牵头单位和成员单位挂在哪个牵头单位（或二级牵头单位）之下。"),
    )
    joined_on = forms.DateField(label=_("加入日期"), required=False, widget=IsoDateInput())
    notes = forms.CharField(label=_("备注"), max_length=300, required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, actor: Any, consortium: Consortium, search: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        picker: InstitutionPickerField = self.fields["institution"]  # type: ignore[assignment]
        picker.queryset = selectors.institution_list(actor)
        within = "" if search else consortium.region.prefix
        picker.offer(
            picker_options(actor, search, within), self.data.get("institution") if self.is_bound else None
        )
        self.fields["parent"].queryset = parent_choices(consortium)  # type: ignore[attr-defined]


class MemberEditForm(forms.Form):
    """Change a member's role or the lead it sits under."""

    role = forms.ChoiceField(label=_("角色"), choices=MemberRole.choices)
    parent = MemberChoiceField(
        label=_("上级牵头单位"), queryset=ConsortiumMember.objects.none(), required=False
    )
    notes = forms.CharField(label=_("备注"), max_length=300, required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, member: ConsortiumMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parent_choices(member.consortium, exclude=member)  # type: ignore[attr-defined]


class MemberRemoveForm(forms.Form):
    """Record that a member left the consortium."""

    left_on = forms.DateField(label=_("退出日期"), required=False, widget=IsoDateInput())
    reason = forms.CharField(label=_("退出原因"), max_length=300, required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class PartiesField(forms.ModelMultipleChoiceField):
    """Signing parties: checkboxes over the consortium's active member institutions."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Institution) -> str:
        """The institution name."""
        return obj.name


def member_institutions(actor: Any, consortium: Consortium) -> QuerySet[Institution]:
    """Institutions that are active members of the consortium."""
    return selectors.institution_list(actor, consortium=consortium)


class AgreementForm(forms.Form):
    """Upload a charter or agreement."""

    kind = forms.ChoiceField(label=_("类型"), choices=AgreementKind.choices, initial=AgreementKind.CHARTER)
    title = forms.CharField(label=_("标题"), max_length=200)
    file = forms.FileField(label=_("文件"), help_text=_("PDF、OFD、Word、Excel 或图片。"))
    signed_on = forms.DateField(label=_("签署日期"), required=False, widget=IsoDateInput())
    effective_from = forms.DateField(label=_("生效日期"), widget=IsoDateInput())
    effective_to = forms.DateField(label=_("失效日期"), required=False, widget=IsoDateInput())
    parties = PartiesField(
        label=_("签约方"), queryset=Institution.objects.none(), required=False, to_field_name="public_id"
    )
    notes = forms.CharField(label=_("备注"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, actor: Any, consortium: Consortium, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parties"].queryset = member_institutions(actor, consortium)  # type: ignore[attr-defined]


class ManagementBodyForm(forms.Form):
    """Add or change a management body (committee, office, management centre)."""

    kind = forms.ChoiceField(label=_("类型"), choices=ManagementBodyKind.choices)
    name = forms.CharField(label=_("名称"), max_length=100)
    head_name = forms.CharField(label=_("负责人"), max_length=50, required=False)
    host_institution = forms.ModelChoiceField(
        label=_("设在机构"), queryset=Institution.objects.none(), required=False, to_field_name="public_id"
    )
    phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    duties = forms.CharField(label=_("职责"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, actor: Any, consortium: Consortium, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["host_institution"].queryset = member_institutions(actor, consortium)  # type: ignore[attr-defined]


# Grids ---------------------------------------------------------------------


def plannable_regions(actor: Any) -> QuerySet[Region]:
    """Prefecture and county regions where the actor may plan grids."""
    return _institution_regions(actor).filter(level__in=(RegionLevel.PREFECTURE, RegionLevel.COUNTY))


class GridRegionForm(forms.Form):
    """Step one of planning a grid: the region it belongs to."""

    region = forms.ModelChoiceField(label=_("规划区域"), queryset=Region.objects.none(), to_field_name="code")

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.ModelChoiceField = self.fields["region"]  # type: ignore[assignment]
        field.queryset = plannable_regions(actor)
        field.label_from_instance = region_label  # type: ignore[method-assign]


class GridForm(forms.Form):
    """A grid's name and the townships / villages it covers (checkboxes grouped by township)."""

    code = forms.CharField(label=_("网格编码"), max_length=30)
    name = forms.CharField(label=_("网格名称"), max_length=100)
    population = forms.IntegerField(label=_("服务人口"), required=False, min_value=0)
    description = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    area_codes = forms.MultipleChoiceField(
        label=_("覆盖区域"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, areas: list[Region], grid: Grid | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grid = grid
        self.areas = areas
        self.fields["area_codes"].choices = [(area.code, area.name) for area in areas]  # type: ignore[attr-defined]
        if grid is not None:
            del self.fields["code"]

    def area_groups(self) -> list[dict[str, Any]]:
        """Townships with their villages: checked or not, and why an area is unavailable (``note``).

        An area is unavailable when it, its township, or (for a township) one of
        its villages already belongs to another grid.
        """
        if self.is_bound:
            chosen = set(self.data.getlist("area_codes")) if hasattr(self.data, "getlist") else set()
        else:
            chosen = set(self.initial.get("area_codes", ()))
        groups: list[dict[str, Any]] = []
        by_code: dict[str, dict[str, Any]] = {}

        def item(area: Region) -> dict[str, Any]:
            link = getattr(area, "grid_link", None)
            other = (
                link.grid
                if link is not None and (self.grid is None or link.grid_id != self.grid.pk)
                else None
            )
            note = _("已属于网格“%(name)s”") % {"name": other.name} if other else ""
            return {"area": area, "checked": area.code in chosen, "other_grid": other, "note": note}

        for area in self.areas:
            if area.level == RegionLevel.TOWNSHIP:
                group = {**item(area), "villages": []}
                group["whole_grid"] = group["other_grid"]
                by_code[area.code] = group
                groups.append(group)
            else:
                group = by_code.get(area.code[:9])
                if group is None:
                    group = {
                        "area": None,
                        "checked": False,
                        "other_grid": None,
                        "whole_grid": None,
                        "note": "",
                        "villages": [],
                    }
                    by_code[area.code[:9]] = group
                    groups.append(group)
                village = item(area)
                township_grid = group["whole_grid"]
                if township_grid is not None and village["other_grid"] is None:
                    village["other_grid"] = township_grid
                    village["note"] = _("所在乡镇已属于网格“%(name)s”") % {"name": township_grid.name}
                elif (
                    village["other_grid"] is not None
                    and group["area"] is not None
                    and not group["other_grid"]
                ):
                    group["other_grid"] = village["other_grid"]
                    group["note"] = _("部分村已属于网格“%(name)s”") % {"name": village["other_grid"].name}
                group["villages"].append(village)
        return groups


def grid_area_choices(actor: Any, region: Region) -> list[Region]:
    """Townships and villages under a region, each with the grid it already belongs to (one query)."""
    return list(
        selectors.region_list(actor, within=region.prefix)
        .filter(level__in=AREA_LEVELS)
        .select_related("grid_link__grid")
    )


class GridAssignForm(forms.Form):
    """Make a consortium responsible for a grid, or hand the grid over to another one."""

    consortium = forms.ModelChoiceField(
        label=_("负责医联体"), queryset=Consortium.objects.none(), to_field_name="public_id"
    )
    assigned_from = forms.DateField(label=_("起始日期"), required=False, widget=IsoDateInput())
    replace = forms.BooleanField(
        label=_("交接：结束当前负责医联体的责任"),
        required=False,
        help_text=_("当前负责医联体的责任截止到起始日期的前一天。"),
    )

    def __init__(self, *args: Any, actor: Any, has_current: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consortium"].queryset = grid_consortia(actor).filter(status=ConsortiumStatus.ACTIVE)  # type: ignore[attr-defined]
        if not has_current:
            del self.fields["replace"]


class GridUnassignForm(forms.Form):
    """End the current consortium's responsibility for a grid."""

    assigned_to = forms.DateField(label=_("截止日期"), required=False, widget=IsoDateInput())
