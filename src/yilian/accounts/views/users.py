"""Users and role grants (platform administrators)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from yilian.accounts import forms, selectors, services
from yilian.accounts.models import User
from yilian.accounts.views._common import (
    USER_PAGE_SIZE,
    _posted,
    _report,
    _require_platform_admin,
)
from yilian.accounts.views.staff import (
    _password_reset,
)
from yilian.core.exceptions import Conflict, DomainError, Invalid
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors
from yilian.institutions import selectors as institution_selectors


@login_required
@domain_errors
def user_list(request: HttpRequest) -> HttpResponse:
    """All users with their active roles, searchable by username or name and filterable by role."""
    _require_platform_admin(request)
    form = forms.UserSearchForm(request.GET or None)
    query, role = "", ""
    if form.is_valid():
        query, role = form.cleaned_data["q"].strip(), form.cleaned_data["role"]
    users = selectors.user_list(request.user, query=query)
    if role:
        users = users.filter(memberships__role=role, memberships__is_active=True).distinct()
    active = selectors.membership_visible_to(request.user).filter(is_active=True).order_by("role")
    users = users.prefetch_related(Prefetch("memberships", queryset=active, to_attr="active_memberships"))
    page_obj = Paginator(users, USER_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"form": form, "page_obj": page_obj})


@sensitive_post_parameters("password")
@login_required
@domain_errors
def user_create(request: HttpRequest) -> HttpResponse:
    """A platform administrator creates an account; roles are granted on its page."""
    _require_platform_admin(request)
    form = forms.UserCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                actor=request.user, password=form.cleaned_data["password"], **form.account_data()
            )
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(
                request, _("已创建账号 %(username)s，请为其授予角色。") % {"username": user.username}
            )
            return redirect("accounts:user-detail", public_id=user.public_id)
    return render(request, "accounts/user_form.html", {"form": form}, status=400 if form.errors else 200)


def _grant_form(request: HttpRequest, data: Any = None) -> forms.GrantForm:
    return forms.GrantForm(
        data,
        institutions=institution_selectors.institution_list(request.user),
        consortia=institution_selectors.consortium_list(request.user).prefetch_related(None),
    )


def _user_detail_context(request: HttpRequest, user: User, grant_form: forms.GrantForm) -> dict[str, Any]:
    return {
        "account": user,
        "memberships": selectors.membership_list_for_user(request.user, user),
        "grant_form": grant_form,
        "is_self": user.pk == request.user.pk,
        "history_query": urlencode({"object_type": "accounts.user", "object_id": str(user.public_id)}),
    }


@login_required
@domain_errors
def user_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One account: profile, every grant (active and revoked), a form to grant any role."""
    _require_platform_admin(request)
    user = selectors.user_get_for(request.user, public_id)
    return render(
        request, "accounts/user_detail.html", _user_detail_context(request, user, _grant_form(request))
    )


@require_POST
@login_required
@domain_errors
def user_grant(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Grant a role on an institution, a consortium, a region or the platform."""
    _require_platform_admin(request)
    user = selectors.user_get_for(request.user, public_id)
    form = _grant_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        region = None
        try:
            if data["region_code"]:
                try:
                    region = institution_selectors.region_get(request.user, data["region_code"])
                except DomainError as error:
                    raise Invalid({"region_code": [_("未找到该行政区划。")]}) from error
            services.membership_grant(
                actor=request.user,
                user=user,
                role=data["role"],
                institution=data["institution"],
                consortium=data["consortium"],
                region=region,
            )
        except Invalid as error:
            add_domain_errors(form, error, field_map={"region": "region_code"})
        else:
            messages.success(request, _("已授予角色。"))
            return redirect("accounts:user-detail", public_id=user.public_id)
    return render(request, "accounts/user_detail.html", _user_detail_context(request, user, form), status=400)


@sensitive_post_parameters("password", "password_again")
@login_required
@domain_errors
def user_password_reset(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A platform administrator sets a new temporary password for any account."""
    _require_platform_admin(request)
    user = selectors.user_get_for(request.user, public_id)
    back = reverse("accounts:user-detail", kwargs={"public_id": user.public_id})
    return _password_reset(request, user, back=back)


@require_POST
@login_required
@domain_errors
def user_set_active(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A platform administrator deactivates or reactivates an account."""
    _require_platform_admin(request)
    user = selectors.user_get_for(request.user, public_id)
    active = request.POST.get("active") == "1"
    try:
        services.user_update(actor=request.user, user=user, is_active=active)
    except (Invalid, Conflict) as error:
        _report(request, error)
    else:
        messages.success(request, _("账号已启用。") if active else _("账号已停用。"))
    return redirect("accounts:user-detail", public_id=user.public_id)
