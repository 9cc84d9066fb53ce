"""API test fixtures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation

from yilian.core.api.testing import api_client


@pytest.fixture(autouse=True)
def _site_language() -> Any:
    """A request in another language (LocaleMiddleware) leaves that language active in the
    thread; fall back to the site language after each test so later tests do not inherit it."""
    yield
    translation.deactivate()


@pytest.fixture
def api(db: Any) -> Callable[..., Any]:
    """``api(user)`` → an APIClient authenticated with the user's token (``api(None)``: anonymous)."""
    return api_client
