"""Test helpers shared by every app's tests (framework only; factories live beside each app)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext


@contextlib.contextmanager
def assert_queries(expected: int) -> Iterator[CaptureQueriesContext]:
    """Assert that the block runs exactly ``expected`` SQL queries (shows them if not)."""
    with CaptureQueriesContext(connection) as context:
        yield context
    executed = len(context.captured_queries)
    if executed != expected:
        listing = "\n".join(f"{n}. {q['sql']}" for n, q in enumerate(context.captured_queries, 1))
        raise AssertionError(f"expected {expected} queries, ran {executed}:\n{listing}")


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment in threads, each on its own database connection; return each
    result or the exception it raised (concurrency tests assert one winner and clean conflicts)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # collected and asserted by the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
