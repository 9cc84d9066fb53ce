"""System texts stored untranslated: rendered in the reader's language, typed and older text as stored."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from yilian.core.messages import Message, message, render, stored


class FollowUpTaskKind(models.TextChoices):
    """A choices class of the test's own (core imports no domain app), labels from the catalogue."""

    FOLLOW_UP = "follow_up", _("首次随访")


def test_a_message_renders_in_the_active_language_not_the_writers():
    with translation.override("en"):
        template, params = stored(message("由 {number} 改派", number="ZZ1"))
    assert (template, params) == ("由 {number} 改派", {"number": "ZZ1"})
    with translation.override("zh-hans"):
        assert render(template, params) == "由 ZZ1 改派"
    with translation.override("en"):
        assert render(template, params) == "Redirected from ZZ1"


def test_a_choice_parameter_is_stored_as_its_value_and_shown_as_the_readers_label():
    template, params = stored(message("{kind}（超时）", kind=FollowUpTaskKind.FOLLOW_UP))
    assert params == {"kind": {"choice": f"{__name__}.FollowUpTaskKind", "value": "follow_up"}}
    assert json.loads(json.dumps(params)) == params
    with translation.override("zh-hans"):
        assert render(template, params) == "首次随访（超时）"
    with translation.override("en"):
        assert render(template, params) == "First follow-up (late)"


def test_typed_text_and_rows_written_before_keep_their_text():
    assert stored("电话未接通") == ("电话未接通", {})
    with translation.override("en"):
        # Typed text (even with braces) and text an older row stored translated show as stored.
        assert render("电话未接通 {x") == "电话未接通 {x"
        assert render("Redirected from ZZ1", {}) == "Redirected from ZZ1"
        # A parameterless msgid is still translated for the reader.
        assert render("接收方未在时限内响应") == "The receiver did not respond in time"
        assert render("") == ""


def test_unknown_choices_missing_parameters_and_unstorable_values_fail_softly_or_early():
    assert render("{kind}", {"kind": {"choice": "yilian.nowhere.Kind", "value": "x"}}) == "x"
    assert render("{kind}", {"kind": {"choice": "os.path", "value": "x"}}) == "x"
    assert render("{kind}", {"kind": {"choice": f"{__name__}.FollowUpTaskKind", "value": "gone"}}) == ("gone")
    assert render("由 {number} 改派", {"other": 1}) == "由 {number} 改派"
    assert message("预约 {day}", day=datetime.date(2026, 3, 1)).params == {"day": "2026-03-01"}
    with translation.override("en"):
        assert str(Message("由 {number} 改派", {"number": "ZZ2"})) == "Redirected from ZZ2"
    with pytest.raises(TypeError):
        message("{x}", x=object())
