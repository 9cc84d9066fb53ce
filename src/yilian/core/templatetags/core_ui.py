"""Template helpers of the UI shell."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from yilian.core import text

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (for pagination and sorting links)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return urlencode(sorted(params.lists()), doseq=True)


@register.filter(needs_autoescape=True)
def join_list(items: Any, autoescape: bool = True) -> str:
    """A list joined for display in the active language (、 in Chinese, ", " otherwise), each item
    escaped as Django's ``join`` does."""
    escape = conditional_escape if autoescape else str
    return mark_safe(text.join_list(escape(item) for item in items))  # items escaped above


@register.filter
def sentence(value: Any) -> str:
    """``value`` ended as a sentence in the active language unless it already ends with sentence
    punctuation (``core.text.sentence``): write ``原因：{{ reason|sentence }}`` with no 。 of your own.
    The result is escaped as any text."""
    return text.sentence(str(value))
