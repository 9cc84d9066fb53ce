"""Widgets, fields and labels shared by the registry forms."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yilian.institutions import selectors
from yilian.institutions.choices import (
    RegionLevel,
)
from yilian.institutions.models import ConsortiumMember, Institution, Region

IDEOGRAPHIC_SPACE = "\u3000"
# The largest value of the counts' PositiveIntegerField columns (PostgreSQL ``integer``), as the API caps them.
MAX_COUNT = 2_147_483_647


def _blank(choices: Any, label: str | Any = "") -> list[tuple[str, Any]]:
    """Choices with an empty first option (for filters and optional selects)."""
    return [("", label or _("全部")), *choices]


def region_label(region: Region) -> str:
    """A region as shown in a select: indented by level so the list reads as a tree."""
    depth = {RegionLevel.PROVINCE: 0, RegionLevel.PREFECTURE: 1, RegionLevel.COUNTY: 2}.get(region.level, 3)
    return IDEOGRAPHIC_SPACE * depth + gettext("%(name)s（%(code)s）") % {
        "name": region.name,
        "code": region.code,
    }


def upper_region_choices(actor: Any, current: str = "") -> list[tuple[str, str]]:
    """Province, prefecture and county regions as (code, label), plus ``current`` if deeper (one query)."""
    choices = [(region.code, region_label(region)) for region in selectors.upper_regions(actor)]
    if current and all(code != current for code, _label in choices):
        choices.append((current, current))
    return choices


def institution_label(institution: Institution) -> str:
    """An institution as shown in a picker: name, region and category (ASCII brackets in English)."""
    return gettext("%(name)s（%(region)s · %(category)s）") % {
        "name": institution.name,
        "region": institution.region.name,
        "category": institution.get_category_display(),
    }


class RegionCodeInput(forms.TextInput):
    """A text input for a region code with a ``<datalist>`` of suggestions (code and name)."""

    template_name = "institutions/widgets/region_code_input.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.suggestions: list[tuple[str, str]] = []

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        """Add the datalist id and options."""
        attrs = dict(attrs or {})
        attrs["list"] = f"{attrs.get('id', name)}-options"
        attrs.setdefault("inputmode", "numeric")
        attrs.setdefault("autocomplete", "off")
        context = super().get_context(name, value, attrs)
        context["widget"]["datalist_id"] = attrs["list"]
        context["widget"]["suggestions"] = self.suggestions
        return context

    def format_value(self, value: Any) -> str | None:
        """Show a region instance as its code."""
        if isinstance(value, Region):
            return value.code
        return super().format_value(value)


class RegionCodeField(forms.ModelChoiceField):
    """A region chosen by its GB/T 2260 code, typed or picked from suggestions."""

    widget = RegionCodeInput

    def __init__(self, queryset: QuerySet[Region], **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("error_messages", {"invalid_choice": _("区划代码不存在或不在您的管辖范围内。")})
        super().__init__(queryset, **kwargs)

    def suggest(self, regions: QuerySet[Region]) -> None:
        """Fill the widget's datalist from ``regions``."""
        self.widget.suggestions = [(region.code, region.name) for region in regions]  # type: ignore[attr-defined]


class InstitutionPickerField(forms.ModelChoiceField):
    """An institution chosen from a searchable select (options narrowed by a search term)."""

    def __init__(self, queryset: QuerySet[Institution], **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(queryset, **kwargs)

    def label_from_instance(self, obj: Institution) -> str:
        """Name with region and category."""
        return institution_label(obj)

    def offer(self, options: list[Institution], selected: Any = None) -> None:
        """Render only ``options`` (plus the selected institution), not the whole queryset."""
        chosen = list(options)
        if selected:
            if isinstance(selected, Institution):
                found: Institution | None = selected
            else:
                found = self.queryset.filter(public_id=selected).first() if _is_uuid(selected) else None
            if found is not None and all(item.pk != found.pk for item in chosen):
                chosen.insert(0, found)
        self.widget.choices = [("", "---------"), *((str(i.public_id), institution_label(i)) for i in chosen)]


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class MemberChoiceField(forms.ModelChoiceField):
    """A lead or sub-lead of the consortium, by public id."""

    def __init__(self, queryset: QuerySet[ConsortiumMember], **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(queryset, **kwargs)

    def label_from_instance(self, obj: ConsortiumMember) -> str:
        """Institution name and role."""
        return gettext("%(name)s（%(title)s）") % {
            "name": obj.institution.name,
            "title": obj.get_role_display(),
        }
