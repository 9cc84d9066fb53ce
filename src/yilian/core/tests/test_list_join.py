"""Lists shown to a reader are joined with 、 in Chinese and ", " in English (service text and templates)."""

from __future__ import annotations

from django.template import Context, Template
from django.utils.translation import override

from yilian.core.text import join_list


def test_join_list_follows_the_active_language():
    with override("zh-hans"):
        assert join_list(["内科", "外科"]) == "内科、外科"
    with override("en"):
        assert join_list(["Medicine", "Surgery"]) == "Medicine, Surgery"
        assert join_list([]) == "" and join_list(["Medicine"]) == "Medicine"


def test_join_list_filter_follows_the_language_and_escapes():
    template = Template("{% load core_ui %}{{ items|join_list }}")
    items = ["<b>甲</b>", "乙"]
    with override("zh-hans"):
        assert template.render(Context({"items": items})) == "&lt;b&gt;甲&lt;/b&gt;、乙"
    with override("en"):
        assert template.render(Context({"items": items})) == "&lt;b&gt;甲&lt;/b&gt;, 乙"


def test_invalid_message_joins_every_field_message_in_the_active_language():
    from yilian.core.exceptions import Invalid
    from yilian.core.ui.forms import invalid_message

    error = Invalid({"dose": ["剂量须为正数"], "days": ["天数过长", "超过长处方上限"]})
    with override("zh-hans"):
        assert invalid_message(error) == "剂量须为正数；天数过长；超过长处方上限"
    with override("en"):
        assert invalid_message(error) == "剂量须为正数; 天数过长; 超过长处方上限"
