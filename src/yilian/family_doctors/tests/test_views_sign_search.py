"""The signing form's resident finder: at most RESIDENT_SEARCH_LIMIT rows, then a hint to narrow the search."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yilian.family_doctors.tests.factories import resident
from yilian.family_doctors.views.pages import RESIDENT_SEARCH_LIMIT

pytestmark = pytest.mark.django_db


def _search(fw, q):
    client = Client()
    client.force_login(fw.gp)
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("family_doctors:sign"), {"team": str(fw.team.public_id), "q": q})
    assert response.status_code == 200
    return len(context.captured_queries), response.content.decode()


def test_the_finder_says_when_more_residents_match(fw):
    for index in range(RESIDENT_SEARCH_LIMIT):
        resident(f"孙{index:02d}", fw.grid)
    queries, exact = _search(fw, "孙")
    assert exact.count('data-testid="resident-row"') == RESIDENT_SEARCH_LIMIT
    assert 'data-testid="resident-more"' not in exact
    resident("孙99", fw.grid)
    more_queries, more = _search(fw, "孙")
    assert more.count('data-testid="resident-row"') == RESIDENT_SEARCH_LIMIT
    assert 'data-testid="resident-more"' in more and "还有更多居民符合条件" in more
    assert "孙99" not in more  # sorted by name: the 21st is the one left out
    assert more_queries == queries
    _, none = _search(fw, "不存在")
    assert 'data-testid="resident-none"' in none and 'data-testid="resident-more"' not in none
