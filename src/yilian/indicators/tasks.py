"""Background jobs of the indicator engine: run a requested refresh, and refresh what imports marked stale."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks import task

from yilian.indicators import services
from yilian.indicators.models import RefreshRun


def _summary(run: RefreshRun) -> dict[str, Any]:
    return {"run": str(run.public_id), "status": run.status, "counts": run.counts, "error": run.error}


@task()
def run_refresh(run_id: int) -> dict[str, Any]:
    """Run the queued refresh ``run_id`` (full or incremental); returns its status and counts."""
    run = RefreshRun.objects.get(pk=run_id)
    return _summary(services.refresh_execute(run))


@task()
def refresh_stale_task() -> dict[str, Any] | None:
    """Queue an incremental refresh of the months and institutions marked stale, and run it now.

    Returns None when nothing is marked or an incremental run is already queued.
    """
    run = services.refresh_incremental_queue()
    if run is None:
        return None
    return _summary(services.refresh_execute(run))


def enqueue_refresh(run: RefreshRun) -> None:
    """Enqueue a requested refresh once its row is committed (the worker must see it)."""
    transaction.on_commit(lambda: run_refresh.enqueue(run.pk))


def enqueue_incremental_refresh() -> None:
    """Enqueue ``refresh_stale_task`` after the current transaction commits (imports call this)."""
    transaction.on_commit(lambda: refresh_stale_task.enqueue())
