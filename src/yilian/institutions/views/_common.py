"""Helpers shared by the registry views: pagination, permission guard, conflict handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict

from yilian.core.exceptions import Conflict, Invalid
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors

PAGE_SIZE = 25


def registry_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, domain errors mapped to HTTP (NotFound → 404, NotAllowed → 403, Conflict → message)."""
    return login_required(domain_errors(view))


def paginate(request: HttpRequest, queryset: QuerySet[Any] | list[Any], per_page: int = PAGE_SIZE) -> Page:
    """The requested page of ``queryset`` (out-of-range pages show the last page)."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def require(allowed: bool) -> None:
    """Refuse the request with 403 unless ``allowed``."""
    if not allowed:
        raise PermissionDenied


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
