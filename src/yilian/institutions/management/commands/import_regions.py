"""``yilian import-regions FILE.csv [--as USERNAME]``: import a GB/T 2260 region list.

A thin adapter over ``institutions.services.region_import_csv``: the CSV has
columns ``code,name[,population]`` (header optional, UTF-8 or GB18030). Any
bad row rejects the whole file; every row's reason is printed and the
command exits with status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yilian.core.exceptions import DomainError, Invalid
from yilian.core.permissions import Role
from yilian.institutions.services import region_import_csv


def default_actor() -> Any:
    """The first active platform administrator (by date joined), or None."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__role=Role.PLATFORM_ADMIN, memberships__is_active=True)
        .order_by("date_joined", "pk")
        .first()
    )


class Command(BaseCommand):
    help = (
        "从 CSV（代码,名称[,人口]）导入行政区划。/ Import regions from a CSV file with columns "
        "code,name[,population]; all rows are checked first and any error rejects the whole file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """FILE and ``--as USERNAME``."""
        parser.add_argument("file", help="CSV file: code,name[,population]")
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            help="platform administrator to act as (default: the first platform administrator)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Read the file, import it as the chosen platform admin, print what happened."""
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在 / no such file: {path}")
        username = options["username"]
        if username:
            actor = get_user_model().objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"没有该用户 / no active user named {username!r}")
        else:
            actor = default_actor()
            if actor is None:
                raise CommandError(
                    "没有平台管理员 / no platform administrator yet: run `yilian seed-demo` "
                    "or grant the role first, or pass --as USERNAME"
                )
        try:
            result = region_import_csv(actor=actor, content=path.read_bytes())
        except Invalid as error:
            for field_name, messages in error.as_text().items():
                for message in messages:
                    self.stderr.write(
                        message if field_name in ("file", "__all__") else f"{field_name}: {message}"
                    )
            raise CommandError(
                f"导入失败，未保存任何数据 / import rejected, nothing saved: {path}"
            ) from error
        except DomainError as error:
            raise CommandError(f"{error.message} ({actor.get_username()})") from error
        self.stdout.write(
            f"新建 {result.created}，更新 {result.updated}，未变 {result.unchanged} / "
            f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
        )
