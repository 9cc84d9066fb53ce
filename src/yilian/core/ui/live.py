"""Live field checks: a form field asks the server to check its value as the user types (htmx).

The field's check endpoint answers with a small fragment (``core/_live_check.html``)
that ``core/_field.html`` shows under the input. The final word stays with the
service on submit; this only tells the user early.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def enable_live_check(field: forms.Field, url: str, *, name: str, post: bool = False) -> None:
    """Make ``field`` (whose HTML id is ``id_<name>``) send its value to ``url`` as it changes.

    ``post`` sends it in the body (for identifiers that must never appear in a URL or a log).
    """
    field.widget.attrs.update(
        {
            "hx-post" if post else "hx-get": url,
            "hx-trigger": "keyup changed delay:400ms, change",
            "hx-target": f"#live-id_{name}",
            "hx-swap": "innerHTML",
            "hx-sync": "this:replace",
        }
    )
    field.live_check = True  # type: ignore[attr-defined]


def live_result(request: HttpRequest, *, ok: bool, message: str) -> HttpResponse:
    """The fragment a check endpoint returns (an empty value returns an empty fragment)."""
    return render(request, "core/_live_check.html", {"ok": ok, "message": message})
