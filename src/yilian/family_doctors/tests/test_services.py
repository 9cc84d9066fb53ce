"""Behaviour of the family-doctor services: teams and members, packages, contracts, the sweep."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from yilian.accounts.tests.factories import user_with_role
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.family_doctors import selectors, services
from yilian.family_doctors.choices import ContractStatus
from yilian.family_doctors.models import (
    CareTeam,
    CareTeamMember,
    ContractTerm,
    FamilyDoctorContract,
    ServicePackage,
)
from yilian.family_doctors.tests.factories import resident, second_team, sign, today
from yilian.people.models import PersonInstitutionLink
from yilian.people.selectors import person_visible_to

pytestmark = pytest.mark.django_db


# Teams ------------------------------------------------------------------------------------------


def test_team_is_formed_with_one_leader_and_members(fw):
    members = list(selectors.team_members(fw.team))
    assert [m.is_leader for m in members].count(True) == 1
    assert members[0].user == fw.gp and members[0].role == "general_practitioner"
    roles = {m.user.username: (m.role, m.institution) for m in members}
    assert roles["hospital_doctor"] == ("specialist", fw.world.hospital)
    assert roles["fd_nurse"] == ("nurse", fw.world.township)
    assert AuditEvent.objects.filter(action="care_team.create", object_id=str(fw.team.public_id)).exists()


def test_only_primary_institution_admins_form_teams(fw):
    with pytest.raises(NotAllowed):
        services.team_create(
            actor=fw.world.hospital_admin, institution=fw.world.hospital, name="医院队", leader=fw.specialist
        )
    with pytest.raises(NotAllowed):
        services.team_create(actor=fw.gp, institution=fw.world.township, name="自组队", leader=fw.gp)
    with pytest.raises(NotAllowed):
        services.team_create(
            actor=fw.world.township_admin, institution=fw.world.outsider, name="他院队", leader=fw.gp
        )
    assert CareTeam.objects.count() == 1


def test_team_name_unique_and_required(fw):
    with pytest.raises(Conflict):
        services.team_create(
            actor=fw.world.township_admin, institution=fw.world.township, name="城关一队", leader=fw.gp
        )
    with pytest.raises(Invalid) as error:
        services.team_create(
            actor=fw.world.township_admin, institution=fw.world.township, name=" ", leader=None
        )
    assert set(error.value.errors) == {"name", "leader"}
    assert CareTeam.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "role", "message"),
    [
        ("nurse", "general_practitioner", "医务人员"),  # a nurse is no GP
        ("gp", "nurse", "护士"),  # a doctor is no nurse
        ("gp", "specialist", "医院"),  # a township doctor is no hospital specialist
        ("outsider", "general_practitioner", "医务人员"),  # another institution
    ],
)
def test_member_role_must_fit_the_account(fw, who, role, message):
    team = second_team(fw)
    user = {"nurse": fw.nurse, "gp": fw.gp, "outsider": fw.world.outsider_doctor}[who]
    with pytest.raises(Invalid) as error:
        services.team_member_add(actor=fw.world.township_admin, team=team, user=user, role=role)
    assert message in str(error.value.errors["user"][0])
    assert not CareTeamMember.objects.filter(team=team, user=user).exists()


def test_hospital_specialist_must_be_of_the_same_consortium(fw):
    from yilian.institutions.tests.factories import HospitalFactory

    other_hospital = HospitalFactory(name="外地医院", region=fw.world.regions["district"])
    stranger = user_with_role(Role.DOCTOR, institution=other_hospital)
    with pytest.raises(Invalid):
        services.team_member_add(
            actor=fw.world.township_admin, team=fw.team, user=stranger, role="specialist"
        )


def test_leader_hand_over_and_removal_keeps_history(fw):
    admin = fw.world.township_admin
    with pytest.raises(Invalid):
        services.team_member_remove(actor=admin, team=fw.team, user=fw.gp)
    services.team_set_leader(actor=admin, team=fw.team, user=fw.public_health)
    services.team_member_remove(actor=admin, team=fw.team, user=fw.gp)
    current = list(selectors.team_members(fw.team))
    assert [m.user for m in current if m.is_leader] == [fw.public_health]
    assert fw.gp not in [m.user for m in current]
    past = CareTeamMember.objects.get(team=fw.team, user=fw.gp)
    assert past.left_on == today()
    # joins again later: a new row, history stays
    services.team_member_add(
        actor=admin, team=fw.team, user=fw.gp, role="general_practitioner", is_leader=True
    )
    assert CareTeamMember.objects.filter(team=fw.team, user=fw.gp).count() == 2
    assert (
        CareTeamMember.objects.filter(team=fw.team, left_on__isnull=True, is_leader=True).get().user == fw.gp
    )
    with pytest.raises(Conflict):
        services.team_member_add(actor=admin, team=fw.team, user=fw.gp, role="general_practitioner")


def test_specialist_cannot_lead(fw):
    with pytest.raises(Invalid):
        services.team_set_leader(actor=fw.world.township_admin, team=fw.team, user=fw.specialist)


def test_team_with_contracts_cannot_be_deactivated(fw):
    sign(fw)
    with pytest.raises(Invalid):
        services.team_update(actor=fw.world.township_admin, team=fw.team, is_active=False)
    fw.team.refresh_from_db()
    assert fw.team.is_active


def test_team_grid_must_lie_in_the_area(fw):
    from yilian.institutions.tests.factories import GridFactory

    far = GridFactory(region=fw.world.regions["district"], code="341503-G9", name="外区网格")
    with pytest.raises(Invalid):
        services.team_update(actor=fw.world.township_admin, team=fw.team, grid=far)


# Packages ---------------------------------------------------------------------------------------


def test_office_manages_packages_and_basic_is_free(fw):
    office = fw.world.office
    package = services.package_create(
        actor=office,
        consortium=fw.world.consortium,
        name="老年人服务包",
        kind="personalised",
        annual_price="80",
        contents="上门随访\n\n年度体检",
    )
    assert package.annual_price == Decimal("80") and package.content_lines() == ["上门随访", "年度体检"]
    with pytest.raises(Invalid) as error:
        services.package_create(
            actor=office,
            consortium=fw.world.consortium,
            name="错的",
            kind="basic",
            annual_price=10,
            contents="x",
        )
    assert "annual_price" in error.value.errors
    with pytest.raises(Invalid):
        services.package_create(
            actor=office,
            consortium=fw.world.consortium,
            name="没价",
            kind="personalised",
            annual_price=0,
            contents="x",
        )
    with pytest.raises(Conflict):
        services.package_create(actor=office, consortium=fw.world.consortium, name="基础服务包", contents="x")
    for actor in (fw.world.township_admin, fw.gp, fw.world.regulator):
        with pytest.raises(NotAllowed):
            services.package_create(actor=actor, consortium=fw.world.consortium, name="不许", contents="x")
    assert ServicePackage.objects.count() == 3


def test_package_kind_is_fixed_once_contracted(fw):
    sign(fw, package=fw.premium)
    with pytest.raises(Invalid):
        services.package_update(actor=fw.world.office, package=fw.premium, kind="basic", annual_price=0)
    services.package_update(actor=fw.world.office, package=fw.premium, annual_price="150")
    fw.premium.refresh_from_db()
    assert fw.premium.annual_price == Decimal("150")
    # the contract keeps the price it was signed at
    assert FamilyDoctorContract.objects.get().annual_price == Decimal("120")


# Contracts --------------------------------------------------------------------------------------


def test_signing_links_the_person_and_records_the_term(fw):
    contract = sign(fw, who=fw.elder, priority_groups=["elderly", "hypertension"])
    assert contract.status == ContractStatus.SIGNED
    assert contract.ends_on == today().replace(year=today().year + 1) - datetime.timedelta(days=1)
    assert contract.number.startswith(f"QY{today():%Y%m%d}")
    assert sorted(g.group for g in contract.priority_groups.all()) == ["elderly", "hypertension"]
    assert ContractTerm.objects.get(contract=contract).sequence == 1
    assert PersonInstitutionLink.objects.filter(
        person=fw.elder, institution=fw.world.township, reason="contract"
    ).exists()
    assert selectors.active_contract_for(fw.elder) == contract
    assert AuditEvent.objects.filter(action="contract.sign", object_id=str(contract.public_id)).exists()


def test_a_second_contract_with_another_team_is_refused_until_terminated(fw):
    first = sign(fw)
    other = second_team(fw)
    with pytest.raises(Conflict) as error:
        sign(fw, team=other)
    assert "城关一队" in str(error.value.message) and "解约" in str(error.value.message)
    with pytest.raises(Conflict) as error:
        sign(fw)
    assert "续约" in str(error.value.message)
    services.contract_terminate(actor=fw.gp, contract=first, reason="change_team")
    moved = sign(fw, team=other)
    assert selectors.active_contract_for(fw.resident) == moved
    assert FamilyDoctorContract.objects.filter(person=fw.resident).count() == 2


def test_partial_unique_index_is_the_backstop(fw):
    from django.db import IntegrityError, transaction

    contract = sign(fw)
    clone = FamilyDoctorContract(
        number="QY-DUP",
        person=fw.resident,
        team=fw.team,
        institution=fw.team.institution,
        package=fw.basic,
        annual_price=0,
        starts_on=contract.starts_on,
        term_starts_on=contract.starts_on,
        ends_on=contract.ends_on,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"who": "outside"}, "person"),
        ({"ends_on": -1}, "ends_on"),
        ({"starts_on": -60}, "starts_on"),
        ({"ends_on": 2000}, "ends_on"),
        ({"priority_groups": ["elderly"]}, "priority_groups"),  # 王芳 was born in 1980
        ({"priority_groups": ["children"]}, "priority_groups"),
        ({"priority_groups": ["martians"]}, "priority_groups"),
        ({"priority_groups": ["pregnant"]}, "priority_groups"),  # the factory's residents are men
    ],
)
def test_bad_signing_input_saves_nothing(fw, kwargs, field):
    data = dict(kwargs)
    who = fw.outside_resident if data.pop("who", None) == "outside" else fw.resident
    for key in ("starts_on", "ends_on"):
        if key in data:
            data[key] = today() + datetime.timedelta(days=data[key])
    with pytest.raises(Invalid) as error:
        sign(fw, who=who, **data)
    assert field in error.value.errors
    assert not FamilyDoctorContract.objects.exists()
    assert not PersonInstitutionLink.objects.filter(reason="contract").exists()


def test_package_of_another_consortium_is_refused(fw):
    from yilian.institutions.tests.factories import ConsortiumFactory

    other = ConsortiumFactory(name="别的医联体", region=fw.world.regions["district"])
    foreign = ServicePackage.objects.create(consortium=other, name="外包", kind="basic", contents="x")
    with pytest.raises(Invalid) as error:
        sign(fw, package=foreign)
    assert "package" in error.value.errors


@pytest.mark.parametrize(
    "who", ["specialist", "hospital_admin", "office", "regulator", "outsider_doctor", "stranger"]
)
def test_who_may_not_sign(fw, who):
    actor = fw.users()[who]
    with pytest.raises(NotAllowed):
        services.contract_sign(actor=actor, team=fw.team, person=fw.resident, package=fw.basic)
    assert not FamilyDoctorContract.objects.exists()


@pytest.mark.parametrize("who", ["gp", "nurse", "public_health", "township_admin"])
def test_who_may_sign(fw, who):
    contract = services.contract_sign(
        actor=fw.users()[who], team=fw.team, person=fw.resident, package=fw.basic
    )
    assert contract.signed_by == fw.users()[who]


def test_renewal_continues_the_contract_within_the_window(fw):
    contract = sign(
        fw, starts_on=today() - datetime.timedelta(days=20), ends_on=today() + datetime.timedelta(days=200)
    )
    with pytest.raises(Invalid):
        services.contract_renew(actor=fw.gp, contract=contract)
    FamilyDoctorContract.objects.filter(pk=contract.pk).update(ends_on=today() + datetime.timedelta(days=10))
    contract.refresh_from_db()
    renewed = services.contract_renew(
        actor=fw.nurse,
        contract=contract,
        package=fw.premium,
        priority_groups=["hypertension"],
        expected_version=contract.version,
    )
    assert renewed.status == ContractStatus.RENEWED and renewed.number == contract.number
    assert renewed.term_starts_on == today() + datetime.timedelta(days=11)
    assert renewed.terms == 2 and renewed.annual_price == Decimal("120")
    assert [t.sequence for t in selectors.contract_terms(renewed)] == [1, 2]
    assert [g.group for g in renewed.priority_groups.all()] == ["hypertension"]
    with pytest.raises(Conflict):
        services.contract_renew(actor=fw.gp, contract=contract, expected_version=contract.version)


def test_a_renewal_ending_too_early_names_the_computed_start(fw):
    """The renewal form has no start date (the term starts the day after the current end), so
    “到期日期不能早于开始日期” pointed at a date the user never saw."""
    contract = sign(
        fw, starts_on=today() - datetime.timedelta(days=20), ends_on=today() + datetime.timedelta(days=10)
    )
    start = today() + datetime.timedelta(days=11)
    with pytest.raises(Invalid) as error:
        services.contract_renew(actor=fw.gp, contract=contract, ends_on=today() + datetime.timedelta(days=5))
    assert error.value.errors["ends_on"] == [f"到期日期不能早于服务期开始日期 {start.isoformat()}。"]
    contract.refresh_from_db()
    assert contract.terms == 1


def test_expired_contract_is_renewed_from_today_and_terminated_is_not(fw):
    contract = sign(
        fw, starts_on=today() - datetime.timedelta(days=25), ends_on=today() - datetime.timedelta(days=1)
    )
    assert services.contracts_expire() == 1
    contract.refresh_from_db()
    assert contract.status == ContractStatus.EXPIRED
    assert selectors.active_contract_for(fw.resident) is None
    assert AuditEvent.objects.filter(action="contract.expire").count() == 1
    assert services.contracts_expire() == 0
    renewed = services.contract_renew(actor=fw.gp, contract=contract)
    assert renewed.status == ContractStatus.RENEWED and renewed.term_starts_on == today()
    services.contract_terminate(actor=fw.gp, contract=renewed, reason="moved_away")
    renewed.refresh_from_db()
    with pytest.raises(Invalid):
        services.contract_renew(actor=fw.gp, contract=renewed)


def test_termination_needs_a_reason_and_happens_once(fw):
    contract = sign(fw)
    with pytest.raises(Invalid):
        services.contract_terminate(actor=fw.gp, contract=contract, reason="")
    with pytest.raises(Invalid):
        services.contract_terminate(actor=fw.gp, contract=contract, reason="other", note=" ")
    with pytest.raises(NotAllowed):
        services.contract_terminate(actor=fw.specialist, contract=contract, reason="resident_request")
    done = services.contract_terminate(actor=fw.gp, contract=contract, reason="other", note="外出务工")
    assert done.status == ContractStatus.TERMINATED and done.termination_note == "外出务工"
    with pytest.raises(Conflict):
        services.contract_terminate(actor=fw.gp, contract=contract, reason="resident_request")


def test_sign_new_resident_registers_and_rolls_back_on_failure(fw):
    from yilian.people.models import Person
    from yilian.people.tests.factories import resident_id

    number = resident_id(birth=datetime.date(1955, 6, 1))
    contract = services.contract_sign_new_resident(
        actor=fw.gp,
        team=fw.team,
        resident={"name": "孙新", "id_number": number, "phone": "13900001111"},
        package=fw.basic,
        priority_groups=["elderly"],
    )
    assert contract.person.home_grid == fw.grid and contract.person.name == "孙新"
    before = Person.objects.count()
    with pytest.raises(Invalid):
        services.contract_sign_new_resident(
            actor=fw.gp,
            team=fw.team,
            resident={"name": "周小", "id_number": resident_id(birth=datetime.date(1990, 1, 1))},
            package=fw.basic,
            priority_groups=["elderly"],
        )
    assert Person.objects.count() == before


def test_specialist_sees_team_panel_but_not_the_person_registry(fw):
    contract = sign(fw)
    assert list(selectors.contract_list(fw.specialist)) == [contract]
    assert list(selectors.contract_list(fw.hospital_other_doctor)) == []
    # the hospital got no person link: only the team path shows the resident
    assert not person_visible_to(fw.specialist).filter(pk=fw.resident.pk).exists()
    # a specialist who leaves the team loses the panel
    services.team_member_remove(actor=fw.world.township_admin, team=fw.team, user=fw.specialist)
    selectors.forget_team_roles(fw.specialist)  # the next request reads the memberships afresh
    assert list(selectors.contract_list(fw.specialist)) == []


def test_oversight_reads_no_contracts(fw):
    sign(fw)
    for who in ("office", "regulator"):
        assert list(selectors.contract_list(fw.users()[who])) == []
        assert [t.name for t in selectors.team_list(fw.users()[who])] == ["城关一队"]


def test_coverage_counts_groups_with_denominators(fw):
    child = resident("小明", fw.grid, birth=today().replace(year=today().year - 3))
    sign(fw, who=fw.elder, priority_groups=["elderly", "diabetes"])
    sign(fw, who=child, priority_groups=["children"])
    rows = selectors.coverage(fw.world.office, by="team")
    assert len(rows) == 1
    row = rows[0]
    groups = {g.group: g for g in row.groups}
    assert row.residents == 3 and row.signed == 2 and row.rate == pytest.approx(66.7)
    assert (
        groups["elderly"].signed == 1
        and groups["elderly"].denominator == 1
        and groups["elderly"].rate == 100.0
    )
    assert groups["children"].denominator == 1
    assert groups["diabetes"].signed == 1
    by_institution = selectors.coverage(fw.world.township_admin, by="institution")
    assert by_institution[0].signed == 2
    by_consortium = selectors.coverage(fw.world.regulator, by="consortium")
    assert by_consortium[0].signed == 2 and by_consortium[0].label == fw.world.consortium.name


def test_pregnant_women_are_signed_within_the_childbearing_ages(fw):
    from yilian.people.tests.factories import person, resident_id

    def woman(name: str, born: datetime.date):
        return person(name, id_number=resident_id(birth=born, male=False), home_grid=fw.grid)

    elder = woman("孙奶奶", datetime.date(1950, 3, 1))
    with pytest.raises(Invalid) as error:
        sign(fw, who=elder, priority_groups=["pregnant", "elderly"])
    (message,) = error.value.errors["priority_groups"]
    assert message.endswith("岁，不在孕产妇重点人群的年龄范围内。")
    mother = woman("周丽", datetime.date(1994, 6, 1))
    contract = sign(fw, who=mother, priority_groups=["pregnant"])
    assert [g.group for g in contract.priority_groups.all()] == ["pregnant"]
