"""``yilian seed-demo [--scale N] [--seed S]``: load the demo county (idempotent, deterministic)."""

from __future__ import annotations

import argparse
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yilian.core.exceptions import DomainError, Invalid
from yilian.core.permissions import Role
from yilian.demo.plan import DEFAULT_SEED, MAX_SCALE
from yilian.demo.referrals import HISTORY_MONTHS
from yilian.demo.seeding import SeedReport, describe_error, seed_demo


def display_width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns."""
    return text + " " * max(width - display_width(text), 0)


def rpad(text: str, width: int) -> str:
    """Right-align ``text`` in ``width`` terminal columns."""
    return " " * max(width - display_width(text), 0) + text


def render_report(report: SeedReport) -> str:
    """The summary table, the demo accounts table and the shared password, as printed at the end."""
    lines = [
        f"演示数据已就绪 / demo data ready — seed {report.seed}, scale {report.scale}, "
        f"{report.seconds:.1f} s",
        "",
        f"  {pad('对象 objects', 34)}{rpad('新建 new', 10)}{rpad('合计 total', 12)}",
    ]
    created = report.created
    for label, total in report.after.items():
        lines.append(f"  {pad(label, 34)}{created[label]:>10}{total:>12}")
    rows = [("用户名 username", "角色 role", "范围 scope")]
    for account in report.accounts:
        rows.append((account.username, f"{Role(account.role).label} {account.role}", account.scope_label))
    first = max(display_width(row[0]) for row in rows) + 2
    second = max(display_width(row[1]) for row in rows) + 2
    lines += ["", "演示账号 / demo accounts"]
    for username, role, scope in rows:
        lines.append(f"  {pad(username, first)}{pad(role, second)}{scope}")
    lines += ["", f"所有演示账号的密码 / password of every demo account: {report.password}"]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "载入演示县（六安市与金寨县）的医联体数据；可重复运行，同一种子生成相同数据。"
        " / Load the demo county's consortia, institutions, grids, accounts and persons, with a year of "
        "referrals, diagnostic orders and teleconsultations (idempotent; the same seed gives the same data)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """``--scale`` and ``--seed``; ``--persons`` and ``--village-limit`` are hidden test knobs."""
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help=f"multiplies villages, village clinics and persons (1–{MAX_SCALE}, default 1)",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
        parser.add_argument("--persons", type=int, default=None, help=argparse.SUPPRESS)
        parser.add_argument("--village-limit", type=int, default=None, help=argparse.SUPPRESS)
        parser.add_argument("--referral-months", type=int, default=HISTORY_MONTHS, help=argparse.SUPPRESS)
        parser.add_argument("--encounter-population", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        """Seed, then print the counts, the demo accounts and their password."""
        scale = options["scale"]
        if not 1 <= scale <= MAX_SCALE:
            raise CommandError(f"--scale must be between 1 and {MAX_SCALE}")
        if options["persons"] is not None and options["persons"] < 0:
            raise CommandError("--persons must not be negative")
        if not 0 <= options["referral_months"] <= 36:
            raise CommandError("--referral-months must be between 0 and 36")
        if options["encounter_population"] is not None and options["encounter_population"] < 0:
            raise CommandError("--encounter-population must not be negative")
        verbosity = options["verbosity"]

        def log(message: str) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  {message}")

        try:
            report = seed_demo(
                seed=options["seed"],
                scale=scale,
                persons=options["persons"],
                village_limit=options["village_limit"],
                referral_months=options["referral_months"],
                encounter_population=options["encounter_population"],
                log=log,
            )
        except Invalid as error:
            raise CommandError(f"seed-demo failed: {describe_error(error)}") from error
        except DomainError as error:
            raise CommandError(f"seed-demo failed: {error.message}") from error
        self.stdout.write(render_report(report))
