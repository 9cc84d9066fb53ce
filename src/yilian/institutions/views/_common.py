"""Helpers shared by the registry views: the view decorator, conflict handling (pagination and the
permission guard come from ``core.ui.http``)."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict

from yilian.core.exceptions import Conflict, Invalid
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, paginate, require  # noqa: F401 — re-exported to the registry views


def registry_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, domain errors mapped to HTTP (NotFound → 404, NotAllowed → 403, Conflict → message)."""
    return login_required(domain_errors(view))


def show_errors(
    form: forms.BaseForm, error: Invalid | Conflict, field_map: dict[str, str] | None = None
) -> None:
    """Put a service's Invalid field messages (or a Conflict message) on the form."""
    if isinstance(error, Invalid):
        add_domain_errors(form, error, field_map)
    else:
        form.add_error(None, str(error.message))


def is_htmx(request: HttpRequest) -> bool:
    """True for an htmx partial request."""
    return request.headers.get("HX-Request") == "true"


def posted(request: HttpRequest) -> QueryDict | None:
    """Form data for a POST (even an empty one), None for GET so the form stays unbound."""
    return request.POST if request.method == "POST" else None


def uploads(request: HttpRequest) -> MultiValueDict | None:
    """Uploaded files for a POST, None for GET."""
    return request.FILES if request.method == "POST" else None
