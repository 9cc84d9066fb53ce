"""Forms of the diagnostics pages: shape only; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yilian.diagnostics.choices import (
    CentreKind,
    OrderPriority,
    OrderStatus,
    RecognitionScope,
    RejectionReason,
    rejection_reasons_for,
)
from yilian.institutions.models import Department, Institution


class DashboardFilterForm(forms.Form):
    """The statistics page's period; a date that is not a date, or an end before the start, is named under
    its field instead of silently showing every order or none."""

    since = forms.DateField(label=_("开始日期"), required=False)
    until = forms.DateField(label=_("结束日期"), required=False)

    def clean(self) -> dict[str, Any]:
        """The end may not come before the start."""
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("结束日期不能早于开始日期。"))
        return data


class OrderFilterForm(forms.Form):
    """Filters of the order list."""

    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *OrderStatus.choices]
    )
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)


class OrderForm(forms.Form):
    """A new order. ``institution`` and ``item`` choices come from the actor's institutions and what serves them."""

    institution = forms.ModelChoiceField(label=_("开单机构"), queryset=Institution.objects.none())
    item = forms.ChoiceField(label=_("检查检验项目"))
    priority = forms.ChoiceField(
        label=_("优先级"), choices=OrderPriority.choices, initial=OrderPriority.ROUTINE
    )
    diagnosis_code = forms.CharField(label=_("临床诊断编码（ICD-10）"), max_length=20)
    diagnosis_name = forms.CharField(label=_("临床诊断"), max_length=50, required=False)
    clinical_info = forms.CharField(
        label=_("临床资料"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    repeat_reason = forms.CharField(
        label=_("重复检查原因"), max_length=200, required=False, help_text=_("患者已有可互认结果时必填")
    )

    def __init__(self, *args: Any, institutions: Any, items: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions
        if institutions.count() == 1:
            self.fields["institution"].initial = institutions.first()
        self.items = {str(item.public_id): item for item in items}
        self.fields["item"].choices = [
            (
                key,
                _("{centre} · {code} {name}（{price} 元）").format(
                    centre=item.centre.name, code=item.code, name=item.name, price=item.price
                ),
            )
            for key, item in self.items.items()
        ]

    def clean_item(self) -> Any:
        """The chosen catalogue item."""
        return self.items[self.cleaned_data["item"]]


class ActionForm(forms.Form):
    """The inputs of one workflow action (fields are added per action)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def action_form(
    action: str, data: Any = None, initial: dict[str, Any] | None = None, *, kind: str = ""
) -> ActionForm:
    """The form of ``action`` with the fields it takes; ``kind`` (the order's centre kind) picks the
    rejection reasons that apply (all of them without it)."""
    form = ActionForm(data, initial=initial, prefix=action)
    text = forms.Textarea(attrs={"rows": 4})
    if action in ("save_preliminary", "sign", "amend"):
        form.fields["findings"] = forms.CharField(label=_("检查所见"), required=False, widget=text)
        form.fields["conclusion"] = forms.CharField(
            label=_("诊断意见"), widget=forms.Textarea(attrs={"rows": 3})
        )
        form.fields["is_abnormal"] = forms.BooleanField(label=_("结果异常"), required=False)
    if action in ("sign", "second_sign", "amend"):
        form.fields["critical_value"] = forms.CharField(
            label=_("危急值"), max_length=300, required=False, help_text=_("填写后立即通知开单医生")
        )
    if action == "sign":
        form.fields["request_second_reader"] = forms.BooleanField(
            label=_("需要第二位医生复核"), required=False
        )
    if action == "amend":
        form.fields["reason"] = forms.CharField(label=_("修订原因"), max_length=300)
    if action == "cancel":
        form.fields["reason"] = forms.CharField(label=_("撤销原因"), max_length=200)
    if action == "reject":
        reasons = rejection_reasons_for(kind) if kind else tuple(RejectionReason)
        form.fields["reason"] = forms.ChoiceField(
            label=_("拒收原因"), choices=[(reason.value, reason.label) for reason in reasons]
        )
        form.fields["note"] = forms.CharField(label=_("说明"), max_length=300, required=False)
    return form


def fields_for_service(form: ActionForm) -> dict[str, Any]:
    """The cleaned action inputs, without the version."""
    return {k: v for k, v in form.cleaned_data.items() if k != "expected_version"}


class CriticalValueForm(forms.Form):
    """A critical value reported on its own from the order page (the service checks it is not empty)."""

    description = forms.CharField(
        label=_("危急值内容"),
        max_length=300,
        required=False,
        help_text=_("提交后立即通知开单医生"),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
    )


class UploadForm(forms.Form):
    """The study's files."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReceiveForm(forms.Form):
    """Scan or type a specimen barcode."""

    barcode = forms.CharField(
        label=_("标本条码"), max_length=40, widget=forms.TextInput(attrs={"autofocus": True})
    )


class AcknowledgeForm(forms.Form):
    """Acknowledge a critical value with the record of what was done (required)."""

    note = forms.CharField(
        label=_("处置记录"),
        max_length=300,
        help_text=_("已对患者采取了哪些措施（必填）"),
        error_messages={"required": _("请填写处置记录：已对患者采取了哪些措施。")},
    )


class DepartmentChoiceField(forms.ModelChoiceField):
    """A department named with its institution (several members may have a 检验科)."""

    def label_from_instance(self, obj: Any) -> str:
        """The institution and the department, e.g. "某县人民医院 · 检验科"."""
        return f"{obj.institution.name} · {obj.name}"


class CentreForm(forms.Form):
    """A new shared centre."""

    consortium = forms.ChoiceField(label=_("医联体"))
    kind = forms.ChoiceField(label=_("类型"), choices=CentreKind.choices)
    name = forms.CharField(label=_("名称"), max_length=100)
    hub_institution = forms.ModelChoiceField(label=_("牵头机构"), queryset=Institution.objects.none())
    department = DepartmentChoiceField(
        label=_("承担科室"),
        queryset=Department.objects.none(),
        help_text=_("牵头机构的科室；只有该科室的人员可以接收标本、阅片和签发报告。"),
    )
    served_institutions = forms.ModelMultipleChoiceField(
        label=_("服务机构"), queryset=Institution.objects.none(), required=False
    )
    critical_ack_minutes = forms.IntegerField(
        label=_("危急值确认时限（分钟）"), min_value=1, max_value=1440, initial=30
    )


class ItemForm(forms.Form):
    """A new catalogue item."""

    centre = forms.ChoiceField(label=_("中心"))
    code = forms.CharField(label=_("项目编码"), max_length=30)
    name = forms.CharField(label=_("项目名称"), max_length=100)
    price = forms.DecimalField(label=_("价格（元）"), min_value=0, max_digits=10, decimal_places=2)
    turnaround_hours = forms.IntegerField(label=_("报告时限（小时）"), min_value=1, max_value=1440)
    specimen = forms.CharField(label=_("标本/采集管"), max_length=100, required=False)
    requires_second_reader = forms.BooleanField(label=_("需二次审核"), required=False)


class RuleForm(forms.Form):
    """A new recognition rule."""

    consortium = forms.ChoiceField(label=_("医联体"))
    item_code = forms.CharField(label=_("项目编码"), max_length=30)
    name = forms.CharField(label=_("项目名称"), max_length=100)
    validity_days = forms.IntegerField(label=_("有效期（天）"), min_value=1, max_value=3650)
    scope = forms.ChoiceField(label=_("互认范围"), choices=RecognitionScope.choices)
