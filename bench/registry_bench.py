"""Measurements of one scale, run in a fresh process against a fresh SQLite file.

``run.py`` starts this once per scale with ``DATABASE_URL`` pointing at
``var/bench-scale<N>.sqlite3``; it migrates, seeds the demo, then times the
registry's search and list selectors and prints one JSON object.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

SEARCHES: tuple[tuple[str, str, str], ...] = (
    # (label, query, kind)
    ("xrmyy", "xrmyy", "initials"),
    ("县人民医院", "县人民医院", "name"),
    ("wsy", "wsy", "initials"),
    ("卫生院", "卫生院", "name"),
    ("jzxmbz", "jzxmbz", "initials"),
    ("金寨县麻埠镇", "金寨县麻埠镇", "name"),
)
"""Pairs of the same search by pinyin initials and by the plain name."""


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yilian.config.settings")
    import django

    django.setup()


def _timed(function: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Run ``function`` ``repeat`` times; return (best ms, median ms, last result).

    The best run is the figure least disturbed by other work on the machine.
    """
    samples: list[float] = []
    result: Any = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        samples.append((time.perf_counter() - started) * 1000)
    return min(samples), statistics.median(samples), result


def _queries(function: Callable[[], Any]) -> int:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the debug log keeps 9 000 queries; a full log would make the capture read 0
    with CaptureQueriesContext(connection) as context:
        function()
    return len(context.captured_queries)


def measure(scale: int, repeat: int) -> dict[str, Any]:
    """Migrate, seed, and measure; return the figures as plain data."""
    _setup()
    from django.core.management import call_command
    from django.db import connection

    from yilian.accounts.models import User
    from yilian.demo.seeding import seed_demo
    from yilian.institutions import selectors
    from yilian.institutions.models import Region

    figures: dict[str, Any] = {"scale": scale, "sqlite": connection.Database.sqlite_version}
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    figures["migrate_s"] = time.perf_counter() - started

    report = seed_demo(scale=scale)
    figures["seed_s"] = report.seconds
    figures["counts"] = report.after
    rerun = seed_demo(scale=scale)
    figures["reseed_s"] = rerun.seconds
    figures["reseed_created"] = sum(rerun.created.values())

    admin = User.objects.get(username="admin")

    searches = []
    for label, query, kind in SEARCHES:

        def search(query: str = query) -> list[Any]:
            return list(selectors.institution_list(admin, query=query))

        search()  # warm the page cache
        best, median, rows = _timed(search, repeat)
        searches.append(
            {"label": label, "kind": kind, "rows": len(rows), "best_ms": best, "median_ms": median}
        )
    figures["searches"] = searches

    def consortia() -> int:
        items = list(selectors.consortium_list(admin))
        for item in items:
            _ = (item.region.name, item.member_count, [m.institution.name for m in item.lead_members])
        return len(items)

    def institutions() -> int:
        items = list(selectors.institution_list(admin))
        for item in items:
            _ = (item.region.name, item.level_label)
        return len(items)

    def institutions_page() -> int:
        items = list(selectors.institution_list(admin)[:25])
        for item in items:
            _ = (item.region.name, item.level_label)
        return len(items)

    def grids() -> int:
        items = list(selectors.grid_list(admin))
        for item in items:
            _ = (item.region.name, item.area_count, [a.consortium.name for a in item.current_assignments])
        return len(items)

    def coverage() -> int:
        report = selectors.coverage_report(admin, Region.objects.get(code="341524"))
        return len(report.uncovered_villages)

    lists = []
    for label, function in (
        ("consortium_list", consortia),
        ("institution_list", institutions),
        ("institution_list[:25]", institutions_page),
        ("grid_list", grids),
        ("coverage_report(金寨县)", coverage),
    ):
        function()
        queries = _queries(function)
        best, median, rows = _timed(function, repeat)
        lists.append({"label": label, "rows": rows, "queries": queries, "best_ms": best, "median_ms": median})
    figures["lists"] = lists
    return figures
