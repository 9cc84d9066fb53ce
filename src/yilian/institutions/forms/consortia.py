"""Forms of consortia: profile, members, agreements, management bodies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.forms import IsoDateInput
from yilian.institutions import selectors
from yilian.institutions.choices import (
    AgreementKind,
    ConsortiumStatus,
    ConsortiumType,
    Integration,
    ManagementBodyKind,
    MemberRole,
)
from yilian.institutions.forms.fields import (
    InstitutionPickerField,
    MemberChoiceField,
    _blank,
    region_label,
)
from yilian.institutions.models import Consortium, ConsortiumMember, Institution, Region


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
        region_field.queryset = selectors.upper_regions(actor)
        region_field.label_from_instance = region_label  # type: ignore[method-assign]
        picker: InstitutionPickerField = self.fields["lead_institution"]  # type: ignore[assignment]
        picker.queryset = selectors.institution_list(actor)
        picker.offer(
            selectors.picker_options(actor, search),
            self.data.get("lead_institution") if self.is_bound else None,
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
        region_field.queryset = selectors.upper_regions(actor)
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
    """Possible parents of a member."""
    return selectors.parent_choices(consortium, exclude)


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
            selectors.picker_options(actor, search, within),
            self.data.get("institution") if self.is_bound else None,
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
