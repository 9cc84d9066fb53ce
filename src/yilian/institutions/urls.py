"""URLs of the registry UI (mounted at /registry/). Objects are addressed by public id or region code."""

from __future__ import annotations

from django.urls import path

from yilian.institutions.views import checks, consortia, grids, institutions, regions

app_name = "institutions"

urlpatterns = [
    # Live field checks (htmx)
    path("check/credit-code/", checks.check_credit_code, name="check-credit-code"),
    path("check/region-code/", checks.check_region_code, name="check-region-code"),
    # Regions
    path("regions/", regions.region_list, name="region-list"),
    path("regions/new/", regions.region_create, name="region-create"),
    path("regions/import/", regions.region_import, name="region-import"),
    path("regions/<str:code>/", regions.region_detail, name="region-detail"),
    # Institutions and departments
    path("institutions/", institutions.institution_list, name="institution-list"),
    path("institutions/new/", institutions.institution_create, name="institution-create"),
    path("institutions/options/", institutions.institution_options, name="institution-options"),
    path("institutions/<uuid:public_id>/", institutions.institution_detail, name="institution-detail"),
    path("institutions/<uuid:public_id>/edit/", institutions.institution_edit, name="institution-edit"),
    path(
        "institutions/<uuid:public_id>/departments/new/",
        institutions.department_create,
        name="department-create",
    ),
    path("departments/<uuid:public_id>/edit/", institutions.department_edit, name="department-edit"),
    # Consortia
    path("consortia/", consortia.consortium_list, name="consortium-list"),
    path("consortia/new/", consortia.consortium_create, name="consortium-create"),
    path("consortia/<uuid:public_id>/", consortia.consortium_detail, name="consortium-detail"),
    path("consortia/<uuid:public_id>/edit/", consortia.consortium_edit, name="consortium-edit"),
    path("consortia/<uuid:public_id>/members/add/", consortia.member_add, name="member-add"),
    path("members/<uuid:public_id>/edit/", consortia.member_edit, name="member-edit"),
    path("members/<uuid:public_id>/remove/", consortia.member_remove, name="member-remove"),
    path("consortia/<uuid:public_id>/agreements/new/", consortia.agreement_upload, name="agreement-upload"),
    path("agreements/<uuid:public_id>/download/", consortia.agreement_download, name="agreement-download"),
    path("consortia/<uuid:public_id>/bodies/new/", consortia.body_create, name="body-create"),
    path("consortia/<uuid:public_id>/bodies/<uuid:body_id>/edit/", consortia.body_edit, name="body-edit"),
    path(
        "consortia/<uuid:public_id>/bodies/<uuid:body_id>/delete/", consortia.body_delete, name="body-delete"
    ),
    # Grids and coverage
    path("grids/", grids.grid_list, name="grid-list"),
    path("grids/new/", grids.grid_create, name="grid-create"),
    path("grids/<uuid:public_id>/", grids.grid_detail, name="grid-detail"),
    path("grids/<uuid:public_id>/edit/", grids.grid_edit, name="grid-edit"),
    path("grids/<uuid:public_id>/assign/", grids.grid_assign, name="grid-assign"),
    path("grids/<uuid:public_id>/unassign/", grids.grid_unassign, name="grid-unassign"),
    path("coverage/", grids.coverage, name="coverage"),
]
