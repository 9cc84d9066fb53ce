"""Forms of the people UI. They parse input; ``people.services`` validates ID numbers and decides.

A resident ID number typed into a form is never echoed back into the page
(the field renders empty after a failed submit) and never travels in a URL.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse_lazy
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from yilian.core.exceptions import Invalid
from yilian.core.ui.live import enable_live_check
from yilian.people.choices import Gender, InsuranceScheme
from yilian.people.identifiers import parse_resident_id
from yilian.people.models import Person


def person_label(person: Person) -> str:
    """A person as offered in the resident picker: name, sex, birth year and masked ID number."""
    parts = [person.get_gender_display()]
    if person.birth_date:
        parts.append(gettext_now("%(year)s 年生") % {"year": person.birth_date.year})
    if person.id_number_masked:
        parts.append(person.id_number_masked)
    return gettext_now("%(name)s（%(title)s）") % {
        "name": person.name,
        "title": " · ".join(str(p) for p in parts),
    }


def chosen_person(persons: QuerySet[Person], value: Any) -> Person | None:
    """The person of ``persons`` with public id ``value`` (None for a blank, malformed or unknown id)."""
    try:
        public_id = uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
    return persons.filter(public_id=public_id).first() if public_id else None


class PersonChoiceField(forms.ModelChoiceField):
    """A person chosen with the resident picker (``people/_person_picker.html``), by public id.

    It validates against the queryset the view scopes to the actor (``people.selectors.person_visible_to``
    or narrower) but renders only the chosen person: the picker's search fills in the other options, so
    the page does not grow with the number of residents.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", _("请先搜索并选择患者"))
        kwargs.setdefault(
            "error_messages", {"invalid_choice": _("未找到该居民，或该居民与您所在机构无关联。")}
        )
        super().__init__(queryset=Person.objects.none(), to_field_name="public_id", **kwargs)
        self.widget.attrs["data-testid"] = "person-select"

    def offer(self, persons: QuerySet[Person], chosen: Person | None) -> None:
        """Accept any of ``persons``; render the blank option and ``chosen`` (if any) only."""
        self.queryset = persons
        self.widget.choices = [("", self.empty_label)] + (  # type: ignore[attr-defined]
            [(str(chosen.public_id), person_label(chosen))] if chosen is not None else []
        )

    def to_python(self, value: Any) -> Person | None:
        """The person, or the field's not-found error (also for a malformed id)."""
        try:
            return super().to_python(value)
        except ValidationError as error:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from error


class NoEchoTextInput(forms.TextInput):
    """A text input that never renders the submitted value back into the page."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        """Drop the value so a typed ID number does not reappear in the HTML."""
        return super().get_context(name, None, attrs)


def _id_number_field(required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("身份证号"),
        required=required,
        max_length=18,
        min_length=1,
        strip=True,
        widget=NoEchoTextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "data-testid": "id-number-input"}
        ),
    )


class PersonSearchForm(forms.Form):
    """Search visible persons by name, pinyin initials or phone (GET; no identifiers in URLs)."""

    q = forms.CharField(
        label=_("姓名、拼音首字母或电话"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "data-testid": "person-search-q"}),
    )


class IdLookupForm(forms.Form):
    """Exact lookup by resident ID number (POST, so the number stays out of URLs and access logs)."""

    id_number = _id_number_field(required=True)

    def clean_id_number(self) -> str:
        """Upper-case the check character (``x`` → ``X``)."""
        return self.cleaned_data["id_number"].upper()


class PersonFieldsForm(forms.Form):
    """The editable fields of a person."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    gender = forms.ChoiceField(
        label=_("性别"), choices=[("", _("（按身份证号）")), *Gender.choices], required=False
    )
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("有身份证号时可不填，按身份证号确定。"),
    )
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    address = forms.CharField(label=_("现住址"), max_length=300, required=False)
    address_region = forms.CharField(
        label=_("现住址区划代码"),
        max_length=12,
        required=False,
        help_text=_("乡镇 9 位或村 12 位区划代码，可不填。"),
    )
    insurance_scheme = forms.ChoiceField(
        label=_("参保类型"), choices=InsuranceScheme.choices, initial=InsuranceScheme.RESIDENT
    )
    home_grid = forms.ModelChoiceField(
        label=_("所属网格"),
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label=_("（未指定）"),
    )

    def __init__(self, *args: Any, grids: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_grid"].queryset = grids  # type: ignore[attr-defined]

    def offer_grids(self, grids: QuerySet[Any]) -> None:
        """Offer only ``grids`` (those of the person's county) in the home grid select.

        The field still parses any grid of its queryset, so a grid of another county posted anyway
        gets the service's explanation on ``home_grid`` rather than a bare "not a valid choice".
        """
        field = self.fields["home_grid"]
        field.widget.choices = [("", field.empty_label)] + [  # type: ignore[attr-defined]
            (str(grid.public_id), field.label_from_instance(grid))  # type: ignore[attr-defined]
            for grid in grids
        ]

    def clean_address_region(self) -> str:
        """Digits only."""
        code = (self.cleaned_data.get("address_region") or "").strip()
        if code and not code.isdigit():
            raise forms.ValidationError(_("区划代码只能包含数字。"))
        return code

    def person_data(self) -> dict[str, Any]:
        """Keyword arguments for the people services; blank gender/birth date are left to the ID number.

        ``address_region`` stays a code; the view resolves it to a region.
        """
        data = {key: value for key, value in self.cleaned_data.items() if key in self.fields}
        data.pop("institution", None)
        data.pop("id_number", None)
        data.pop("seen_updated_at", None)
        for key in ("gender", "birth_date"):
            if key in data and data[key] in ("", None):
                data.pop(key)
        for key in [name for name, field in self.fields.items() if field.disabled]:
            data.pop(key, None)
        return data


class PersonRegisterForm(PersonFieldsForm):
    """Register a person at one of the actor's institutions."""

    institution = forms.ModelChoiceField(
        label=_("登记机构"), queryset=None, to_field_name="public_id", empty_label=None
    )
    id_number = _id_number_field(required=False)

    field_order = ["institution", "id_number", "name", "gender", "birth_date", "phone"]

    def __init__(self, *args: Any, institutions: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions  # type: ignore[attr-defined]
        enable_live_check(
            self.fields["id_number"], reverse_lazy("people:check-id-number"), name="id_number", post=True
        )
        self.fields["id_number"].help_text = _(
            "18 位居民身份证号；无证件（如新生儿）可留空。出错时需重新输入。"
        )

    def clean_id_number(self) -> str:
        """Check the number with the other fields, so every error shows at once (the service checks again)."""
        value = (self.cleaned_data.get("id_number") or "").upper()
        if value:
            try:
                parse_resident_id(value)
            except Invalid as error:
                raise forms.ValidationError(error.as_text().get("id_number") or str(error.message)) from error
        return value


class PersonEditForm(PersonFieldsForm):
    """Change a person's details. With an ID number on file, birth date and gender follow it."""

    # When the edited record was last saved: a save over someone else's newer one is refused.
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, has_id_number: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        gender = self.fields["gender"]
        if has_id_number:
            for name in ("birth_date", "gender"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("由身份证号确定，不能修改。")
        else:
            gender.choices = Gender.choices  # type: ignore[attr-defined]
            gender.required = True
            self.fields["birth_date"].help_text = ""

    def seen(self) -> datetime.datetime | None:
        """The posted save time of the record the user edited (none when missing or unreadable)."""
        try:
            return parse_datetime(self.cleaned_data.get("seen_updated_at") or "")
        except ValueError:
            return None


class RevealForm(forms.Form):
    """Why the full ID number is needed (recorded in the audit log)."""

    purpose = forms.CharField(
        label=_("查看用途"),
        max_length=200,
        widget=forms.TextInput(attrs={"data-testid": "reveal-purpose", "placeholder": _("如：办理医保结算")}),
    )
