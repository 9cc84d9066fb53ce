"""Institution pages: list and search, detail, create/edit authorization, departments, query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yilian.core.models import AuditEvent
from yilian.institutions.models import Department, Institution
from yilian.institutions.tests.factories import (
    DepartmentFactory,
    HospitalFactory,
    InstitutionFactory,
    credit_code,
)

pytestmark = pytest.mark.django_db

LIST = reverse("institutions:institution-list")
CREATE = reverse("institutions:institution-create")


def detail_url(institution):
    return reverse("institutions:institution-detail", args=[institution.public_id])


def edit_url(institution):
    return reverse("institutions:institution-edit", args=[institution.public_id])


def rows(response):
    return response.content.decode().count('data-testid="institution-row"')


def test_list_renders_for_every_role(world, client_for):
    for name in ("admin", "regulator", "office", "hospital_admin", "hospital_doctor", "outsider_doctor"):
        response = client_for(getattr(world, name)).get(LIST)
        assert response.status_code == 200, name
        assert "霍邱县人民医院" in response.content.decode()
        assert rows(response) == 3


def test_list_needs_login_and_a_role(world, client_for):
    response = client_for(None).get(LIST)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
    assert client_for(world.stranger).get(LIST).status_code == 403


def test_pinyin_initials_search_finds_county_peoples_hospital(world, client_for):
    InstitutionFactory(name="霍邱县中医院", region=world.regions["county"], category="A210")
    client = client_for(world.hospital_doctor)
    response = client.get(LIST, {"q": "xrmyy"})
    body = response.content.decode()
    assert rows(response) == 1
    assert "霍邱县人民医院" in body
    assert "霍邱县中医院" not in body
    # by credit code and by Chinese name too
    assert rows(client.get(LIST, {"q": world.hospital.credit_code[:12]})) >= 1
    assert rows(client.get(LIST, {"q": "中医院"})) == 1


def test_filters_category_region_status_primary(world, client_for):
    client = client_for(world.regulator)
    assert rows(client.get(LIST, {"category": "A100"})) == 1
    assert rows(client.get(LIST, {"primary": "on"})) == 2
    assert rows(client.get(LIST, {"region": world.regions["town_a"].code})) == 1
    assert rows(client.get(LIST, {"region": world.regions["county"].code})) == 3
    assert rows(client.get(LIST, {"region": world.regions["district"].code})) == 0
    assert rows(client.get(LIST, {"status": "closed"})) == 0


def test_list_paginates(world, client_for):
    InstitutionFactory.create_batch(30, region=world.regions["county"])
    client = client_for(world.admin)
    first = client.get(LIST)
    assert rows(first) == 25
    assert "第 1 / 2 页" in first.content.decode()
    assert rows(client.get(LIST, {"page": 2})) == 8


def test_list_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    client = client_for(world.hospital_doctor)
    client.get(LIST)  # warm the session
    with django_assert_num_queries(8):  # ... the notification badge, the centre menu check
        assert rows(client.get(LIST)) == 3
    InstitutionFactory.create_batch(12, region=world.regions["town_b"])
    HospitalFactory.create_batch(5, region=world.regions["county"])
    with django_assert_num_queries(8):
        assert rows(client.get(LIST)) == 20
    with django_assert_num_queries(9):  # + the chosen region's lookup
        client.get(LIST, {"q": "hq", "region": "341522", "primary": "on"})


def test_detail_shows_profile_departments_and_memberships(world, client_for):
    DepartmentFactory(institution=world.hospital, name="心血管内科")
    response = client_for(world.outsider_doctor).get(detail_url(world.hospital))
    body = response.content.decode()
    assert response.status_code == 200
    assert "三级乙等" in body
    assert world.hospital.credit_code in body
    assert "综合医院" in body
    assert "心血管内科" in body
    assert "霍邱县人民医院医共体" in body and "牵头单位" in body
    # no actions for a doctor of another institution
    assert 'data-testid="institution-edit"' not in body
    assert 'data-testid="department-create"' not in body
    assert 'data-testid="institution-staff"' not in body


def test_detail_shows_membership_history(world, client_for):
    from yilian.institutions import services

    member = world.consortium.members.get(institution=world.township)
    services.member_remove(actor=world.admin, member=member, reason="调整网格")
    body = client_for(world.township_admin).get(detail_url(world.township)).content.decode()
    assert "已退出" in body and "调整网格" in body


@pytest.mark.parametrize(
    ("who", "can_edit", "can_staff"),
    [
        ("admin", True, True),
        ("regulator", True, False),
        ("hospital_admin", True, True),
        ("township_admin", False, False),
        ("hospital_doctor", False, False),
        ("office", False, False),
    ],
)
def test_detail_actions_follow_policies(world, client_for, who, can_edit, can_staff):
    body = client_for(getattr(world, who)).get(detail_url(world.hospital)).content.decode()
    assert ('data-testid="institution-edit"' in body) is can_edit
    assert ('data-testid="institution-staff"' in body) is can_staff
    if can_staff:
        assert reverse("accounts:institution-staff", kwargs={"public_id": world.hospital.public_id}) in body


def test_unknown_institution_is_404(world, client_for):
    client = client_for(world.admin)
    assert client.get("/registry/institutions/00000000-0000-0000-0000-000000000000/").status_code == 404


def _create_data(world, **overrides):
    data = {
        "name": "霍邱县第二人民医院",
        "credit_code": credit_code("341522"),
        "category": "A100",
        "grade": "2",
        "grade_class": "a",
        "ownership": "public",
        "profit_status": "1",
        "region": "341522",
        "beds": "300",
        "status": "active",
        "may_serve_across_grids": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", None),
        ("stranger", False),
        ("admin", True),
        ("regulator", True),
        ("office", False),
        ("hospital_admin", False),
        ("hospital_doctor", False),
    ],
)
def test_create_institution_authorization(world, client_for, who, allowed):
    client = client_for(world.users()[who])
    before = Institution.objects.count()
    get = client.get(CREATE)
    post = client.post(CREATE, _create_data(world))
    if allowed is None:
        assert get.status_code == post.status_code == 302
        assert reverse("accounts:login") in post["Location"]
    elif allowed:
        assert get.status_code == 200
        assert 'data-testid="institution-form"' in get.content.decode()
        created = Institution.objects.get(name="霍邱县第二人民医院")
        assert post.status_code == 302 and post["Location"] == detail_url(created)
        assert created.region == world.regions["county"]
        assert AuditEvent.objects.filter(action="institution.create", actor=world.users()[who]).exists()
    else:
        assert get.status_code == post.status_code == 403
    if not allowed:
        assert Institution.objects.count() == before


def test_regulator_cannot_create_outside_region(world, client_for):
    response = client_for(world.regulator).post(CREATE, _create_data(world, region="341503"))
    assert response.status_code == 200
    assert 'data-testid="error-region"' in response.content.decode()
    assert not Institution.objects.filter(name="霍邱县第二人民医院").exists()


def test_create_shows_service_errors_inline_and_saves_nothing(world, client_for):
    client = client_for(world.admin)
    response = client.post(CREATE, _create_data(world, credit_code="91350100M000100Y44"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-credit_code"' in body
    assert "统一社会信用代码校验位错误。" in body
    response = client.post(CREATE, _create_data(world, credit_code=world.hospital.credit_code))
    assert "该统一社会信用代码已被其他机构使用。" in response.content.decode()
    response = client.post(CREATE, _create_data(world, grade="0", grade_class="a"))
    assert 'data-testid="error-grade_class"' in response.content.decode()
    assert not Institution.objects.filter(name="霍邱县第二人民医院").exists()


def test_create_defaults_cross_grid_from_grade(world, client_for):
    client_for(world.admin).post(CREATE, _create_data(world, grade="3", grade_class="a"))
    assert Institution.objects.get(name="霍邱县第二人民医院").may_serve_across_grids is True


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", None),
        ("stranger", False),
        ("admin", True),
        ("regulator", True),
        ("hospital_admin", True),
        ("township_admin", False),
        ("hospital_doctor", False),
        ("office", False),
    ],
)
def test_edit_institution_authorization(world, client_for, who, allowed):
    client = client_for(world.users()[who])
    url = edit_url(world.hospital)
    get = client.get(url)
    data = {
        "name": "霍邱县人民医院（总院）",
        "credit_code": world.hospital.credit_code,
        "category": "A100",
        "grade": "3",
        "grade_class": "a",
        "ownership": "public",
        "profit_status": "1",
        "region": "341522",
        "beds": "900",
        "status": "active",
    }
    post = client.post(url, data)
    world.hospital.refresh_from_db()
    if allowed is None:
        assert post.status_code == 302 and reverse("accounts:login") in post["Location"]
    elif allowed:
        assert get.status_code == 200
        assert post.status_code == 302, post.content.decode()[:2000]
        assert world.hospital.name == "霍邱县人民医院（总院）"
        assert world.hospital.level_label == "三级甲等"
        assert world.hospital.beds == 900
    else:
        assert get.status_code == post.status_code == 403
    if not allowed:
        assert world.hospital.name == "霍邱县人民医院"


def test_institution_admin_edits_without_region_field(world, client_for):
    response = client_for(world.hospital_admin).get(edit_url(world.hospital))
    body = response.content.decode()
    assert 'name="region"' not in body
    assert "霍邱县（341522）" in body


def test_edit_bad_credit_code_inline(world, client_for):
    response = client_for(world.hospital_admin).post(
        edit_url(world.hospital),
        {
            "name": "霍邱县人民医院",
            "credit_code": "123",
            "category": "A100",
            "grade": "3",
            "grade_class": "b",
            "ownership": "public",
            "profit_status": "1",
            "beds": "600",
            "status": "active",
        },
    )
    assert response.status_code == 200
    assert "统一社会信用代码应为 18 位。" in response.content.decode()
    old = world.hospital.credit_code
    world.hospital.refresh_from_db()
    assert world.hospital.credit_code == old


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("admin", True),
        ("hospital_admin", True),
        ("regulator", False),
        ("hospital_doctor", False),
        ("township_admin", False),
    ],
)
def test_department_create_authorization(world, client_for, who, allowed):
    client = client_for(getattr(world, who))
    url = reverse("institutions:department-create", args=[world.hospital.public_id])
    response = client.post(
        url, {"name": "急诊医学科", "specialty": "20", "is_clinical": "on", "beds": "12", "is_active": "on"}
    )
    exists = Department.objects.filter(institution=world.hospital, name="急诊医学科").exists()
    if allowed:
        assert response.status_code == 302
        assert exists
    else:
        assert response.status_code == 403
        assert not exists


def test_department_duplicate_name_inline_and_edit(world, client_for):
    department = DepartmentFactory(institution=world.hospital, name="心血管内科")
    client = client_for(world.hospital_admin)
    url = reverse("institutions:department-create", args=[world.hospital.public_id])
    response = client.post(url, {"name": "心血管内科", "specialty": "03", "beds": "0"})
    assert "本机构已有同名科室。" in response.content.decode()
    assert Department.objects.filter(institution=world.hospital).count() == 1

    edit = reverse("institutions:department-edit", args=[department.public_id])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit, {"name": "心血管内科", "specialty": "03", "beds": "30"}
    )  # unchecked → inactive
    assert response.status_code == 302
    department.refresh_from_db()
    assert department.beds == 30 and department.is_active is False
    assert client_for(world.regulator).get(edit).status_code == 403
    # an inactive department still shows to its manager, not to others
    assert "心血管内科" in client.get(detail_url(world.hospital)).content.decode()
    assert (
        "心血管内科" not in client_for(world.hospital_doctor).get(detail_url(world.hospital)).content.decode()
    )


def test_picker_options_search(world, client_for):
    url = reverse("institutions:institution-options")
    response = client_for(world.office).get(url, {"q": "xrmyy"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert str(world.hospital.public_id) in body
    assert str(world.township.public_id) not in body
    assert client_for(world.stranger).get(url, {"q": "x"}).status_code == 403


def _profile(institution, **changes):
    data = {
        "name": institution.name,
        "credit_code": institution.credit_code,
        "category": institution.category,
        "grade": institution.grade,
        "grade_class": institution.grade_class,
        "ownership": institution.ownership,
        "profit_status": institution.profit_status,
        "address": institution.address,
        "phone": institution.phone,
        "beds": str(institution.beds),
        "status": institution.status,
    }
    data.update(changes)
    return data


def test_saving_a_stale_profile_is_refused_and_keeps_the_newer_change(world, client_for):
    import re

    from yilian.institutions import services

    url = edit_url(world.hospital)
    page = client_for(world.hospital_admin).get(url).content.decode()
    seen = re.search(r'name="seen_updated_at" value="([^"]+)"', page).group(1)
    # Someone else saves the profile while the form is open.
    services.institution_update(actor=world.admin, institution=world.hospital, phone="0564-6666666")
    stale = _profile(world.hospital, phone="", address="城关镇人民路 1 号", seen_updated_at=seen)

    response = client_for(world.hospital_admin).post(url, stale)

    assert response.status_code == 409
    assert "该机构资料在您编辑期间已被他人修改" in response.content.decode()
    world.hospital.refresh_from_db()
    assert world.hospital.phone == "0564-6666666"
    assert world.hospital.address != "城关镇人民路 1 号"
    # The re-shown form carries the newer save time: saving again, after checking, goes through.
    again = re.search(r'name="seen_updated_at" value="([^"]+)"', response.content.decode()).group(1)
    assert client_for(world.hospital_admin).post(url, dict(stale, seen_updated_at=again)).status_code == 302
    world.hospital.refresh_from_db()
    assert world.hospital.address == "城关镇人民路 1 号"


def test_saving_a_current_profile_goes_through(world, client_for):
    import re

    url = edit_url(world.hospital)
    page = client_for(world.hospital_admin).get(url).content.decode()
    seen = re.search(r'name="seen_updated_at" value="([^"]+)"', page).group(1)
    response = client_for(world.hospital_admin).post(
        url, _profile(world.hospital, beds="650", seen_updated_at=seen)
    )
    assert response.status_code == 302
    world.hospital.refresh_from_db()
    assert world.hospital.beds == 650


def test_english_pages_set_region_institution_and_category_labels_in_ascii_brackets(world, client_for):
    """Region options, institution options, the category and the read-only region were wrapped in
    full-width brackets （…） on English pages."""
    import re

    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    pages = [
        client_for(world.admin).get(LIST, **english),
        client_for(world.admin).get(reverse("institutions:consortium-create"), **english),
        client_for(world.admin).get(
            reverse("institutions:consortium-edit", args=[world.consortium.public_id]), **english
        ),
        client_for(world.admin).get(detail_url(world.hospital), **english),
        client_for(world.hospital_admin).get(edit_url(world.hospital), **english),
        client_for(world.admin).get(
            reverse("institutions:institution-options"), {"q": world.township.name[:2]}, **english
        ),
    ]
    html = "".join(page.content.decode() for page in pages)
    options = re.findall(r"<option[^>]*>([^<]*)</option>", html)
    assert any(option.strip() == "霍邱县 (341522)" for option in options)
    assert any(f"{world.township.name} (" in option and " · " in option for option in options)
    assert "(A100)" in html and "霍邱县 (341522)" in html
    assert "(cannot be changed after creation)" in html
    assert not [o for o in options if "（" in o or "）" in o]
    assert "（A100）" not in html and "霍邱县（341522）" not in html
    # Chinese pages keep the full-width brackets.
    chinese = client_for(world.admin).get(detail_url(world.hospital)).content.decode()
    assert "（A100）" in chinese


def test_english_detail_heads_the_membership_column_in_the_singular(world, client_for):
    """The column of an institution's consortia (one per row) was headed “Medical consortia”."""
    html = client_for(world.admin).get(detail_url(world.hospital), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<th>Medical consortium</th>" in html and "<th>Medical consortia</th>" not in html


def test_beds_and_population_beyond_the_database_integer_are_field_errors(world, client_for, grid):
    """2 147 483 648 beds (or people in a grid) passed the form and failed in the database (a 500 on
    PostgreSQL); the API already capped them."""
    too_many = "2147483648"
    response = client_for(world.admin).post(
        edit_url(world.hospital), _profile(world.hospital, beds=too_many, region=world.hospital.region.code)
    )
    assert response.status_code == 200
    assert (
        'data-testid="error-beds"' in response.content.decode() or "2147483647" in response.content.decode()
    )
    world.hospital.refresh_from_db()
    assert world.hospital.beds != int(too_many)
    grid_edit = client_for(world.admin).post(
        reverse("institutions:grid-edit", args=[grid.public_id]),
        {
            "name": grid.name,
            "population": too_many,
            "area_codes": [a.area.code for a in grid.area_links.all()],
        },
    )
    assert grid_edit.status_code == 200
    grid.refresh_from_db()
    assert grid.population != int(too_many)


@pytest.mark.parametrize(
    "url", ["institutions:institution-list", "institutions:consortium-list", "institutions:grid-list"]
)
def test_a_filter_too_long_to_run_lists_nothing(world, client_for, grid, url):
    """A 61-character search showed its error above the unfiltered list of everything."""
    client = client_for(world.admin)
    row = f'data-testid="{url.split(":")[1].removesuffix("-list")}-row"'
    assert row in client.get(reverse(url)).content.decode()
    body = client.get(reverse(url), {"q": "县" * 61}).content.decode()
    assert "61" in body  # the form's error names the length
    assert row not in body


def test_saving_a_stale_department_is_refused_and_keeps_the_newer_change(world, client_for):
    """Two admins editing one department: the second save silently undid the first (a deactivation)."""
    import re

    from yilian.institutions import services

    department = DepartmentFactory(institution=world.hospital, name="心血管内科", specialty="03", beds=20)
    url = reverse("institutions:department-edit", args=[department.public_id])
    client = client_for(world.hospital_admin)
    seen = re.search(r'name="seen_updated_at" value="([^"]+)"', client.get(url).content.decode()).group(1)
    # Someone else deactivates the department while the form is open.
    services.department_update(actor=world.admin, department=department, is_active=False)
    stale = {
        "name": "心血管内科",
        "specialty": "03",
        "beds": "35",
        "is_active": "on",
        "seen_updated_at": seen,
    }

    response = client.post(url, stale)

    assert response.status_code == 409
    body = response.content.decode()
    assert "该科室在您编辑期间已被他人修改" in body and 'value="35"' in body
    department.refresh_from_db()
    assert department.is_active is False and department.beds == 20
    # The re-shown form carries the newer save time: saving again, after checking, goes through.
    again = re.search(r'name="seen_updated_at" value="([^"]+)"', body).group(1)
    assert client.post(url, dict(stale, seen_updated_at=again)).status_code == 302
    department.refresh_from_db()
    assert department.beds == 35 and department.is_active is True
