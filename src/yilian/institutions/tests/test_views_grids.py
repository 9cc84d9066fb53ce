"""Grid pages (list, detail, planning, assignment) and the coverage report; the registry menu."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from yilian.core.models import AuditEvent
from yilian.institutions.choices import ConsortiumType
from yilian.institutions.models import Grid, GridArea, GridAssignment
from yilian.institutions.tests.factories import (
    ConsortiumFactory,
    GridFactory,
    InstitutionFactory,
    assign,
    cover,
)

pytestmark = pytest.mark.django_db

LIST = reverse("institutions:grid-list")
CREATE = reverse("institutions:grid-create")
COVERAGE = reverse("institutions:coverage")


def detail_url(grid):
    return reverse("institutions:grid-detail", args=[grid.public_id])


def area_label(page, code):
    """The <label> holding an area's checkbox."""
    at = page.index(f'data-testid="area-{code}"')
    return page[page.rfind("<label", 0, at) : page.index("</label>", at)]


def rows(response, testid="grid-row"):
    return response.content.decode().count(f'data-testid="{testid}"')


@pytest.fixture
def second_community(world):
    return ConsortiumFactory(
        name="霍邱县第二医共体", region=world.regions["county"], type=ConsortiumType.COUNTY_COMMUNITY
    )


def test_list_shows_consortium_and_area_count(world, grid, client_for):
    GridFactory(region=world.regions["county"], code="341522-G02", name="河口网格")
    response = client_for(world.hospital_doctor).get(LIST)
    body = response.content.decode()
    assert response.status_code == 200
    assert rows(response) == 2
    assert "霍邱县人民医院医共体" in body and "未分配" in body
    assert 'data-testid="grid-create"' not in body
    client = client_for(world.regulator)
    assert 'data-testid="grid-create"' in client.get(LIST).content.decode()
    assert rows(client.get(LIST, {"q": "hk"})) == 1
    assert rows(client.get(LIST, {"consortium": str(world.consortium.public_id)})) == 1
    assert rows(client.get(LIST, {"region": "341503"})) == 0


def test_list_query_count_does_not_grow(world, grid, client_for, django_assert_num_queries, second_community):
    client = client_for(world.hospital_doctor)
    client.get(LIST)
    # session, user, scope, region choices, consortium choices, count, page, current assignments, badge
    with django_assert_num_queries(10):
        assert rows(client.get(LIST)) == 1
    for number in range(2, 12):
        extra = GridFactory(region=world.regions["county"], code=f"341522-G{number:02d}")
        assign(extra, second_community if number % 2 else world.consortium)
    with django_assert_num_queries(10):
        assert rows(client.get(LIST)) == 11


def test_detail_shows_areas_current_and_history(world, grid, client_for, second_community):
    assign_day = datetime.date(2023, 1, 1)
    current = GridAssignment.objects.get(grid=grid)
    current.is_current, current.assigned_to = False, assign_day - datetime.timedelta(days=1)
    current.save()
    assign(grid, second_community, assign_day)
    response = client_for(world.outsider_doctor).get(detail_url(grid))
    body = response.content.decode()
    assert response.status_code == 200
    assert "城关镇" in body and 'data-testid="grid-area"' in body
    current_block = body[body.index('data-testid="grid-current"') :].split("</dd>")[0]
    assert "霍邱县第二医共体" in current_block
    assert rows(response, "assignment-row") == 2 and "2022-12-31" in body
    assert 'data-testid="grid-edit"' not in body


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
def test_plan_grid_authorization(world, grid, client_for, who, allowed):
    client = client_for(world.users()[who])
    get = client.get(CREATE, {"region": "341522"})
    post = client.post(
        CREATE, {"region": "341522", "code": "341522-G09", "name": "河口网格", "area_codes": ["341522101"]}
    )
    created = Grid.objects.filter(code="341522-G09").first()
    if allowed is None:
        assert post.status_code == 302 and reverse("accounts:login") in post["Location"]
    elif allowed:
        assert get.status_code == 200
        assert post.status_code == 302 and post["Location"] == detail_url(created)
        assert list(created.areas.values_list("code", flat=True)) == ["341522101"]
        assert AuditEvent.objects.filter(action="grid.create").exists()
    else:
        assert get.status_code == post.status_code == 403
    if not allowed:
        assert created is None


def test_regulator_cannot_plan_outside_region(world, client_for):
    client = client_for(world.regulator)
    page = client.get(CREATE).content.decode()
    assert 'value="341522"' in page and 'value="341503"' not in page  # only their own county is offered
    response = client.post(CREATE, {"region": "341503", "code": "341503-G01", "name": "裕安网格"})
    assert response.status_code == 200
    assert 'data-testid="error-region"' in response.content.decode()
    assert not Grid.objects.filter(code="341503-G01").exists()


def test_plan_form_groups_areas_and_marks_taken_ones(world, grid, client_for):
    body = client_for(world.regulator).get(CREATE, {"region": "341522"}).content.decode()
    assert body.count('data-testid="area-group"') == 2
    taken = area_label(body, "341522100")
    assert "disabled" in taken and "已属于网格“城关网格”" in taken
    free = area_label(body, "341522101")
    assert "disabled" not in free
    assert 'data-testid="area-341522101201"' in body


def test_area_in_another_grid_is_a_field_error(world, grid, client_for):
    response = client_for(world.regulator).post(
        CREATE,
        {
            "region": "341522",
            "code": "341522-G09",
            "name": "重叠网格",
            "area_codes": ["341522100", "341522101"],
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-area_codes"' in body and "城关镇 已属于网格“城关网格”。" in body
    assert not Grid.objects.filter(code="341522-G09").exists()
    assert GridArea.objects.count() == 1


def test_village_of_a_township_in_another_grid_is_refused(world, grid, client_for):
    client = client_for(world.regulator)
    page = client.get(CREATE, {"region": "341522"}).content.decode()
    village = area_label(page, "341522100201")
    assert "disabled" in village and "所在乡镇已属于网格“城关网格”" in village
    response = client.post(
        CREATE, {"region": "341522", "code": "341522-G09", "name": "东湖网格", "area_codes": ["341522100201"]}
    )
    body = response.content.decode()
    assert 'data-testid="error-area_codes"' in body and "城关镇 已整体属于网格“城关网格”" in body
    assert not Grid.objects.filter(code="341522-G09").exists()


def test_township_with_a_village_in_another_grid_is_refused(world, grid, client_for):
    village_grid = GridFactory(region=world.regions["county"], code="341522-G02", name="河口村网格")
    cover(village_grid, world.regions["village_b1"])
    client = client_for(world.regulator)
    page = client.get(CREATE, {"region": "341522"}).content.decode()
    township = area_label(page, "341522101")
    assert "disabled" in township and "部分村已属于网格“河口村网格”" in township
    sibling = area_label(page, "341522101201")
    assert "已属于网格“河口村网格”" in sibling and "所在乡镇" not in sibling
    response = client.post(
        CREATE, {"region": "341522", "code": "341522-G09", "name": "河口镇网格", "area_codes": ["341522101"]}
    )
    assert "河口村 已属于网格“河口村网格”，其所在乡镇不能整体划入。" in response.content.decode()
    assert not Grid.objects.filter(code="341522-G09").exists()


def test_edit_grid_areas(world, grid, client_for):
    url = reverse("institutions:grid-edit", args=[grid.public_id])
    client = client_for(world.regulator)
    page = client.get(url).content.decode()
    own = area_label(page, "341522100")
    assert "checked" in own and "disabled" not in own
    response = client.post(url, {"name": "城关河口网格", "area_codes": ["341522100", "341522101"]})
    assert response.status_code == 302
    grid.refresh_from_db()
    assert grid.name == "城关河口网格"
    assert set(grid.areas.values_list("code", flat=True)) == {"341522100", "341522101"}
    assert client_for(world.office).post(url, {"name": "x", "area_codes": []}).status_code == 403
    response = client.post(url, {"name": "城关网格", "area_codes": ["341522100", "341522100201"]})
    assert "所在乡镇已整体划入" in response.content.decode()


def test_saving_a_stale_grid_is_refused_and_keeps_the_newer_areas(world, grid, client_for):
    """Two people editing one grid: the second save silently put back the areas the first removed."""
    import re

    from yilian.institutions import services

    url = reverse("institutions:grid-edit", args=[grid.public_id])
    client = client_for(world.regulator)
    seen = re.search(r'name="seen_updated_at" value="([^"]+)"', client.get(url).content.decode()).group(1)
    services.grid_update(actor=world.admin, grid=grid, area_codes=["341522100", "341522101"])
    stale = {"name": "城关老网格", "area_codes": ["341522100"], "seen_updated_at": seen}

    response = client.post(url, stale)

    assert response.status_code == 409
    assert "该网格在您编辑期间已被他人修改" in response.content.decode()
    grid.refresh_from_db()
    assert grid.name == "城关网格"
    assert set(grid.areas.values_list("code", flat=True)) == {"341522100", "341522101"}
    again = re.search(r'name="seen_updated_at" value="([^"]+)"', response.content.decode()).group(1)
    assert client.post(url, dict(stale, seen_updated_at=again)).status_code == 302
    grid.refresh_from_db()
    assert grid.name == "城关老网格"


def test_second_consortium_on_a_grid_is_a_field_error_then_hand_over(
    world, grid, client_for, second_community
):
    url = reverse("institutions:grid-assign", args=[grid.public_id])
    client = client_for(world.regulator)
    page = client.get(url).content.decode()
    assert 'name="replace"' in page and 'data-testid="grid-current"' in page
    response = client.post(url, {"consortium": str(second_community.public_id)})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-consortium"' in body and "一个网格同一时间只能由一个医联体负责" in body
    assert GridAssignment.objects.get(grid=grid, is_current=True).consortium == world.consortium

    today = timezone.localdate()
    response = client.post(
        url,
        {"consortium": str(second_community.public_id), "replace": "on", "assigned_from": today.isoformat()},
    )
    assert response.status_code == 302
    current = GridAssignment.objects.get(grid=grid, is_current=True)
    assert current.consortium == second_community
    old = GridAssignment.objects.get(grid=grid, consortium=world.consortium)
    assert old.assigned_to == today - datetime.timedelta(days=1)


def test_only_grid_forms_may_serve_a_grid(world, client_for):
    alliance = ConsortiumFactory(
        name="六安市心血管专科联盟", type=ConsortiumType.SPECIALTY_ALLIANCE, region=world.regions["city"]
    )
    empty = GridFactory(region=world.regions["county"], code="341522-G05")
    url = reverse("institutions:grid-assign", args=[empty.public_id])
    client = client_for(world.admin)
    page = client.get(url).content.decode()
    assert str(alliance.public_id) not in page and 'name="replace"' not in page
    response = client.post(url, {"consortium": str(alliance.public_id)})
    assert 'data-testid="error-consortium"' in response.content.decode()
    assert client.post(url, {"consortium": str(world.consortium.public_id)}).status_code == 302
    assert GridAssignment.objects.get(grid=empty).is_current


@pytest.mark.parametrize(
    ("who", "allowed"), [("regulator", True), ("admin", True), ("office", False), ("hospital_admin", False)]
)
def test_end_assignment(world, grid, client_for, who, allowed):
    url = reverse("institutions:grid-unassign", args=[grid.public_id])
    response = client_for(getattr(world, who)).post(url, {"assigned_to": ""})
    current = GridAssignment.objects.filter(grid=grid, is_current=True).exists()
    if allowed:
        assert response.status_code == 302 and not current
    else:
        assert response.status_code == 403 and current


def test_end_assignment_without_one_is_an_error(world, client_for):
    empty = GridFactory(region=world.regions["county"], code="341522-G05")
    url = reverse("institutions:grid-unassign", args=[empty.public_id])
    response = client_for(world.regulator).post(url, {})
    assert "该网格当前没有负责的医联体。" in response.content.decode()


# Coverage ------------------------------------------------------------------


def test_coverage_defaults_to_the_regulators_region(world, grid, client_for):
    GridFactory(region=world.regions["county"], code="341522-G05", name="空网格")
    response = client_for(world.regulator).get(COVERAGE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "霍邱县" in body
    assert 'data-testid="coverage-share">60%<' in body  # 3 of 5 townships and villages
    townships = body[body.index('data-testid="uncovered-townships"') :].split("</ul>")[0]
    assert "河口镇" in townships and "城关镇" not in townships
    villages = body[body.index('data-testid="uncovered-villages"') :].split("</ul>")[0]
    assert "河口村" in villages and "东湖村" not in villages
    assert "空网格" in body[body.index('data-testid="unassigned-grids"') :].split("</ul>")[0]
    lonely = body[body.index('data-testid="institutions-without-consortium"') :].split("</table>")[0]
    assert "霍邱县河口镇卫生院" in lonely and "霍邱县城关镇卫生院" not in lonely


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("stranger", 403),
        ("admin", 200),
        ("regulator", 200),
        ("office", 403),
        ("hospital_admin", 403),
        ("hospital_doctor", 403),
    ],
)
def test_coverage_authorization(world, client_for, who, status):
    response = client_for(world.users()[who]).get(COVERAGE, {"region": "341522"})
    assert response.status_code == status


def test_coverage_outside_the_regulators_region_is_forbidden(world, client_for):
    assert client_for(world.regulator).get(COVERAGE, {"region": "341503"}).status_code == 403
    response = client_for(world.admin).get(COVERAGE, {"region": "341503"})
    assert response.status_code == 200 and 'data-testid="coverage-summary"' in response.content.decode()


def test_coverage_for_admin_defaults_to_first_province(world, client_for):
    body = client_for(world.admin).get(COVERAGE).content.decode()
    assert 'data-testid="coverage-summary"' in body and "安徽省" in body


# Menu ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected", "absent"),
    [
        ("admin", {"region-list", "grid-create", "coverage", "region-import"}, set()),
        (
            "regulator",
            {"region-list", "institution-list", "consortium-list", "grid-list", "grid-create", "coverage"},
            {"region-import"},
        ),
        (
            "office",
            {"region-list", "institution-list", "consortium-list", "grid-list"},
            {"grid-create", "coverage"},
        ),
        ("hospital_doctor", {"consortium-list", "grid-list"}, {"grid-create", "coverage", "region-import"}),
    ],
)
def test_menu_entries_follow_policies(world, client_for, who, expected, absent):
    body = client_for(getattr(world, who)).get(reverse("home")).content.decode()
    menu = body[body.index('class="sidemenu"') :].split("</nav>")[0]
    assert "机构与医联体" in menu
    for name in expected:
        assert f'href="{reverse("institutions:" + name)}"' in menu, name
    for name in absent:
        assert f'href="{reverse("institutions:" + name)}"' not in menu, name


def test_stranger_sees_no_registry_menu(world, client_for):
    body = client_for(world.stranger).get(reverse("home")).content.decode()
    assert reverse("institutions:region-list") not in body


def test_cover_helper_is_consistent(world, grid):
    # guard for the fixtures the tests above rely on
    extra = GridFactory(region=world.regions["county"], code="341522-G07")
    cover(extra, world.regions["village_b1"])
    assert GridArea.objects.filter(grid=extra).count() == 1


def test_coverage_query_count_does_not_grow(world, grid, client_for, django_assert_num_queries):
    client = client_for(world.regulator)
    url = f"{COVERAGE}?region=341522"
    client.get(url)
    # session, user, scope, region choices, region, covered codes, areas, grids (count, rows, assignments),
    # institutions (count, rows), notification badge
    expected = 13
    with django_assert_num_queries(expected):
        client.get(url)
    for number in range(3, 9):
        GridFactory(region=world.regions["county"], code=f"341522-G{number:02d}")
        InstitutionFactory(region=world.regions["town_b"])
    with django_assert_num_queries(expected):
        body = client.get(url).content.decode()
    assert body.count("341522-G0") >= 6
