"""API test fixtures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from yilian.core.api.testing import api_client


@pytest.fixture
def api(db: Any) -> Callable[..., Any]:
    """``api(user)`` → an APIClient authenticated with the user's token (``api(None)``: anonymous)."""
    return api_client


@pytest.fixture
def media_root(settings: Any, tmp_path: Any) -> Any:
    """Uploads go to a per-test directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# Registry UI (view tests) -----------------------------------------------------


@pytest.fixture
def client_for(db: Any) -> Callable[[Any], Any]:
    """``client_for(user)`` → a Django test Client logged in as ``user`` (``None``: anonymous)."""
    from django.test import Client

    def make(user: Any) -> Client:
        fresh = Client()
        if user is not None:
            fresh.force_login(user)
        return fresh

    return make


@pytest.fixture
def grid(world: Any) -> Any:
    """A grid in the world's county covering 城关镇, served by the world's consortium."""
    from yilian.institutions.tests.factories import GridFactory, assign, cover

    created = GridFactory(region=world.regions["county"], code="341522-G01", name="城关网格")
    cover(created, world.regions["town_a"])
    assign(created, world.consortium)
    return created
