"""Staff of an institution: accounts, roles, deactivation, password reset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from yilian.accounts import forms, selectors, services
from yilian.accounts.models import Membership, User
from yilian.accounts.views._common import (
    STAFF_PAGE_SIZE,
    _posted,
    _report,
    _safe_next,
)
from yilian.core.exceptions import Conflict, Invalid
from yilian.core.permissions import Role
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors
from yilian.institutions import policies as institution_policies
from yilian.institutions import selectors as institution_selectors
from yilian.institutions.models import Institution


@dataclass
class StaffRow:
    """One staff member with their roles in the institution."""

    user: User
    memberships: list[Membership] = field(default_factory=list)


def _managed_institution(request: HttpRequest, public_id: Any) -> Institution:
    """The institution, if the user may manage its staff (404 unknown, 403 not allowed)."""
    institution = institution_selectors.institution_get(request.user, public_id)
    if not institution_policies.can_manage_staff(request.user, institution):
        raise PermissionDenied(_("您不能管理该机构的人员。"))
    return institution


def _staff_rows(actor: Any, institution: Institution, query: str = "") -> list[StaffRow]:
    """Group the institution's active memberships (one query) by user."""
    rows: dict[int, StaffRow] = {}
    for membership in selectors.staff_of_institution(actor, institution.pk, query):
        rows.setdefault(membership.user_id, StaffRow(membership.user)).memberships.append(membership)
    return list(rows.values())


@login_required
def my_staff(request: HttpRequest) -> HttpResponse:
    """Go to the staff page of the first institution the user administers."""
    administered = selectors.scope_for(request.user).institutions_with(Role.INSTITUTION_ADMIN)
    if not administered:
        if selectors.scope_for(request.user).is_platform_admin:
            return redirect("accounts:users")
        raise PermissionDenied(_("您不是任何机构的管理员。"))
    institution = (
        institution_selectors.institution_list(request.user)
        .filter(pk__in=administered)
        .order_by("name")
        .first()
    )
    if institution is None:
        raise Http404
    return redirect("accounts:institution-staff", public_id=institution.public_id)


@login_required
@domain_errors
def institution_staff(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Staff of one institution with their roles and departments; grant another role to one of them."""
    institution = _managed_institution(request, public_id)
    query = request.GET.get("q", "").strip()
    rows = _staff_rows(request.user, institution, query)
    page_obj = Paginator(rows, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    departments = institution_selectors.department_list(request.user, institution)
    staff_users = selectors.user_list(request.user, institution_id=institution.pk)
    grant_form = forms.StaffGrantForm(_posted(request), departments=departments, staff=staff_users)
    if request.method == "POST" and grant_form.is_valid():
        data = grant_form.cleaned_data
        try:
            services.membership_grant(
                actor=request.user,
                user=data["user"],
                role=data["role"],
                institution=institution,
                department=data["department"],
            )
        except Invalid as error:
            add_domain_errors(grant_form, error)
        else:
            messages.success(request, _("已授予角色。"))
            return redirect(request.get_full_path())
    administered = selectors.scope_for(request.user).institutions_with(Role.INSTITUTION_ADMIN)
    return render(
        request,
        "accounts/staff_list.html",
        {
            "institution": institution,
            "page_obj": page_obj,
            "query": query,
            "grant_form": grant_form,
            "other_institutions": institution_selectors.institution_list(request.user)
            .filter(pk__in=administered - {institution.pk})
            .order_by("name")
            if len(administered) > 1
            else [],
        },
        status=400 if grant_form.errors else 200,
    )


@sensitive_post_parameters("password")
@login_required
@domain_errors
def staff_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Create a staff account of the institution and grant its first role."""
    institution = _managed_institution(request, public_id)
    departments = institution_selectors.department_list(request.user, institution)
    form = forms.StaffCreateForm(_posted(request), departments=departments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, _membership = services.staff_account_create(
                actor=request.user,
                institution=institution,
                role=data["role"],
                department=data["department"],
                password=data["password"],
                **form.account_data(),
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("已创建账号 %(username)s。") % {"username": user.username})
            return redirect("accounts:institution-staff", public_id=institution.public_id)
    return render(
        request,
        "accounts/staff_form.html",
        {"institution": institution, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@login_required
@domain_errors
def staff_set_active(request: HttpRequest, public_id: Any, user_id: Any) -> HttpResponse:
    """Deactivate (or reactivate) a staff account of the institution."""
    institution = _managed_institution(request, public_id)
    user = selectors.user_get_for(request.user, user_id)
    active = request.POST.get("active") == "1"
    back = reverse("accounts:institution-staff", kwargs={"public_id": institution.public_id})
    try:
        services.user_update(actor=request.user, user=user, is_active=active)
    except (Invalid, Conflict) as error:
        _report(request, error)
    else:
        if active:
            messages.success(request, _("已启用账号 %(name)s。") % {"name": user})
        else:
            messages.success(request, _("已停用账号 %(name)s。") % {"name": user})
    return redirect(_safe_next(request, back))


def _password_reset(
    request: HttpRequest, user: User, *, back: str, institution: Institution | None = None
) -> HttpResponse:
    """The reset form for someone else's account; ``user_set_password`` decides who may."""
    if user.pk == request.user.pk:
        # One's own password is changed with the current one, on its own page.
        return redirect("accounts:password")
    form = forms.PasswordResetForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(actor=request.user, user=user, password=form.cleaned_data["password"])
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(
                request,
                _("已重置 %(name)s 的密码；其已登录的会话和 API 令牌随之失效。") % {"name": user},
            )
            return redirect(back)
    return render(
        request,
        "accounts/password_reset.html",
        {"account": user, "form": form, "back": back, "institution": institution},
        status=400 if form.errors else 200,
    )


@sensitive_post_parameters("password", "password_again")
@login_required
@domain_errors
def staff_password_reset(request: HttpRequest, public_id: Any, user_id: Any) -> HttpResponse:
    """An institution's administrator sets a new temporary password for one of its staff."""
    institution = _managed_institution(request, public_id)
    user = selectors.user_get_for(request.user, user_id)
    back = reverse("accounts:institution-staff", kwargs={"public_id": institution.public_id})
    return _password_reset(request, user, back=back, institution=institution)


@require_POST
@login_required
@domain_errors
def membership_revoke(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Revoke one role grant (the row stays as history)."""
    membership = selectors.membership_visible_to(request.user).filter(public_id=public_id).first()
    if membership is None:
        raise Http404
    default = (
        reverse("accounts:institution-staff", kwargs={"public_id": membership.institution.public_id})
        if membership.institution
        else reverse("accounts:user-detail", kwargs={"public_id": membership.user.public_id})
    )
    try:
        services.membership_revoke(actor=request.user, membership=membership)
    except (Invalid, Conflict) as error:
        _report(request, error)
    else:
        messages.success(request, _("已撤销授权：%(membership)s。") % {"membership": membership})
    return redirect(_safe_next(request, default))
