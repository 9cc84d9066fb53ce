"""Forms of regions, institutions and departments."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse_lazy
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.live import enable_live_check
from yilian.institutions import policies, selectors
from yilian.institutions.choices import (
    DepartmentSpecialty,
    DepartmentSubject,
    HospitalClass,
    HospitalGrade,
    InstitutionCategory,
    InstitutionStatus,
    Ownership,
    ProfitStatus,
    RegionLevel,
    subject_specialty,
)
from yilian.institutions.forms.fields import (
    MAX_COUNT,
    RegionCodeField,
    _blank,
)
from yilian.institutions.models import Department, Institution, Region


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
    population = forms.IntegerField(label=_("常住人口"), required=False, min_value=0, max_value=MAX_COUNT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        enable_live_check(self.fields["code"], reverse_lazy("institutions:check-region-code"), name="code")


class RegionImportForm(forms.Form):
    """Upload a CSV region list: ``code,name[,population]``, header optional, UTF-8 or GB18030."""

    file = forms.FileField(
        label=_("CSV 文件"),
        help_text=_("每行：区划代码,名称[,常住人口]；可有表头；UTF-8 或 GB18030 编码。"),
    )


def _institution_regions(actor: Any) -> QuerySet[Region]:
    """Regions an institution may be registered in by this actor."""
    return selectors.regions_in_scope(actor)


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
    beds = forms.IntegerField(label=_("编制床位"), min_value=0, max_value=MAX_COUNT, initial=0)
    status = forms.ChoiceField(
        label=_("状态"), choices=InstitutionStatus.choices, initial=InstitutionStatus.ACTIVE
    )
    description = forms.CharField(label=_("简介"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    # When the edited profile was last saved: a save over someone else's newer one is refused.
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

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
        values = {
            name: getattr(institution, name)
            for name in cls.base_fields
            if name not in ("region", "seen_updated_at")
        }
        values["region"] = institution.region.code
        values["seen_updated_at"] = institution.updated_at.isoformat()
        return values

    def clean_seen_updated_at(self) -> datetime.datetime | None:
        """The posted save time of the profile the user edited (none on a new institution or when unreadable)."""
        try:
            return parse_datetime(self.cleaned_data.get("seen_updated_at") or "")
        except ValueError:
            return None

    def service_data(self) -> dict[str, Any]:
        """Cleaned values in the service's field names."""
        data = dict(self.cleaned_data)
        if data.get("seen_updated_at") is None:
            data.pop("seen_updated_at", None)
        return data


class InstitutionCreateForm(InstitutionForm):
    """Register an institution. Cross-grid service defaults from category and grade."""

    may_serve_across_grids = forms.TypedChoiceField(
        label=_("可跨网格服务"),
        required=False,
        choices=[("", _("按类别和级别自动判定")), ("1", _("是")), ("0", _("否"))],
        coerce=lambda value: value == "1",
        empty_value=None,
    )


def subject_choices() -> list[tuple[Any, Any]]:
    """Second-level subjects grouped under their first-level subject ("内科" → 03.01 …), blank first."""
    specialties = dict(DepartmentSpecialty.choices)
    groups: dict[str, list[tuple[str, str]]] = {}
    for value, label in DepartmentSubject.choices:
        groups.setdefault(subject_specialty(value), []).append((value, f"{value} {label}"))
    choices: list[tuple[Any, Any]] = [("", _("（未细分）"))]
    choices += [(f"{code} {specialties[code]}", items) for code, items in groups.items()]
    return choices


class DepartmentForm(forms.Form):
    """Add or change a department (科室)."""

    name = forms.CharField(label=_("科室名称"), max_length=100)
    code = forms.CharField(label=_("科室代码"), max_length=20, required=False)
    specialty = forms.ChoiceField(
        label=_("诊疗科目"), choices=DepartmentSpecialty.choices, initial=DepartmentSpecialty.OTHER
    )
    subject = forms.ChoiceField(
        label=_("二级诊疗科目"),
        choices=subject_choices,
        required=False,
        help_text=_(
            "《医疗机构诊疗科目名录》的专业，如 03.04 心血管内科专业；须属于所选诊疗科目，未细分的科室留空。"
        ),
    )
    is_clinical = forms.BooleanField(label=_("临床科室"), required=False, initial=True)
    beds = forms.IntegerField(label=_("床位"), min_value=0, max_value=MAX_COUNT, initial=0)
    phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    # When the edited department was last saved: a save over someone else's newer one is refused.
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    @classmethod
    def initial_for(cls, department: Department) -> dict[str, Any]:
        """The form's initial values from a department."""
        values = {name: getattr(department, name) for name in cls.base_fields if name != "seen_updated_at"}
        values["seen_updated_at"] = department.updated_at.isoformat()
        return values

    def clean_seen_updated_at(self) -> datetime.datetime | None:
        """The posted save time of the department the user edited (none when adding or unreadable)."""
        try:
            return parse_datetime(self.cleaned_data.get("seen_updated_at") or "")
        except ValueError:
            return None

    def service_data(self) -> dict[str, Any]:
        """Cleaned values in the service's field names."""
        data = dict(self.cleaned_data)
        if data.get("seen_updated_at") is None:
            data.pop("seen_updated_at", None)
        return data
