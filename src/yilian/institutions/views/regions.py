"""Region pages: searchable list, tree browse (detail), create, CSV import."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yilian.core.exceptions import Invalid
from yilian.institutions import policies, selectors, services
from yilian.institutions.forms import RegionCreateForm, RegionFilterForm, RegionImportForm
from yilian.institutions.views._common import paginate, posted, registry_view, require, show_errors, uploads

DETAIL_SAMPLE = 20
"""How many institutions the region page lists before linking to the full list."""


@registry_view
def region_list(request: HttpRequest) -> HttpResponse:
    """Regions searchable by name, pinyin initials or code; filterable by level."""
    form = RegionFilterForm(request.GET or None)
    regions = selectors.region_list(request.user, **(form.selector_kwargs() if form.is_bound else {}))
    return render(
        request,
        "institutions/region_list.html",
        {
            "form": form,
            "page_obj": paginate(request, regions),
            "roots": selectors.region_list(request.user, level="province") if not form.is_bound else None,
            "can_manage": policies.can_manage_regions(request.user),
        },
    )


@registry_view
def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A region: ancestors, children with counts, and the institutions, consortia and grids there."""
    region = selectors.region_get(request.user, code)
    institutions = selectors.institution_list(request.user, within=region.prefix)
    return render(
        request,
        "institutions/region_detail.html",
        {
            "region": region,
            "ancestors": selectors.region_ancestors(region),
            "children": selectors.region_children(request.user, region),
            "institution_count": institutions.count(),
            "institutions": institutions[:DETAIL_SAMPLE],
            "consortia": selectors.consortium_list(request.user, within=region.prefix),
            "grids": selectors.grid_list(request.user, within=region.prefix),
            "can_plan": policies.can_plan_grids(request.user, region),
            "can_coverage": policies.can_view_coverage(request.user)
            and policies.can_plan_grids(request.user, region),
        },
    )


@registry_view
@require_http_methods(["GET", "POST"])
def region_create(request: HttpRequest) -> HttpResponse:
    """Create one region (platform administrators)."""
    require(policies.can_manage_regions(request.user))
    form = RegionCreateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            region = services.region_create(actor=request.user, **form.cleaned_data)
        except Invalid as error:
            show_errors(form, error)
        else:
            messages.success(request, _("已创建区划“%(name)s”。") % {"name": region.name})
            return redirect("institutions:region-detail", code=region.code)
    return render(request, "institutions/region_form.html", {"form": form})


@registry_view
@require_http_methods(["GET", "POST"])
def region_import(request: HttpRequest) -> HttpResponse:
    """Import a CSV region list (platform administrators): counts on success, every row error on failure."""
    require(policies.can_manage_regions(request.user))
    form = RegionImportForm(posted(request), uploads(request))
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.region_import_csv(actor=request.user, content=form.cleaned_data["file"].read())
        except Invalid as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                _("导入完成：新建 %(created)d 条，更新 %(updated)d 条，未变 %(unchanged)d 条。")
                % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            )
            form = RegionImportForm()
    return render(request, "institutions/region_import.html", {"form": form, "result": result})
