"""Admin of capacity building: read-only views for platform administrators (changes go through the services)."""

from __future__ import annotations

from django.contrib import admin

from yilian.capacity_building.models import (
    Fellowship,
    MaintenanceRequest,
    SupportedDevice,
    TechniqueTransfer,
    TrainingAttendance,
    TrainingCourse,
)
from yilian.core.ui.admin_site import ReadOnlyInline, ReadOnlyModelAdmin


class AttendanceInline(ReadOnlyInline):
    model = TrainingAttendance
    fields = ("name", "institution_name", "user", "signed_in_at")
    readonly_fields = fields


@admin.register(TrainingCourse)
class TrainingCourseAdmin(ReadOnlyModelAdmin):
    """Courses with their sign-ins."""

    list_display = ("starts_on", "title", "kind", "organiser", "status")
    list_filter = ("kind", "status", "mode")
    search_fields = ("title", "trainers")
    list_select_related = ("organiser",)
    inlines = (AttendanceInline,)


@admin.register(Fellowship)
class FellowshipAdmin(ReadOnlyModelAdmin):
    """Refresher fellowships."""

    list_display = ("trainee", "home_institution", "host_department", "planned_start", "status")
    list_filter = ("status",)
    list_select_related = ("trainee", "home_institution", "host_department")


@admin.register(TechniqueTransfer)
class TechniqueTransferAdmin(ReadOnlyModelAdmin):
    """New techniques and projects."""

    list_display = ("name", "institution", "category", "introduced_on", "status", "cases_to_date")
    list_filter = ("status", "category")
    search_fields = ("name",)
    list_select_related = ("institution",)


@admin.register(SupportedDevice)
class SupportedDeviceAdmin(ReadOnlyModelAdmin):
    """Donated and lent devices."""

    list_display = ("name", "device_type", "serial_number", "recipient", "support_kind", "delivered_on")
    list_filter = ("device_type", "support_kind")
    search_fields = ("name", "serial_number")
    list_select_related = ("recipient",)


@admin.register(MaintenanceRequest)
class MaintenanceRequestAdmin(ReadOnlyModelAdmin):
    """Repair requests."""

    list_display = ("number", "device", "status", "engineer", "requested_at", "completed_on")
    list_filter = ("status",)
    search_fields = ("number",)
    list_select_related = ("device", "engineer")
