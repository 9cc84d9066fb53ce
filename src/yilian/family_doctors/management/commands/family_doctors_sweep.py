"""``yilian family_doctors_sweep``: expire contracts past their term now, or (--schedule) start the daily job."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from yilian.family_doctors.services import contracts_expire
from yilian.family_doctors.tasks import schedule_next_sweep


class Command(BaseCommand):
    """Expire family-doctor contracts whose term has passed; or enqueue the self-repeating daily sweep."""

    help = "Expire family-doctor contracts past their term now, or with --schedule enqueue the daily sweep."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schedule", action="store_true", help="enqueue the daily sweep for the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print what was done."""
        if options["schedule"]:
            enqueued = schedule_next_sweep(delay=datetime.timedelta(seconds=5))
            self.stdout.write("sweep scheduled" if enqueued else "sweep already scheduled")
            return
        self.stdout.write(f"expired={contracts_expire()}")
