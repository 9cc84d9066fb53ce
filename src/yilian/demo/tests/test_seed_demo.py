"""``yilian seed-demo`` against the database: every role, the consortia, grids, idempotent, deterministic."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from stdnum.cn import ric, uscc

from yilian.accounts.models import Membership, User
from yilian.accounts.services import login
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.demo import content
from yilian.demo.plan import build_plan
from yilian.demo.seeding import count_rows
from yilian.institutions import selectors
from yilian.institutions.models import (
    Agreement,
    Consortium,
    ConsortiumMember,
    Department,
    Grid,
    GridArea,
    Institution,
    Region,
)
from yilian.people.identifiers import decrypt_id_number, hash_id_number
from yilian.people.models import Person, PersonInstitutionLink
from yilian.people.services import home_grid_problems
from yilian.referrals.models import Referral

pytestmark = pytest.mark.django_db

SMALL = ("--persons", "40", "--village-limit", "2", "--referral-months", "0")
"""A small county without referral activity (test_referral_demo.py covers that)."""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_every_role_gets_an_account_and_the_output_lists_them_with_the_password():
    output = seed(*SMALL)
    plan = build_plan()
    granted = set(Membership.objects.filter(is_active=True).values_list("role", flat=True))
    assert granted == set(Role.values)
    for account in plan.accounts:
        user = User.objects.get(username=account.username)
        assert user.full_name == account.full_name
        assert account.username in output
        assert Membership.objects.filter(user=user, role=account.role, is_active=True).exists()
    assert f"password of every demo account: {content.PASSWORD}" in output
    assert login(username="village_doctor", password=content.PASSWORD).username == "village_doctor"
    regulator = Membership.objects.get(user__username="regulator")
    assert regulator.region.code == content.COUNTY_CODE
    doctor = Membership.objects.get(user__username="doctor")
    assert (doctor.institution.name, doctor.department.name) == ("金寨县人民医院", "心血管内科")
    village = Membership.objects.get(user__username="village_doctor")
    assert village.institution.category == "D600"
    assert village.user.professional_title == "village_doctor"


def test_registry_objects_are_created_through_the_services_by_the_platform_admin():
    seed(*SMALL)
    admin = User.objects.get(username="admin")
    institutions = Institution.objects.count()
    events = AuditEvent.objects.filter(action="institution.create")
    assert events.count() == institutions
    assert set(events.values_list("actor", flat=True)) == {admin.pk}
    assert AuditEvent.objects.filter(action="consortium.member.add", actor=admin).count() == (
        ConsortiumMember.objects.count()
    )
    assert AuditEvent.objects.filter(action="grid.assign").count() == 7
    assert AuditEvent.objects.filter(action="user.create").count() == User.objects.count()
    assert AuditEvent.objects.filter(action="person.bulk_create").get().details["count"] == 40
    # departments record their second-level 诊疗科目 where they have one; undivided ones leave it blank
    subjects = dict(
        Department.objects.filter(institution__name="金寨县人民医院").values_list("name", "subject")
    )
    assert (subjects["心血管内科"], subjects["神经外科"], subjects["妇产科"]) == ("03.04", "04.02", "")


def test_county_community_has_lead_sub_lead_and_members():
    seed(*SMALL)
    county = Consortium.objects.get(name="金寨县人民医院县域医共体")
    assert (county.type, county.integration) == ("county_community", "tight")
    assert county.region.code == content.COUNTY_CODE
    members = {m.institution.name: m for m in selectors.consortium_members(county)}
    lead = members["金寨县人民医院"]
    tcm = members["金寨县中医医院"]
    assert lead.role == "lead" and lead.parent is None
    assert tcm.role == "sub_lead" and tcm.parent == lead and tcm.institution.is_tcm
    under_tcm = [name for name, m in members.items() if m.parent == tcm]
    assert "金寨县南溪镇中心卫生院" in under_tcm
    assert sum(name.endswith("卫生院") for name in under_tcm) == 4
    assert members["金寨县疾病预防控制中心"].role == "member"
    assert members["金寨县妇幼保健院"].institution.may_serve_across_grids
    assert sum(m.institution.category in ("C210", "C220") for m in members.values()) == 18
    assert sum(m.institution.category == "D600" for m in members.values()) == 36  # 2 per township
    assert "金寨同康医院" not in members
    assert county.agreements.filter(kind="charter").exists()
    assert county.management_bodies.filter(kind="committee").exists()
    assert county.management_bodies.filter(kind="office").exists()


def test_city_group_alliance_and_network():
    seed(*SMALL)
    city = Consortium.objects.get(type="city_group")
    leads = city.members.filter(role="lead", is_active=True)
    assert [m.institution.name for m in leads] == ["六安市人民医院"]
    assert leads[0].institution.level_label == "三级甲等"
    centres = city.members.filter(is_active=True, institution__category="B100")
    assert centres.count() == 5
    alliance = Consortium.objects.get(type="specialty_alliance")
    names = set(alliance.members.filter(is_active=True).values_list("institution__name", flat=True))
    assert {"六安市人民医院", "金寨县人民医院", "金寨同康医院"} <= names
    private = Institution.objects.get(name="金寨同康医院")
    assert (private.ownership, private.profit_status) == ("private", "2")
    network = Consortium.objects.get(type="telemedicine_network")
    history = network.members.get(institution=private)
    assert not history.is_active and str(history.left_on) == "2023-06-30"
    expired = Agreement.objects.get(title__contains="2019—2022")
    assert str(expired.effective_to) == "2022-05-19"
    for agreement in Agreement.objects.all():
        with agreement.file.open("rb") as handle:
            data = handle.read()
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
        assert agreement.parties.exists()


def test_grids_cover_the_county_with_deliberate_gaps():
    seed(*SMALL)
    admin = User.objects.get(username="admin")
    county = Region.objects.get(code=content.COUNTY_CODE)
    report = selectors.coverage_report(admin, county)
    assert report.township_count == 18
    assert {r.name for r in report.uncovered_townships} == {"桃岭乡", "沙河乡"}  # 沙河乡 only by village
    assert len(report.uncovered_villages) == 12  # 10 of 桃岭乡 + 2 of 沙河乡
    assert {i.name for i in report.institutions_without_consortium} == {
        "金寨县梅山镇济民诊所",
        "金寨康宁综合门诊部",
    }
    county_grids = Grid.objects.filter(region=county)
    assert county_grids.count() == 5
    for grid in county_grids:
        assert selectors.grid_current_consortium(grid).name == "金寨县人民医院县域医共体"
    city_report = selectors.coverage_report(admin, Region.objects.get(code=content.PREFECTURE_CODE))
    assert [g.code for g in city_report.unassigned_grids] == ["341500-G03"]
    assert selectors.grid_current_consortium(Grid.objects.get(code="341500-G01")).type == "city_group"


def test_persons_are_valid_protected_and_registered_at_their_township_centre():
    seed(*SMALL)
    persons = list(Person.objects.select_related("address_region", "home_grid"))
    assert len(persons) == 40
    grid_of = dict(GridArea.objects.values_list("area__code", "grid_id"))
    for person in persons:
        number = decrypt_id_number(person.id_number_encrypted)
        assert ric.validate(number)
        assert person.id_number_masked == f"{number[:3]}{'*' * 11}{number[-4:]}"
        assert person.gender == ("1" if int(number[16]) % 2 else "2")
        assert person.birth_date == ric.get_birth_date(number)
        assert person.name_initials and person.name_pinyin
        assert person.address_region.level == "village"
        code = person.address_region.code
        expected = grid_of.get(code) or grid_of.get(code[:9])  # None in 桃岭乡 and two 沙河乡 villages
        assert person.home_grid_id == expected
        assert not home_grid_problems(person.home_grid, person.address_region)  # in the resident's county
    # Contracts, chronic care, prescriptions and bookings link residents too; registration links each once.
    links = PersonInstitutionLink.objects.filter(reason="registered").select_related(
        "institution", "person__address_region"
    )
    assert links.count() == 40
    for link in links:
        assert link.reason == "registered"
        assert link.institution.region.code == link.person.address_region.code[:9]


def test_running_twice_changes_nothing():
    seed(*SMALL)
    before = count_rows()
    output = seed(*SMALL)
    assert count_rows() == before
    assert "admin" in output


def test_same_seed_same_codes_and_names_as_the_plan():
    seed(*SMALL, "--seed", "99")
    plan = build_plan(99, persons=40, village_limit=2)
    stored = dict(Institution.objects.values_list("name", "credit_code"))
    assert stored == {item.name: item.credit_code for item in plan.institutions}
    assert sorted(Person.objects.values_list("name", flat=True)) == sorted(p.name for p in plan.persons)
    for code in stored.values():
        assert uscc.validate(code)


def test_bad_scale_is_refused():
    with pytest.raises(CommandError):
        seed("--scale", "0")


def test_full_scale_one():
    output = seed()
    assert Institution.objects.filter(category="D600").count() == 250
    planned = [hash_id_number(person.id_number) for person in build_plan().persons]
    assert Person.objects.filter(id_number_hash__in=planned).count() == 500
    assert 1_500 <= Referral.objects.count() <= 3_500  # plus their patients, stays and timelines
    county = Consortium.objects.get(type="county_community")
    assert county.members.filter(is_active=True).count() == 272
    assert "demo data ready" in output
    before = count_rows()
    seed()
    assert count_rows() == before


def test_a_larger_scale_after_a_smaller_one_only_adds():
    seed(*SMALL)
    institutions = dict(Institution.objects.values_list("name", "credit_code"))
    seed("--scale", "2", "--persons", "60", "--village-limit", "2", "--referral-months", "0")
    assert Person.objects.count() == 60
    assert dict(Institution.objects.values_list("name", "credit_code")) == institutions
    assert Region.objects.filter(level="village").count() == 500
    shahe = Grid.objects.get(code="341524-G05").area_links.filter(area__code__startswith="341524204")
    assert shahe.count() == 2 * 12 - 2  # the generated villages of 沙河乡 joined its grid
    assert AuditEvent.objects.filter(action="grid.update").count() == 1
