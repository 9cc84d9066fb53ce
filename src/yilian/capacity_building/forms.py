"""Forms of the capacity-building pages. They parse input; ``capacity_building.services`` decides.

Institutions, departments and people arrive as public ids and are picked
among the choices offered to the actor (querysets from the selectors), so a
value the actor may not use fails like any other bad input.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from yilian.accounts import selectors as account_selectors
from yilian.capacity_building.choices import (
    AssessmentResult,
    CourseKind,
    CourseMode,
    CourseStatus,
    DeviceType,
    FellowshipStatus,
    MaintenanceStatus,
    SupportKind,
    TechniqueCategory,
    TechniqueStatus,
)
from yilian.core.ui.forms import IsoDateInput

TEXTAREA = {"rows": 3}


def _blank(choices: Any, label: Any = "") -> list[tuple[str, Any]]:
    return [("", label or _("全部")), *choices]


def person_label(user: Any) -> str:
    """A person as offered: name · title · institution(s). The login name is internal: it stands in
    only for a missing full name."""
    parts = [user.full_name or user.username]
    if user.professional_title:
        parts.append(str(user.get_professional_title_display()))
    institutions = account_selectors.staff_institution_names(user)
    if institutions:
        parts.append(pgettext("punctuation", "、").join(institutions))
    return " · ".join(parts)


class _StaffQueryset:
    """Prefetches the staff's institutions with the queryset, so labelling costs one query in all."""

    def _set_staff_queryset(self, queryset: Any) -> None:
        if queryset is not None:
            queryset = account_selectors.with_staff_institutions(queryset)
        forms.ModelChoiceField._set_queryset(self, queryset)  # type: ignore[arg-type]

    queryset = property(forms.ModelChoiceField._get_queryset, _set_staff_queryset)


class PersonChoiceField(_StaffQueryset, forms.ModelChoiceField):
    """A staff account by public id, shown by name, title and institution."""

    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


class PeopleChoiceField(_StaffQueryset, forms.ModelMultipleChoiceField):
    """Several staff accounts by public id, shown by name, title and institution."""

    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


class DepartmentChoiceField(forms.ModelChoiceField):
    """A department by public id, shown with its institution."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.institution.name} · {obj.name}"


def _year_choices() -> list[tuple[str, str]]:
    this_year = timezone.localdate().year
    return [(str(year), str(year)) for year in range(this_year, this_year - 6, -1)]


class CourseFilterForm(forms.Form):
    """Filters of the course list."""

    kind = forms.ChoiceField(label=_("培训形式"), choices=_blank(CourseKind.choices), required=False)
    status = forms.ChoiceField(label=_("状态"), choices=_blank(CourseStatus.choices), required=False)
    year = forms.TypedChoiceField(label=_("年度"), choices=[], coerce=int, required=False, empty_value=None)
    q = forms.CharField(label=_("培训名称或授课人"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _blank(_year_choices())


class CourseForm(forms.Form):
    """Publish or change a course."""

    organiser = forms.ModelChoiceField(label=_("主办机构"), queryset=None, to_field_name="public_id")
    organiser_department = DepartmentChoiceField(
        label=_("主办科室"), queryset=None, to_field_name="public_id", required=False
    )
    kind = forms.ChoiceField(label=_("培训形式"), choices=CourseKind.choices)
    title = forms.CharField(label=_("培训名称"), max_length=200)
    topic = forms.CharField(
        label=_("培训内容"), widget=forms.Textarea(attrs=TEXTAREA), required=False, max_length=2000
    )
    trainers = forms.CharField(label=_("授课人"), max_length=200, help_text=_("多人以顿号分隔"))
    mode = forms.ChoiceField(label=_("举办方式"), choices=CourseMode.choices)
    place = forms.CharField(label=_("地点/线上链接"), max_length=200, required=False)
    venue = forms.ModelChoiceField(
        label=_("举办地机构"),
        queryset=None,
        to_field_name="public_id",
        required=False,
        help_text=_("在成员单位现场举办时选择。"),
    )
    starts_on = forms.DateField(label=_("开始日期"), widget=IsoDateInput())
    ends_on = forms.DateField(label=_("结束日期"), widget=IsoDateInput(), required=False)
    hours = forms.DecimalField(label=_("学时"), max_digits=5, decimal_places=1, required=False, min_value=0)
    credits = forms.DecimalField(label=_("学分"), max_digits=4, decimal_places=1, required=False, min_value=0)
    open_to_all_members = forms.BooleanField(label=_("面向全体成员单位"), required=False, initial=True)
    audience = forms.ModelMultipleChoiceField(
        label=_("面向机构"),
        queryset=None,
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, organisers: Any, departments: Any, members: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organiser"].queryset = organisers
        self.fields["organiser_department"].queryset = departments
        self.fields["venue"].queryset = members
        self.fields["audience"].queryset = members


class SignInForm(forms.Form):
    """Sign in staff accounts, or one external attendee."""

    users = PeopleChoiceField(
        label=_("签到人员（账号）"),
        queryset=None,
        to_field_name="public_id",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    name = forms.CharField(label=_("外部人员姓名"), max_length=50, required=False)
    institution_name = forms.CharField(label=_("外部人员所在机构"), max_length=200, required=False)

    def __init__(self, *args: Any, candidates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = candidates

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("users") and not (data.get("name") or data.get("institution_name")):
            raise forms.ValidationError(_("请选择签到人员，或填写外部人员姓名和机构。"))
        return data


class ReasonForm(forms.Form):
    """A reason (cancel, withdraw)."""

    reason = forms.CharField(label=_("原因"), max_length=300, widget=forms.Textarea(attrs=TEXTAREA))


class FellowshipFilterForm(forms.Form):
    """Filters of the fellowship list."""

    status = forms.ChoiceField(label=_("状态"), choices=_blank(FellowshipStatus.choices), required=False)
    year = forms.TypedChoiceField(label=_("年度"), choices=[], coerce=int, required=False, empty_value=None)
    q = forms.CharField(label=_("进修人员或科室"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _blank(_year_choices())


class FellowshipForm(forms.Form):
    """Apply for a fellowship."""

    home_institution = forms.ModelChoiceField(label=_("选派单位"), queryset=None, to_field_name="public_id")
    trainee = PersonChoiceField(label=_("进修人员"), queryset=None, to_field_name="public_id")
    host_department = DepartmentChoiceField(label=_("进修科室"), queryset=None, to_field_name="public_id")
    supervisor = PersonChoiceField(
        label=_("带教老师"), queryset=None, to_field_name="public_id", required=False
    )
    specialty_goal = forms.CharField(label=_("进修方向与目标"), max_length=300, required=False)
    planned_start = forms.DateField(label=_("计划开始日期"), widget=IsoDateInput())
    planned_months = forms.IntegerField(label=_("计划进修月数"), min_value=1, max_value=12, initial=6)

    def __init__(
        self, *args: Any, homes: Any, trainees: Any, departments: Any, supervisors: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_institution"].queryset = homes
        self.fields["trainee"].queryset = trainees
        self.fields["host_department"].queryset = departments
        self.fields["supervisor"].queryset = supervisors


class StartForm(forms.Form):
    """Record the trainee's arrival."""

    started_on = forms.DateField(label=_("实际开始日期"), widget=IsoDateInput(), initial=timezone.localdate)


class CompleteForm(forms.Form):
    """Finish a fellowship."""

    assessment = forms.ChoiceField(label=_("结业考核"), choices=AssessmentResult.choices)
    certificate_number = forms.CharField(label=_("结业证书编号"), max_length=40, required=False)
    assessment_note = forms.CharField(label=_("考核评语"), max_length=500, required=False)
    ended_on = forms.DateField(label=_("结业日期"), widget=IsoDateInput(), initial=timezone.localdate)


class TechniqueFilterForm(forms.Form):
    """Filters of the technique list."""

    status = forms.ChoiceField(label=_("状态"), choices=_blank(TechniqueStatus.choices), required=False)
    category = forms.ChoiceField(label=_("类别"), choices=_blank(TechniqueCategory.choices), required=False)
    year = forms.TypedChoiceField(label=_("年度"), choices=[], coerce=int, required=False, empty_value=None)
    q = forms.CharField(label=_("名称或机构"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _blank(_year_choices())


class TechniqueForm(forms.Form):
    """Record a technique introduced at the member."""

    institution = forms.ModelChoiceField(label=_("引进机构"), queryset=None, to_field_name="public_id")
    name = forms.CharField(label=_("技术/项目名称"), max_length=200)
    category = forms.ChoiceField(label=_("类别"), choices=TechniqueCategory.choices)
    description = forms.CharField(
        label=_("简介"), widget=forms.Textarea(attrs=TEXTAREA), required=False, max_length=2000
    )
    supporting_department = DepartmentChoiceField(
        label=_("支持科室"), queryset=None, to_field_name="public_id"
    )
    expert = PersonChoiceField(label=_("指导专家"), queryset=None, to_field_name="public_id", required=False)
    introduced_on = forms.DateField(label=_("引进日期"), widget=IsoDateInput())
    cases_to_date = forms.IntegerField(label=_("累计开展例数"), min_value=0, initial=0, required=False)

    def __init__(self, *args: Any, institutions: Any, departments: Any, experts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions
        self.fields["supporting_department"].queryset = departments
        self.fields["expert"].queryset = experts


class ReviewForm(forms.Form):
    """The office's review of a technique."""

    decision = forms.ChoiceField(label=_("审核结果"), choices=[("confirm", _("确认")), ("reject", _("退回"))])
    note = forms.CharField(label=_("审核意见"), max_length=300, required=False)


class CasesForm(forms.Form):
    """Report the cases performed so far."""

    cases_to_date = forms.IntegerField(label=_("累计开展例数"), min_value=0)
    as_of = forms.DateField(label=_("截至日期"), widget=IsoDateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)


class DeviceFilterForm(forms.Form):
    """Filters of the device list."""

    device_type = forms.ChoiceField(label=_("设备类型"), choices=_blank(DeviceType.choices), required=False)
    support_kind = forms.ChoiceField(label=_("支持方式"), choices=_blank(SupportKind.choices), required=False)
    in_service = forms.BooleanField(label=_("仅在用设备"), required=False)
    q = forms.CharField(label=_("设备、序列号或机构"), max_length=100, required=False)


class DeviceForm(forms.Form):
    """Register a donated or lent device."""

    donor = forms.ModelChoiceField(label=_("支持单位"), queryset=None, to_field_name="public_id")
    recipient = forms.ModelChoiceField(label=_("受援机构"), queryset=None, to_field_name="public_id")
    device_type = forms.ChoiceField(label=_("设备类型"), choices=DeviceType.choices)
    name = forms.CharField(label=_("设备名称"), max_length=100)
    model = forms.CharField(label=_("型号"), max_length=100, required=False)
    serial_number = forms.CharField(label=_("序列号"), max_length=60)
    value = forms.DecimalField(
        label=_("价值（元）"), max_digits=12, decimal_places=2, min_value=0, required=False
    )
    support_kind = forms.ChoiceField(label=_("支持方式"), choices=SupportKind.choices)
    delivered_on = forms.DateField(label=_("交付日期"), widget=IsoDateInput())
    lent_until = forms.DateField(label=_("借用截止日期"), widget=IsoDateInput(), required=False)
    notes = forms.CharField(label=_("备注"), max_length=300, required=False)

    def __init__(self, *args: Any, donors: Any, recipients: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["donor"].queryset = donors
        self.fields["recipient"].queryset = recipients


class ReturnForm(forms.Form):
    """A lent device came back."""

    returned_on = forms.DateField(label=_("归还日期"), widget=IsoDateInput(), initial=timezone.localdate)


class FaultForm(forms.Form):
    """Report a fault."""

    fault_description = forms.CharField(
        label=_("故障描述"), max_length=1000, widget=forms.Textarea(attrs=TEXTAREA)
    )


class MaintenanceFilterForm(forms.Form):
    """Filters of the repair lists."""

    status = forms.ChoiceField(label=_("状态"), choices=_blank(MaintenanceStatus.choices), required=False)
    open_only = forms.BooleanField(label=_("仅未完成"), required=False)
    q = forms.CharField(label=_("单号、设备或机构"), max_length=100, required=False)


class AssignForm(forms.Form):
    """Assign a request to an engineer."""

    engineer = PersonChoiceField(label=_("维修工程师"), queryset=None, to_field_name="public_id")

    def __init__(self, *args: Any, engineers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = engineers


class RepairForm(forms.Form):
    """Close a request with its result."""

    outcome = forms.ChoiceField(
        label=_("维修结果"),
        choices=[
            (MaintenanceStatus.REPAIRED.value, MaintenanceStatus.REPAIRED.label),
            (MaintenanceStatus.NOT_REPAIRABLE.value, MaintenanceStatus.NOT_REPAIRABLE.label),
        ],
    )
    work_done = forms.CharField(label=_("维修情况"), max_length=1000, widget=forms.Textarea(attrs=TEXTAREA))
    parts = forms.CharField(label=_("更换配件"), max_length=300, required=False)
    cost = forms.DecimalField(
        label=_("费用（元）"),
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        initial=0,
        help_text=_("医联体内免费维修填 0。"),
    )
    completed_on = forms.DateField(label=_("完成日期"), widget=IsoDateInput(), initial=timezone.localdate)


class StatisticsForm(forms.Form):
    """The consortium and year of the figures."""

    consortium = forms.ModelChoiceField(
        label=_("医联体"), queryset=None, to_field_name="public_id", empty_label=None
    )
    year = forms.TypedChoiceField(label=_("年度"), choices=[], coerce=int)

    def __init__(self, *args: Any, consortia: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consortium"].queryset = consortia
        self.fields["year"].choices = _year_choices()
