"""``yilian load-boundaries FILE.geojson [--code-property code] [--as USERNAME]``: load region outlines.

A thin adapter over ``institutions.boundaries.boundaries_load``: the file is a
GeoJSON FeatureCollection of Polygon/MultiPolygon features carrying the GB/T
2260 code in a property. Any bad feature rejects the whole file; every
problem is printed and the command exits with status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yilian.core.exceptions import DomainError, Invalid
from yilian.institutions.boundaries import boundaries_load
from yilian.institutions.management.commands.import_regions import default_actor


class Command(BaseCommand):
    help = (
        "从 GeoJSON 文件导入行政区划边界。/ Load region boundaries from a GeoJSON FeatureCollection whose "
        "features carry the GB/T 2260 code in a property; any error rejects the whole file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """FILE, ``--code-property`` and ``--as USERNAME``."""
        parser.add_argument("file", help="GeoJSON FeatureCollection")
        parser.add_argument(
            "--code-property", default="code", help="feature property holding the region code (default: code)"
        )
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            help="platform administrator to act as (default: the first platform administrator)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Read the file, load it as the chosen platform admin, print what happened."""
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在 / no such file: {path}")
        username = options["username"]
        actor = (
            get_user_model().objects.filter(username=username, is_active=True).first()
            if username
            else default_actor()
        )
        if actor is None:
            raise CommandError(
                f"没有该用户 / no active user named {username!r}"
                if username
                else "没有平台管理员 / no platform administrator yet: pass --as USERNAME"
            )
        try:
            result = boundaries_load(
                actor=actor, content=path.read_bytes(), code_property=options["code_property"]
            )
        except Invalid as error:
            for field_name, messages in error.as_text().items():
                for message in messages:
                    self.stderr.write(
                        message if field_name in ("file", "__all__") else f"{field_name}: {message}"
                    )
            raise CommandError(f"导入失败，未保存任何边界 / file rejected, nothing saved: {path}") from error
        except DomainError as error:
            raise CommandError(f"{error.message} ({actor.get_username()})") from error
        self.stdout.write(
            f"新增 {len(result.created)}，替换 {len(result.replaced)}，未变 {len(result.unchanged)} / "
            f"set {len(result.created)}, replaced {len(result.replaced)}, unchanged {len(result.unchanged)}"
        )
