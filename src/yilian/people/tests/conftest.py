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
