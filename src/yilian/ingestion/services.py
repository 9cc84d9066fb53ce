"""Writes of ingestion: create an import job from an upload, run it in batches, resume a failed one.

A job streams its file row by row; valid rows are written in batches of
``BATCH_ROWS``, each in one transaction with the rejected rows of the batch
and the job's counters, so ``rows_committed`` always says how far the file is
safely in: a crashed job resumes there without double counting.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yilian.accounts.selectors import scope_for
from yilian.core.audit import record_event
from yilian.core.data_items import facts_changed
from yilian.core.exceptions import Conflict, Invalid, NotAllowed, required_message
from yilian.core.messages import Message, render, stored
from yilian.encounters.importing import EncounterRows, derive_service_volumes
from yilian.ingestion import policies, readers, selectors, staging
from yilian.ingestion.choices import ImportKind, ImportStatus
from yilian.ingestion.models import ImportJob, ImportRowError
from yilian.institutions.models import ConsortiumMember
from yilian.insurance.importing import ClaimRows

BATCH_ROWS = 20_000
MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024
COUNTERS = ["rows_read", "rows_committed", "accepted_rows", "duplicate_rows", "rejected_rows", "updated_at"]


def columns_for(kind: str) -> tuple[Any, ...]:
    """The template columns of a kind of file."""
    from yilian.encounters.importing import COLUMNS as ENCOUNTER_COLUMNS
    from yilian.insurance.importing import COLUMNS as CLAIM_COLUMNS

    return ENCOUNTER_COLUMNS if kind == ImportKind.ENCOUNTERS else CLAIM_COLUMNS


def _check_header(kind: str, header: list[str]) -> list[str]:
    columns = columns_for(kind)
    return readers.check_header(
        header, [c.header for c in columns], [c.header for c in columns if c.required]
    )


def import_job_create(
    *,
    actor: Any,
    kind: str,
    upload: Any,
    institution: Any = None,
    region: Any = None,
    all_or_nothing: bool = False,
    operator: bool = False,
) -> ImportJob:
    """Check and store an uploaded file as a queued import job (the caller enqueues the run).

    Encounters need an institution the actor administers or whose consortium
    office he is (or, for an office, none: any member); claims need a region
    the actor's insurance scope covers. The file must be .csv or .xlsx with
    the template's columns. Side effects: stores the file, writes the job and
    an audit event. ``operator`` (the command line run by the server's
    operator, no user) skips the role check. Raises NotAllowed, Invalid.
    """
    if kind not in ImportKind.values:
        raise Invalid({"kind": [_("未知的导入类型。")]})
    if operator:
        if (institution if kind == ImportKind.ENCOUNTERS else region) is None:
            raise Invalid(
                {"institution" if kind == ImportKind.ENCOUNTERS else "region": [required_message()]}
            )
        if kind == ImportKind.ENCOUNTERS:
            region = None
        else:
            institution = None
    elif kind == ImportKind.ENCOUNTERS:
        region = None
        if institution is not None:
            consortia = selectors.member_consortium_ids(institution)
            if not policies.can_import_encounters_for(actor, institution.pk, consortia):
                raise NotAllowed(_("您无权导入该机构的诊疗记录。"))
        elif not policies.encounter_consortia(actor):
            if policies.can_import_encounters(actor):
                raise Invalid({"institution": [_("请选择数据报送机构。")]})
            raise NotAllowed(_("您无权导入诊疗记录。"))
    else:
        institution = None
        if region is None:
            if not policies.can_import_claims(actor):
                raise NotAllowed(_("您无权导入医保结算记录。"))
            raise Invalid({"region": [_("请选择参保地。")]})
        if not policies.can_import_claims_for(actor, region.code):
            raise NotAllowed(_("您无权导入该地区的医保结算记录。"))
    filename = str(getattr(upload, "name", "") or "upload")[-255:]
    fmt = readers.file_format(filename)
    if getattr(upload, "size", 0) and upload.size > MAX_UPLOAD_BYTES:
        raise Invalid({"file": [_("文件不能超过 2 GB。")]})
    digest = hashlib.sha256()
    if hasattr(upload, "chunks"):
        for chunk in upload.chunks():
            digest.update(chunk)
    else:
        digest.update(upload.read())
    upload.seek(0)
    rows = readers.iter_rows(upload, fmt)
    header = next(rows, None)
    rows.close()  # only the header is read here; the worker streams the rest
    if not header:
        raise Invalid({"file": [_("文件为空。")]})
    _check_header(kind, header)
    upload.seek(0)
    with transaction.atomic():
        job = ImportJob(
            kind=kind,
            institution=institution,
            region=region,
            original_filename=filename,
            file_sha256=digest.hexdigest(),
            all_or_nothing=all_or_nothing,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        suffix = ".csv" if fmt == readers.CSV else ".xlsx"
        job.file.save(
            f"{job.public_id.hex}{suffix}",
            upload if hasattr(upload, "chunks") else ContentFile(upload.read()),
            save=False,
        )
        job.save()
        record_event(
            actor=actor,
            action="import.create",
            obj=job,
            after={
                "kind": kind,
                "file": filename,
                "sha256": job.file_sha256,
                "all_or_nothing": all_or_nothing,
            },
            institution_public_id=institution.public_id if institution is not None else None,
            region_code=region.code if region is not None else "",
        )
    return job


def import_job_resume(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue a failed job again; it continues after ``rows_committed``. Raises NotAllowed, Conflict."""
    if job.created_by_id != getattr(actor, "pk", None) and not _may_upload_like(actor, job):
        raise NotAllowed(_("您无权继续该导入任务。"))
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.FAILED).update(
            status=ImportStatus.QUEUED, failure="", updated_at=timezone.now()
        )
        if not updated:
            raise Conflict(_("只有失败的导入任务可以继续。"))
        job.refresh_from_db()
        record_event(actor=actor, action="import.resume", obj=job, details={"from_row": job.rows_committed})
    return job


def _may_upload_like(actor: Any, job: ImportJob) -> bool:
    if job.kind == ImportKind.ENCOUNTERS:
        if job.institution_id is None:
            return False
        consortia = set(
            ConsortiumMember.objects.filter(institution_id=job.institution_id, is_active=True).values_list(
                "consortium_id", flat=True
            )
        )
        return policies.can_import_encounters_for(actor, job.institution_id, consortia)
    return job.region is not None and policies.can_import_claims_for(actor, job.region.code)


def row_handler(job: ImportJob) -> Any:
    """The domain row validator/writer for the job's kind and scope."""
    if job.kind == ImportKind.ENCOUNTERS:
        if job.institution_id is not None:
            allowed = {job.institution_id}
        else:
            consortia = (
                scope_for(job.created_by).consortia_with("consortium_office") if job.created_by else set()
            )
            allowed = set(
                ConsortiumMember.objects.filter(consortium_id__in=consortia, is_active=True).values_list(
                    "institution_id", flat=True
                )
            )
        return EncounterRows(allowed_institution_ids=allowed)
    assert job.region is not None
    return ClaimRows(region_prefix=job.region.prefix)


def _records(job: ImportJob, handler: Any) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number in the file, header → value) for each data row; row 1 is the header."""
    fmt = readers.file_format(job.original_filename)
    with job.file.open("rb") as handle:
        rows = readers.iter_rows(handle, fmt)
        header = _check_header(job.kind, next(rows, []))
        width = len(header)
        for number, values in enumerate(rows, start=2):
            if not any(values):
                continue  # blank lines between records are not rows
            if len(values) < width:
                values = values + [""] * (width - len(values))
            yield number, dict(zip(header, values, strict=False))


def _count_rows(job: ImportJob) -> int:
    """Data rows in the file (a fast pass: newlines for CSV, the sheet's dimension for Excel)."""
    fmt = readers.file_format(job.original_filename)
    with job.file.open("rb") as handle:
        if fmt == readers.CSV:
            lines = 0
            last = b"\n"
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
            return max(lines + (0 if last == b"\n" else 1) - 1, 0)
        from openpyxl import load_workbook

        workbook = load_workbook(handle, read_only=True)
        try:
            return max((workbook.worksheets[0].max_row or 1) - 1, 0)
        finally:
            workbook.close()


def _error_rows(
    job: ImportJob, number: int, errors: list[tuple[str, str, str | Message]]
) -> list[ImportRowError]:
    rows = []
    for column, value, reason in errors:
        # A reason naming a value ("ICD-10 编码 X 不存在。") keeps its msgid and parameters, so each
        # reader sees it in his own language rather than in the worker's.
        template, params = stored(reason)
        rows.append(
            ImportRowError(
                job=job,
                row_number=number,
                column=column[:60],
                value=str(value)[:100],
                reason=template[:300],
                reason_params=params,
            )
        )
    return rows


def import_job_run(job: ImportJob, *, progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Run a queued job to the end: validate, commit batches, recount volumes; returns the job.

    Only a QUEUED job runs (the status flips to RUNNING in one conditional
    update, so two workers never run one job). Any unexpected error marks the
    job FAILED with the reason and is re-raised; committed batches stay and a
    resume continues after them. ``progress`` is called after every batch. Rejected rows'
    reasons are stored in the source language (``ImportRowError.display_reason``).
    """
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    job.refresh_from_db()
    if not claimed:
        raise Conflict(_("该导入任务不在排队状态。"))
    try:
        # In the source language whoever runs it (worker, command, a request with the immediate
        # backend): the rows' reasons are stored as msgids and shown in each reader's language.
        with translation.override(settings.LANGUAGE_CODE):
            _run(job, progress)
    except Exception as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, failure=str(error)[:2000], finished_at=timezone.now()
        )
        job.refresh_from_db()
        if isinstance(error, Invalid):
            return job  # the file itself is unreadable: the failure says why, nothing to re-raise
        raise
    return job


def _run(job: ImportJob, progress: Callable[[ImportJob], None] | None) -> None:
    handler = row_handler(job)
    if job.total_rows is None:
        job.total_rows = _count_rows(job)
        job.save(update_fields=["total_rows", "updated_at"])
    if hasattr(handler, "staged"):
        _run_staged(job, handler, progress)
        return
    if job.all_or_nothing and job.rows_committed == 0 and not _validate_only(job, handler, progress):
        return
    start = job.rows_committed
    valid: list[dict[str, Any]] = []
    failures: list[ImportRowError] = []
    position = 0
    pending = 0
    for position, (number, record) in enumerate(_records(job, handler), start=1):
        values, errors = handler.validate(record)
        if position <= start:
            if values is not None:
                handler.remember(values)  # months of rows committed before a crash are recounted too
            continue
        pending += 1
        if values is None:
            failures.extend(_error_rows(job, number, errors))
            job.rejected_rows += 1
        else:
            valid.append(values)
            handler.remember(values)
        if pending >= BATCH_ROWS:
            _commit(job, handler, valid, failures, position)
            valid, failures, pending = [], [], 0
            if progress is not None:
                progress(job)
    _commit(job, handler, valid, failures, max(position, start))
    _finish(job, handler, progress)


def _finish(job: ImportJob, handler: Any, progress: Callable[[ImportJob], None] | None) -> None:
    months = getattr(handler, "months", None)
    regional_months = getattr(handler, "regional_months", None)
    if months:
        derive_service_volumes(months)
    with transaction.atomic():
        job.status = ImportStatus.SUCCEEDED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at", "updated_at"])
        _audit_finish(job)
    if (months or regional_months) and job.accepted_rows:
        # The indicator engine recomputes these months (and only these institutions) in the background.
        facts_changed.send(
            sender=ImportJob,
            institution_months=sorted(months or ()),
            regional_months=sorted(regional_months or ()),
            models=getattr(handler, "fact_models", ()),
        )
    if progress is not None:
        progress(job)


def _run_staged(job: ImportJob, handler: Any, progress: Callable[[ImportJob], None] | None) -> None:
    """The set-based run (ADR 0017): stage the file, then check and write it range by range in SQL.

    Same contract as the row-by-row run: batches of ``BATCH_ROWS`` positions,
    each committed with its rejected rows and the counters; a resume starts
    after ``rows_committed``; all-or-nothing checks every row first. Rows the
    SQL check does not pass are validated by the handler's Python rules,
    which give the row errors (or write the rows, when only their form was
    loose).
    """
    fmt = readers.file_format(job.original_filename)
    with job.file.open("rb") as handle:
        raw = staging.raw_header(handle, fmt)
        header = _check_header(job.kind, raw)
        stage = staging.load(handle, fmt, f"ingest_stage_{job.pk}", header, len(raw))
    try:
        staged = handler.staged(stage)
        if job.all_or_nothing and job.rows_committed == 0 and not _validate_staged(job, staged, progress):
            return
        start = min(job.rows_committed, stage.rows)
        if start:
            # Rows committed before a crash: their months are recounted too.
            staged.prepare(0, start)
            staged.remember(0, start)
            for _number, record in staged.rejected(0, start):
                values, _errors = handler.validate(record)
                if values is not None:
                    handler.remember(values)
        low = start
        while low < stage.rows:
            high = min(low + BATCH_ROWS, stage.rows)
            with transaction.atomic():
                staged.prepare(low, high)
                failures: list[ImportRowError] = []
                valid: list[dict[str, Any]] = []
                loose = staged.rejected(low, high)
                for number, record in loose:
                    values, errors = handler.validate(record)
                    if values is None:
                        failures.extend(_error_rows(job, number, errors))
                        job.rejected_rows += 1
                    else:
                        valid.append(values)
                        handler.remember(values)
                inserted = staged.write(low, high)
                staged.remember(low, high)
                passed = high - low - len(loose)
                job.duplicate_rows += passed - inserted
                job.accepted_rows += inserted
                _commit(job, handler, valid, failures, high)
            low = high
            if progress is not None:
                progress(job)
        if not stage.rows:
            _commit(job, handler, [], [], start)
        _finish(job, handler, progress)
    finally:
        staging.drop(stage)


def _validate_staged(job: ImportJob, staged: Any, progress: Callable[[ImportJob], None] | None) -> bool:
    """All-or-nothing over a staging table: True when every row is valid; else the errors, REJECTED."""
    handler = staged.rows
    rejected = 0
    low = 0
    total = staged.stage.rows
    while low < total:
        high = min(low + BATCH_ROWS, total)
        staged.prepare(low, high)
        failures: list[ImportRowError] = []
        for number, record in staged.rejected(low, high):
            values, errors = handler.validate(record)
            if values is None:
                rejected += 1
                failures.extend(_error_rows(job, number, errors))
        if failures:
            ImportRowError.objects.bulk_create(failures, batch_size=1000)
        ImportJob.objects.filter(pk=job.pk).update(rows_read=high, updated_at=timezone.now())
        job.rows_read = high
        if progress is not None:
            progress(job)
        low = high
    with transaction.atomic():
        if rejected:
            job.rejected_rows = rejected
            job.status = ImportStatus.REJECTED
            job.finished_at = timezone.now()
            job.save(update_fields=["rows_read", "rejected_rows", "status", "finished_at", "updated_at"])
            _audit_finish(job)
            return False
        job.save(update_fields=["rows_read", "updated_at"])
    return True


def _commit(
    job: ImportJob, handler: Any, valid: list[dict[str, Any]], failures: list[ImportRowError], position: int
) -> None:
    """One batch: its rows, its rejected rows and the job's counters, in one transaction."""
    with transaction.atomic():
        inserted, duplicates = handler.write(valid)
        if failures:
            ImportRowError.objects.bulk_create(failures, batch_size=1000)
        job.accepted_rows += inserted
        job.duplicate_rows += duplicates
        job.rows_read = position
        job.rows_committed = position
        job.save(update_fields=COUNTERS)


def _validate_only(job: ImportJob, handler: Any, progress: Callable[[ImportJob], None] | None) -> bool:
    """All-or-nothing: check every row first. True when all are valid; else record the errors, REJECTED."""
    failures: list[ImportRowError] = []
    rejected = 0
    position = 0
    for position, (number, record) in enumerate(_records(job, handler), start=1):
        values, errors = handler.validate(record)
        if values is None:
            rejected += 1
            failures.extend(_error_rows(job, number, errors))
            if len(failures) >= BATCH_ROWS:
                ImportRowError.objects.bulk_create(failures, batch_size=1000)
                failures = []
        if position % BATCH_ROWS == 0:
            ImportJob.objects.filter(pk=job.pk).update(rows_read=position, updated_at=timezone.now())
            if progress is not None:
                job.rows_read = position
                progress(job)
    with transaction.atomic():
        if failures:
            ImportRowError.objects.bulk_create(failures, batch_size=1000)
        job.rows_read = position
        if rejected:
            job.rejected_rows = rejected
            job.status = ImportStatus.REJECTED
            job.finished_at = timezone.now()
            job.save(update_fields=["rows_read", "rejected_rows", "status", "finished_at", "updated_at"])
            _audit_finish(job)
            return False
        job.save(update_fields=["rows_read", "updated_at"])
    return True


def _audit_finish(job: ImportJob) -> None:
    record_event(
        actor=job.created_by,
        action="import.finish",
        obj=job,
        # Keyed by the job's field names, so the audit log shows them under the fields' labels.
        after={
            "status": job.status,
            "accepted_rows": job.accepted_rows,
            "duplicate_rows": job.duplicate_rows,
            "rejected_rows": job.rejected_rows,
        },
        institution_public_id=job.institution.public_id if job.institution_id else None,
        region_code=job.region.code if job.region_id else "",
    )


def template_csv(kind: str) -> bytes:
    """The empty template with one example row, as UTF-8 CSV with a BOM (Excel opens it correctly)."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = columns_for(kind)
    writer.writerow([c.header for c in columns])
    writer.writerow([c.example for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(kind: str) -> bytes:
    """The template with one example row as an Excel workbook (every cell text, so codes keep their zeros)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    columns = columns_for(kind)
    sheet.append([c.header for c in columns])
    sheet.append([c.example for c in columns])
    for cell in sheet[2]:
        cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def errors_xlsx(job: ImportJob) -> bytes:
    """The job's rejected rows (行号、列、值、原因) as an Excel workbook, written in streaming mode."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("错误行"))
    sheet.append([_("行号"), _("列"), _("值"), _("原因")])
    for row in (
        ImportRowError.objects.filter(job=job)
        .order_by("row_number", "id")
        .values_list("row_number", "column", "value", "reason", "reason_params")
        .iterator(chunk_size=2000)
    ):
        number, column, value, reason, params = row
        sheet.append([number, column, value, render(reason, params)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
