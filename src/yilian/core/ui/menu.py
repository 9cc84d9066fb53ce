"""The role menu. Apps register their entries; the shell shows those the user's roles allow.

Core knows nothing of apps: each app's ``AppConfig.ready`` calls ``register``
with a predicate over the request, so the menu stays in sync with policies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class MenuEntry:
    """One link in the side menu."""

    section: str | Promise
    label: str | Promise
    url_name: str
    allowed: Callable[[HttpRequest], bool]
    order: int = 100


_ENTRIES: list[MenuEntry] = []


def register(entry: MenuEntry) -> None:
    """Add an entry (idempotent by url name)."""
    if all(existing.url_name != entry.url_name for existing in _ENTRIES):
        _ENTRIES.append(entry)
        _ENTRIES.sort(key=lambda item: item.order)


def menu_for(request: HttpRequest) -> list[dict[str, object]]:
    """Sections with the entries this request's user may open, marking the current one."""
    sections: dict[str, dict[str, object]] = {}
    for entry in _ENTRIES:
        if not entry.allowed(request):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        section = sections.setdefault(str(entry.section), {"title": entry.section, "items": []})
        active = request.path == url or (url != "/" and request.path.startswith(url))
        section["items"].append({"label": entry.label, "url": url, "active": active})  # type: ignore[union-attr]
    return list(sections.values())
