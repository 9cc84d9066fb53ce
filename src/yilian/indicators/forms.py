"""Forms of the indicator pages: they collect text; the services validate (formulas with their positions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.live import enable_live_check
from yilian.indicators.choices import Direction, IndicatorKind, PeriodType
from yilian.indicators.models import KNOWN_UNITS, Indicator, shown_unit

SHARED = "shared"
"""The consortium choice meaning the shared catalogue."""

TEXT_FIELDS = (
    "code",
    "name",
    "name_en",
    "area",
    "description",
    "kind",
    "numerator",
    "numerator_description",
    "denominator",
    "denominator_description",
    "factor",
    "unit",
    "direction",
    "period_type",
    "decimals",
    "target",
    "weight",
    "source_document",
)


def legend_to_text(legend: list[dict[str, Any]]) -> str:
    """Bands as lines "下限,上限,颜色,标签" (an empty bound is open)."""
    return "\n".join(
        ",".join(
            str(band.get(key) if band.get(key) is not None else "")
            for key in ("from", "to", "color", "label")
        )
        for band in legend or []
    )


def legend_from_text(text: str) -> list[dict[str, Any]]:
    """Lines "下限,上限,颜色,标签" as bands; the service checks colours and bounds."""
    bands = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.replace("，", ",").split(",")]
        parts += [""] * (4 - len(parts))
        bands.append(
            {
                "from": parts[0] or None,
                "to": parts[1] or None,
                "color": parts[2],
                "label": ",".join(parts[3:]).strip(","),
            }
        )
    return bands


class IndicatorForm(forms.Form):
    """Create or edit an indicator (the code is fixed once created)."""

    catalogue = forms.ChoiceField(label=_("指标体系"))
    consortium = forms.ChoiceField(label=_("所属"))
    code = forms.CharField(
        label=_("指标编码"), max_length=60, help_text=_("小写字母、数字和下划线，以字母开头")
    )
    name = forms.CharField(label=_("指标名称"), max_length=200)
    name_en = forms.CharField(label=_("英文名称"), max_length=200, required=False)
    area = forms.CharField(label=_("指标领域"), max_length=60, required=False)
    description = forms.CharField(
        label=_("指标说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    kind = forms.ChoiceField(label=_("类型"), choices=IndicatorKind.choices)
    numerator = forms.CharField(
        label=_("分子公式"),
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        required=False,
        help_text=_("数据项编码、数字、+ - * / 和括号，如 (encounters_outpatient + encounters_emergency)"),
    )
    numerator_description = forms.CharField(label=_("分子说明"), max_length=300, required=False)
    denominator = forms.CharField(
        label=_("分母公式"),
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        required=False,
        help_text=_("留空表示指标值 = 系数 × 分子"),
    )
    denominator_description = forms.CharField(label=_("分母说明"), max_length=300, required=False)
    factor = forms.CharField(label=_("系数"), max_length=20, initial="1")
    unit = forms.CharField(
        label=_("单位"),
        max_length=30,
        required=False,
        # The known units are offered (the template's datalist): English readers read those in English.
        widget=forms.TextInput(attrs={"list": "indicator-units"}),
        help_text=_("常用单位（如 %、人次、元）在英文界面中显示为英文，其他单位按输入显示。"),
    )
    direction = forms.ChoiceField(label=_("方向"), choices=Direction.choices)
    period_type = forms.ChoiceField(label=_("统计周期"), choices=PeriodType.choices)
    decimals = forms.CharField(label=_("小数位数"), max_length=2, initial="2")
    legend = forms.CharField(
        label=_("分段（红黄绿）"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("每行一段：下限,上限,颜色(green/yellow/red),标签；上下限可留空"),
    )
    target = forms.CharField(label=_("目标值"), max_length=30, required=False)
    weight = forms.CharField(label=_("权重"), max_length=12, required=False, initial="0")
    checklist = forms.CharField(
        label=_("评判要点"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("定性指标，每行一条"),
    )
    source_document = forms.CharField(label=_("依据文件"), max_length=300, required=False)
    is_working_definition = forms.BooleanField(label=_("工作定义（口径待核实）"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)

    known_units = ["%", "‰", *KNOWN_UNITS]
    """The units offered on the unit field: those with a reading in every language (``models.KNOWN_UNITS``)."""

    @property
    def unit_options(self) -> list[tuple[str, str]]:
        """The offered units with their reading in the reader's language (the value stays the stored unit)."""
        return [(unit, shown_unit(unit)) for unit in self.known_units]

    def __init__(
        self,
        *args: Any,
        catalogues: list[Any],
        consortia: list[Any],
        may_share: bool,
        indicator: Indicator | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.fields["catalogue"].choices = [(str(c.public_id), c.display_name) for c in catalogues]
        choices = [(SHARED, _("共享指标库（卫健监管）"))] if may_share else []
        choices += [(str(c.public_id), c.name) for c in consortia]
        self.fields["consortium"].choices = choices
        check_url = reverse("indicators:formula_check")
        for name in ("numerator", "denominator"):
            enable_live_check(self.fields[name], check_url, name=name)
        if indicator is not None:
            # Where an indicator lives and its code do not change once it has figures and versions.
            for name in ("catalogue", "consortium", "code"):
                del self.fields[name]

    def service_data(self) -> dict[str, Any]:
        """The values for ``services.indicator_create``/``indicator_update`` (raw text: the service validates)."""
        data: dict[str, Any] = {name: self.data.get(name, "") for name in TEXT_FIELDS if name in self.fields}
        data["legend"] = legend_from_text(self.data.get("legend", ""))
        data["checklist"] = self.data.get("checklist", "")
        data["is_working_definition"] = self.data.get("is_working_definition") in ("on", "true", "1")
        return data


def indicator_initial(indicator: Indicator) -> dict[str, Any]:
    """The edit form's initial values."""
    initial: dict[str, Any] = {name: getattr(indicator, name) for name in TEXT_FIELDS if name != "code"}
    for name in ("factor", "target", "weight"):
        value = initial.get(name)
        initial[name] = "" if value is None else format(value.normalize(), "f")
    initial["legend"] = legend_to_text(indicator.legend)
    initial["checklist"] = "\n".join(indicator.checklist or [])
    initial["is_working_definition"] = indicator.is_working_definition
    initial["version"] = indicator.version
    return initial
