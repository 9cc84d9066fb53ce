"""Admin of diagnostics: read-only views for platform administrators (changes go through the services)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.admin_site import ReadOnlyInline, ReadOnlyModelAdmin
from yilian.diagnostics.models import (
    CriticalValueAlert,
    DiagnosticItem,
    DiagnosticOrder,
    DiagnosticReport,
    OrderEvent,
    RecognitionDecision,
    RecognitionRule,
    SharedCentre,
)


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = (
        "occurred_at",
        "action",
        "from_status",
        "to_status",
        "side",
        "actor_label",
        "institution_name",
        "note_text",
    )
    readonly_fields = fields

    @admin.display(description=_("说明"))
    def note_text(self, event: OrderEvent) -> str:
        """The note in the administrator's language (system notes are stored untranslated)."""
        return event.display_note


@admin.register(SharedCentre)
class SharedCentreAdmin(ReadOnlyModelAdmin):
    """Shared centres of every consortium."""

    list_display = ("name", "kind", "consortium", "hub_institution", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)


@admin.register(DiagnosticItem)
class DiagnosticItemAdmin(ReadOnlyModelAdmin):
    """Catalogue items."""

    list_display = ("code", "name", "centre", "price", "turnaround_hours", "is_active")
    search_fields = ("code", "name")


@admin.register(RecognitionRule)
class RecognitionRuleAdmin(ReadOnlyModelAdmin):
    """Mutual-recognition catalogue entries."""

    list_display = ("item_code", "name", "consortium", "validity_days", "scope", "is_active")


@admin.register(DiagnosticOrder)
class DiagnosticOrderAdmin(ReadOnlyModelAdmin):
    """Orders with their timeline; the patient appears by name only."""

    list_display = (
        "number",
        "status",
        "priority",
        "item_name",
        "ordering_institution",
        "centre",
        "ordered_at",
    )
    list_filter = ("status", "priority")
    search_fields = ("number", "barcode")
    exclude = ("idempotency_key",)
    inlines = [OrderEventInline]


@admin.register(DiagnosticReport)
class DiagnosticReportAdmin(ReadOnlyModelAdmin):
    """Report versions."""

    list_display = ("order", "version", "status", "author", "signed_at")


@admin.register(CriticalValueAlert)
class CriticalValueAlertAdmin(ReadOnlyModelAdmin):
    """Critical values and their acknowledgement."""

    list_display = ("order", "raised_at", "acknowledged_at", "escalation_level")


@admin.register(RecognitionDecision)
class RecognitionDecisionAdmin(ReadOnlyModelAdmin):
    """Recognised results used or repeated."""

    list_display = ("item_code", "outcome", "saved_amount", "institution", "created_at")
