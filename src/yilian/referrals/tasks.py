"""Background jobs of referrals: the deadline sweep, which re-enqueues itself every few minutes."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from yilian.referrals.services import referral_sweep_deadlines

SWEEP_INTERVAL = datetime.timedelta(minutes=5)


@task()
def sweep_referral_deadlines() -> dict[str, int]:
    """Expire unanswered and not-arrived referrals, warn of overdue follow-ups, then schedule the next sweep."""
    counts = referral_sweep_deadlines()
    schedule_next_sweep()
    return counts


def schedule_next_sweep(delay: datetime.timedelta = SWEEP_INTERVAL) -> bool:
    """Enqueue the next sweep ``delay`` from now unless one is already waiting. Returns True when enqueued.

    With the database backend the waiting sweep is looked up, so restarting
    ``make demo`` never piles up duplicate sweeps.
    """
    if type(sweep_referral_deadlines.get_backend()).__module__.startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=sweep_referral_deadlines.module_path, status=TaskResultStatus.READY
        ).exists()
        if waiting:
            return False
    sweep_referral_deadlines.using(run_after=timezone.now() + delay).enqueue()
    return True
