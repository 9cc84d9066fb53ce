"""Forms of the referral management pages: reserved capacity, criteria catalogue, settings and
subsidies, statistics filters and monthly service volumes.

Forms only parse what the user typed into the shapes the services expect;
the services have the final word on every rule and their ``Invalid``
messages are shown inline on these forms.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yilian.institutions.models import Consortium, Department
from yilian.people.choices import InsuranceScheme
from yilian.referrals.choices import (
    CapacityKind,
    CriterionCategory,
    Material,
    MissingMaterialAction,
    ReferralPriority,
)
from yilian.referrals.models import ReferralCriterion, ReferralSettings, ReservedCapacity

MAX_STATISTICS_MONTHS = 36
"""Longest period the statistics page shows at once (the tables have a column per month)."""

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


class MonthInput(forms.TextInput):
    """A browser month picker (``YYYY-MM``)."""

    input_type = "month"


def month_start(day: datetime.date) -> datetime.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last twelve full months: (first day, last day)."""
    today = today or timezone.localdate()
    last = month_start(today) - datetime.timedelta(days=1)
    return add_months(last, -11), last


def parse_month(value: str, *, end: bool = False) -> datetime.date:
    """``YYYY-MM`` → the month's first (or, with ``end``, last) day; ``YYYY-MM-DD`` → that day.

    Raises ``ValueError`` for anything else.
    """
    match = _MONTH.match(value.strip())
    if match is None:
        raise ValueError(value)
    year, month, day = match.groups()
    if day is not None:
        return datetime.date(int(year), int(month), int(day))
    first = datetime.date(int(year), int(month), 1)
    return month_end(first) if end else first


class MonthField(forms.CharField):
    """A month typed as ``YYYY-MM`` (a full ``YYYY-MM-DD`` date is accepted too)."""

    def __init__(self, *, end: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MonthInput())
        super().__init__(**kwargs)
        self.end = end

    def to_python(self, value: Any) -> datetime.date | None:  # type: ignore[override]
        """The first (or last) day of the month, None when empty."""
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_month(text, end=self.end)
        except ValueError as error:
            raise forms.ValidationError(_("请按“年-月”填写月份，例如 2025-03。"), code="invalid") from error

    def prepare_value(self, value: Any) -> Any:
        """Show dates as ``YYYY-MM``."""
        if isinstance(value, datetime.date):
            return f"{value:%Y-%m}"
        return value


# Reserved capacity ------------------------------------------------------------


@dataclass
class CapacityCell:
    """One day × column of the grid: its input and what is already published."""

    kind: str
    field: forms.BoundField
    capacity: ReservedCapacity | None
    signed_residents_only: bool = False


@dataclass
class CapacityDay:
    """One row of the grid."""

    date: datetime.date
    cells: list[CapacityCell]


CAPACITY_COLUMNS: list[tuple[str, bool]] = [
    *((kind, False) for kind in CapacityKind.values),
    *((kind, True) for kind in CapacityKind.values),
]
"""Columns of the grid: each kind's general places, then each kind's places kept for signed residents."""


def capacity_column_labels() -> list[tuple[str, bool, str]]:
    """(kind, signed_residents_only, label) of every column."""
    return [
        (
            kind,
            signed,
            f"{CapacityKind(kind).label}（{_('签约居民')}）" if signed else str(CapacityKind(kind).label),
        )
        for kind, signed in CAPACITY_COLUMNS
    ]


class CapacityGridForm(forms.Form):
    """Quantities of a department's reserved capacity: one input per day and column (kind, and whether
    the places are kept for family-doctor signed residents).

    An empty input leaves the day unpublished (or unchanged); 0 withdraws
    the places that are not yet booked.
    """

    def __init__(
        self,
        *args: Any,
        days: list[datetime.date],
        published: dict[tuple[datetime.date, str, bool], ReservedCapacity],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.days = days
        self.published = published
        for day in days:
            for kind, signed, column in capacity_column_labels():
                existing = published.get((day, kind, signed))
                label = f"{day:%Y-%m-%d} {column}"
                self.fields[self.cell_name(day, kind, signed)] = forms.IntegerField(
                    label=label,
                    required=False,
                    min_value=0,
                    max_value=500,
                    initial=existing.quantity if existing else None,
                    widget=forms.NumberInput(
                        attrs={"min": 0, "max": 500, "class": "qty", "aria-label": label}
                    ),
                )

    @staticmethod
    def cell_name(day: datetime.date, kind: str, signed: bool = False) -> str:
        """The input name of one cell."""
        return f"q_{day:%Y%m%d}_{kind}{'_signed' if signed else ''}"

    def grid(self) -> list[CapacityDay]:
        """Rows of the grid for the template."""
        return [
            CapacityDay(
                date=day,
                cells=[
                    CapacityCell(
                        kind,
                        self[self.cell_name(day, kind, signed)],
                        self.published.get((day, kind, signed)),
                        signed,
                    )
                    for kind, signed in CAPACITY_COLUMNS
                ],
            )
            for day in self.days
        ]

    def changes(self) -> list[tuple[datetime.date, str, int, bool]]:
        """(day, kind, quantity, signed_residents_only) of every cell whose quantity was typed and differs
        from the published one."""
        changed = []
        for day in self.days:
            for kind, signed in CAPACITY_COLUMNS:
                quantity = self.cleaned_data.get(self.cell_name(day, kind, signed))
                existing = self.published.get((day, kind, signed))
                if quantity is None or (existing is not None and existing.quantity == quantity):
                    continue
                changed.append((day, kind, quantity, signed))
        return changed


# Criteria catalogue --------------------------------------------------------------


class CriterionForm(forms.Form):
    """One rule of the consortium's referral catalogue."""

    name = forms.CharField(label=_("名称"), max_length=100)
    category = forms.ChoiceField(label=_("类别"), choices=CriterionCategory.choices)
    icd_from = forms.CharField(label=_("ICD-10 起"), max_length=11, help_text=_("例如 I10、I63.9、I10.x00"))
    icd_to = forms.CharField(label=_("ICD-10 止"), max_length=11)
    triggers = forms.CharField(
        label=_("触发条件"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一条，例如“血压 ≥ 180/110 mmHg”。"),
    )
    required_materials = forms.MultipleChoiceField(
        label=_("必需资料"),
        required=False,
        choices=Material.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checks"}),
    )
    completeness_threshold = forms.IntegerField(
        label=_("资料完整度阈值（%）"), min_value=0, max_value=100, initial=85
    )
    missing_action = forms.ChoiceField(
        label=_("资料不全时"),
        choices=MissingMaterialAction.choices,
        initial=MissingMaterialAction.WARN,
        widget=forms.RadioSelect(attrs={"class": "checks"}),
    )
    min_stay_days = forms.IntegerField(
        label=_("建议下转的最短住院日"),
        required=False,
        min_value=1,
        max_value=365,
        help_text=_("仅用于“下转康复”类标准，留空表示不提示。"),
    )
    source = forms.CharField(label=_("依据"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    @staticmethod
    def initial_for(criterion: ReferralCriterion) -> dict[str, Any]:
        """Initial values from a stored rule."""
        return {
            "name": criterion.name,
            "category": criterion.category,
            "icd_from": criterion.icd_from,
            "icd_to": criterion.icd_to,
            "triggers": "\n".join(criterion.triggers or []),
            "required_materials": list(criterion.required_materials or []),
            "completeness_threshold": criterion.completeness_threshold,
            "missing_action": criterion.missing_action,
            "min_stay_days": criterion.min_stay_days,
            "source": criterion.source,
            "is_active": criterion.is_active,
        }

    def service_data(self) -> dict[str, Any]:
        """The cleaned values as ``criterion_create`` / ``criterion_update`` take them."""
        data = dict(self.cleaned_data)
        data["triggers"] = [line.strip() for line in data["triggers"].splitlines() if line.strip()]
        data["required_materials"] = list(data["required_materials"])
        return data


# Settings and subsidies -----------------------------------------------------------

PRIORITY_FIELDS = (
    ("answer_hours_stat", ReferralPriority.EMERGENCY),
    ("answer_hours_urgent", ReferralPriority.URGENT),
    ("answer_hours_routine", ReferralPriority.ROUTINE),
)
UP_BOUND_FIELDS = ("up_rate_excellent", "up_rate_good", "up_rate_fair")
DOWN_BOUND_FIELDS = ("down_rate_excellent", "down_rate_good", "down_rate_fair")
SUBSIDY_FIELDS = (
    ("subsidy_resident", InsuranceScheme.RESIDENT),
    ("subsidy_employee", InsuranceScheme.EMPLOYEE),
)


def _hours(label: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=720)


def _bound(label: Any) -> forms.FloatField:
    return forms.FloatField(
        label=label, min_value=0, max_value=100, widget=forms.NumberInput(attrs={"step": "0.1"})
    )


def _amount(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal("0"), max_value=Decimal("100000"), decimal_places=2, max_digits=8
    )


class ReferralSettingsForm(forms.Form):
    """A consortium's referral settings and deductible difference subsidies on one page."""

    answer_hours_stat = _hours(_("急危重（绿色通道）响应时限（小时）"))
    answer_hours_urgent = _hours(_("加急响应时限（小时）"))
    answer_hours_routine = _hours(_("普通响应时限（小时）"))
    expiry_grace_hours = forms.IntegerField(
        label=_("超过响应时限后自动过期（小时）"), min_value=1, max_value=720
    )
    arrival_grace_days = forms.IntegerField(label=_("预约后到诊宽限（天）"), min_value=1, max_value=30)
    follow_up_hours = forms.IntegerField(label=_("下转后首次随访时限（小时）"), min_value=1, max_value=720)
    rehabilitation_days = forms.IntegerField(
        label=_("下转后首次康复记录时限（天）"), min_value=1, max_value=90
    )
    up_rate_excellent = _bound(_("上转率“优”的上限（%）"))
    up_rate_good = _bound(_("上转率“良”的上限（%）"))
    up_rate_fair = _bound(_("上转率“中”的上限（%）"))
    down_rate_excellent = _bound(_("下转率“优”的下限（%）"))
    down_rate_good = _bound(_("下转率“良”的下限（%）"))
    down_rate_fair = _bound(_("下转率“中”的下限（%）"))
    subsidy_resident = _amount(_("城乡居民医保补贴（元/例）"))
    subsidy_employee = _amount(_("职工医保补贴（元/例）"))

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    @staticmethod
    def initial_for(settings: ReferralSettings, subsidies: dict[str, Decimal]) -> dict[str, Any]:
        """Initial values from the stored settings and subsidy amounts (0 when none is set)."""
        hours = settings.answer_hours or {}
        bounds = settings.grade_bounds or {}
        initial: dict[str, Any] = {
            "expiry_grace_hours": settings.expiry_grace_hours,
            "arrival_grace_days": settings.arrival_grace_days,
            "follow_up_hours": settings.follow_up_hours,
            "rehabilitation_days": settings.rehabilitation_days,
        }
        for name, priority in PRIORITY_FIELDS:
            initial[name] = hours.get(priority)
        for names, key in ((UP_BOUND_FIELDS, "up_rate"), (DOWN_BOUND_FIELDS, "down_rate")):
            for name, value in zip(names, bounds.get(key) or [], strict=False):
                initial[name] = value
        for name, scheme in SUBSIDY_FIELDS:
            initial[name] = subsidies.get(scheme, Decimal("0"))
        return initial

    def clean(self) -> dict[str, Any]:
        """Tell early which group of grade bounds is out of order (the service checks again)."""
        data = super().clean() or {}
        up = [data.get(name) for name in UP_BOUND_FIELDS]
        if None not in up and up != sorted(up):
            self.add_error(UP_BOUND_FIELDS[0], _("上转率越低越好：优、良、中的界值应由低到高。"))
        down = [data.get(name) for name in DOWN_BOUND_FIELDS]
        if None not in down and down != sorted(down, reverse=True):
            self.add_error(DOWN_BOUND_FIELDS[0], _("下转率越高越好：优、良、中的界值应由高到低。"))
        return data

    def settings_data(self) -> dict[str, Any]:
        """The values as ``referral_settings_update`` takes them."""
        data = self.cleaned_data
        return {
            "answer_hours": {str(priority): data[name] for name, priority in PRIORITY_FIELDS},
            "expiry_grace_hours": data["expiry_grace_hours"],
            "arrival_grace_days": data["arrival_grace_days"],
            "follow_up_hours": data["follow_up_hours"],
            "rehabilitation_days": data["rehabilitation_days"],
            "grade_bounds": {
                "up_rate": [data[name] for name in UP_BOUND_FIELDS],
                "down_rate": [data[name] for name in DOWN_BOUND_FIELDS],
            },
        }


# Statistics --------------------------------------------------------------------


class _ConsortiumFilter(forms.Form):
    """A GET filter whose consortium is one of a list the view already read (one query for the
    options and the lookup). Missing parameters take their defaults, so the form always shows
    what the page shows."""

    consortium = forms.ChoiceField(label=_("医联体"), required=False)

    def __init__(self, data: Any, *, consortia: list[Consortium], **kwargs: Any) -> None:
        self.consortia = {str(consortium.public_id): consortium for consortium in consortia}
        data = data.copy()
        for name, value in self.defaults().items():
            if not data.get(name):
                data[name] = value
        super().__init__(data, **kwargs)
        self.fields["consortium"].choices = [(key, c.name) for key, c in self.consortia.items()]  # type: ignore[attr-defined]

    def defaults(self) -> dict[str, str]:
        """Values of the parameters left out: the first consortium."""
        return {"consortium": next(iter(self.consortia), "")}

    def clean_consortium(self) -> Consortium | None:
        """The chosen consortium (None when the actor oversees none)."""
        return self.consortia.get(self.cleaned_data.get("consortium") or "")


class StatisticsFilterForm(_ConsortiumFilter):
    """Which consortium and which months to show (default: the first consortium, the last 12 full months).

    The months are the query parameters ``from`` and ``to`` (``YYYY-MM``, or a ``YYYY-MM-DD`` day).
    """

    def __init__(self, data: Any, *, consortia: list[Consortium], **kwargs: Any) -> None:
        super().__init__(data, consortia=consortia, **kwargs)
        self.fields["from"] = MonthField(label=_("起始月份"))
        self.fields["to"] = MonthField(label=_("截止月份"), end=True)

    def defaults(self) -> dict[str, str]:
        """The first consortium and the last 12 full months."""
        first, last = default_period()
        return {**super().defaults(), "from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"}

    def clean(self) -> dict[str, Any]:
        """The period must run forwards and span at most 36 months."""
        data = super().clean() or {}
        first, last = data.get("from"), data.get("to")
        if first is None or last is None:
            return data
        if first > last:
            self.add_error("to", _("截止月份不能早于起始月份。"))
        elif add_months(first, MAX_STATISTICS_MONTHS) <= last:
            self.add_error("to", _("一次最多统计 %(months)s 个月。") % {"months": MAX_STATISTICS_MONTHS})
        return data

    def period(self) -> tuple[datetime.date, datetime.date]:
        """(first day, last day) of a valid form."""
        return self.cleaned_data["from"], self.cleaned_data["to"]


class SubsidyFilterForm(_ConsortiumFilter):
    """Which consortium and month to list subsidies for (default: the previous month)."""

    month = MonthField(label=_("月份"))

    def defaults(self) -> dict[str, str]:
        """The first consortium and the previous month."""
        return {**super().defaults(), "month": f"{default_period()[1]:%Y-%m}"}

    def clean_month(self) -> datetime.date:
        """The month's first day."""
        return month_start(self.cleaned_data["month"])


# Service volumes ------------------------------------------------------------------


class ServiceVolumeForm(forms.Form):
    """One month's outpatient visits, admissions and discharges of the institution or one department."""

    month = MonthField(label=_("月份"))
    department = forms.ModelChoiceField(
        label=_("科室"),
        queryset=Department.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label=_("全院"),
        help_text=_("留空表示全院合计（上转率的分母）；出院人次按科室填报（下转率的分母）。"),
    )
    outpatient_visits = forms.IntegerField(label=_("门急诊人次"), min_value=0, initial=0)
    admissions = forms.IntegerField(label=_("入院人次"), min_value=0, initial=0)
    discharges = forms.IntegerField(label=_("出院人次"), min_value=0, initial=0)

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]
