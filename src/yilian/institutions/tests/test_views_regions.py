"""Region pages: list and search, tree browse, create and CSV import (platform admins only)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yilian.institutions.models import Region
from yilian.institutions.tests.factories import region

pytestmark = pytest.mark.django_db

LIST = reverse("institutions:region-list")
CREATE = reverse("institutions:region-create")
IMPORT = reverse("institutions:region-import")


def rows(response):
    return response.content.decode().count('data-testid="region-row"')


def test_list_and_search(world, client_for):
    client = client_for(world.hospital_doctor)
    response = client.get(LIST)
    body = response.content.decode()
    assert response.status_code == 200
    assert rows(response) == 9
    assert 'data-testid="region-roots"' in body and "安徽省" in body
    assert 'data-testid="region-create"' not in body
    assert rows(client.get(LIST, {"q": "hqx"})) == 1  # 霍邱县 by pinyin initials
    assert rows(client.get(LIST, {"q": "341522100"})) == 3  # a township and its villages by code prefix
    assert rows(client.get(LIST, {"q": "河口"})) == 2
    assert rows(client.get(LIST, {"level": "village"})) == 3


def test_list_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    client = client_for(world.regulator)
    client.get(LIST)
    with django_assert_num_queries(7):  # session, user, scope, count, page, roots, notification badge
        assert rows(client.get(LIST)) == 9
    county = world.regions["county"]
    for number in range(10):
        region(f"3415221{number + 10:02d}", f"第{number}镇", "township", county)
    with django_assert_num_queries(7):
        assert rows(client.get(LIST)) == 19


def test_detail_tree_browse(world, grid, client_for):
    response = client_for(world.hospital_doctor).get(reverse("institutions:region-detail", args=["341522"]))
    body = response.content.decode()
    assert response.status_code == 200
    crumbs = body[body.index('data-testid="breadcrumbs"') :].split("</nav>")[0]
    assert "安徽省" in crumbs and "六安市" in crumbs and "霍邱县" in crumbs
    assert body.count('data-testid="region-child"') == 2
    assert "城关镇" in body and "河口镇" in body
    assert "霍邱县人民医院" in body and "霍邱县河口镇卫生院" in body
    assert "霍邱县人民医院医共体" in body
    assert "城关网格" in body
    assert 'data-testid="region-plan-grid"' not in body


def test_detail_for_regulator_links_planning_and_coverage(world, client_for):
    body = (
        client_for(world.regulator)
        .get(reverse("institutions:region-detail", args=["341522"]))
        .content.decode()
    )
    assert 'data-testid="region-plan-grid"' in body
    assert 'data-testid="region-coverage"' in body


def test_unknown_region_is_404(world, client_for):
    assert (
        client_for(world.admin).get(reverse("institutions:region-detail", args=["999999"])).status_code == 404
    )


@pytest.mark.parametrize("who", ["anonymous", "stranger", "regulator", "office", "hospital_admin"])
def test_only_platform_admin_creates_and_imports_regions(world, client_for, who):
    client = client_for(world.users()[who])
    csv = SimpleUploadedFile("regions.csv", "341522102,新店镇\n".encode())
    responses = [
        client.get(CREATE),
        client.post(CREATE, {"code": "341522102", "name": "新店镇"}),
        client.get(IMPORT),
        client.post(IMPORT, {"file": csv}),
    ]
    expected = 302 if who == "anonymous" else 403
    assert [r.status_code for r in responses] == [expected] * 4
    assert not Region.objects.filter(code="341522102").exists()


def test_admin_creates_region(world, client_for):
    client = client_for(world.admin)
    assert client.get(CREATE).status_code == 200
    response = client.post(CREATE, {"code": "341522102", "name": "新店镇"})
    assert response.status_code == 302
    created = Region.objects.get(code="341522102")
    assert created.parent == world.regions["county"] and created.name_initials == "xdz"


def test_bad_region_code_is_a_field_error(world, client_for):
    client = client_for(world.admin)
    response = client.post(CREATE, {"code": "12345", "name": "错"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-code"' in body and "区划代码应为 6 位、9 位或 12 位数字。" in body
    response = client.post(CREATE, {"code": "341522100", "name": "重复"})
    assert "区划代码 341522100 已存在。" in response.content.decode()
    assert Region.objects.count() == 9


def test_import_shows_counts(world, client_for):
    content = "code,name,population\n341522102,新店镇,30000\n341522102201,新店村,\n341522100,城关镇,80000\n"
    response = client_for(world.admin).post(
        IMPORT, {"file": SimpleUploadedFile("r.csv", content.encode("gb18030"))}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="import-created">2<' in body
    assert 'data-testid="import-updated">1<' in body
    assert Region.objects.get(code="341522102201").parent.code == "341522102"


def test_import_lists_every_row_error_and_saves_nothing(world, client_for):
    content = "341522102,新店镇\n12345,坏代码\n341522102,重复\n341599,不存在县\n"
    response = client_for(world.admin).post(IMPORT, {"file": SimpleUploadedFile("r.csv", content.encode())})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="error-file"') == 3
    assert "第 2 行" in body and "第 3 行" in body and "第 4 行" in body
    assert not Region.objects.filter(code="341522102").exists()
