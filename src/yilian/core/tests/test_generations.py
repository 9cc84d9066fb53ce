"""Generations: a token per kind of data that every bump changes, read together in one query."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yilian.core import generations
from yilian.core.models import Generation

pytestmark = pytest.mark.django_db


def test_a_bump_changes_the_generation_of_its_name_only() -> None:
    assert generations.current("figures", "registry") == f"{generations.INITIAL}.{generations.INITIAL}"
    generations.bump("figures")
    first = generations.current("figures", "registry")
    assert first.endswith(f".{generations.INITIAL}") and not first.startswith(f"{generations.INITIAL}.")
    generations.bump("figures")
    second = generations.current("figures", "registry")
    assert second != first and second.endswith(f".{generations.INITIAL}")
    generations.bump("registry")
    assert generations.current("figures", "registry").startswith(second.split(".")[0] + ".")
    assert Generation.objects.count() == 2


def test_reading_takes_one_query() -> None:
    generations.bump("figures", "registry")
    with CaptureQueriesContext(connection) as queries:
        generations.current("figures", "registry", "never")
    assert len(queries) == 1


def test_a_rolled_back_bump_leaves_the_generation() -> None:
    generations.bump("figures")
    before = generations.current("figures")
    with pytest.raises(RuntimeError), transaction.atomic():
        generations.bump("figures")
        raise RuntimeError("the write failed")
    assert generations.current("figures") == before
