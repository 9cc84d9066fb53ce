"""Test helpers shared by every app's tests (framework only; factories live beside each app)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection
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
