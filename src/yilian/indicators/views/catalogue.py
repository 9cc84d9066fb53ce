"""指标库 pages under /indicators/: the catalogue, an indicator, its create/edit form, the data items."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import Conflict, Invalid
from yilian.core.permissions import Role
from yilian.core.text import join_list
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors, require
from yilian.core.ui.live import live_result
from yilian.indicators import drilldown, expressions, policies, registry, selectors, services
from yilian.indicators.forms import SHARED, IndicatorForm, indicator_initial
from yilian.indicators.models import Indicator


def indicators_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, NotAllowed → 403, Conflict → back with the message."""
    return login_required(domain_errors(view))


@indicators_view
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """Indicators grouped by catalogue and area, searchable; assessors also see inactive ones."""
    actor = request.user
    query = request.GET.get("q", "").strip()[:60]
    assessor = policies.can_create_indicator(actor)
    indicators = selectors.indicator_list(actor, query=query, include_inactive=assessor)
    groups: dict[Any, dict[str, list[Indicator]]] = {}
    for indicator in indicators:
        groups.setdefault(indicator.catalogue, defaultdict(list))[indicator.display_area or _("其他")].append(
            indicator
        )
    return render(
        request,
        "indicators/catalogue.html",
        {
            "groups": [(cat, dict(areas)) for cat, areas in groups.items()],
            "query": query,
            "may_create": assessor,
        },
    )


@indicators_view
@require_GET
def indicator_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """An indicator: every field, formulas with their data items, legend, versions with their changes, uses."""
    actor = request.user
    indicator = selectors.indicator_get(actor, public_id)
    return render(
        request,
        "indicators/indicator_detail.html",
        {
            "indicator": indicator,
            "items": drilldown.formula_items(indicator),
            "versions": drilldown.version_changes(indicator),
            "uses": drilldown.indicator_uses(indicator),
            "may_edit": policies.can_edit_indicator(actor, indicator.consortium),
        },
    )


def _form_choices(actor: Any) -> dict[str, Any]:
    return {
        "catalogues": list(selectors.catalogue_list(actor)),
        "consortia": drilldown.editable_consortia(actor),
        "may_share": scope_for(actor).has_role(Role.REGULATOR),
    }


@indicators_view
@require_http_methods(["GET", "POST"])
def indicator_create(request: HttpRequest) -> HttpResponse:
    """New indicator (assessors): formulas are parsed on save, errors shown under the field with the position."""
    actor = request.user
    require(policies.can_create_indicator(actor))
    choices = _form_choices(actor)
    form = IndicatorForm(request.POST or None, **choices)
    if request.method == "POST" and form.is_valid():
        catalogue_choice = next(
            (c for c in choices["catalogues"] if str(c.public_id) == form.cleaned_data["catalogue"]), None
        )
        chosen = form.cleaned_data["consortium"]
        consortium = (
            None
            if chosen == SHARED
            else next((c for c in choices["consortia"] if str(c.public_id) == chosen), None)
        )
        try:
            indicator = services.indicator_create(
                actor=actor, catalogue=catalogue_choice, consortium=consortium, **form.service_data()
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("指标已创建"))
            return redirect("indicators:indicator", indicator.public_id)
    return render(request, "indicators/indicator_form.html", {"form": form, "indicator": None})


@indicators_view
@require_http_methods(["GET", "POST"])
def indicator_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Edit an indicator: a new version; a stale form (someone saved first) answers 409 with the message."""
    actor = request.user
    indicator = selectors.indicator_get(actor, public_id)
    require(policies.can_edit_indicator(actor, indicator.consortium))
    choices = _form_choices(actor)
    if request.method == "POST":
        form = IndicatorForm(request.POST, indicator=indicator, **choices)
        if form.is_valid():
            try:
                saved = services.indicator_update(
                    actor=actor,
                    indicator=indicator,
                    expected_version=form.cleaned_data.get("version"),
                    **form.service_data(),
                )
            except Invalid as error:
                add_domain_errors(form, error)
            except Conflict as error:
                form.add_error(None, str(error.message))
                context = {"form": form, "indicator": indicator, "conflict": True}
                return render(request, "indicators/indicator_form.html", context, status=409)
            else:
                messages.success(request, _("已保存为第 %(v)s 版") % {"v": saved.version})
                return redirect("indicators:indicator", saved.public_id)
    else:
        form = IndicatorForm(initial=indicator_initial(indicator), indicator=indicator, **choices)
    return render(request, "indicators/indicator_form.html", {"form": form, "indicator": indicator})


@indicators_view
@require_POST
def indicator_active(request: HttpRequest, public_id: str) -> HttpResponse:
    """Switch an indicator on or off."""
    indicator = selectors.indicator_get(request.user, public_id)
    active = request.POST.get("active") == "1"
    services.indicator_set_active(actor=request.user, indicator=indicator, active=active)
    messages.success(request, _("指标已启用") if active else _("指标已停用"))
    return redirect("indicators:indicator", indicator.public_id)


@indicators_view
@require_GET
def formula_check(request: HttpRequest) -> HttpResponse:
    """Live check of a formula as the user types (htmx): ✓ with the data items, or the positioned error."""
    require(policies.can_read_catalogue(request.user))
    text = (request.GET.get("numerator") or request.GET.get("denominator") or "").strip()
    if not text:
        return live_result(request, ok=True, message="")
    known = registry.data_items()
    try:
        tree = expressions.validate(text, known.keys())
    except expressions.ExpressionError as error:
        return live_result(request, ok=False, message=str(error))
    names = join_list(known[code].name for code in expressions.item_codes(tree))
    return live_result(request, ok=True, message=_("公式有效：%(items)s") % {"items": names or _("常数")})


@indicators_view
@require_GET
def data_items(request: HttpRequest) -> HttpResponse:
    """Every registered data item and the indicators that use it."""
    require(policies.can_read_catalogue(request.user))
    query = request.GET.get("q", "").strip()[:60]
    rows = drilldown.data_item_rows(request.user, query=query)
    return render(request, "indicators/data_items.html", {"rows": rows, "query": query})


urlpatterns: list[URLPattern] = [
    path("", catalogue, name="catalogue"),
    path("new/", indicator_create, name="indicator_new"),
    path("formula-check/", formula_check, name="formula_check"),
    path("data-items/", data_items, name="data_items"),
    path("<uuid:public_id>/", indicator_detail, name="indicator"),
    path("<uuid:public_id>/edit/", indicator_edit, name="indicator_edit"),
    path("<uuid:public_id>/active/", indicator_active, name="indicator_active"),
]
