"""URLs of the accounts UI (mounted at /accounts/). Objects are addressed by public id only."""

from __future__ import annotations

from django.urls import URLPattern, path

from yilian.accounts import views

app_name = "accounts"
urlpatterns: list[URLPattern] = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("me/", views.me, name="me"),
    path("me/password/", views.password_change, name="password"),
    path("my-staff/", views.my_staff, name="my-staff"),
    path("institutions/<uuid:public_id>/staff/", views.institution_staff, name="institution-staff"),
    path("institutions/<uuid:public_id>/staff/new/", views.staff_create, name="staff-create"),
    path(
        "institutions/<uuid:public_id>/staff/<uuid:user_id>/active/",
        views.staff_set_active,
        name="staff-set-active",
    ),
    path(
        "institutions/<uuid:public_id>/staff/<uuid:user_id>/password/",
        views.staff_password_reset,
        name="staff-password-reset",
    ),
    path("memberships/<uuid:public_id>/revoke/", views.membership_revoke, name="membership-revoke"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user-create"),
    path("users/<uuid:public_id>/", views.user_detail, name="user-detail"),
    path("users/<uuid:public_id>/grant/", views.user_grant, name="user-grant"),
    path("users/<uuid:public_id>/active/", views.user_set_active, name="user-set-active"),
    path("users/<uuid:public_id>/password/", views.user_password_reset, name="user-password-reset"),
    path("audit/", views.audit_log, name="audit"),
]
