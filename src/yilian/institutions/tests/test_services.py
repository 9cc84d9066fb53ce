"""Registry services: rules, validation, audit, concurrency."""

from __future__ import annotations

import datetime

import pytest

from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.models import AuditEvent
from yilian.institutions import services
from yilian.institutions.choices import ConsortiumType, MemberRole
from yilian.institutions.models import Consortium, ConsortiumMember, Institution, Region
from yilian.institutions.tests.factories import (
    ConsortiumFactory,
    GridFactory,
    HospitalFactory,
    InstitutionFactory,
    credit_code,
)

pytestmark = pytest.mark.django_db


def test_institution_create_validates_credit_code_and_audits(world):
    county = world.regions["county"]
    with pytest.raises(Invalid) as error:
        services.institution_create(
            actor=world.admin,
            name="坏代码医院",
            credit_code="91350100M000100Y44",
            category="A100",
            ownership="public",
            region=county,
        )
    assert "credit_code" in error.value.errors
    assert not Institution.objects.filter(name="坏代码医院").exists()

    institution = services.institution_create(
        actor=world.admin,
        name="霍邱县中医医院",
        credit_code=credit_code("341522"),
        category="A210",
        grade="2",
        grade_class="a",
        ownership="public",
        is_tcm=True,
        region=county,
    )
    assert institution.name_initials == "hqxzyyy"
    event = AuditEvent.objects.get(action="institution.create", object_id=str(institution.public_id))
    assert event.actor == world.admin
    assert event.after["credit_code"] == institution.credit_code


def test_regulator_outside_region_cannot_create_institution(world):
    other_city = Region.objects.create(
        code="340100",
        name="合肥市",
        level="prefecture",
        prefix="3401",
        parent=world.regions["province"],
    )
    with pytest.raises(NotAllowed):
        services.institution_create(
            actor=world.regulator,
            name="合肥某医院",
            credit_code=credit_code("340100"),
            category="A100",
            ownership="public",
            region=other_city,
        )


def test_member_add_rules(world):
    consortium = world.consortium
    # duplicate member → field error
    with pytest.raises(Invalid) as error:
        services.member_add(actor=world.office, consortium=consortium, institution=world.township)
    assert "institution" in error.value.errors
    # the outsider joins another county community → refused
    services.member_add(actor=world.office, consortium=consortium, institution=world.outsider)
    other = ConsortiumFactory(name="另一医共体", region=world.regions["county"])
    with pytest.raises(Invalid) as error:
        services.member_add(actor=world.admin, consortium=other, institution=world.outsider)
    assert "只能加入一个" in error.value.errors["institution"][0]
    # but a specialty alliance is fine
    alliance = ConsortiumFactory(
        name="卒中专科联盟", region=world.regions["county"], type=ConsortiumType.SPECIALTY_ALLIANCE
    )
    services.member_add(actor=world.admin, consortium=alliance, institution=world.outsider)


def test_sub_lead_hierarchy_and_cycle(world):
    consortium = world.consortium
    lead = consortium.members.get(role=MemberRole.LEAD)
    tcm = HospitalFactory(name="霍邱县中医院", region=world.regions["county"], category="A210")
    sub = services.member_add(
        actor=world.office,
        consortium=consortium,
        institution=tcm,
        role=MemberRole.SUB_LEAD,
        parent=lead,
    )
    clinic = InstitutionFactory(name="东湖村卫生室", category="D600", region=world.regions["village_a1"])
    member = services.member_add(actor=world.office, consortium=consortium, institution=clinic, parent=sub)
    assert member.parent == sub
    with pytest.raises(Invalid) as error:
        services.member_add(
            actor=world.office,
            consortium=consortium,
            institution=InstitutionFactory(region=world.regions["county"]),
            role=MemberRole.SUB_LEAD,
        )
    assert "parent" in error.value.errors
    # A second sub-lead under the first; then moving the first under the second is a cycle.
    other = HospitalFactory(name="霍邱县妇幼保健院", region=world.regions["county"], category="G100")
    sub2 = services.member_add(
        actor=world.office,
        consortium=consortium,
        institution=other,
        role=MemberRole.SUB_LEAD,
        parent=sub,
    )
    with pytest.raises(Invalid) as error:
        services.member_update(actor=world.office, member=sub, parent=sub2)
    assert "循环" in error.value.errors["parent"][0]
    # Removing a sub-lead that still has members is refused.
    with pytest.raises(Invalid):
        services.member_remove(actor=world.office, member=sub)


def test_consortium_keeps_one_lead_and_history(world):
    lead = world.consortium.members.get(role=MemberRole.LEAD)
    with pytest.raises(Invalid):
        services.member_remove(actor=world.office, member=lead)
    township = world.consortium.members.get(institution=world.township)
    removed = services.member_remove(
        actor=world.office,
        member=township,
        reason="划入其他网格",
        left_on=datetime.date(2025, 1, 1),
    )
    assert removed.is_active is False
    # History keeps the row; rejoining creates a new row.
    services.member_add(actor=world.office, consortium=world.consortium, institution=world.township)
    assert (
        ConsortiumMember.objects.filter(consortium=world.consortium, institution=world.township).count() == 2
    )
    assert AuditEvent.objects.filter(action="consortium.member.remove").count() == 1


def test_stale_version_is_a_conflict(world):
    version = world.consortium.version
    services.member_add(
        actor=world.office,
        consortium=world.consortium,
        institution=world.outsider,
        expected_version=version,
    )
    stale = Consortium.objects.get(pk=world.consortium.pk)
    with pytest.raises(Conflict):
        services.member_add(
            actor=world.office,
            consortium=stale,
            institution=InstitutionFactory(region=world.regions["county"]),
            expected_version=version,
        )


def test_other_users_cannot_manage_consortium(world):
    for actor in (
        world.township_admin,
        world.hospital_doctor,
        world.outsider_doctor,
        world.stranger,
        None,
    ):
        with pytest.raises(NotAllowed):
            services.member_add(actor=actor, consortium=world.consortium, institution=world.outsider)
    assert not world.consortium.members.filter(institution=world.outsider).exists()


def test_grid_one_consortium_at_a_time(world):
    grid = services.grid_create(
        actor=world.regulator,
        region=world.regions["county"],
        code="341522-W01",
        name="城关网格",
        area_codes=["341522100"],
    )
    services.grid_assign(
        actor=world.regulator,
        grid=grid,
        consortium=world.consortium,
        assigned_from=datetime.date(2024, 1, 1),
    )
    second = ConsortiumFactory(name="第二医共体", region=world.regions["county"])
    with pytest.raises(Invalid) as error:
        services.grid_assign(actor=world.regulator, grid=grid, consortium=second)
    assert "consortium" in error.value.errors
    services.grid_assign(
        actor=world.regulator,
        grid=grid,
        consortium=second,
        replace=True,
        assigned_from=datetime.date(2025, 1, 1),
    )
    assert grid.assignments.filter(is_current=True).get().consortium == second
    alliance = ConsortiumFactory(
        name="专科联盟甲", region=world.regions["county"], type=ConsortiumType.SPECIALTY_ALLIANCE
    )
    with pytest.raises(Invalid):
        services.grid_assign(actor=world.regulator, grid=grid, consortium=alliance, replace=True)
    # An area already in a grid cannot be put into another.
    with pytest.raises(Invalid) as error:
        services.grid_create(
            actor=world.regulator,
            region=world.regions["county"],
            code="341522-W02",
            name="重叠网格",
            area_codes=["341522100"],
        )
    assert "area_codes" in error.value.errors
    assert GridFactory._meta.model.objects.filter(code="341522-W02").count() == 0


def test_region_import_rejects_whole_file_on_bad_row(world):
    before = Region.objects.count()
    with pytest.raises(Invalid) as error:
        services.region_import_csv(
            actor=world.admin, content="code,name\n341522102,新店镇\n341599,不存在县\n"
        )
    assert any("第 3 行" in message for message in error.value.errors["file"])
    assert Region.objects.count() == before
    result = services.region_import_csv(actor=world.admin, content="341522102,新店镇\n341522102201,新店村\n")
    assert result.created == 2
    assert Region.objects.get(code="341522102201").parent.code == "341522102"
