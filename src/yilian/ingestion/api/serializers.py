"""Serializers of the imports API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from yilian.ingestion.choices import ImportKind
from yilian.ingestion.models import ImportJob, ImportRowError


class ImportJobSerializer(serializers.ModelSerializer):
    """An import job with its progress and counters."""

    public_id = serializers.UUIDField(read_only=True)
    institution = serializers.SerializerMethodField()
    region = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField()
    # Declared, not derived: the model fields' range differs between SQLite and PostgreSQL, and the
    # OpenAPI schema must be the same on both.
    total_rows = serializers.IntegerField(read_only=True, allow_null=True)
    rows_read = serializers.IntegerField(read_only=True)
    rows_committed = serializers.IntegerField(read_only=True)
    accepted_rows = serializers.IntegerField(read_only=True)
    duplicate_rows = serializers.IntegerField(read_only=True)
    rejected_rows = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "public_id",
            "kind",
            "status",
            "original_filename",
            "file_sha256",
            "all_or_nothing",
            "institution",
            "region",
            "total_rows",
            "rows_read",
            "rows_committed",
            "accepted_rows",
            "duplicate_rows",
            "rejected_rows",
            "percent",
            "failure",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_institution(self, job: ImportJob) -> str | None:
        """The reporting institution's credit code."""
        return job.institution.credit_code if job.institution_id else None

    def get_region(self, job: ImportJob) -> str | None:
        """The insured region's code."""
        return job.region.code if job.region_id else None

    def get_created_by(self, job: ImportJob) -> str | None:
        """The uploader's username."""
        return job.created_by.get_username() if job.created_by_id else None

    def get_percent(self, job: ImportJob) -> int:
        """Progress in percent."""
        if job.status in ("succeeded", "rejected"):
            return 100
        return min(100, 100 * job.rows_read // job.total_rows) if job.total_rows else 0


class ImportRowErrorSerializer(serializers.ModelSerializer):
    """One rejected row: row number, column (the file's heading), value, reason in the request's language."""

    row_number = serializers.IntegerField(read_only=True)
    reason = serializers.CharField(source="display_reason", read_only=True)

    class Meta:
        model = ImportRowError
        fields = ["row_number", "column", "value", "reason"]


class ImportCreateSerializer(serializers.Serializer):
    """Multipart upload: the kind, the file, the institution (public id or credit code) or region code."""

    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    institution = serializers.CharField(
        required=False, allow_blank=True, help_text=_("机构公开编号或统一社会信用代码")
    )
    region = serializers.CharField(required=False, allow_blank=True, help_text=_("参保地区划代码"))
    all_or_nothing = serializers.BooleanField(required=False, default=False)


class ImportQuerySerializer(serializers.Serializer):
    """Filters of the job list."""

    kind = serializers.ChoiceField(choices=ImportKind.choices, required=False)
