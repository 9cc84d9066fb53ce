"""Admin of accounts: who may use the admin at all (platform administrators), users and role grants.

Read-only: accounts and grants change through the audited pages and API.
Password hashes are never shown.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpRequest

from yilian.accounts.models import Membership, User
from yilian.accounts.selectors import scope_for
from yilian.core.ui.admin_site import ReadOnlyInline, ReadOnlyModelAdmin, set_access_check


def platform_admins_only(request: HttpRequest) -> bool:
    """The admin is for users with an active platform-administrator membership (``is_staff`` is not enough)."""
    return scope_for(request.user).is_platform_admin


set_access_check(platform_admins_only)

# Roles come from memberships, not Django groups. API tokens (accounts.ApiToken) are
# credentials and are not registered here.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class MembershipInline(ReadOnlyInline):
    model = Membership
    fk_name = "user"
    fields = ("role", "institution", "department", "consortium", "region", "is_active", "granted_at")
    readonly_fields = fields


@admin.register(User)
class UserAdmin(ReadOnlyModelAdmin):
    """Login accounts (no password hash, no Django permission fields)."""

    list_display = ("username", "full_name", "professional_title", "phone", "is_active", "last_login")
    list_filter = ("is_active", "professional_title")
    search_fields = ("username", "full_name", "phone", "email")
    fields = (
        "public_id",
        "username",
        "full_name",
        "phone",
        "email",
        "professional_title",
        "is_active",
        "date_joined",
        "last_login",
    )
    readonly_fields = fields
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyModelAdmin):
    """Role grants within an institution, a consortium, a region or the platform."""

    list_display = (
        "user",
        "role",
        "institution",
        "department",
        "consortium",
        "region",
        "is_active",
        "granted_at",
    )
    list_filter = ("role", "is_active")
    search_fields = (
        "user__username",
        "user__full_name",
        "institution__name",
        "consortium__name",
        "region__name",
    )
    list_select_related = ("user", "institution", "department", "consortium", "region")
    fields = (
        "public_id",
        "user",
        "role",
        "institution",
        "department",
        "consortium",
        "region",
        "is_active",
        "granted_at",
        "granted_by",
    )
    readonly_fields = fields
