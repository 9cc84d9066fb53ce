"""``yilian indicators_refresh [--incremental] [--first YYYY-MM --last YYYY-MM]``: recompute figures now."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yilian.indicators import services
from yilian.indicators.choices import RefreshKind, RefreshStatus
from yilian.indicators.models import RefreshRun


def _month(text: str) -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError as error:
        raise CommandError(f"not a month (YYYY-MM): {text}") from error


class Command(BaseCommand):
    """Run a full or incremental refresh synchronously (cron, after bulk loads, by hand)."""

    help = "Recompute indicator figures: every month with data (or --first/--last), or --incremental."

    def add_arguments(self, parser: CommandParser) -> None:
        """--incremental, or a month range for a full refresh."""
        parser.add_argument("--incremental", action="store_true", help="only months marked stale")
        parser.add_argument("--first", default="", help="first month, YYYY-MM")
        parser.add_argument("--last", default="", help="last month, YYYY-MM")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the run as the server operator, execute it here and print its outcome."""
        first, last = _month(options["first"]), _month(options["last"])
        if options["incremental"]:
            if first or last:
                raise CommandError("--incremental takes no month range")
            run = services.refresh_incremental_queue()
            if run is None:
                self.stdout.write("nothing marked stale (or an incremental refresh is already queued)")
                return
        else:
            if first and last and last < first:
                raise CommandError("--last is before --first")
            # The operator at the console is not a user: the run is recorded without one.
            run = RefreshRun.objects.create(kind=RefreshKind.FULL, first_month=first, last_month=last)
        run = services.refresh_execute(run)
        months = f"{run.months[0][:7]}..{run.months[-1][:7]}" if run.months else "-"
        self.stdout.write(
            f"refresh {run.public_id} {run.kind} {run.status}: months {months}, "
            f"{run.duration_ms} ms, counts {run.counts}"
        )
        if run.status == RefreshStatus.FAILED:
            raise CommandError(run.error)
