"""Lists keep a constant query count whatever their size."""

from __future__ import annotations

import pytest

from yilian.accounts.selectors import forget_scope
from yilian.diagnostics import selectors, services
from yilian.diagnostics.tests.factories import diag_world, order, received_specimen

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world):
    return diag_world(world)


def _count(django_assert_num_queries, n, call):
    with django_assert_num_queries(n):
        rows = list(call())
        for row in rows:
            str(row.person.name), str(row.centre.hub_institution.name), str(row.item.name)
            str(row.ordering_institution.name), row.claimed_by_id and row.claimed_by.full_name
    return rows


@pytest.mark.parametrize("size", [1, 6])
def test_reading_list_constant_queries_and_order(dw, django_assert_num_queries, size):
    for index in range(size):
        received = received_specimen(dw, priority="stat" if index == size - 1 else "routine")
        if index == 0:
            services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    rows = _count(django_assert_num_queries, 1, lambda: selectors.reading_list(dw.hospital_doctor, dw.lab))
    assert len(rows) == size
    assert rows[0].priority == "stat"


@pytest.mark.parametrize("size", [1, 6])
def test_order_list_constant_queries(dw, django_assert_num_queries, size):
    for _index in range(size):
        order(dw)
    forget_scope(dw.township_doctor)  # the scope query counts too
    rows = _count(django_assert_num_queries, 2, lambda: selectors.order_list(dw.township_doctor))
    assert len(rows) == size


@pytest.mark.parametrize("size", [1, 4])
def test_dashboard_constant_queries(dw, django_assert_num_queries, size):
    for _index in range(size):
        received_specimen(dw)
    with django_assert_num_queries(9):
        selectors.dashboard(dw.world.admin)
