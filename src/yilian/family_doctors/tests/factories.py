"""Factories of family-doctor tests: a grid of the township, its clinicians, a basic package and a team."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from yilian.accounts.models import User
from yilian.accounts.tests.factories import user_with_role
from yilian.core.permissions import Role
from yilian.family_doctors import services
from yilian.family_doctors.choices import PackageKind
from yilian.family_doctors.models import CareTeam, FamilyDoctorContract, ServicePackage
from yilian.institutions.models import Grid
from yilian.institutions.tests.factories import GridFactory, assign, cover
from yilian.people.models import Person
from yilian.people.tests.factories import person, resident_id

BASIC_CONTENTS = "建立健康档案\n一般诊疗与健康咨询\n慢病随访（每年至少 4 次）\n转诊绿色通道"


@dataclass
class FamilyWorld:
    """The shared world plus the township's grid, team, clinicians, packages and residents."""

    world: Any
    grid: Grid
    other_grid: Grid
    gp: User
    nurse: User
    public_health: User
    specialist: User
    hospital_other_doctor: User
    basic: ServicePackage
    premium: ServicePackage
    team: CareTeam
    resident: Person
    elder: Person
    outside_resident: Person

    def users(self) -> dict[str, Any]:
        """Every user by role name (the world's and this app's), plus None for anonymous."""
        return {
            **self.world.users(),
            "gp": self.gp,
            "nurse": self.nurse,
            "public_health": self.public_health,
            "specialist": self.specialist,
            "hospital_other_doctor": self.hospital_other_doctor,
        }


def resident(
    name: str, grid: Grid, *, birth: datetime.date = datetime.date(1980, 5, 1), **fields: Any
) -> Person:
    """A resident of a grid with a valid ID number of that birth date."""
    number = resident_id(birth=birth, male=True)
    return person(name, id_number=number, home_grid=grid, **fields)


def family_world(world: Any) -> FamilyWorld:
    """The township's grid (城关镇) with a team led by its GP, a nurse, a public-health doctor, the
    hospital's doctor as specialist, a basic and a personalised package, and residents."""
    regions = world.regions
    grid = GridFactory(region=regions["county"], name="城关网格", code="341522-FD1")
    cover(grid, regions["town_a"])
    assign(grid, world.consortium)
    other_grid = GridFactory(region=regions["county"], name="河口网格", code="341522-FD2")
    cover(other_grid, regions["town_b"])
    gp = user_with_role(Role.DOCTOR, username="gp", institution=world.township)
    gp.full_name = "何俊"
    gp.save(update_fields=["full_name"])
    nurse = user_with_role(Role.NURSE, username="fd_nurse", institution=world.township)
    public_health = user_with_role(Role.DOCTOR, username="fd_public_health", institution=world.township)
    specialist = world.hospital_doctor
    hospital_other_doctor = user_with_role(Role.DOCTOR, username="hospital_other", institution=world.hospital)
    basic = ServicePackage.objects.create(
        consortium=world.consortium, name="基础服务包", kind=PackageKind.BASIC, contents=BASIC_CONTENTS
    )
    premium = ServicePackage.objects.create(
        consortium=world.consortium,
        name="高血压个性化服务包",
        kind=PackageKind.PERSONALISED,
        annual_price=Decimal("120.00"),
        contents="每月血压监测\n专科医生年度评估",
    )
    team = services.team_create(
        actor=world.township_admin, institution=world.township, name="城关一队", grid=grid, leader=gp
    )
    services.team_member_add(actor=world.township_admin, team=team, user=nurse, role="nurse")
    services.team_member_add(actor=world.township_admin, team=team, user=public_health, role="public_health")
    services.team_member_add(actor=world.township_admin, team=team, user=specialist, role="specialist")
    return FamilyWorld(
        world=world,
        grid=grid,
        other_grid=other_grid,
        gp=gp,
        nurse=nurse,
        public_health=public_health,
        specialist=specialist,
        hospital_other_doctor=hospital_other_doctor,
        basic=basic,
        premium=premium,
        team=team,
        resident=resident("王芳", grid),
        elder=resident("赵大爷", grid, birth=datetime.date(1950, 1, 2)),
        outside_resident=resident("钱多多", other_grid),
    )


def second_team(fw: FamilyWorld, name: str = "城关二队") -> CareTeam:
    """Another team of the township on the same grid, led by a second GP."""
    leader = user_with_role(Role.DOCTOR, institution=fw.world.township)
    return services.team_create(
        actor=fw.world.township_admin, institution=fw.world.township, name=name, grid=fw.grid, leader=leader
    )


def sign(
    fw: FamilyWorld, who: Person | None = None, team: CareTeam | None = None, **kwargs: Any
) -> FamilyDoctorContract:
    """Sign a resident (the basic package, one year) by the team's GP."""
    team = team or fw.team
    actor = fw.gp if team.pk == fw.team.pk else fw.world.township_admin
    return services.contract_sign(
        actor=actor, team=team, person=who or fw.resident, package=kwargs.pop("package", fw.basic), **kwargs
    )


def today() -> datetime.date:
    return timezone.localdate()
