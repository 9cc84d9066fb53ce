"""``yilian referrals_sweep``: run the referral deadline sweep now, or (--schedule) start the recurring job."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from yilian.referrals.services import referral_sweep_deadlines
from yilian.referrals.tasks import schedule_next_sweep


class Command(BaseCommand):
    """Expire overdue referrals and warn of overdue follow-ups; or enqueue the self-repeating sweep job."""

    help = "Run the referral deadline sweep now, or with --schedule enqueue the recurring background sweep."

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
        counts = referral_sweep_deadlines()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))
