"""Grid pages (list, detail, plan, assign / hand over / end) and the coverage report."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yilian.core.exceptions import Conflict, Invalid, NotFound
from yilian.institutions import policies, selectors, services
from yilian.institutions.forms import (
    CoverageForm,
    GridAssignForm,
    GridFilterForm,
    GridForm,
    GridRegionForm,
    GridUnassignForm,
)
from yilian.institutions.models import Region
from yilian.institutions.views._common import paginate, posted, registry_view, require, show_errors


@registry_view
def grid_list(request: HttpRequest) -> HttpResponse:
    """Grids filtered by search, region and consortium, with the current consortium and area count."""
    form = GridFilterForm(request.GET or None, actor=request.user)
    grids = selectors.grid_list(request.user, **(form.selector_kwargs() if form.is_bound else {}))
    if form.is_bound and not form.is_valid():
        # Filters that cannot run (a search too long) list nothing, not everything under their error.
        grids = grids.none()
    return render(
        request,
        "institutions/grid_list.html",
        {
            "form": form,
            "page_obj": paginate(request, grids),
            "can_plan": policies.can_plan_grids(request.user),
        },
    )


@registry_view
def grid_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A grid: areas covered, the consortium serving it now, and the assignment history."""
    grid = selectors.grid_get(request.user, public_id)
    history = list(selectors.grid_assignment_history(grid))
    current = next((assignment for assignment in history if assignment.is_current), None)
    return render(
        request,
        "institutions/grid_detail.html",
        {
            "grid": grid,
            "areas": selectors.grid_areas(grid),
            "current": current,
            "history": history,
            "can_change": policies.can_change_grid(request.user, grid),
        },
    )


@registry_view
@require_http_methods(["GET", "POST"])
def grid_create(request: HttpRequest) -> HttpResponse:
    """Plan a grid: pick the region, then name it and tick the townships / villages it covers."""
    require(policies.can_plan_grids(request.user))
    source = request.POST if request.method == "POST" else request.GET
    region_form = GridRegionForm(source if "region" in source else None, actor=request.user)
    if not region_form.is_valid():
        return render(request, "institutions/grid_region.html", {"region_form": region_form})
    region: Region = region_form.cleaned_data["region"]
    require(policies.can_plan_grids(request.user, region))
    form = GridForm(posted(request), areas=selectors.grid_area_choices(request.user, region))
    if request.method == "POST" and form.is_valid():
        try:
            data = {key: value for key, value in form.cleaned_data.items() if key != "seen_updated_at"}
            grid = services.grid_create(actor=request.user, region=region, **data)
        except (Invalid, Conflict) as error:
            show_errors(form, error)
        else:
            messages.success(request, _("已建立网格“%(name)s”。") % {"name": grid.name})
            return redirect("institutions:grid-detail", public_id=grid.public_id)
    return render(request, "institutions/grid_form.html", {"form": form, "region": region, "grid": None})


@registry_view
@require_http_methods(["GET", "POST"])
def grid_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Rename a grid or change the areas it covers."""
    grid = selectors.grid_get(request.user, public_id)
    require(policies.can_change_grid(request.user, grid))
    initial = {
        "name": grid.name,
        "population": grid.population,
        "description": grid.description,
        "area_codes": [area.code for area in selectors.grid_areas(grid)],
        "seen_updated_at": grid.updated_at.isoformat(),
    }
    form = GridForm(
        posted(request),
        areas=selectors.grid_area_choices(request.user, grid.region),
        grid=grid,
        initial=initial,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.grid_update(actor=request.user, grid=grid, **form.cleaned_data)
        except Invalid as error:
            show_errors(form, error)
        except Conflict as error:
            # Keep what the user typed; a second save, after checking, is made over the newer grid.
            grid.refresh_from_db()
            data = request.POST.copy()
            data["seen_updated_at"] = grid.updated_at.isoformat()
            form = GridForm(
                data, areas=selectors.grid_area_choices(request.user, grid.region), grid=grid, initial=initial
            )
            form.is_valid()
            show_errors(form, error)
            status = 409
        else:
            messages.success(request, _("网格已保存。"))
            return redirect("institutions:grid-detail", public_id=grid.public_id)
    return render(
        request,
        "institutions/grid_form.html",
        {"form": form, "region": grid.region, "grid": grid},
        status=status,
    )


@registry_view
@require_http_methods(["GET", "POST"])
def grid_assign(request: HttpRequest, public_id: str) -> HttpResponse:
    """Make a city group or county community responsible for the grid, or hand it over (replace)."""
    grid = selectors.grid_get(request.user, public_id)
    require(policies.can_change_grid(request.user, grid))
    current = selectors.grid_current_consortium(grid)
    form = GridAssignForm(posted(request), actor=request.user, has_current=current is not None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.grid_assign(
                actor=request.user,
                grid=grid,
                consortium=data["consortium"],
                assigned_from=data["assigned_from"],
                replace=data.get("replace", False),
            )
        except (Invalid, Conflict) as error:
            show_errors(form, error)
        else:
            messages.success(request, _("网格已交由“%(name)s”负责。") % {"name": data["consortium"].name})
            return redirect("institutions:grid-detail", public_id=grid.public_id)
    return render(
        request, "institutions/grid_assign.html", {"form": form, "grid": grid, "current_consortium": current}
    )


@registry_view
@require_http_methods(["GET", "POST"])
def grid_unassign(request: HttpRequest, public_id: str) -> HttpResponse:
    """End the current consortium's responsibility for the grid."""
    grid = selectors.grid_get(request.user, public_id)
    require(policies.can_change_grid(request.user, grid))
    current = selectors.grid_current_consortium(grid)
    form = GridUnassignForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.grid_unassign(
                actor=request.user, grid=grid, assigned_to=form.cleaned_data["assigned_to"]
            )
        except (Invalid, Conflict) as error:
            show_errors(form, error)
        else:
            messages.success(request, _("已结束该网格的医联体责任。"))
            return redirect("institutions:grid-detail", public_id=grid.public_id)
    return render(
        request,
        "institutions/grid_unassign.html",
        {"form": form, "grid": grid, "current_consortium": current},
    )


def _default_coverage_region(actor: Any) -> str:
    """The regulator's own region (the first, by code); a platform admin's first province."""
    regions = selectors.coverage_regions(actor)
    return regions[0].code if regions else ""


@registry_view
def coverage(request: HttpRequest) -> HttpResponse:
    """Coverage of a region: townships / villages in no grid, grids with no consortium, institutions in none."""
    require(policies.can_view_coverage(request.user))
    code = request.GET.get("region") or _default_coverage_region(request.user)
    form = CoverageForm({"region": code}, actor=request.user)
    report = None
    if code:
        try:
            region = selectors.region_get(request.user, code)
        except NotFound:
            region = None
        if region is not None:
            report = selectors.coverage_report(request.user, region)
    return render(request, "institutions/coverage.html", {"form": form, "report": report})
