"""Fixtures of the insurance tests."""

from __future__ import annotations

from typing import Any

import pytest

from yilian.insurance.tests.factories import InsuranceWorld


@pytest.fixture
def iw(world: Any) -> InsuranceWorld:
    """The insurance world on top of the shared county."""
    return InsuranceWorld(world)
