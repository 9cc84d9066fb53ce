"""Forms of the prescription pages. They parse input; ``prescriptions.services`` validates and decides.

Drugs arrive as the text of a search box backed by a datalist ("医保代码 通用名 规格"): the first word
is the code, resolved among the drugs offered to the doctor, so anything else fails like bad input.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.forms import IsoDateInput
from yilian.people.forms import PersonChoiceField
from yilian.prescriptions.choices import (
    DeliveryStatus,
    DosageForm,
    DrugCategory,
    Frequency,
    PrescriptionKind,
    PrescriptionStatus,
    Route,
)

ITEM_ROWS = 5


def _blank(choices: Any, label: Any = "") -> list[tuple[str, Any]]:
    return [("", label or "—"), *choices]


def drug_option(drug: Any) -> str:
    """How a drug reads in the datalist (its code first, so the form can resolve it)."""
    return f"{drug.code} {drug.name} {drug.strength} {drug.package_label}"


class PrescriptionFilterForm(forms.Form):
    """Filters of the prescription list."""

    kind = forms.ChoiceField(
        label=_("处方类型"), required=False, choices=_blank(PrescriptionKind.choices, _("全部"))
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_blank(PrescriptionStatus.choices, _("全部"))
    )
    prescriber = forms.ChoiceField(label=_("开方医师"), required=False)
    first = forms.DateField(label=_("开具日期自"), required=False, widget=IsoDateInput())
    last = forms.DateField(label=_("至"), required=False, widget=IsoDateInput())
    q = forms.CharField(label=_("处方编号/诊断"), required=False, max_length=50)
    current = forms.BooleanField(label=_("只看有效期内"), required=False)

    def __init__(self, *args: Any, prescribers: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prescriber"].choices = _blank(prescribers or [], _("全部"))


class PrescriptionHeadForm(forms.Form):
    """Where, for whom and what kind: choosing these reloads the form with the matching drugs and sources."""

    institution = forms.ChoiceField(label=_("开方机构"))
    kind = forms.ChoiceField(label=_("处方类型"), choices=PrescriptionKind.choices)
    person = PersonChoiceField(label=_("患者"))
    source = forms.ChoiceField(label=_("原处方（牵头医院）"), required=False)
    department = forms.ChoiceField(label=_("科室"), required=False)
    diagnosis_code = forms.CharField(label=_("诊断编码（ICD-10）"), max_length=20, required=False)
    diagnosis_name = forms.CharField(label=_("诊断名称"), max_length=50, required=False)
    note = forms.CharField(
        label=_("备注"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args: Any,
        institutions: list[tuple[str, str]],
        persons: QuerySet[Any],
        person: Any,
        sources: list[tuple[str, str]],
        departments: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = institutions
        # Any of ``persons`` is accepted; only the chosen one is rendered (the picker searches the rest).
        self.fields["person"].offer(persons, person)
        self.fields["source"].choices = _blank(sources, _("请选择原处方"))
        self.fields["department"].choices = _blank(departments)
        for name in ("institution", "kind", "person", "source"):
            self.fields[name].widget.attrs["data-reload"] = "1"


class ItemForm(forms.Form):
    """One drug row."""

    drug = forms.CharField(label=_("药品"), required=False, max_length=200)
    dose = forms.DecimalField(
        label=_("单次剂量"), required=False, min_value=0, max_digits=8, decimal_places=2
    )
    frequency = forms.ChoiceField(label=_("频次"), required=False, choices=_blank(Frequency.choices))
    route = forms.ChoiceField(
        label=_("给药途径"), required=False, choices=_blank(Route.choices), initial=Route.ORAL
    )
    days = forms.IntegerField(label=_("天数"), required=False, min_value=1, max_value=365)
    quantity = forms.IntegerField(
        label=_("数量（包装）"),
        required=False,
        min_value=1,
        max_value=9999,
        help_text=_("留空则按用量自动计算"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["drug"].widget.attrs.update(
            {"list": "drug-options", "placeholder": _("输入通用名、拼音首字母或医保代码")}
        )
        self.fields["route"].initial = Route.ORAL


ItemFormSet = forms.formset_factory(ItemForm, extra=ITEM_ROWS, max_num=ITEM_ROWS)


class VoidForm(forms.Form):
    """Why a prescription is voided."""

    reason = forms.CharField(
        label=_("作废原因"),
        max_length=200,
        widget=forms.TextInput(),
        error_messages={"required": _("请填写作废原因。")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput())


class DeliveryStepForm(forms.Form):
    """A note with a delivery step (required for cancelling)."""

    note = forms.CharField(label=_("说明"), max_length=300, required=False)


class DeliveryFilterForm(forms.Form):
    """Filters of the delivery list."""

    status = forms.ChoiceField(
        label=_("配送状态"), required=False, choices=_blank(DeliveryStatus.choices, _("全部"))
    )
    open = forms.BooleanField(label=_("只看未完成"), required=False)


class FormularyLimitsForm(forms.Form):
    """The office's prescription limits."""

    long_max_days = forms.IntegerField(label=_("长处方最长用药天数"), min_value=1, max_value=180)
    extended_max_days = forms.IntegerField(label=_("延伸处方最长用药天数"), min_value=1, max_value=180)
    regular_max_days = forms.IntegerField(label=_("普通处方最长用药天数"), min_value=1, max_value=90)
    source_recent_months = forms.IntegerField(
        label=_("延伸处方可引用的原处方月数"), min_value=1, max_value=24
    )
    version = forms.IntegerField(widget=forms.HiddenInput(), required=False)


class StockAddForm(forms.Form):
    """Put a drug on the stock list."""

    drug = forms.CharField(label=_("药品"), max_length=200)
    is_local_addition = forms.BooleanField(label=_("本地增补（不在牵头医院目录中）"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["drug"].widget.attrs.update(
            {"list": "catalogue-options", "placeholder": _("医保代码或通用名")}
        )


class ImportForm(forms.Form):
    """An Excel file to import."""

    file = forms.FileField(label=_("Excel 文件（.xlsx）"))
    replace = forms.BooleanField(label=_("以文件为准（移除文件中没有的药品）"), required=False)


class StockFilterForm(forms.Form):
    """Filters of a stock list."""

    q = forms.CharField(label=_("通用名/拼音/代码"), required=False, max_length=50)
    category = forms.ChoiceField(
        label=_("类别"), required=False, choices=_blank(DrugCategory.choices, _("全部"))
    )
    chronic = forms.BooleanField(label=_("只看慢病用药"), required=False)


class DrugFilterForm(StockFilterForm):
    """Filters of the catalogue."""

    essential = forms.BooleanField(label=_("只看国家基本药物"), required=False)


class DrugForm(forms.Form):
    """A catalogue entry."""

    code = forms.CharField(label=_("医保药品代码"), max_length=30)
    name = forms.CharField(label=_("通用名"), max_length=100)
    dosage_form = forms.ChoiceField(label=_("剂型"), choices=DosageForm.choices)
    strength = forms.CharField(label=_("规格"), max_length=40)
    dose_unit = forms.CharField(label=_("剂量单位"), max_length=8, initial="片")
    package_size = forms.IntegerField(label=_("每包装数量"), min_value=1, initial=1)
    package_unit = forms.CharField(label=_("包装单位"), max_length=8, initial="盒")
    category = forms.ChoiceField(label=_("类别"), choices=DrugCategory.choices)
    is_chronic = forms.BooleanField(label=_("慢病用药"), required=False)
    is_essential = forms.BooleanField(label=_("国家基本药物"), required=False)


class StatisticsForm(forms.Form):
    """Consortium and period of the statistics."""

    consortium = forms.ChoiceField(label=_("医联体"))
    first = forms.DateField(label=_("自"), widget=IsoDateInput())
    last = forms.DateField(label=_("至"), widget=IsoDateInput())

    def __init__(self, *args: Any, consortia: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consortium"].choices = consortia

    def clean(self) -> dict[str, Any]:
        """A reversed period is named under 至 (the page then shows the default period, not an empty one)."""
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last and last < first:
            self.add_error("last", _("结束日期不能早于开始日期。"))
        return data
