"""Template context for the UI shell: the role menu."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from yilian.core.ui.menu import menu_for


def shell(request: HttpRequest) -> dict[str, Any]:
    """Add ``menu`` (the sections the user's roles may open) to every template."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu": []}
    return {"menu": menu_for(request)}
