"""Forms of the chronic-care pages: shape only; the services check the rules and their messages show
inline (``core.ui.forms.add_domain_errors``)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yilian.chronic_care.choices import (
    Adherence,
    CloseReason,
    ComplicationChange,
    DangerSign,
    FollowUpMethod,
    Measure,
    SideEffects,
)
from yilian.core.ui.forms import IsoDateInput
from yilian.family_doctors import selectors as family_doctor_selectors
from yilian.people.forms import PersonChoiceField, chosen_person
from yilian.referrals.choices import ReferralKind, ReferralPriority

BLANK = [("", "—")]


def _choices(objects: list[Any], label: Any = str) -> list[tuple[str, str]]:
    return [(str(o.public_id), label(o)) for o in objects]


class EnrolForm(forms.Form):
    """Enrol a resident: registry, confirmed diagnosis, managing institution, care team, date."""

    person = PersonChoiceField(label=_("居民"))
    registry = forms.ChoiceField(label=_("病种"))
    diagnosis_code = forms.CharField(label=_("确诊诊断编码（ICD-10）"), max_length=20)
    diagnosis_name = forms.CharField(label=_("诊断名称"), max_length=100, required=False)
    institution = forms.ChoiceField(
        label=pgettext_lazy("chronic-disease case's managing institution", "管理机构")
    )
    care_team = forms.ChoiceField(label=_("家庭医生团队"), required=False)
    enrolled_on = forms.DateField(label=_("纳入管理日期"), widget=IsoDateInput())

    def __init__(
        self,
        *args: Any,
        persons: QuerySet[Any],
        registries: list[Any],
        institutions: list[Any],
        teams: list[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Any visible person is accepted; only the chosen one is rendered (the picker searches the rest).
        self.fields["person"].offer(persons, chosen_person(persons, self["person"].value()))
        self.offered = {
            "registry": {r.code: r for r in registries},
            "institution": {str(i.public_id): i for i in institutions},
            "care_team": {str(t.public_id): t for t in teams},
        }
        self.fields["registry"].choices = [(r.code, r.name) for r in registries]
        self.fields["institution"].choices = _choices(institutions, lambda i: i.name)
        self.fields["care_team"].choices = BLANK + [
            (str(t.public_id), family_doctor_selectors.team_label(t)) for t in teams
        ]
        self.fields["enrolled_on"].initial = timezone.localdate()

    def for_service(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        data = self.cleaned_data
        return {
            "person": data["person"],
            "registry": self.offered["registry"][data["registry"]],
            "institution": self.offered["institution"][data["institution"]],
            "care_team": self.offered["care_team"].get(data.get("care_team") or ""),
            "diagnosis_code": data["diagnosis_code"],
            "diagnosis_name": data.get("diagnosis_name") or "",
            "enrolled_on": data["enrolled_on"],
        }


def _measure(label: Any, *, integer: bool = False, help_text: Any = "") -> forms.Field:
    # Text inputs: the service checks ranges and answers with the field and the allowed range.
    attrs = {"inputmode": "numeric" if integer else "decimal", "autocomplete": "off"}
    return forms.CharField(
        label=label, required=False, max_length=10, widget=forms.TextInput(attrs=attrs), help_text=help_text
    )


class FollowUpForm(forms.Form):
    """A follow-up visit; the control status and the next date come from the registry."""

    visited_on = forms.DateField(label=_("随访日期"), widget=IsoDateInput())
    method = forms.ChoiceField(label=_("随访方式"), choices=FollowUpMethod.choices)
    systolic = _measure(_("收缩压（mmHg）"), integer=True)
    diastolic = _measure(_("舒张压（mmHg）"), integer=True)
    heart_rate = _measure(_("心率（次/分）"), integer=True)
    fasting_glucose = _measure(_("空腹血糖（mmol/L）"))
    random_glucose = _measure(_("随机血糖（mmol/L）"))
    hba1c = _measure(_("糖化血红蛋白（%）"), help_text=_("选填"))
    weight_kg = _measure(_("体重（kg）"))
    height_cm = _measure(_("身高（cm）"), help_text=_("用于计算体质指数"))
    medication = forms.CharField(
        label=_("用药情况"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "氨氯地平片 5mg 每日一次"}),
        help_text=_("每行一种药物及用法用量"),
    )
    adherence = forms.ChoiceField(label=_("服药依从性"), choices=Adherence.choices)
    side_effects = forms.ChoiceField(label=_("药物不良反应"), choices=SideEffects.choices)
    complications = forms.ChoiceField(label=_("并发症"), choices=ComplicationChange.choices)
    complications_note = forms.CharField(label=_("并发症说明"), required=False, max_length=300)
    danger_signs = forms.MultipleChoiceField(
        label=_("危险征象"), required=False, choices=DangerSign.choices, widget=forms.CheckboxSelectMultiple
    )
    symptoms = forms.CharField(label=_("症状"), required=False, max_length=300)
    lifestyle_advice = forms.CharField(
        label=_("生活方式指导"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_due_on = forms.DateField(
        label=_("下次随访日期"),
        required=False,
        widget=IsoDateInput(),
        help_text=_("留空则按病种随访间隔计算；建议转诊时为两周后复核"),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, measures: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = timezone.localdate()
        if Measure.GLUCOSE not in measures:
            for name in ("fasting_glucose", "random_glucose", "hba1c"):
                self.fields[name].help_text = _("选填")

    def for_service(self) -> dict[str, Any]:
        """The service's keyword arguments (measurements as typed)."""
        return dict(self.cleaned_data)


class CloseForm(forms.Form):
    """Close a case."""

    reason = forms.ChoiceField(label=_("结案原因"), choices=CloseReason.choices)
    closed_on = forms.DateField(label=_("结案日期"), widget=IsoDateInput(), initial=datetime.date.today)
    note = forms.CharField(label=_("结案说明"), required=False, max_length=300)


class ReferForm(forms.Form):
    """The confirm page of the suggested referral, prefilled from the proposal."""

    to_department = forms.ChoiceField(label=_("接收科室"))
    kind = forms.ChoiceField(label=_("转诊类型"), choices=ReferralKind.choices)
    priority = forms.ChoiceField(label=_("优先级"), choices=ReferralPriority.choices)
    diagnosis_code = forms.CharField(label=_("ICD-10 诊断编码"), max_length=20)
    diagnosis_name = forms.CharField(label=_("诊断名称"), max_length=50)
    reason = forms.CharField(label=_("转诊原因"), max_length=100)
    history = forms.CharField(label=_("病史摘要"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    exam_results = forms.CharField(
        label=_("近期随访与检查结果"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    medications = forms.CharField(
        label=_("目前用药"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    patient_consented = forms.BooleanField(label=_("患者（或家属）已知情同意转诊"), required=False)
    acknowledge_missing = forms.BooleanField(label=_("资料不全仍提交"), required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, departments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {str(d.public_id): d for d in departments}
        self.fields["to_department"].choices = BLANK + [
            (key, f"{d.institution.name} · {d.name}") for key, d in self.offered.items()
        ]


class DismissForm(forms.Form):
    """Decide not to refer."""

    note = forms.CharField(label=_("不转诊的理由"), max_length=300)


class RegistryForm(forms.Form):
    """Add or edit a registry."""

    code = forms.CharField(label=_("病种代码"), max_length=30, help_text=_("小写字母、数字、下划线，如 copd"))
    name = forms.CharField(label=_("病种名称"), max_length=60)
    icd10_ranges = forms.CharField(label=_("ICD-10 范围"), max_length=200, help_text=_("如 I10-I15, E11"))
    measures = forms.MultipleChoiceField(
        label=_("随访测量项目"), choices=Measure.choices, widget=forms.CheckboxSelectMultiple
    )
    follow_ups_per_year = forms.IntegerField(
        label=_("每年规范随访次数"), min_value=1, max_value=52, initial=4
    )
    systolic_below = forms.IntegerField(label=_("收缩压控制目标（低于）"), required=False)
    diastolic_below = forms.IntegerField(label=_("舒张压控制目标（低于）"), required=False)
    elderly_age = forms.IntegerField(label=_("老年人年龄（岁及以上）"), required=False)
    elderly_systolic_below = forms.IntegerField(label=_("老年人收缩压目标（低于）"), required=False)
    elderly_diastolic_below = forms.IntegerField(label=_("老年人舒张压目标（低于）"), required=False)
    fasting_glucose_below = forms.DecimalField(
        label=_("空腹血糖控制目标（低于，mmol/L）"), required=False, max_digits=4, decimal_places=1
    )
    referral_department_names = forms.CharField(label=_("转诊科室名称关键词"), required=False, max_length=200)
    threshold_source = forms.CharField(
        label=_("标准来源"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    thresholds_confirmed = forms.BooleanField(label=_("标准已核实"), required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
