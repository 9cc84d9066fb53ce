"""Password validators that speak the user's language.

Django 5.2 changed the message of ``MinimumLengthValidator`` to a new
msgid (``%d`` instead of ``%(min_length)d``) that its Simplified Chinese
catalogue does not translate yet, so "This password is too short…" showed
in English inside the Chinese UI. This validator uses the previous msgid,
which Django's catalogues translate (zh_Hans included); English reads the
same as before. ``accounts.tests.test_password_language`` fails when a
Django upgrade breaks this again.
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's minimum-length check with a message Django's catalogues translate."""

    def get_error_message(self) -> str:
        """ "This password is too short…" in the active language."""
        return ngettext(
            "This password is too short. It must contain at least %(min_length)d character.",
            "This password is too short. It must contain at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}
