"""Ingestion: files of HIS encounters or insurance claims, imported as resumable background jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.messages import render
from yilian.core.models import BaseModel
from yilian.ingestion.choices import ImportKind, ImportStatus


class ImportJob(BaseModel):
    """One uploaded file and its import: who, what kind, progress, outcome.

    Rows are committed in batches; ``rows_committed`` is the file position
    after the last committed batch, so a failed job resumes there. Rows are
    keyed by the source system's record id, so re-imports and overlapping
    files create no duplicates (they count in ``duplicate_rows``).
    ``all_or_nothing`` validates the whole file first and imports nothing
    if any row is bad.
    """

    kind = models.CharField(_("导入类型"), max_length=12, choices=ImportKind.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED, db_index=True
    )
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("数据报送机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        "institutions.Region",
        verbose_name=_("参保地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/")
    original_filename = models.CharField(_("原文件名"), max_length=255)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    all_or_nothing = models.BooleanField(_("全部成功才导入"), default=False)
    total_rows = models.PositiveIntegerField(_("总行数"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("已处理行数"), default=0)
    rows_committed = models.PositiveIntegerField(_("已提交至行"), default=0)
    accepted_rows = models.PositiveIntegerField(_("导入行数"), default=0)
    duplicate_rows = models.PositiveIntegerField(_("重复行数"), default=0)
    rejected_rows = models.PositiveIntegerField(_("拒绝行数"), default=0)
    failure = models.TextField(_("失败原因"), blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_filename}"

    @property
    def display_failure(self) -> str:
        """Why the job failed, in the reader's language: the worker stores a file's problem ("无法识别 CSV
        文件的编码…") in the source language, as a msgid when it names no value."""
        return render(self.failure)


class ImportRowError(models.Model):
    """One rejected row of an import: its row number in the file, the column and the reason (stored untranslated,
    with the parameters of a reason that names a value, such as an unknown code or a sum)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(_("行号"))
    column = models.CharField(_("列"), max_length=60, blank=True)
    value = models.CharField(_("值"), max_length=100, blank=True)
    reason = models.CharField(_("原因"), max_length=300)
    reason_params = models.JSONField(_("原因参数"), default=dict, blank=True)

    class Meta:
        ordering = ["job", "row_number", "id"]
        verbose_name = _("导入错误行")
        verbose_name_plural = _("导入错误行")
        indexes = [models.Index(fields=["job", "row_number"], name="import_error_row_idx")]

    def __str__(self) -> str:
        return f"{self.row_number} {self.column}: {self.reason}"

    @property
    def display_reason(self) -> str:
        """The reason in the reader's language: imports run in the worker, which stores the msgid and its
        parameters."""
        return render(self.reason, self.reason_params)
