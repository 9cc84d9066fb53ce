"""Fixtures of the prescription tests."""

from __future__ import annotations

from typing import Any

import pytest

from yilian.prescriptions.tests.factories import RxWorld, rx_world


@pytest.fixture
def rw(world: Any) -> RxWorld:
    """The prescription world on top of the shared county."""
    return rx_world(world)
