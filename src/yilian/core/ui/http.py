"""Turning domain exceptions into HTTP responses in server-rendered views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import Resolver404, get_script_prefix, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from yilian.core.exceptions import Conflict, NotAllowed, NotFound
from yilian.core.paginator import CappedCountPaginator, CappedKeysFirstPaginator, KeysFirstPaginator

ReturnTo = str | Callable[..., str]

# The fields a form may post to say which page it was on (``next`` is what the templates already send).
RETURN_FIELDS = ("return_to", "next")


def return_to(target: ReturnTo) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorator: where ``domain_errors`` sends the user back to after a Conflict in this view.

    ``target`` is a URL name, reversed with the view's own arguments (``"insurance:rules"`` for a view at
    ``budgets/<public_id>/freeze/``), or a callable ``(request, *args, **kwargs) -> url``. Put it under
    ``domain_errors`` (the attribute travels up through ``functools.wraps``).
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        view.conflict_return_to = target  # type: ignore[attr-defined]
        return view

    return decorator


def domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator: NotFound → 404, NotAllowed → 403, Conflict → back to a page with the message.

    "Back" is, in order: the page the view names (``return_to``), the page the form says it was posted
    from (a ``return_to`` or ``next`` field), the page the browser came from (the Referer), the requested
    address itself — each only when it is on this site and its view answers GET. Many action URLs (freeze,
    reopen, void, sign…) answer only POST, so redirecting to them would end on a 405 page instead of the
    message; when nothing else fits, the home page shows the message.
    """
    target = getattr(view, "conflict_return_to", None)

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
            return redirect(_conflict_destination(request, target, args, kwargs))

    return wrapper


def _conflict_destination(
    request: HttpRequest, target: ReturnTo | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str:
    """Where a Conflict in a view sends the user (see ``domain_errors``)."""
    if target is not None:
        return (
            target(request, *args, **kwargs)
            if callable(target)
            else reverse(target, args=args, kwargs=kwargs)
        )
    posted = [request.POST.get(field, "") for field in RETURN_FIELDS] if request.method == "POST" else []
    for candidate in (*posted, request.headers.get("referer", ""), request.get_full_path()):
        local = local_page(request, candidate)
        if local is not None:
            return local
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def local_page(request: HttpRequest, url: str) -> str | None:
    """``url`` as a path on this site when it is one and its view answers GET, else None (a safe ``next``).

    The Referer and posted fields come from the client: another host (or a scheme change to plain http on
    an https site) is never followed, so a Conflict cannot be turned into an open redirect.
    """
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(url)
    prefix = get_script_prefix()
    if not parts.path.startswith(prefix):
        return None
    try:
        match = resolve("/" + parts.path[len(prefix) :])
    except Resolver404:
        return None
    if not _answers_get(match.func):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _answers_get(view: Callable[..., Any]) -> bool:
    """Whether ``view`` accepts GET: a class-based view with a ``get`` allowed, or a function view none of
    whose ``require_http_methods`` layers (``require_POST``…) leaves GET out."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return "get" in view_class.http_method_names and hasattr(view_class, "get")
    layer: Any = view
    while layer is not None:
        code = getattr(layer, "__code__", None)
        # Django's require_http_methods keeps the allowed methods in its wrapper's closure, under this
        # name (pinned by core's tests); it sets no attribute that would say so.
        if code is not None and layer.__closure__ and "request_method_list" in code.co_freevars:
            methods = layer.__closure__[code.co_freevars.index("request_method_list")].cell_contents
            if "GET" not in methods:
                return False
        layer = getattr(layer, "__wrapped__", None)
    return True


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
