"""``yilian import encounters|claims FILE``: create an import job and run it here, with a progress line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yilian.accounts.models import User
from yilian.core.exceptions import DomainError, Invalid
from yilian.ingestion import selectors, services
from yilian.ingestion.choices import ImportKind
from yilian.ingestion.models import ImportJob


class Command(BaseCommand):
    """Import an encounter or claim file synchronously (machine feeds, large back-loads)."""

    help = "Import a CSV/XLSX file of encounters (--institution) or claims (--region) and print the result."

    def add_arguments(self, parser: CommandParser) -> None:
        """kind, file, scope, all-or-nothing, acting user."""
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument("--institution", default="", help="credit code of the reporting institution")
        parser.add_argument("--region", default="", help="GB/T 2260 code of the insured region (claims)")
        parser.add_argument("--all-or-nothing", action="store_true")
        parser.add_argument("--actor", default="", help="username the job is recorded under")
        parser.add_argument("--resume", default="", help="public id of a failed job to resume instead")
        parser.add_argument("--show-errors", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        """Create (or resume) the job, run it, print the counters and the first rejected rows."""
        actor = self._actor(options["actor"])
        if options["resume"]:
            job = ImportJob.objects.get(public_id=options["resume"])
            services.import_job_resume(actor=actor, job=job)
        else:
            job = self._create(actor, options)
        try:
            job = services.import_job_run(job, progress=self._progress)
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write("")
        self.stdout.write(
            f"job {job.public_id} {job.status}: accepted {job.accepted_rows}, "
            f"duplicates {job.duplicate_rows}, rejected {job.rejected_rows}"
        )
        if job.failure:
            self.stdout.write(f"failure: {job.failure}")
        for error in selectors.import_row_errors(job)[: options["show_errors"]]:
            self.stdout.write(
                f"  row {error.row_number} [{error.column}] {error.value}: {error.display_reason}"
            )

    def _actor(self, username: str) -> Any:
        if not username:
            return None  # the server operator: no role check, recorded as "system"
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"unknown user {username}")
        return user

    def _create(self, actor: Any, options: dict[str, Any]) -> ImportJob:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        institution = region = None
        if options["kind"] == ImportKind.ENCOUNTERS and (options["institution"] or actor is None):
            institution = selectors.institution_by_credit_code(options["institution"])
            if institution is None:
                raise CommandError(f"unknown institution {options['institution']}")
        if options["kind"] == ImportKind.CLAIMS:
            region = selectors.region_by_code(options["region"]) if options["region"] else None
            if region is None:
                raise CommandError("--region must be a known region code")
        with path.open("rb") as handle:
            upload = File(handle, name=path.name)
            try:
                return services.import_job_create(
                    actor=actor,
                    kind=options["kind"],
                    upload=upload,
                    institution=institution,
                    region=region,
                    all_or_nothing=options["all_or_nothing"],
                    operator=actor is None,
                )
            except Invalid as error:
                raise CommandError("; ".join(str(m) for ms in error.errors.values() for m in ms)) from error
            except DomainError as error:
                raise CommandError(str(error.message)) from error

    def _progress(self, job: ImportJob) -> None:
        total = job.total_rows or 0
        share = f" ({100 * job.rows_read // total}%)" if total else ""
        sys.stdout.write(
            f"\r{job.rows_read}/{total}{share} accepted {job.accepted_rows} "
            f"duplicates {job.duplicate_rows} rejected {job.rejected_rows}"
        )
        sys.stdout.flush()
