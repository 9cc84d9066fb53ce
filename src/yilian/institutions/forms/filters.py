"""Filter forms of the registry lists: a query string in, selector keyword arguments out."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yilian.core.exceptions import NotFound
from yilian.institutions import selectors
from yilian.institutions.choices import (
    ConsortiumStatus,
    ConsortiumType,
    InstitutionCategory,
    InstitutionStatus,
    RegionLevel,
)
from yilian.institutions.forms.fields import (
    _blank,
    region_label,
    upper_region_choices,
)
from yilian.institutions.models import Consortium, Region


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
    """Consortia that may serve grids."""
    return selectors.grid_serving_consortia(actor)


class CoverageForm(forms.Form):
    """Pick the region of a coverage report."""

    region = forms.ChoiceField(label=_("区域"), required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = coverage_region_choices(actor)  # type: ignore[attr-defined]


def coverage_region_choices(actor: Any) -> list[tuple[str, str]]:
    """Regions the actor may see a coverage report for, as (code, label)."""
    return [(region.code, region_label(region)) for region in selectors.coverage_regions(actor)]
