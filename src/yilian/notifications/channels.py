"""Delivery channels besides the in-app inbox (SMS later), chosen by the NOTIFICATION_CHANNELS setting.

A channel is a class with ``deliver(notification)``; it runs after the
sender's transaction commits, so a rolled-back change never sends a message.
The in-app inbox is the Notification row itself and needs no channel.
Delivery runs in the sender's request, so a channel that sends the text takes
it from ``recipient_text`` (the recipient's language), never from the raw
``title``/``body`` (untranslated msgids) nor the sender's active language.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class Channel(Protocol):
    """What a delivery channel provides."""

    def deliver(self, notification: Any) -> None:
        """Send one notification; raise to have the failure logged."""


def recipient_text(notification: Any) -> tuple[str, str]:
    """The notification's title and body in its recipient's preferred language (the site's default when
    they chose none or one the site does not offer)."""
    offered = {code for code, _name in settings.LANGUAGES}
    preferred = getattr(notification.recipient, "preferred_language", "") or ""
    language = preferred if preferred in offered else settings.LANGUAGE_CODE
    with translation.override(language):
        return notification.display_title, notification.display_body


class LogChannel:
    """Writes each notification to the log (development; a stand-in shape for SMS)."""

    def deliver(self, notification: Any) -> None:
        """Log the notification's topic and recipient id (never patient details)."""
        logger.info("notification %s to user %s", notification.topic, notification.recipient_id)


def configured_channels() -> list[Channel]:
    """Instances of the channels listed in settings.NOTIFICATION_CHANNELS (dotted paths)."""
    return [import_string(path)() for path in getattr(settings, "NOTIFICATION_CHANNELS", [])]


def deliver_all(notifications: list[Any]) -> None:
    """Hand each notification to every configured channel; a failing channel is logged, not raised."""
    for channel in configured_channels():
        for notification in notifications:
            try:
                channel.deliver(notification)
            except Exception:  # a broken SMS gateway must not break the referral that triggered it
                logger.exception("notification channel %s failed", type(channel).__name__)
