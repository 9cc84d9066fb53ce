"""Bridges between Django forms and the domain exceptions."""

from __future__ import annotations

from django import forms
from django.utils.translation import pgettext

from yilian.core.exceptions import Invalid


def add_domain_errors(form: forms.BaseForm, error: Invalid, field_map: dict[str, str] | None = None) -> None:
    """Show a service's ``Invalid`` field messages inline on the form.

    Messages for fields the form does not have become non-field errors.
    ``field_map`` renames service field names to form field names.
    """
    field_map = field_map or {}
    for field, messages in error.as_text().items():
        name = field_map.get(field, field)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)


def invalid_message(error: Invalid) -> str:
    """Every message of a service's ``Invalid`` as one notice for a page without its form: joined with
    "；" in Chinese and "; " in English (a fixed "；" put a full-width mark between English sentences)."""
    return pgettext("punctuation", "；").join(
        message for messages in error.as_text().values() for message in messages
    )


class IsoDateInput(forms.DateInput):
    """A browser date picker. Its value must be ISO ``YYYY-MM-DD`` whatever the language:
    the Chinese locale's display format (``2020/07/01``) would leave the picker empty
    and the next save would clear the date."""

    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")
