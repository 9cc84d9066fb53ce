"""Consortium pages: list, detail (tabs), create, edit, members, agreements, management bodies."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yilian.core.exceptions import Conflict, Invalid
from yilian.institutions import policies, selectors, services
from yilian.institutions.forms import (
    AgreementForm,
    ConsortiumEditForm,
    ConsortiumFilterForm,
    ConsortiumForm,
    ManagementBodyForm,
    MemberAddForm,
    MemberEditForm,
    MemberRemoveForm,
)
from yilian.institutions.models import Consortium, ManagementBody
from yilian.institutions.views._common import paginate, posted, registry_view, require, show_errors, uploads

TABS = (
    ("members", gettext_lazy("概况与成员")),
    ("history", gettext_lazy("成员变更记录")),
    ("agreements", gettext_lazy("章程与协议")),
    ("bodies", gettext_lazy("管理机构")),
    ("grids", gettext_lazy("负责网格")),
)


def _search(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:60]


def _detail_url(consortium: Consortium, tab: str = "") -> str:
    url = reverse("institutions:consortium-detail", kwargs={"public_id": consortium.public_id})
    return f"{url}?tab={tab}" if tab else url


def _conflict_form(
    form_class: type[forms.Form], request: HttpRequest, version: int, error: Conflict, **kwargs: Any
) -> forms.Form:
    """Re-bind the posted form with the consortium's current version and show the conflict on it."""
    data = request.POST.copy()
    data["expected_version"] = str(version)
    form = form_class(data, uploads(request), **kwargs)
    form.is_valid()
    form.add_error(None, str(error.message))
    return form


@registry_view
def consortium_list(request: HttpRequest) -> HttpResponse:
    """Consortia filtered by search (incl. pinyin initials), form, region and status."""
    form = ConsortiumFilterForm(request.GET or None, actor=request.user)
    consortia = selectors.consortium_list(request.user, **(form.selector_kwargs() if form.is_bound else {}))
    if form.is_bound and not form.is_valid():
        # Filters that cannot run (a search too long) list nothing, not everything under their error.
        consortia = consortia.none()
    return render(
        request,
        "institutions/consortium_list.html",
        {
            "form": form,
            "page_obj": paginate(request, consortia),
            "can_create": policies.can_create_consortium(request.user),
        },
    )


@registry_view
def consortium_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A consortium in tabs: profile and member tree, history, agreements, management bodies, grids."""
    consortium = selectors.consortium_get(request.user, public_id)
    tab = request.GET.get("tab", "members")
    if tab not in dict(TABS):
        tab = "members"
    can_manage = policies.can_manage_consortium(request.user, consortium)
    context: dict[str, Any] = {
        "consortium": consortium,
        "tabs": TABS,
        "tab": tab,
        "can_manage": can_manage,
        "is_active": consortium.status == "active",
    }
    if tab == "members":
        context["tree"] = selectors.consortium_member_tree(consortium)
        context["leads"] = [node.member for node in context["tree"] if node.member.role == "lead"]
        context["bodies"] = selectors.management_body_list(consortium)
    elif tab == "history":
        context["members"] = selectors.consortium_members(consortium, include_history=True)
    elif tab == "agreements":
        member_ids = set(selectors.consortium_members(consortium).values_list("institution_id", flat=True))
        context["agreements"] = selectors.agreement_list(request.user, consortium)
        context["can_download"] = policies.can_view_agreement_files(request.user, consortium, member_ids)
    elif tab == "bodies":
        context["bodies"] = selectors.management_body_list(consortium)
    else:
        context["grids"] = selectors.grid_list(request.user, consortium=consortium)
    return render(request, "institutions/consortium_detail.html", context)


@registry_view
@require_http_methods(["GET", "POST"])
def consortium_create(request: HttpRequest) -> HttpResponse:
    """Create a consortium with its lead institution (platform admins, regulators, consortium offices)."""
    require(policies.can_create_consortium(request.user))
    form = ConsortiumForm(posted(request), actor=request.user, search=_search(request))
    if request.method == "POST" and form.is_valid():
        try:
            consortium = services.consortium_create(actor=request.user, **form.cleaned_data)
        except (Invalid, Conflict) as error:
            show_errors(form, error)
        else:
            messages.success(request, _("已创建医联体“%(name)s”。") % {"name": consortium.name})
            return redirect(_detail_url(consortium))
    return render(
        request,
        "institutions/consortium_form.html",
        {"form": form, "consortium": None, "q": _search(request)},
    )


@registry_view
@require_http_methods(["GET", "POST"])
def consortium_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Change a consortium's profile (its office, regulators of its region, platform admins)."""
    consortium = selectors.consortium_get(request.user, public_id)
    require(policies.can_manage_consortium(request.user, consortium))
    form = ConsortiumEditForm(
        posted(request), actor=request.user, initial=ConsortiumEditForm.initial_for(consortium)
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.consortium_update(actor=request.user, consortium=consortium, **form.cleaned_data)
        except Invalid as error:
            show_errors(form, error)
        except Conflict as error:
            current = selectors.consortium_get(request.user, public_id)
            form = _conflict_form(ConsortiumEditForm, request, current.version, error, actor=request.user)
            status = 409
        else:
            messages.success(request, _("医联体资料已保存。"))
            return redirect(_detail_url(consortium))
    return render(
        request, "institutions/consortium_form.html", {"form": form, "consortium": consortium}, status=status
    )


# Members -------------------------------------------------------------------


@registry_view
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest, public_id: str) -> HttpResponse:
    """Add a member institution with a role and parent; a concurrent change shows as a conflict."""
    consortium = selectors.consortium_get(request.user, public_id)
    require(policies.can_manage_consortium(request.user, consortium))
    search = _search(request)
    kwargs = {"actor": request.user, "consortium": consortium, "search": search}
    form = MemberAddForm(posted(request), initial={"expected_version": consortium.version}, **kwargs)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = services.member_add(
                actor=request.user,
                consortium=consortium,
                institution=data["institution"],
                role=data["role"],
                parent=data["parent"],
                joined_on=data["joined_on"],
                notes=data["notes"],
                expected_version=data["expected_version"],
            )
        except Invalid as error:
            show_errors(form, error)
        except Conflict as error:
            current = selectors.consortium_get(request.user, public_id)
            form = _conflict_form(MemberAddForm, request, current.version, error, **kwargs)
            status = 409
        else:
            messages.success(request, _("已将“%(name)s”加入医联体。") % {"name": member.institution.name})
            return redirect(_detail_url(consortium))
    return render(
        request,
        "institutions/member_form.html",
        {"form": form, "consortium": consortium, "q": search},
        status=status,
    )


@registry_view
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Change a member's role or the lead / sub-lead it sits under (cycles are refused)."""
    member = selectors.consortium_member_get(request.user, public_id)
    consortium = member.consortium
    require(policies.can_manage_consortium(request.user, consortium))
    initial = {
        "role": member.role,
        "parent": member.parent.public_id if member.parent else None,
        "notes": member.notes,
        "expected_version": consortium.version,
    }
    form = MemberEditForm(posted(request), member=member, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.member_update(
                actor=request.user,
                member=member,
                role=data["role"],
                parent=data["parent"],
                notes=data["notes"],
                expected_version=data["expected_version"],
            )
        except Invalid as error:
            show_errors(form, error)
        except Conflict as error:
            current = selectors.consortium_get(request.user, consortium.public_id)
            form = _conflict_form(MemberEditForm, request, current.version, error, member=member)
            status = 409
        else:
            messages.success(request, _("成员“%(name)s”已更新。") % {"name": member.institution.name})
            return redirect(_detail_url(consortium))
    return render(
        request,
        "institutions/member_edit.html",
        {"form": form, "consortium": consortium, "member": member, "action": "edit"},
        status=status,
    )


@registry_view
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    """Record that a member left (date and reason); the row stays in the history."""
    member = selectors.consortium_member_get(request.user, public_id)
    consortium = member.consortium
    require(policies.can_manage_consortium(request.user, consortium))
    if not member.is_active:
        raise Http404
    form = MemberRemoveForm(posted(request), initial={"expected_version": consortium.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.member_remove(
                actor=request.user,
                member=member,
                left_on=data["left_on"],
                reason=data["reason"],
                expected_version=data["expected_version"],
            )
        except Invalid as error:
            show_errors(form, error)
        except Conflict as error:
            current = selectors.consortium_get(request.user, consortium.public_id)
            form = _conflict_form(MemberRemoveForm, request, current.version, error)
            status = 409
        else:
            messages.success(request, _("“%(name)s”已退出医联体。") % {"name": member.institution.name})
            return redirect(_detail_url(consortium, "history"))
    return render(
        request,
        "institutions/member_edit.html",
        {"form": form, "consortium": consortium, "member": member, "action": "remove"},
        status=status,
    )


# Agreements ----------------------------------------------------------------


@registry_view
@require_http_methods(["GET", "POST"])
def agreement_upload(request: HttpRequest, public_id: str) -> HttpResponse:
    """Upload a charter or agreement with its dates and signing parties."""
    consortium = selectors.consortium_get(request.user, public_id)
    require(policies.can_manage_consortium(request.user, consortium))
    form = AgreementForm(posted(request), uploads(request), actor=request.user, consortium=consortium)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.agreement_create(
                actor=request.user, consortium=consortium, **form.cleaned_data
            )
        except Invalid as error:
            show_errors(form, error)
        else:
            messages.success(request, _("已上传“%(title)s”。") % {"title": agreement.title})
            return redirect(_detail_url(consortium, "agreements"))
    return render(request, "institutions/agreement_form.html", {"form": form, "consortium": consortium})


@registry_view
@require_GET
def agreement_download(request: HttpRequest, public_id: str) -> FileResponse:
    """Stream an agreement's file to those who may read it (404 for everyone else)."""
    agreement = selectors.agreement_get_for_download(request.user, public_id)
    try:
        handle = agreement.file.open("rb")
    except (FileNotFoundError, ValueError) as error:
        raise Http404 from error
    filename = agreement.original_filename or PurePath(agreement.file.name).name
    response = FileResponse(handle, as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# Management bodies ---------------------------------------------------------


def _body(consortium: Consortium, body_id: str) -> ManagementBody:
    body = selectors.management_body_list(consortium).filter(public_id=body_id).first()
    if body is None:
        raise Http404
    return body


@registry_view
@require_http_methods(["GET", "POST"])
def body_create(request: HttpRequest, public_id: str) -> HttpResponse:
    """Add a management body (committee, office, management centre)."""
    return _body_form(request, public_id, None)


@registry_view
@require_http_methods(["GET", "POST"])
def body_edit(request: HttpRequest, public_id: str, body_id: str) -> HttpResponse:
    """Change a management body."""
    return _body_form(request, public_id, body_id)


def _body_form(request: HttpRequest, public_id: str, body_id: str | None) -> HttpResponse:
    consortium = selectors.consortium_get(request.user, public_id)
    require(policies.can_manage_consortium(request.user, consortium))
    body = _body(consortium, body_id) if body_id else None
    initial: dict[str, Any] = {}
    if body is not None:
        initial = {name: getattr(body, name) for name in ("kind", "name", "head_name", "phone", "duties")}
        initial["host_institution"] = body.host_institution.public_id if body.host_institution else None
    form = ManagementBodyForm(posted(request), actor=request.user, consortium=consortium, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.management_body_save(
                actor=request.user, consortium=consortium, body=body, **form.cleaned_data
            )
        except Invalid as error:
            show_errors(form, error)
        else:
            messages.success(request, _("管理机构已保存。"))
            return redirect(_detail_url(consortium, "bodies"))
    return render(
        request, "institutions/body_form.html", {"form": form, "consortium": consortium, "body": body}
    )


@registry_view
@require_http_methods(["GET", "POST"])
def body_delete(request: HttpRequest, public_id: str, body_id: str) -> HttpResponse:
    """Confirm and delete a management body."""
    consortium = selectors.consortium_get(request.user, public_id)
    require(policies.can_manage_consortium(request.user, consortium))
    body = _body(consortium, body_id)
    if request.method == "POST":
        services.management_body_delete(actor=request.user, body=body)
        messages.success(request, _("已删除管理机构“%(name)s”。") % {"name": body.name})
        return redirect(_detail_url(consortium, "bodies"))
    return render(request, "institutions/body_delete.html", {"consortium": consortium, "body": body})
