"""Admin of the registry: read-only views of regions, institutions, departments, consortia, grids, agreements.

Registry changes go through ``institutions.services`` (the pages and the
API) so they are validated, permission-checked and audited.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from yilian.core.ui.admin_site import ReadOnlyInline, ReadOnlyModelAdmin
from yilian.institutions.models import (
    Agreement,
    Consortium,
    ConsortiumMember,
    Department,
    Grid,
    GridArea,
    GridAssignment,
    Institution,
    ManagementBody,
    Region,
)
from yilian.institutions.services import INSTITUTION_FIELDS


@admin.register(Region)
class RegionAdmin(ReadOnlyModelAdmin):
    """GB/T 2260 regions and their township / village extensions."""

    list_display = ("code", "name", "level", "parent", "population")
    list_filter = ("level",)
    search_fields = ("code", "name", "name_initials")
    list_select_related = ("parent",)
    fields = ("code", "name", "level", "prefix", "parent", "population", "name_initials", "name_pinyin")
    readonly_fields = fields


class DepartmentInline(ReadOnlyInline):
    model = Department
    fields = ("code", "name", "specialty", "subject", "is_clinical", "beds", "is_active")
    readonly_fields = fields


@admin.register(Institution)
class InstitutionAdmin(ReadOnlyModelAdmin):
    """Health institutions."""

    list_display = ("name", "credit_code", "category", "grade", "grade_class", "region", "status")
    list_filter = ("category", "grade", "ownership", "status", "is_tcm")
    search_fields = ("name", "short_name", "credit_code", "name_initials")
    list_select_related = ("region",)
    fields = ("public_id", *INSTITUTION_FIELDS, "created_at", "updated_at")
    readonly_fields = fields
    inlines = (DepartmentInline,)


@admin.register(Department)
class DepartmentAdmin(ReadOnlyModelAdmin):
    """Departments of institutions."""

    list_display = ("name", "institution", "code", "specialty", "subject", "is_clinical", "is_active")
    list_filter = ("specialty", "subject", "is_clinical", "is_active")
    search_fields = ("name", "code", "institution__name")
    list_select_related = ("institution",)
    fields = (
        "public_id",
        "institution",
        "name",
        "code",
        "specialty",
        "subject",
        "is_clinical",
        "beds",
        "phone",
        "is_active",
    )
    readonly_fields = fields


class ConsortiumMemberInline(ReadOnlyInline):
    model = ConsortiumMember
    fk_name = "consortium"
    fields = ("institution", "role", "parent", "joined_on", "left_on", "is_active", "leave_reason")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConsortiumMember]:
        """Members with their institutions and parents in one query."""
        return super().get_queryset(request).select_related("institution", "parent__institution")


class ManagementBodyInline(ReadOnlyInline):
    model = ManagementBody
    fields = ("kind", "name", "head_name", "host_institution", "phone")
    readonly_fields = fields


@admin.register(Consortium)
class ConsortiumAdmin(ReadOnlyModelAdmin):
    """Medical consortia with their members (history included) and governing bodies."""

    list_display = ("name", "type", "integration", "region", "status", "established_on")
    list_filter = ("type", "integration", "status")
    search_fields = ("name", "name_initials")
    list_select_related = ("region",)
    fields = (
        "public_id",
        "name",
        "type",
        "integration",
        "region",
        "established_on",
        "status",
        "description",
        "version",
    )
    readonly_fields = fields
    inlines = (ConsortiumMemberInline, ManagementBodyInline)


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyModelAdmin):
    """Charters and agreements (metadata; files are downloaded through the permission-checked page)."""

    list_display = ("title", "consortium", "kind", "signed_on", "effective_from", "effective_to")
    list_filter = ("kind",)
    search_fields = ("title", "consortium__name")
    list_select_related = ("consortium",)
    fields = (
        "public_id",
        "consortium",
        "kind",
        "title",
        "original_filename",
        "signed_on",
        "effective_from",
        "effective_to",
        "parties",
        "notes",
        "uploaded_by",
        "created_at",
    )
    readonly_fields = fields


class GridAreaInline(ReadOnlyInline):
    model = GridArea
    fields = ("area",)
    readonly_fields = fields


class GridAssignmentInline(ReadOnlyInline):
    model = GridAssignment
    fields = ("consortium", "assigned_from", "assigned_to", "is_current")
    readonly_fields = fields


@admin.register(Grid)
class GridAdmin(ReadOnlyModelAdmin):
    """Grids of the regional plan, the areas they cover and the consortia serving them."""

    list_display = ("code", "name", "region", "population")
    search_fields = ("code", "name", "name_initials")
    list_select_related = ("region",)
    fields = ("public_id", "code", "name", "region", "population", "description")
    readonly_fields = fields
    inlines = (GridAreaInline, GridAssignmentInline)
