"""The root conftest resets the language after every test: an English request or ``translation.activate``
leaves its language active in the thread (``LocaleMiddleware`` does not deactivate it), so the next test
in the same thread read English messages where it expected Chinese ones."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_an_english_request_and_activate_leave_english_active():
    Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert translation.get_language() == "en"
    translation.activate("en")


def test_the_next_test_starts_in_the_default_language():
    assert translation.get_language() == "zh-hans"
    assert translation.gettext("请填写原因。") == "请填写原因。"
