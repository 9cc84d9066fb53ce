"""``yilian diagnostics_sweep``: escalate overdue critical values now, or (--schedule) start the recurring job."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from yilian.diagnostics.services import critical_alerts_escalate
from yilian.diagnostics.tasks import schedule_next_sweep


class Command(BaseCommand):
    """Escalate unacknowledged critical values; or enqueue the self-repeating sweep job."""

    help = "Escalate unacknowledged critical values now, or with --schedule enqueue the recurring sweep."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--schedule", action="store_true", help="enqueue the recurring sweep for the worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Print what was done."""
        if options["schedule"]:
            enqueued = schedule_next_sweep(delay=datetime.timedelta(seconds=5))
            self.stdout.write("sweep scheduled" if enqueued else "sweep already scheduled")
            return
        counts = critical_alerts_escalate()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))
