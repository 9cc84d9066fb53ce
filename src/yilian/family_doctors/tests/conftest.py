"""Fixtures of the family-doctor tests."""

from __future__ import annotations

from typing import Any

import pytest

from yilian.family_doctors.tests.factories import FamilyWorld, family_world


@pytest.fixture
def fw(world: Any) -> FamilyWorld:
    return family_world(world)
