"""The paginators of large lists: the capped count of work queues (a bounded count, every page still
reachable) and the keys-first reads of wide lists (the same pages as plain slicing)."""

from __future__ import annotations

import pytest
from django.core.paginator import EmptyPage, Paginator
from django.db import connection

from yilian.core.models import AuditEvent
from yilian.core.paginator import (
    CappedCountPaginator,
    CappedKeysFirstPaginator,
    KeysFirstPaginator,
    rows_by_keys,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def twelve():
    AuditEvent.objects.bulk_create(
        [AuditEvent(action="test.row", object_type="test", object_id=str(n)) for n in range(12)]
    )
    return AuditEvent.objects.filter(action="test.row").order_by("id")


def test_below_the_cap_it_is_the_plain_paginator(twelve):
    paginator = CappedCountPaginator(twelve, 5, cap=20)
    assert paginator.count == 12 and not paginator.capped and paginator.num_pages == 3
    assert not paginator.page(3).has_next()
    with pytest.raises(EmptyPage):
        paginator.page(4)


def test_above_the_cap_the_count_stops_and_later_pages_stay_reachable(twelve, django_assert_num_queries):
    paginator = CappedCountPaginator(twelve, 3, cap=5)
    with django_assert_num_queries(1):
        assert paginator.count == 6 and paginator.capped
    third = paginator.page(3)
    assert [row.object_id for row in third] == ["6", "7", "8"] and third.has_next()
    last = paginator.page(4)  # past the counted pages
    assert [row.object_id for row in last] == ["9", "10", "11"] and not last.has_next()
    with pytest.raises(EmptyPage):
        paginator.page(5)
    with pytest.raises(EmptyPage):
        paginator.page(0)
    assert paginator.get_page("x").number == 1


def test_keys_first_pages_are_the_plain_pages_in_the_same_order(twelve, django_assert_num_queries):
    # An order that is neither the key's nor the insertion's: the second read must not reorder.
    ordered = twelve.select_related("actor").order_by("-object_id", "id")
    plain = Paginator(ordered, 5, orphans=2)
    paginator = KeysFirstPaginator(ordered, 5, orphans=2)
    assert paginator.count == plain.count and paginator.num_pages == plain.num_pages == 2
    for number in (1, 2):
        with django_assert_num_queries(2):  # the keys, then the rows (the count was read above)
            page = list(paginator.page(number))
        assert [row.pk for row in page] == [row.pk for row in plain.page(number)]
    assert [row.object_id for row in page] == ["4", "3", "2", "11", "10", "1", "0"]  # the orphans joined
    with pytest.raises(EmptyPage):
        paginator.page(3)


def test_keys_first_reads_nothing_for_an_empty_list_and_skips_rows_gone_between_the_reads(twelve):
    assert list(KeysFirstPaginator(twelve.none(), 5).page(1)) == []
    assert rows_by_keys(twelve, 3, 3) == []
    assert rows_by_keys(["a", "b", "c"], 1, 3) == ["b", "c"]  # a plain list is sliced
    doomed = twelve.filter(object_id="1")
    keys_then_gone = rows_by_keys(twelve.exclude(pk__in=doomed.values("pk")), 0, 3)
    assert [row.object_id for row in keys_then_gone] == ["0", "2", "3"]


def test_keys_first_reads_values_rows_and_pages_past_the_cap(twelve, django_assert_num_queries):
    rows = twelve.order_by("-id").values("object_id", "pk")
    assert [row["object_id"] for row in rows_by_keys(rows, 2, 5)] == ["9", "8", "7"]
    paginator = CappedKeysFirstPaginator(rows, 3, cap=5)
    assert paginator.capped
    with django_assert_num_queries(2):  # the keys (one row more), then the rows
        third = paginator.page(3)
    assert [row["object_id"] for row in third] == ["5", "4", "3"] and third.has_next()
    last = paginator.page(4)
    assert [row["object_id"] for row in last] == ["2", "1", "0"] and not last.has_next()
    below = CappedKeysFirstPaginator(rows, 5, cap=20)
    assert not below.capped and [row["object_id"] for row in below.page(3)] == ["1", "0"]


def test_a_split_list_reads_the_same_pages_as_the_single_list(django_assert_num_queries):
    # On PostgreSQL the pages' keys come from one lateral walk per actor, merged; elsewhere, and past
    # SPLIT_MAX_STOP, from the single list. Either way the pages are the single list's.
    from django.contrib.auth import get_user_model

    from yilian.core.paginator import SPLIT_MAX_STOP, KeyedRows, Split, _split_keys

    actors = [get_user_model().objects.create(username=f"split-{n}") for n in range(3)]
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(action="test.split", object_type="test", object_id=f"{n % 7:02d}", actor=actors[n % 3])
            for n in range(40)
        ]
        + [AuditEvent(action="test.split", object_type="test", object_id="00", actor=None)]
    )
    listed = AuditEvent.objects.filter(action="test.split", actor__in=actors).order_by("-object_id", "-pk")
    split = Split(
        field="actor_id",
        values=AuditEvent.objects.filter(actor__in=actors).values_list("actor_id", flat=True),
    )
    rows = KeyedRows(keys=listed, rows=listed.values("object_id", "pk"), split=split)
    single = list(listed.values_list("pk", flat=True))
    for start, stop in ((0, 6), (6, 12), (35, 45), (0, 40)):
        with django_assert_num_queries(2):  # the keys, then the rows
            page = rows_by_keys(rows, start, stop)
        assert [row["pk"] for row in page] == single[start:stop]
    assert [row["pk"] for row in rows_by_keys(rows, SPLIT_MAX_STOP, SPLIT_MAX_STOP + 5)] == []
    if connection.vendor == "postgresql":  # the lateral read really ran
        assert _split_keys(rows, 6, 12) == single[6:12]
    else:
        assert _split_keys(rows, 6, 12) is None
