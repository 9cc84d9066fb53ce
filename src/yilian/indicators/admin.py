"""Admin of indicators: read-only (indicators change through the services, which version and audit them)."""

from __future__ import annotations

from django.contrib import admin

from yilian.core.ui.admin_site import ReadOnlyModelAdmin
from yilian.indicators.models import (
    Indicator,
    IndicatorCatalogue,
    IndicatorVersion,
    RankingPolicy,
    RefreshRun,
)


@admin.register(IndicatorCatalogue)
class IndicatorCatalogueAdmin(ReadOnlyModelAdmin):
    """Indicator catalogues."""

    list_display = ("code", "name", "is_shipped", "sort_order")


@admin.register(Indicator)
class IndicatorAdmin(ReadOnlyModelAdmin):
    """Indicators with their formulas."""

    list_display = ("code", "name", "catalogue", "consortium", "period_type", "version", "is_active")
    list_filter = ("catalogue", "is_active", "is_working_definition", "kind")
    search_fields = ("code", "name")
    list_select_related = ("catalogue", "consortium")


@admin.register(IndicatorVersion)
class IndicatorVersionAdmin(ReadOnlyModelAdmin):
    """Saved definitions."""

    list_display = ("indicator", "version", "changed_by", "changed_at")
    list_select_related = ("indicator", "changed_by")


@admin.register(RankingPolicy)
class RankingPolicyAdmin(ReadOnlyModelAdmin):
    """What members see of each other."""

    list_display = ("consortium", "members_see_ranking", "members_see_others_values", "updated_at")
    list_select_related = ("consortium",)


@admin.register(RefreshRun)
class RefreshRunAdmin(ReadOnlyModelAdmin):
    """Evaluation runs."""

    list_display = ("created_at", "kind", "status", "first_month", "last_month", "duration_ms")
    list_filter = ("kind", "status")
