"""App configuration of notifications: in-app messages and the badge, with pluggable channels."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "yilian.notifications"
    label = "notifications"
    verbose_name = _("消息通知")
