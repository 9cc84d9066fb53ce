"""The reading list counts at most a thousand pending studies (a scan of 100 000 on every page
otherwise); past the cap it says "more than" and every page stays reachable."""

from __future__ import annotations

import pytest
from django.test import Client

from yilian.core import paginator
from yilian.core.api.testing import api_client
from yilian.diagnostics.tests.factories import diag_world, received_specimen

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world, monkeypatch):
    monkeypatch.setattr(paginator, "COUNT_CAP", 2)
    world = diag_world(world)
    for _ in range(3):
        received_specimen(world)
    return world


def test_endpoint_says_the_count_is_capped(dw):
    client = api_client(dw.hospital_doctor)
    first = client.get("/api/v1/reading-list", {"centre": str(dw.lab.public_id), "page_size": 2}).json()
    assert first["count"] == 3 and first["count_capped"] is True and first["next"]
    second = client.get(
        "/api/v1/reading-list", {"centre": str(dw.lab.public_id), "page_size": 2, "page": 2}
    ).json()
    assert len(second["results"]) == 1 and second["next"] is None
    numbers = {row["number"] for row in first["results"] + second["results"]}
    assert len(numbers) == 3


def test_page_says_more_than_the_cap(dw):
    browser = Client()
    browser.force_login(dw.hospital_doctor)
    page = browser.get(f"/diagnostics/reading/{dw.lab.public_id}/").content.decode()
    assert "共 2 条以上" in page
