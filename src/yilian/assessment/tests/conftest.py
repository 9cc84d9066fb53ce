from __future__ import annotations

from typing import Any

import pytest

from yilian.assessment.tests.factories import AssessmentWorld


@pytest.fixture
def aw(world: Any) -> AssessmentWorld:
    return AssessmentWorld(world)
