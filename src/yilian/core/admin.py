"""Admin of core: the read-only site for platform administrators, and the audit log (never editable)."""

from __future__ import annotations

from django.contrib import admin

from yilian.core.models import AuditEvent
from yilian.core.ui.admin_site import ReadOnlyModelAdmin, install

install(admin.site)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """Audit events: searchable, filterable, and never added, changed or deleted."""

    list_display = ("occurred_at", "actor_label", "action", "object_type", "object_label", "request_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_label", "actor_label", "action", "object_id", "request_id")
    date_hierarchy = "occurred_at"
    list_select_related = ("actor",)
    fields = (
        "occurred_at",
        "actor",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_label",
        "institution_public_id",
        "consortium_public_id",
        "region_code",
        "request_id",
        "before",
        "after",
        "details",
    )
    readonly_fields = fields
