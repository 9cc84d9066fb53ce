"""Exact query counts of the people list: constant, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yilian.institutions.tests.factories import GridFactory
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


def _count(user, params=None):
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("people:list"), params or {})
    assert response.status_code == 200
    return len(context.captured_queries), response.content.decode().count('data-testid="person-row"')


def _add_people(world, count, start):
    grid = GridFactory(region=world.regions["county"])
    for index in range(start, start + count):
        person(
            f"居民{index}", institution=world.hospital, home_grid=grid, address_region=world.regions["town_a"]
        )


@pytest.mark.parametrize(("who", "queries"), [("hospital_doctor", 7), ("admin", 6)])
def test_people_list_queries(world, who, queries):
    user = getattr(world, who)
    _add_people(world, 3, 0)
    assert _count(user) == (queries, 3)
    _add_people(world, 12, 100)
    # session, user, scope, count, persons with their grids and regions, notification badge
    assert _count(user) == (queries, 15)
    assert _count(user, {"q": "居民1"})[0] == queries
