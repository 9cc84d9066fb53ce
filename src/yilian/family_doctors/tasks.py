"""Background jobs of family-doctor contracting: the daily expiry sweep, which re-enqueues itself."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from yilian.family_doctors.services import contracts_expire

SWEEP_INTERVAL = datetime.timedelta(days=1)


@task()
def sweep_contracts() -> dict[str, int]:
    """Expire contracts whose term has passed, then schedule the next sweep a day later."""
    expired = contracts_expire()
    schedule_next_sweep()
    return {"expired": expired}


def schedule_next_sweep(delay: datetime.timedelta = SWEEP_INTERVAL) -> bool:
    """Enqueue the next sweep ``delay`` from now unless one is already waiting. Returns True when enqueued.

    With the database backend the waiting sweep is looked up, so restarting ``make demo`` never piles
    up duplicate sweeps.
    """
    if type(sweep_contracts.get_backend()).__module__.startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=sweep_contracts.module_path, status=TaskResultStatus.READY
        ).exists()
        if waiting:
            return False
    sweep_contracts.using(run_after=timezone.now() + delay).enqueue()
    return True
