"""Reads of import jobs and their rejected rows, scoped by the ingestion policies."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from yilian.core.exceptions import NotFound
from yilian.ingestion import policies
from yilian.ingestion.choices import ImportKind
from yilian.ingestion.models import ImportJob, ImportRowError
from yilian.institutions.models import ConsortiumMember, Institution, Region


def import_jobs_visible_to(actor: Any) -> QuerySet[ImportJob]:
    """Jobs the actor uploaded, plus those of peers holding the same upload rights over the same scope."""
    if not getattr(actor, "is_authenticated", False):
        return ImportJob.objects.none()
    condition = Q(created_by_id=actor.pk)
    institutions = policies.encounter_institutions(actor)
    consortia = policies.encounter_consortia(actor)
    if institutions:
        condition |= Q(kind=ImportKind.ENCOUNTERS, institution_id__in=institutions)
    if consortia:
        members = ConsortiumMember.objects.filter(consortium_id__in=consortia, is_active=True).values(
            "institution_id"
        )
        condition |= Q(kind=ImportKind.ENCOUNTERS, institution_id__in=members)
    for prefix in policies.claim_region_prefixes(actor):
        condition |= Q(kind=ImportKind.CLAIMS, region__code__startswith=prefix)
    return ImportJob.objects.filter(condition)


def import_job_list(actor: Any, *, kind: str = "") -> QuerySet[ImportJob]:
    """The actor's visible jobs, newest first, with what the list shows."""
    rows = import_jobs_visible_to(actor).select_related("institution", "region", "created_by")
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("-created_at", "-id")


def import_job_get_for(actor: Any, public_id: Any) -> ImportJob:
    """One visible job; NotFound otherwise (also for a malformed id)."""
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError as error:
        raise NotFound("import job") from error
    job = import_job_list(actor).filter(public_id=public_id).first()
    if job is None:
        raise NotFound("import job")
    return job


def import_row_errors(job: ImportJob) -> QuerySet[ImportRowError]:
    """The job's rejected rows in file order (the caller has checked the job is visible)."""
    return ImportRowError.objects.filter(job=job).order_by("row_number", "id")


def encounter_upload_institutions(actor: Any) -> QuerySet[Institution]:
    """Institutions the actor may upload encounters for: his own as administrator, and his consortia's members."""
    institutions = policies.encounter_institutions(actor)
    consortia = policies.encounter_consortia(actor)
    condition = Q(pk__in=institutions)
    if consortia:
        condition |= Q(
            consortium_memberships__consortium_id__in=consortia, consortium_memberships__is_active=True
        )
    if not institutions and not consortia:
        return Institution.objects.none()
    return Institution.objects.filter(condition).distinct().order_by("name")


def member_consortium_ids(institution: Institution) -> set[int]:
    """Consortia the institution is an active member of."""
    return set(
        ConsortiumMember.objects.filter(institution=institution, is_active=True).values_list(
            "consortium_id", flat=True
        )
    )


def claim_upload_regions(actor: Any) -> QuerySet[Region]:
    """Regions (their codes are the actor's prefixes, padded) the actor may upload claims for."""
    prefixes = policies.claim_region_prefixes(actor)
    if not prefixes:
        return Region.objects.none()
    return Region.objects.filter(prefix__in=prefixes).order_by("code")


def institution_by_credit_code(code: str) -> Institution | None:
    """A registered institution by unified social credit code."""
    return Institution.objects.filter(credit_code=code.strip().upper()).first()


def region_by_code(code: str) -> Region | None:
    """A region by its GB/T 2260 code."""
    return Region.objects.filter(code=code.strip()).first()
