"""Turning domain exceptions into HTTP responses in server-rendered views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from yilian.core.exceptions import Conflict, NotAllowed, NotFound
from yilian.core.paginator import CappedCountPaginator, CappedKeysFirstPaginator, KeysFirstPaginator


def domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator: NotFound → 404, NotAllowed → 403, Conflict → back to the page with the message."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error.message)) from error
        except NotAllowed as error:
            raise PermissionDenied(str(error.message)) from error
        except Conflict as error:
            messages.error(request, str(error.message))
            return redirect(request.get_full_path())

    return wrapper


PAGE_SIZE = 25


def paginate(
    request: HttpRequest,
    rows: Any,
    per_page: int = PAGE_SIZE,
    *,
    capped: bool = False,
    keys_first: bool = False,
) -> Page:
    """The requested page of ``rows`` (out-of-range pages show the last page); ``capped`` counts at
    most ``core.paginator.COUNT_CAP`` rows (work queues that may grow large); ``keys_first`` reads the
    page's keys before its rows (wide rows with joined ends, ``core.paginator.KeysFirstPaginator``)."""
    paginator: Paginator
    if capped and keys_first:
        paginator = CappedKeysFirstPaginator(rows, per_page)
    elif capped:
        paginator = CappedCountPaginator(rows, per_page)
    elif keys_first:
        paginator = KeysFirstPaginator(rows, per_page)
    else:
        paginator = Paginator(rows, per_page)
    return paginator.get_page(request.GET.get("page"))


def require(allowed: bool) -> None:
    """Refuse the request with 403 unless ``allowed``."""
    if not allowed:
        raise PermissionDenied
