"""``yilian create-platform-admin USERNAME``: the first platform administrator of an installation."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from yilian.accounts.services import platform_admin_bootstrap
from yilian.core.exceptions import DomainError, Invalid


class Command(BaseCommand):
    """Create the first platform administrator; messages in the site language (LANGUAGE_CODE)."""

    help = "Create the first platform administrator (password from YILIAN_ADMIN_PASSWORD or a prompt)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--full-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the account, or raise CommandError with the reasons (weak password, admin exists)."""
        # Speak the site's language whatever the caller had active (Django 5.2 leaves the
        # locale alone for commands; the English "too short" message came from Django's
        # zh_Hans catalogue lacking its new msgid, see accounts.password_validation).
        with translation.override(settings.LANGUAGE_CODE):
            self._create(options)

    def _create(self, options: dict[str, Any]) -> None:
        password = os.environ.get("YILIAN_ADMIN_PASSWORD") or getpass.getpass("Password: ")
        try:
            user = platform_admin_bootstrap(
                username=options["username"], password=password, full_name=options["full_name"]
            )
        except Invalid as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.as_text().items())
            ) from error
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(self.style.SUCCESS(f"platform administrator {user.username} created"))
