"""运行驾驶舱 pages under /cockpit/: the consortium cockpit and the regulator's view, each with an Excel export.

Chart data goes into the page with ``json_script`` (no further requests);
``cockpit/cockpit.js`` draws it with the vendored ECharts. The body of each
page (filters, figures, charts' data) is rendered without the request and
kept in the figures cache under the view's ``page_key`` (ADR 0020); the
shell around it (menu, user, CSRF token) is rendered for every request.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template, render_to_string
from django.urls import URLPattern, path
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from yilian.cockpit import caching, exports, selectors
from yilian.core.ui.http import domain_errors

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cockpit_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403."""
    return login_required(domain_errors(view))


@functools.cache
def _template_digest(template: str) -> str:
    """A digest of the body template's source: a release that changes the markup never serves bodies
    an older one rendered (the figures did not change, so no generation would replace them)."""
    source = get_template(template).template.source  # type: ignore[attr-defined]
    return hashlib.blake2b(source.encode(), digest_size=8).hexdigest()


def body_key(page_key: str, template: str) -> str:
    """Where the body of a page rendered from ``template`` is kept in the figures cache."""
    return f"{page_key}:{_template_digest(template)}"


def _body(page_key: str, template: str, context: dict[str, Any]) -> SafeString:
    """The page body from the figures cache, or ``template`` rendered without the request and kept there."""
    html = caching.get_or_render(body_key(page_key, template), lambda: render_to_string(template, context))
    # Our own template's output, escaped as it was rendered; the cache hands back a plain string.
    return mark_safe(html)


def chart_labels() -> dict[str, str]:
    """The punctuation the charts write around names, units and bands, in the reader's language: Chinese
    pages bracket with full-width （）, English ones with a space and ASCII brackets."""
    return {
        "with_unit": _("%(name)s（%(unit)s）"),
        "band": _("（%(band)s）"),
        "colon": pgettext("punctuation", "："),
    }


def _download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _period(request: HttpRequest) -> str:
    """The period asked for, unless the form's period list belonged to another period type.

    The filter form sends ``period_for``, the type its period list was built for: a year's start date
    sent with "month" (the type changed, the list did not follow) is then no choice of a month at all,
    and the page opens on the type's default period instead of January.
    """
    get = request.GET
    shown_for = get.get("period_for", "")
    if shown_for and shown_for != get.get("period_type", ""):
        return ""
    return get.get("period", "")


def _cockpit(request: HttpRequest) -> selectors.Cockpit:
    get = request.GET
    return selectors.cockpit(
        request.user,
        consortium=get.get("consortium", ""),
        period_type=get.get("period_type", ""),
        period=_period(request),
        unit=get.get("unit", ""),
        map_indicator=get.get("map", ""),
    )


@cockpit_view
@require_GET
def consortium_cockpit(request: HttpRequest) -> HttpResponse:
    """Key figures, trends, member rankings and the township map of one consortium."""
    view = _cockpit(request)
    charts: dict[str, Any] = {
        "trend": view.trend,
        "map": view.map,
        "periods": view.period_menu,
        "labels": chart_labels(),
    }
    body = _body(view.page_key, "cockpit/cockpit_body.html", {"view": view, "charts": charts})
    return render(
        request, "cockpit/cockpit.html", {"view": view, "body": body, "query": request.GET.urlencode()}
    )


@cockpit_view
@require_GET
def consortium_cockpit_export(request: HttpRequest) -> HttpResponse:
    """The same page as Excel (same filters)."""
    view = _cockpit(request)
    label = view.period.label if view.period else "empty"
    return _download(exports.cockpit_workbook(view), f"cockpit-{label}.xlsx")


def _regulator(request: HttpRequest) -> selectors.RegulatorView:
    get = request.GET
    return selectors.regulator_view(
        request.user,
        region=get.get("region", ""),
        period_type=get.get("period_type", ""),
        period=_period(request),
        indicator=get.get("indicator", ""),
    )


@cockpit_view
@require_GET
def regulator(request: HttpRequest) -> HttpResponse:
    """Every consortium of the regulator's region: table, bar chart of one indicator, region map."""
    view = _regulator(request)
    charts: dict[str, Any] = {
        "bar": view.chart,
        "map": view.map,
        "periods": view.period_menu,
        "labels": chart_labels(),
    }
    body = _body(view.page_key, "cockpit/regulator_body.html", {"view": view, "charts": charts})
    return render(
        request, "cockpit/regulator.html", {"view": view, "body": body, "query": request.GET.urlencode()}
    )


@cockpit_view
@require_GET
def regulator_export(request: HttpRequest) -> HttpResponse:
    """The regulator's view as Excel (same filters)."""
    view = _regulator(request)
    label = view.period.label if view.period else "empty"
    return _download(exports.regulator_workbook(view), f"regulator-{view.region_code}-{label}.xlsx")


urlpatterns: list[URLPattern] = [
    path("", consortium_cockpit, name="cockpit"),
    path("export.xlsx", consortium_cockpit_export, name="cockpit_export"),
    path("regulator/", regulator, name="regulator"),
    path("regulator/export.xlsx", regulator_export, name="regulator_export"),
]
