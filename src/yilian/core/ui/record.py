"""Sections of a person's record. Apps register them; the person page shows those that apply.

The people app sits below the clinical apps (diagnostics, teleconsultation…
depend on it), so its record page cannot ask them for their rows. Each app's
``AppConfig.ready`` registers a section instead: a template and a function
that returns the template's context for the viewer and the person (through
that app's selectors and policies), or None when the viewer has nothing to
see there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise


@dataclass(frozen=True)
class RecordSection:
    """One section of the person page: its title, template and context."""

    name: str
    title: str | Promise
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]
    order: int = 100


_SECTIONS: list[RecordSection] = []


def register(section: RecordSection) -> None:
    """Add a section (idempotent by name)."""
    if all(existing.name != section.name for existing in _SECTIONS):
        _SECTIONS.append(section)
        _SECTIONS.sort(key=lambda item: item.order)


def sections_for(request: HttpRequest, person: Any) -> list[dict[str, Any]]:
    """The sections this viewer sees on this person's record, each with its rendered context."""
    shown = []
    for section in _SECTIONS:
        context = section.context(request, person)
        if context is not None:
            shown.append(
                {"name": section.name, "title": section.title, "template": section.template, **context}
            )
    return shown
