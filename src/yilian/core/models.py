"""Framework models shared by every app: the base model, the audit event and the data generations."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Abstract base: an opaque public id for URLs and the API, and timestamps.

    The integer primary key never leaves the server; URLs and API payloads
    use ``public_id`` so ids cannot be enumerated.
    """

    public_id = models.UUIDField(_("公开编号"), default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class SearchableNameMixin(models.Model):
    """Abstract: pinyin keys of ``name`` so users can search "xrmyy" for 县人民医院.

    Services fill the keys with ``core.text`` whenever they set ``name``.
    """

    name_initials = models.CharField(_("拼音首字母"), max_length=200, blank=True, db_index=True)
    name_pinyin = models.CharField(_("拼音"), max_length=600, blank=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One state change: who did what to which object, when, with before/after values.

    Written by services through ``core.audit.record_event`` in the same
    transaction as the change, so a change without its event cannot be
    committed. Never updated or deleted by the application. Personal
    identifiers are never stored here, only masked forms.
    """

    occurred_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=100, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=64, db_index=True)
    object_label = models.CharField(_("对象名称"), max_length=300, blank=True)
    institution_public_id = models.UUIDField(_("所属机构"), null=True, blank=True, db_index=True)
    consortium_public_id = models.UUIDField(_("所属医联体"), null=True, blank=True, db_index=True)
    region_code = models.CharField(_("行政区划"), max_length=12, blank=True, db_index=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    details = models.JSONField(_("说明"), null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        indexes = [models.Index(fields=["object_type", "object_id", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_label}"


class Generation(models.Model):
    """The current generation of one kind of data: a token that changes with every write of that kind.

    Caches of derived pages key on it (``core.generations``): a write calls
    ``bump`` inside its own transaction, so the new token commits with the
    change and entries made from the old data are never read again.
    """

    name = models.CharField(_("名称"), max_length=60, primary_key=True)
    token = models.CharField(_("令牌"), max_length=32)
    changed_at = models.DateTimeField(_("变更时间"), auto_now=True)

    class Meta:
        verbose_name = _("数据版本")
        verbose_name_plural = _("数据版本")

    def __str__(self) -> str:
        return f"{self.name} {self.token}"
