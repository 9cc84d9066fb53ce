"""家庭医生签约 pages under /family-doctors/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from yilian.family_doctors.views import pages

app_name = "family_doctors"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", pages.team_list, name="teams"),
    path("teams/new/", pages.team_create, name="team-new"),
    path("teams/<uuid:public_id>/", pages.team_detail, name="team"),
    path("teams/<uuid:public_id>/edit/", pages.team_edit, name="team-edit"),
    path("teams/<uuid:public_id>/panel/", pages.team_panel, name="panel"),
    path(
        "teams/<uuid:public_id>/members/<uuid:user_id>/<str:action>/",
        pages.team_member_action,
        name="member-action",
    ),
    path("contracts/", pages.contract_list, name="contracts"),
    path("contracts/new/", pages.contract_sign, name="sign"),
    path("contracts/<uuid:public_id>/", pages.contract_detail, name="contract"),
    path("contracts/<uuid:public_id>/pdf/", pages.contract_pdf, name="contract-pdf"),
    path("packages/", pages.package_list, name="packages"),
    path("packages/<uuid:public_id>/edit/", pages.package_edit, name="package-edit"),
    path("coverage/", pages.coverage, name="coverage"),
]
