"""In-app notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.messages import render
from yilian.core.models import BaseModel


class Notification(BaseModel):
    """One message to one user: a new, answered or overdue item, with a link to it.

    Written by ``notifications.services.notify`` in the sender's
    transaction; ``read_at`` is set when the user opens or dismisses it.
    ``title`` and ``body`` hold untranslated msgids filled from
    ``title_params``/``body_params`` when shown (``display_title``,
    ``display_body``), so each reader sees them in their own language; typed
    text and older rows (already translated) have no parameters and show as stored.
    ``topic`` groups messages for the badge ("referral.new"…), ``object_id``
    is the public id of the item the link opens.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    topic = models.CharField(_("类别"), max_length=60)
    title = models.CharField(_("标题"), max_length=200)
    title_params = models.JSONField(_("标题参数"), default=dict, db_default={}, blank=True)
    body = models.CharField(_("内容"), max_length=500, blank=True)
    body_params = models.JSONField(_("内容参数"), default=dict, db_default={}, blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        """The title in the active language."""
        return render(self.title, self.title_params)

    @property
    def display_body(self) -> str:
        """The body in the active language."""
        return render(self.body, self.body_params)
