"""Signal receivers of the indicator engine: bulk writes elsewhere mark months stale and queue a refresh."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from yilian.indicators import services, tasks


def on_facts_changed(
    sender: Any,
    *,
    institution_months: Iterable[tuple[int, datetime.date]] = (),
    regional_months: Iterable[datetime.date] = (),
    models: Iterable[str] = (),
    **kwargs: Any,
) -> None:
    """Mark what a bulk write changed stale and queue the incremental refresh after its commit."""
    by_institution: dict[int, set[datetime.date]] = {}
    for institution_id, day in institution_months:
        by_institution.setdefault(institution_id, set()).add(day)
    labels = list(models)
    added = sum(services.mark_stale([pk], days, models=labels) for pk, days in by_institution.items())
    added += services.mark_stale([], [], regional_days=regional_months, models=labels)
    if added:
        tasks.enqueue_incremental_refresh()
