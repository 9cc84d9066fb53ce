"""The capped-count paginator of work queues: a bounded count, every page still reachable."""

from __future__ import annotations

import pytest
from django.core.paginator import EmptyPage

from yilian.core.models import AuditEvent
from yilian.core.paginator import CappedCountPaginator

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
