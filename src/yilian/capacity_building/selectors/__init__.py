"""Scoped reads of capacity building, and the yearly counts other apps use."""

from __future__ import annotations

from yilian.capacity_building.selectors.records import *  # noqa: F403 — the public reads, one namespace
from yilian.capacity_building.selectors.statistics import (
    CapacityCounts,
    MemberFigures,
    StatisticsReport,
    annual_counts,
    capacity_statistics,
)

__all__ = ["CapacityCounts", "MemberFigures", "StatisticsReport", "annual_counts", "capacity_statistics"]
