"""Forms of grids: planning, areas, assignment."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.forms import IsoDateInput
from yilian.institutions import selectors
from yilian.institutions.choices import (
    ConsortiumStatus,
    RegionLevel,
)
from yilian.institutions.forms.fields import (
    MAX_COUNT,
    region_label,
)
from yilian.institutions.forms.filters import (
    grid_consortia,
)
from yilian.institutions.models import Consortium, Grid, Region


def plannable_regions(actor: Any) -> QuerySet[Region]:
    """Prefecture and county regions where the actor may plan grids."""
    return selectors.plannable_regions(actor)


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
    population = forms.IntegerField(label=_("服务人口"), required=False, min_value=0, max_value=MAX_COUNT)
    description = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    area_codes = forms.MultipleChoiceField(
        label=_("覆盖区域"), required=False, widget=forms.CheckboxSelectMultiple
    )
    # When the edited grid was last saved: a save over someone else's newer one is refused.
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, areas: list[Region], grid: Grid | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grid = grid
        self.areas = areas
        self.fields["area_codes"].choices = [(area.code, area.name) for area in areas]  # type: ignore[attr-defined]
        if grid is not None:
            del self.fields["code"]

    def clean_seen_updated_at(self) -> datetime.datetime | None:
        """The posted save time of the grid the user edited (none on a new grid or when unreadable)."""
        try:
            return parse_datetime(self.cleaned_data.get("seen_updated_at") or "")
        except ValueError:
            return None

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
