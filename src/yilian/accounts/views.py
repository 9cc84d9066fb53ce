"""Accounts UI: login, my account, staff of an institution, users and roles, the audit log.

Views are thin adapters: parse a form, call one service or selector with
``actor=request.user``, render. Services decide who may do what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from yilian.accounts import forms, policies, selectors, services
from yilian.accounts.models import Membership, User
from yilian.core.client import client_address
from yilian.core.exceptions import Conflict, DomainError, Invalid
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.core.ui.forms import add_domain_errors
from yilian.core.ui.http import domain_errors
from yilian.institutions import policies as institution_policies
from yilian.institutions import selectors as institution_selectors
from yilian.institutions.models import Institution

AUDIT_PAGE_SIZE = 50
USER_PAGE_SIZE = 50
STAFF_PAGE_SIZE = 50

ACTION_LABELS: dict[str, Any] = {
    "user.create": gettext_lazy("创建账号"),
    "user.update": gettext_lazy("修改账号"),
    "user.password": gettext_lazy("设置密码"),
    "api_token.issue": gettext_lazy("签发 API 令牌"),
    "api_token.revoke": gettext_lazy("吊销 API 令牌"),
    "membership.grant": gettext_lazy("授予角色"),
    "membership.revoke": gettext_lazy("撤销角色"),
    "region.create": gettext_lazy("新增行政区划"),
    "region.update": gettext_lazy("修改行政区划"),
    "institution.create": gettext_lazy("新增机构"),
    "institution.update": gettext_lazy("修改机构"),
    "department.create": gettext_lazy("新增科室"),
    "department.update": gettext_lazy("修改科室"),
    "consortium.create": gettext_lazy("新建医联体"),
    "consortium.update": gettext_lazy("修改医联体"),
    "consortium.member.add": gettext_lazy("加入成员"),
    "consortium.member.update": gettext_lazy("修改成员"),
    "consortium.member.remove": gettext_lazy("成员退出"),
    "consortium.body.create": gettext_lazy("新增管理机构"),
    "consortium.body.update": gettext_lazy("修改管理机构"),
    "consortium.body.delete": gettext_lazy("删除管理机构"),
    "consortium.agreement.create": gettext_lazy("上传章程与协议"),
    "consortium.agreement.update": gettext_lazy("修改章程与协议"),
    "grid.create": gettext_lazy("新建网格"),
    "grid.update": gettext_lazy("修改网格"),
    "grid.assign": gettext_lazy("指定网格责任医联体"),
    "grid.unassign": gettext_lazy("解除网格责任"),
    "person.create": gettext_lazy("登记居民"),
    "person.update": gettext_lazy("修改居民信息"),
    "person.link": gettext_lazy("关联居民"),
    "person.reveal_id": gettext_lazy("查看完整身份证号"),
}
"""Readable names of the audit actions known so far; unknown actions show their code."""


# Helpers ---------------------------------------------------------------------


def _safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` parameter when it points inside this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


def _posted(request: HttpRequest) -> Any:
    """The POST data on a POST (even when empty), None on a GET, so forms bind exactly on submit."""
    return request.POST if request.method == "POST" else None


def _require_platform_admin(request: HttpRequest) -> None:
    """403 unless the user is a platform administrator."""
    if not selectors.scope_for(request.user).is_platform_admin:
        raise PermissionDenied(_("仅平台管理员可以使用此功能。"))


def _report(request: HttpRequest, error: DomainError) -> None:
    """Show a domain error that cannot be shown inline as a page message."""
    if isinstance(error, Invalid):
        for field_messages in error.as_text().values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.error(request, str(error.message))


# Login and logout ------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The login page: throttled credential check, then a fresh session (no fixation).

    HEAD is answered like GET (monitors and link checkers probe with it).
    """
    next_url = _safe_next(request, settings.LOGIN_REDIRECT_URL)
    if request.user.is_authenticated and request.method in ("GET", "HEAD"):
        return HttpResponseRedirect(next_url)
    form = forms.LoginForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                address=client_address(request),
            )
        except services.LoginLocked as error:
            form.add_error(None, str(error.message))
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            auth_login(request, user)  # cycles the session key
            return HttpResponseRedirect(next_url)
    status = 200 if request.method != "POST" or not form.errors else 400
    next_value = request.POST.get("next") or request.GET.get("next") or ""
    return render(request, "accounts/login.html", {"form": form, "next": next_value}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Log out (POST only, CSRF-protected) and go back to the login page."""
    auth_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# My account ------------------------------------------------------------------


@login_required
@domain_errors
def me(request: HttpRequest) -> HttpResponse:
    """My account: profile (editable name, phone, title, e-mail) and my roles."""
    user: User = request.user  # type: ignore[assignment]
    initial = {
        "full_name": user.full_name,
        "phone": user.phone,
        "email": user.email,
        "professional_title": user.professional_title,
    }
    form = forms.ProfileForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=user, user=user, **form.cleaned_data)
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("个人资料已保存。"))
            return redirect("accounts:me")
    memberships = selectors.membership_list_for_user(user, user).filter(is_active=True)
    return render(
        request,
        "accounts/me.html",
        {"form": form, "memberships": memberships},
        status=400 if form.errors else 200,
    )


@sensitive_post_parameters("old_password", "password", "password_again")
@login_required
@domain_errors
def password_change(request: HttpRequest) -> HttpResponse:
    """Change my password; the session stays valid, other sessions are logged out."""
    user: User = request.user  # type: ignore[assignment]
    form = forms.PasswordChangeForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(actor=user, user=user, password=form.cleaned_data["password"])
        except Invalid as error:
            add_domain_errors(form, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改。"))
            return redirect("accounts:me")
    return render(request, "accounts/password.html", {"form": form}, status=400 if form.errors else 200)


# Staff of an institution -----------------------------------------------------


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


# Users and roles (platform administrators) ------------------------------------


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


# Audit log ---------------------------------------------------------------------


@dataclass
class DiffRow:
    """One changed value of an audit event."""

    label: str
    before: str
    after: str


def _show(value: Any, choices: dict[str, str] | None = None) -> str:
    """A stored audit value as text: choice labels instead of codes, 是/否 for booleans."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if choices and str(value) in choices:
        return f"{choices[str(value)]}"
    return str(value)


@cache
def _model_of(object_type: str) -> Any:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field_of(model: Any, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _choices_of(field: Any) -> dict[str, str] | None:
    if field is None or not getattr(field, "choices", None):
        return None
    return {str(value): str(label) for value, label in field.flatchoices}


def _decorate(event: AuditEvent) -> AuditEvent:
    """Attach readable labels and the before/after diff rows to an event (no queries).

    Choice codes show as their labels; related objects stay as their public ids.
    """
    model = _model_of(event.object_type)
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    rows = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old in (None, "") and new in (None, ""):
            continue
        field = _field_of(model, key)
        choices = _choices_of(field)
        label = str(field.verbose_name) if field is not None else key
        rows.append(DiffRow(label, _show(old, choices), _show(new, choices)))
    event.diff_rows = rows  # type: ignore[attr-defined]
    event.has_before = event.before is not None  # type: ignore[attr-defined]
    event.action_label = ACTION_LABELS.get(event.action, event.action)  # type: ignore[attr-defined]
    event.object_type_label = (  # type: ignore[attr-defined]
        str(model._meta.verbose_name) if model is not None else event.object_type
    )
    event.details_text = (  # type: ignore[attr-defined]
        json.dumps(event.details, ensure_ascii=False, indent=1) if event.details else ""
    )
    event.history_query = urlencode(  # type: ignore[attr-defined]
        {"object_type": event.object_type, "object_id": event.object_id}
    )
    return event


@login_required
@domain_errors
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log: who did what to which object and when, with the before/after values."""
    if not policies.can_view_audit(request.user):
        raise PermissionDenied(_("您没有查看审计日志的权限。"))
    form = forms.AuditFilterForm(request.GET or None)
    arguments = form.selector_arguments() if form.is_valid() else {}
    events = selectors.audit_list(request.user, **arguments)
    page_obj = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    page_obj.object_list = [_decorate(event) for event in page_obj.object_list]
    object_filter = arguments.get("object_type") and arguments.get("object_id")
    return render(
        request,
        "accounts/audit_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "action_labels": sorted(ACTION_LABELS.items()),
            "object_filter": object_filter,
        },
        status=400 if form.errors else 200,
    )
