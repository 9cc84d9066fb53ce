"""Typed text shown inside a sentence of ours ("原因：……") gets a full stop only when it has none of its own."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils.translation import override

from yilian.core.text import sentence


@pytest.mark.parametrize(
    "typed",
    [
        "数据有误。",
        "数据有误！",
        "数据有误？",
        "wrong data.",
        "wrong?",
        "wrong!",
        "数据有误……",
        "他说“重算。”",
        "（见附件。）",
        "数据有误。  ",
    ],
)
def test_text_that_ends_a_sentence_keeps_its_own_punctuation_only(typed):
    with override("zh-hans"):
        assert sentence(typed) == typed.rstrip()
    with override("en"):
        assert sentence(typed) == typed.rstrip()


def test_a_full_stop_in_the_active_language_is_added_otherwise():
    with override("zh-hans"):
        assert sentence("数据有误") == "数据有误。"
        assert sentence("见附件（第3页）") == "见附件（第3页）。"
        assert sentence("  ") == ""
    with override("en"):
        assert sentence("wrong data ") == "wrong data."


def test_the_sentence_filter_escapes():
    template = Template("{% load core_ui %}原因：{{ reason|sentence }}")
    with override("zh-hans"):
        assert template.render(Context({"reason": "<b>错</b>"})) == "原因：&lt;b&gt;错&lt;/b&gt;。"
        assert template.render(Context({"reason": "错了！"})) == "原因：错了！"
