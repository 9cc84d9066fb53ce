"""Admin of referrals: read-only views for platform administrators (changes go through the services)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yilian.core.ui.admin_site import ReadOnlyInline, ReadOnlyModelAdmin
from yilian.referrals.models import Referral, ReferralCriterion, ReferralEvent, ReservedCapacity


class ReferralEventInline(ReadOnlyInline):
    model = ReferralEvent
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
    def note_text(self, event: ReferralEvent) -> str:
        """The note in the administrator's language (system notes are stored untranslated)."""
        return event.display_note


@admin.register(Referral)
class ReferralAdmin(ReadOnlyModelAdmin):
    """Referrals with their timeline; the patient appears by name only."""

    list_display = (
        "number",
        "status",
        "direction",
        "kind",
        "priority",
        "from_institution",
        "to_institution",
        "submitted_at",
    )
    list_filter = ("status", "direction", "kind", "priority", "inside_consortium")
    search_fields = ("number", "diagnosis_code", "diagnosis_name")
    list_select_related = ("from_institution", "to_institution")
    exclude = ("idempotency_key",)
    inlines = (ReferralEventInline,)


@admin.register(ReferralCriterion)
class ReferralCriterionAdmin(ReadOnlyModelAdmin):
    """The consortia's referral catalogues."""

    list_display = ("name", "consortium", "category", "icd_from", "icd_to", "missing_action", "is_active")
    list_filter = ("category", "is_active")
    list_select_related = ("consortium",)


@admin.register(ReservedCapacity)
class ReservedCapacityAdmin(ReadOnlyModelAdmin):
    """Green-channel capacity by department and day."""

    list_display = ("department", "kind", "date", "quantity", "booked")
    list_filter = ("kind",)
    list_select_related = ("department__institution",)
