"""Background jobs of ingestion: run one queued import job."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks import task

from yilian.ingestion.models import ImportJob
from yilian.ingestion.services import import_job_run


@task()
def run_import_job(job_id: int) -> dict[str, Any]:
    """Run the queued import job ``job_id`` to the end; returns its counters."""
    job = ImportJob.objects.select_related("institution", "region", "created_by").get(pk=job_id)
    job = import_job_run(job)
    return {
        "status": job.status,
        "accepted": job.accepted_rows,
        "duplicates": job.duplicate_rows,
        "rejected": job.rejected_rows,
    }


def enqueue_import_job(job: ImportJob) -> None:
    """Enqueue the run once the job's row is committed (the worker must see it)."""
    transaction.on_commit(lambda: run_import_job.enqueue(job.pk))
