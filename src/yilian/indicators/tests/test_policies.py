"""Who may read the catalogue, create and edit indicators, request refreshes and set the ranking policy."""

from __future__ import annotations

from typing import Any

import pytest

from yilian.accounts.tests.factories import user_with_role
from yilian.core.permissions import Role
from yilian.indicators import policies
from yilian.institutions.tests.factories import ConsortiumFactory, region

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "stranger",
    "admin",
    "regulator",
    "office",
    "hospital_admin",
    "township_admin",
    "hospital_doctor",
]


def _matrix(world: Any, check: Any) -> set[str]:
    return {name for name, user in world.users().items() if name in ROLES and check(user)}


def test_catalogue_readers(world: Any) -> None:
    assert _matrix(world, policies.can_read_catalogue) == set(ROLES) - {"anonymous", "stranger"}
    assert _matrix(world, policies.can_view_figures) == set(ROLES) - {"anonymous", "stranger"}


def test_creators_and_refreshers(world: Any) -> None:
    assert _matrix(world, policies.can_create_indicator) == {"regulator", "office"}
    assert _matrix(world, policies.can_request_refresh) == {"admin", "regulator", "office"}


def test_editors_of_shared_and_consortium_indicators(world: Any) -> None:
    assert _matrix(world, lambda user: policies.can_edit_indicator(user, None)) == {"regulator"}
    own = _matrix(world, lambda user: policies.can_edit_indicator(user, world.consortium))
    assert own == {"regulator", "office"}
    elsewhere = ConsortiumFactory(region=region("320000", "江苏省", "province"))
    assert _matrix(world, lambda user: policies.can_edit_indicator(user, elsewhere)) == set()
    far = user_with_role(Role.REGULATOR, username="far", region=elsewhere.region)
    assert policies.can_edit_indicator(far, elsewhere) and not policies.can_edit_indicator(
        far, world.consortium
    )


def test_ranking_policy_is_the_offices(world: Any) -> None:
    assert _matrix(world, lambda user: policies.can_edit_ranking_policy(user, world.consortium)) == {"office"}
