"""Background jobs of diagnostics: the critical-value escalation sweep, which re-enqueues itself."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from yilian.diagnostics.services import critical_alerts_escalate

SWEEP_INTERVAL = datetime.timedelta(minutes=1)


@task()
def sweep_critical_alerts() -> dict[str, int]:
    """Escalate unacknowledged critical values, then schedule the next sweep."""
    counts = critical_alerts_escalate()
    schedule_next_sweep()
    return counts


def schedule_next_sweep(delay: datetime.timedelta = SWEEP_INTERVAL) -> bool:
    """Enqueue the next sweep ``delay`` from now unless one is already waiting. Returns True when enqueued."""
    if type(sweep_critical_alerts.get_backend()).__module__.startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=sweep_critical_alerts.module_path, status=TaskResultStatus.READY
        ).exists()
        if waiting:
            return False
    sweep_critical_alerts.using(run_after=timezone.now() + delay).enqueue()
    return True
