"""One wording for a missing value: services say what forms (and the API) say, in both languages."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation

from yilian.core.exceptions import required_message


@pytest.mark.parametrize(
    ("language", "expected"), [("zh-hans", "该字段是必填项。"), ("en", "This field is required.")]
)
def test_services_and_forms_say_the_same_for_a_missing_value(language, expected):
    with translation.override(language):
        assert required_message() == expected
        assert str(forms.CharField().error_messages["required"]) == expected
