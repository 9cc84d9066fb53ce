"""The demo plan (no database): deterministic, real-format codes, the county's shape."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from stdnum.cn import ric, uscc

from yilian.demo import content, generators
from yilian.demo.pdf import simple_pdf
from yilian.demo.plan import build_plan, parse_region_rows, region_csv_text
from yilian.institutions.choices import ConsortiumType, MemberRole, Ownership, ProfitStatus
from yilian.institutions.codes import parse_region_code
from yilian.manage import command_argv


@pytest.fixture(scope="module")
def plan():
    return build_plan(2026)


def test_same_seed_gives_the_same_plan(plan):
    again = build_plan(2026)
    assert [i.credit_code for i in again.institutions] == [i.credit_code for i in plan.institutions]
    assert [(p.name, p.id_number, p.phone, p.address) for p in again.persons] == [
        (p.name, p.id_number, p.phone, p.address) for p in plan.persons
    ]


def test_another_seed_gives_other_codes_and_people_but_the_same_places(plan):
    other = build_plan(7)
    assert [i.name for i in other.institutions] == [i.name for i in plan.institutions]
    same_codes = {i.credit_code for i in other.institutions} & {i.credit_code for i in plan.institutions}
    assert not same_codes
    assert [p.id_number for p in other.persons] != [p.id_number for p in plan.persons]


def test_every_credit_code_validates_and_carries_its_registration_region(plan):
    codes = [item.credit_code for item in plan.institutions]
    assert len(set(codes)) == len(codes)
    for item in plan.institutions:
        assert uscc.validate(item.credit_code) == item.credit_code
        assert item.credit_code[2:8] in {"341500", "341502", "341503", "341524"}
        assert generators.organisation_code(item.credit_code[8:16]) == item.credit_code[8:17]
        if item.ownership == Ownership.PUBLIC and item.category != "D600":
            assert item.credit_code.startswith("12")
    county = plan.institution("county_hospital")
    assert county.credit_code.startswith("12341524")
    assert plan.institution("city_hospital").credit_code.startswith("12341500")
    private = plan.institution("private_hospital")
    assert private.credit_code.startswith("91341524MA")
    assert (private.ownership, private.profit_status) == (Ownership.PRIVATE, ProfitStatus.FOR_PROFIT)


def test_every_resident_id_validates_and_agrees_with_gender_and_birth_date(plan):
    numbers = [person.id_number for person in plan.persons]
    assert len(plan.persons) == 500
    assert len(set(numbers)) == len(numbers)
    for person in plan.persons:
        assert ric.validate(person.id_number) == person.id_number
        assert ric.get_birth_date(person.id_number) == person.birth_date
        assert int(person.id_number[16]) % 2 == (1 if person.gender == "1" else 0)
        expected = "342426" if person.birth_date.year < 1999 else "341524"
        assert person.id_number.startswith(expected)
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", person.name)
        assert person.phone.isdigit() and len(person.phone) == 11
        assert person.address.startswith("安徽省六安市金寨县")
    genders = Counter(person.gender for person in plan.persons)
    assert genders["1"] > 150 and genders["2"] > 150


def test_generated_resident_id_check_matches_stdnum():
    random_ = generators.rng(1, "test")
    for _ in range(200):
        born = generators.birth_date(random_)
        assert ric.is_valid(generators.resident_id(random_, born, random_.choice("12")))


def test_the_shipped_region_list_is_valid_and_matches_the_content():
    rows = parse_region_rows(region_csv_text())
    assert len({row.code for row in rows}) == len(rows)
    for row in rows:
        parse_region_code(row.code)
        assert row.name and row.population
    townships = [row for row in rows if row.code.startswith("341524") and len(row.code) == 9]
    assert [(row.code, row.name) for row in townships] == [(t.code, t.name) for t in content.TOWNSHIPS]
    villages = [row for row in rows if row.code.startswith("341524") and len(row.code) == 12]
    assert len(villages) == 250
    assert len({row.name for row in villages}) == 250
    county = next(row for row in rows if row.code == content.COUNTY_CODE)
    assert county.population == 498_000
    assert sum(row.population for row in townships) == county.population


def test_the_county_has_the_institutions_the_issue_describes(plan):
    categories = Counter(item.category for item in plan.institutions if item.region_code.startswith("341524"))
    assert categories["C210"] + categories["C220"] == 18
    assert categories["C210"] == 7
    assert categories["D600"] == 250
    assert categories["A210"] == categories["G100"] == categories["J100"] == 1
    assert plan.institution("county_tcm").is_tcm
    assert plan.institution("city_hospital").grade == "3"
    assert plan.institution("city_hospital").grade_class == "a"
    assert plan.institution("county_hospital").departments
    names = [item.name for item in plan.institutions]
    assert not any(re.search(r"(医院|卫生院|卫生室)\d", name) for name in names)


def test_the_consortia_have_leads_sub_leads_and_deliberate_outsiders(plan):
    by_key = {c.key: c for c in plan.consortia}
    assert {c.type for c in plan.consortia} == set(ConsortiumType.values)
    county = by_key["county"]
    assert county.lead.institution == "county_hospital" and county.lead.role == MemberRole.LEAD
    roles = {m.institution: (m.role, m.parent) for m in county.members}
    assert roles["county_tcm"] == (MemberRole.SUB_LEAD, "county_hospital")
    under_tcm = [m.institution for m in county.members if m.parent == "county_tcm"]
    assert sum(key.startswith("township:") for key in under_tcm) == 4
    assert "county_cdc" in roles and "private_hospital" not in roles
    alliance = by_key["alliance"]
    assert {"county_hospital", "private_hospital"} <= {m.institution for m in alliance.members}
    everywhere = {m.institution for c in plan.consortia for m in c.members}
    assert {"private_clinic", "private_outpatient"}.isdisjoint(everywhere)
    history = [m for m in by_key["network"].members if m.left_on]
    assert [m.institution for m in history] == ["private_hospital"]


def test_grids_cover_the_county_except_the_deliberate_gaps(plan):
    covered = {code for grid in plan.grids for code in grid.area_codes}
    county_grids = [grid for grid in plan.grids if grid.region_code == content.COUNTY_CODE]
    assert 4 <= len(county_grids) <= 6
    assert all(grid.consortium == "county" for grid in county_grids)
    uncovered_townships = [
        t.name for t in content.TOWNSHIPS if t.code not in covered and not t.grid_villages_only
    ]
    assert uncovered_townships == ["桃岭乡"]
    shahe = [row.code for row in parse_region_rows(region_csv_text()) if row.code.startswith("341524204")]
    assert len([code for code in shahe[1:] if code not in covered]) == 2
    assert [grid.code for grid in plan.grids if not grid.consortium] == ["341500-G03"]


def test_scale_multiplies_villages_clinics_and_persons():
    double = build_plan(2026, 2)
    assert len(double.extra_regions) == 250
    assert sum(1 for i in double.institutions if i.category == "D600") == 500
    assert len(double.persons) == 1000
    for row in double.extra_regions:
        parse_region_code(row.code)
    shahe_grid = next(grid for grid in double.grids if grid.code == "341524-G05")
    assert any(code.startswith("341524204") and int(code[9:]) > 212 for code in shahe_grid.area_codes)


def test_limits_for_tests_shrink_the_plan():
    small = build_plan(2026, persons=10, village_limit=1)
    assert len(small.persons) == 10
    assert sum(1 for i in small.institutions if i.category == "D600") == 18


def test_accounts_cover_every_role(plan):
    roles = {account.role for account in plan.accounts}
    from yilian.core.permissions import Role

    assert roles == set(Role.values)
    usernames = [account.username for account in plan.accounts]
    assert len(set(usernames)) == len(usernames)
    assert all(name.isascii() for name in usernames)


def test_simple_pdf_is_a_valid_pdf_with_a_correct_xref():
    data = simple_pdf("金寨县人民医院县域医共体章程", ["第一章 总则", "Charter", *["第二条 内容" * 6] * 60])
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    data.decode("ascii")  # plain ASCII: hex strings only
    xref_at = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert data[xref_at:].startswith(b"xref\n")
    lines = data[xref_at:].split(b"\n")
    count = int(lines[1].split()[1])
    for number in range(1, count):
        offset = int(lines[2 + number][:10])
        assert data[offset:].startswith(f"{number} 0 obj".encode())
    assert b"/Count 2" in data  # the long body flowed onto a second page
    assert simple_pdf("x", ["y"]) == simple_pdf("x", ["y"])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["manage.py", "seed-demo", "--scale", "2"], ["yilian", "seed_demo", "--scale", "2"]),
        (["yilian", "import-regions", "a-b.csv"], ["yilian", "import_regions", "a-b.csv"]),
        (["yilian", "help", "seed-demo"], ["yilian", "help", "seed_demo"]),
        (["yilian", "--version"], ["yilian", "--version"]),
        (["yilian"], ["yilian"]),
    ],
)
def test_hyphenated_command_names_map_to_django_commands(argv, expected):
    assert command_argv(argv) == expected


def test_a_larger_scale_extends_a_smaller_one(plan):
    double = build_plan(2026, 2)
    assert [p.id_number for p in double.persons[:500]] == [p.id_number for p in plan.persons]
    codes = {i.key: i.credit_code for i in double.institutions}
    assert all(codes[i.key] == i.credit_code for i in plan.institutions)
    triple = build_plan(2026, 3)
    assert triple.extra_regions[:250] == double.extra_regions


def test_every_demo_account_holds_a_title_of_its_staff_kind(plan):
    """A nurse is not a 主任医师: the plan's and the generated outreach physicians' titles fit their roles."""
    from yilian.accounts.services import title_mismatch
    from yilian.core.permissions import Role
    from yilian.demo.outreach import GENERATED

    assert [a.username for a in plan.accounts if title_mismatch(a.professional_title, {a.role})] == []
    assert [row[0] for row in GENERATED if title_mismatch(row[3], {Role.DOCTOR})] == []
