"""Admin of encounters: read-only."""

from __future__ import annotations

from django.contrib import admin

from yilian.core.ui.admin_site import ReadOnlyModelAdmin
from yilian.encounters.models import Encounter, ServiceVolume


@admin.register(Encounter)
class EncounterAdmin(ReadOnlyModelAdmin):
    """Visits and inpatient stays."""

    list_display = (
        "institution",
        "department",
        "kind",
        "started_at",
        "ended_at",
        "diagnosis_code",
        "recovery_phase",
    )
    list_filter = ("kind",)
    list_select_related = ("institution", "department")


@admin.register(ServiceVolume)
class ServiceVolumeAdmin(ReadOnlyModelAdmin):
    """Monthly service volumes."""

    list_display = ("institution", "department", "month", "outpatient_visits", "admissions", "discharges")
    list_select_related = ("institution", "department")
