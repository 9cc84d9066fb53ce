"""Shared pytest fixtures: a small real county and one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import translation

from yilian.accounts.models import User
from yilian.accounts.tests.factories import UserFactory, platform_admin, user_with_role
from yilian.core.permissions import Role
from yilian.institutions.choices import ConsortiumType
from yilian.institutions.models import Consortium, Institution, Region
from yilian.institutions.tests.factories import (
    ConsortiumFactory,
    ConsortiumMemberFactory,
    HospitalFactory,
    InstitutionFactory,
    region_tree,
)


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Every test starts and ends in the default language (``LANGUAGE_CODE``, zh-hans).

    ``LocaleMiddleware`` activates a request's language in the thread and never deactivates it, and
    ``translation.activate`` in a test stays too: without this, a test after an English request read
    English messages where it expected Chinese ones, depending on test order."""
    translation.deactivate()
    yield
    translation.deactivate()


@dataclass
class World:
    """A county with one county health community and a user for every role.

    ``hospital`` leads ``consortium``; ``township`` is a member; ``outsider``
    is an institution in the same county that belongs to no consortium.
    """

    regions: dict[str, Region]
    hospital: Institution
    township: Institution
    outsider: Institution
    consortium: Consortium
    admin: User
    regulator: User
    office: User
    hospital_admin: User
    township_admin: User
    hospital_doctor: User
    outsider_doctor: User
    stranger: User

    def users(self) -> dict[str, Any]:
        """Every user by role name, plus None for anonymous."""
        return {
            "anonymous": None,
            "stranger": self.stranger,
            "admin": self.admin,
            "regulator": self.regulator,
            "office": self.office,
            "hospital_admin": self.hospital_admin,
            "township_admin": self.township_admin,
            "hospital_doctor": self.hospital_doctor,
            "outsider_doctor": self.outsider_doctor,
        }


@pytest.fixture
def world(db: Any) -> World:
    regions = region_tree()
    county = regions["county"]
    hospital = HospitalFactory(name="霍邱县人民医院", region=county, grade="3", grade_class="b")
    township = InstitutionFactory(name="霍邱县城关镇卫生院", region=regions["town_a"], category="C210")
    outsider = InstitutionFactory(name="霍邱县河口镇卫生院", region=regions["town_b"])
    consortium = ConsortiumFactory(
        name="霍邱县人民医院医共体",
        region=county,
        type=ConsortiumType.COUNTY_COMMUNITY,
        lead=hospital,
    )
    ConsortiumMemberFactory(consortium=consortium, institution=township)
    return World(
        regions=regions,
        hospital=hospital,
        township=township,
        outsider=outsider,
        consortium=consortium,
        admin=platform_admin(),
        regulator=user_with_role(Role.REGULATOR, username="regulator", region=county),
        office=user_with_role(Role.CONSORTIUM_OFFICE, username="office", consortium=consortium),
        hospital_admin=user_with_role(
            Role.INSTITUTION_ADMIN, username="hospital_admin", institution=hospital
        ),
        township_admin=user_with_role(
            Role.INSTITUTION_ADMIN, username="township_admin", institution=township
        ),
        hospital_doctor=user_with_role(Role.DOCTOR, username="hospital_doctor", institution=hospital),
        outsider_doctor=user_with_role(Role.DOCTOR, username="outsider_doctor", institution=outsider),
        stranger=UserFactory(username="stranger"),
    )
