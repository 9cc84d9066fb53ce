"""Admin of teleconsultations: read-only views for platform administrators (changes go through the services)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.admin_site import ReadOnlyInline, ReadOnlyModelAdmin
from yilian.telemedicine.models import (
    ExpertAvailability,
    Teleconsultation,
    TeleconsultationCharge,
    TeleconsultationEvent,
    TeleconsultationFee,
)


class TeleconsultationEventInline(ReadOnlyInline):
    model = TeleconsultationEvent
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
    def note_text(self, event: TeleconsultationEvent) -> str:
        """The note in the administrator's language (system notes are stored untranslated)."""
        return event.display_note


@admin.register(Teleconsultation)
class TeleconsultationAdmin(ReadOnlyModelAdmin):
    """Teleconsultations with their timeline."""

    list_display = ("number", "status", "kind", "inviting_institution", "invited_institution", "created_at")
    list_filter = ("status", "kind", "outcome")
    search_fields = ("number", "diagnosis_code", "diagnosis_name")
    list_select_related = ("inviting_institution", "invited_institution")
    exclude = ("idempotency_key",)
    inlines = (TeleconsultationEventInline,)


@admin.register(ExpertAvailability)
class ExpertAvailabilityAdmin(ReadOnlyModelAdmin):
    """Experts' published free times."""

    list_display = ("expert", "institution", "starts_at", "ends_at", "taken_by")
    list_select_related = ("expert", "institution", "taken_by")


@admin.register(TeleconsultationFee)
class TeleconsultationFeeAdmin(ReadOnlyModelAdmin):
    """Fees per consortium and kind."""

    list_display = ("consortium", "kind", "amount", "agreement")
    list_select_related = ("consortium", "agreement")


@admin.register(TeleconsultationCharge)
class TeleconsultationChargeAdmin(ReadOnlyModelAdmin):
    """Billing records of both ends."""

    list_display = (
        "teleconsultation", "institution", "counterpart", "consortium", "direction", "amount", "created_at",
    )  # fmt: skip
    list_filter = ("direction", "kind")
    list_select_related = ("teleconsultation", "institution", "counterpart", "consortium")
