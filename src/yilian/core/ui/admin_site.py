"""The Django admin as a read-only window for platform administrators.

Django's default admin lets in any ``is_staff`` user and writes models
directly. Here every change must go through a service (validated and
audited), so the admin only shows data, and only to platform
administrators. Core knows nothing of roles: ``accounts.admin`` registers the
access check with ``set_access_check``; until it does, nobody gets in.

``install`` adapts the default site in place (titles, ``has_permission``,
login and password views), so ``admin.site.urls`` keeps working unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

AccessCheck = Callable[[HttpRequest], bool]

_access_check: list[AccessCheck] = []


def set_access_check(check: AccessCheck) -> None:
    """Decide who may use the admin (called once by the accounts app)."""
    _access_check[:] = [check]


def has_admin_access(request: HttpRequest) -> bool:
    """True for an active, logged-in user the registered access check lets in; False otherwise."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(_access_check) and _access_check[0](request)


def _login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The admin has no login form of its own: use the throttled site login, refuse the signed-in."""
    if request.user.is_authenticated:
        if has_admin_access(request):
            return redirect("admin:index")
        raise PermissionDenied(_("仅平台管理员可以使用管理后台。"))
    return redirect_to_login(request.GET.get("next") or request.get_full_path(), settings.LOGIN_URL)


def _password_change(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """Passwords change through the audited account page, not the admin's form."""
    return redirect("accounts:password")


def install(site: admin.AdminSite) -> None:
    """Make ``site`` a read-only admin for whoever the access check admits."""
    site.site_header = _("医联 · 管理后台（只读）")
    site.site_title = _("医联管理后台")
    site.index_title = _("数据查看（只读）：所有修改请在平台页面中进行，以便校验权限并记入审计日志")
    site.site_url = "/"
    site.has_permission = has_admin_access  # type: ignore[method-assign]
    site.login = _login  # type: ignore[method-assign]
    site.password_change = _password_change  # type: ignore[method-assign]


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """View-only model admin: visible to those the site admits, never adds, changes or deletes.

    Permissions come from the site's access check (platform administrators),
    not from Django's per-model permission table.
    """

    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        """Admitted users see the app in the index."""
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Admitted users view every row."""
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Never: records are created through services."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Never: records are changed through services."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Never: history is kept."""
        return False


class ReadOnlyInline(admin.TabularInline):
    """A read-only inline of a ``ReadOnlyModelAdmin``."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Admitted users view the rows."""
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Never."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Never."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Never."""
        return False
