"""Institution pages: list with filters, detail, create, edit, departments, picker options."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yilian.core.exceptions import Conflict, Invalid
from yilian.institutions import policies, selectors, services
from yilian.institutions.forms import (
    DepartmentForm,
    InstitutionCreateForm,
    InstitutionFilterForm,
    InstitutionForm,
)
from yilian.institutions.models import Institution
from yilian.institutions.views._common import paginate, posted, registry_view, require, show_errors


@registry_view
def institution_list(request: HttpRequest) -> HttpResponse:
    """Institutions filtered by search (name, pinyin initials, credit code), category, region, status, primary."""
    form = InstitutionFilterForm(request.GET or None, actor=request.user)
    institutions = selectors.institution_list(
        request.user, **(form.selector_kwargs() if form.is_bound else {})
    )
    if form.is_bound and not form.is_valid():
        # Filters that cannot run (a search too long) list nothing, not everything under their error.
        institutions = institutions.none()
    return render(
        request,
        "institutions/institution_list.html",
        {
            "form": form,
            "page_obj": paginate(request, institutions),
            "can_create": policies.can_create_institution(request.user),
        },
    )


def _staff_url(actor: Any, institution: Institution) -> str | None:
    """Link to the staff page (built by the accounts app) for those who manage staff."""
    if not policies.can_manage_staff(actor, institution):
        return None
    try:
        return reverse("accounts:institution-staff", kwargs={"public_id": institution.public_id})
    except NoReverseMatch:
        return None


@registry_view
def institution_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """An institution's profile, departments and consortium memberships (current and history)."""
    institution = selectors.institution_get(request.user, public_id)
    can_departments = policies.can_manage_departments(request.user, institution)
    return render(
        request,
        "institutions/institution_detail.html",
        {
            "institution": institution,
            "departments": selectors.department_list(
                request.user, institution, include_inactive=can_departments
            ),
            "memberships": selectors.institution_consortia(institution),
            "can_edit": policies.can_change_institution(request.user, institution),
            "can_departments": can_departments,
            "staff_url": _staff_url(request.user, institution),
        },
    )


@registry_view
@require_http_methods(["GET", "POST"])
def institution_create(request: HttpRequest) -> HttpResponse:
    """Register an institution (regulators in their region, platform administrators)."""
    require(policies.can_create_institution(request.user))
    form = InstitutionCreateForm(posted(request), actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            institution = services.institution_create(actor=request.user, **form.service_data())
        except (Invalid, Conflict) as error:
            show_errors(form, error)
        else:
            messages.success(request, _("已登记机构“%(name)s”。") % {"name": institution.name})
            return redirect("institutions:institution-detail", public_id=institution.public_id)
    return render(request, "institutions/institution_form.html", {"form": form, "institution": None})


@registry_view
@require_http_methods(["GET", "POST"])
def institution_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Edit an institution's profile (its administrators, regulators of its region, platform administrators)."""
    institution = selectors.institution_get(request.user, public_id)
    require(policies.can_change_institution(request.user, institution))
    form = InstitutionForm(
        posted(request),
        actor=request.user,
        institution=institution,
        initial=InstitutionForm.initial_for(institution),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.institution_update(actor=request.user, institution=institution, **form.service_data())
        except Invalid as error:
            show_errors(form, error)
        except Conflict as error:
            # Keep what the user typed; a second save, after checking, is made over the newer profile.
            current = selectors.institution_get(request.user, public_id)
            data = request.POST.copy()
            data["seen_updated_at"] = current.updated_at.isoformat()
            form = InstitutionForm(
                data, actor=request.user, institution=current, initial=InstitutionForm.initial_for(current)
            )
            form.is_valid()
            show_errors(form, error)
            status = 409
        else:
            messages.success(request, _("机构资料已保存。"))
            return redirect("institutions:institution-detail", public_id=institution.public_id)
    return render(
        request,
        "institutions/institution_form.html",
        {"form": form, "institution": institution},
        status=status,
    )


@registry_view
@require_http_methods(["GET", "POST"])
def department_create(request: HttpRequest, public_id: str) -> HttpResponse:
    """Add a department to an institution (its administrators, platform administrators)."""
    institution = selectors.institution_get(request.user, public_id)
    require(policies.can_manage_departments(request.user, institution))
    form = DepartmentForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            department = services.department_create(
                actor=request.user, institution=institution, **form.cleaned_data
            )
        except (Invalid, Conflict) as error:
            show_errors(form, error)
        else:
            messages.success(request, _("已添加科室“%(name)s”。") % {"name": department.name})
            return redirect("institutions:institution-detail", public_id=institution.public_id)
    return render(
        request,
        "institutions/department_form.html",
        {"form": form, "institution": institution, "department": None},
    )


@registry_view
@require_http_methods(["GET", "POST"])
def department_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Change or deactivate a department (its institution's administrators, platform administrators)."""
    department = selectors.department_get(request.user, public_id)
    institution = department.institution
    require(policies.can_manage_departments(request.user, institution))
    form = DepartmentForm(posted(request), initial=DepartmentForm.initial_for(department))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.department_update(actor=request.user, department=department, **form.service_data())
        except Invalid as error:
            show_errors(form, error)
        except Conflict as error:
            # Keep what the user typed; a second save, after checking, is made over the newer department.
            current = selectors.department_get(request.user, public_id)
            data = request.POST.copy()
            data["seen_updated_at"] = current.updated_at.isoformat()
            form = DepartmentForm(data, initial=DepartmentForm.initial_for(current))
            form.is_valid()
            show_errors(form, error)
            status = 409
        else:
            messages.success(request, _("科室已保存。"))
            return redirect("institutions:institution-detail", public_id=institution.public_id)
    return render(
        request,
        "institutions/department_form.html",
        {"form": form, "institution": institution, "department": department},
        status=status,
    )


@registry_view
@require_GET
def institution_options(request: HttpRequest) -> HttpResponse:
    """``<option>`` rows for an institution picker (htmx): active institutions matching ``q``."""
    query = request.GET.get("q", "").strip()[:60]
    within = "".join(ch for ch in request.GET.get("within", "") if ch.isdigit())[:12]
    options = selectors.picker_options(request.user, query, "" if query else within)
    return render(request, "institutions/_institution_options.html", {"options": options})
