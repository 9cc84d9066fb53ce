"""Registry API: regions, institutions and departments — behaviour, errors, authorization, queries."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yilian.core.api.testing import error_of
from yilian.core.models import AuditEvent
from yilian.institutions.models import Department, Institution, Region
from yilian.institutions.tests.factories import (
    DepartmentFactory,
    HospitalFactory,
    InstitutionFactory,
    credit_code,
)

pytestmark = pytest.mark.django_db


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _codes(response):
    return [row["code"] for row in _results(response)]


# Regions ---------------------------------------------------------------------------


def test_region_list_filters(world, api):
    client = api(world.hospital_doctor)
    assert _codes(client.get("/api/v1/regions", {"level": "township"})) == ["341522100", "341522101"]
    assert _codes(client.get("/api/v1/regions", {"parent": "341522100"})) == ["341522100201", "341522100202"]
    assert set(_codes(client.get("/api/v1/regions", {"within": "3415"}))) >= {"341500", "341503", "341522"}
    assert _codes(client.get("/api/v1/regions", {"q": "hqx"})) == ["341522"]  # 霍邱县 by pinyin initials
    assert _codes(client.get("/api/v1/regions", {"q": "河口"})) == ["341522101", "341522101201"]
    row = _results(client.get("/api/v1/regions", {"q": "341522100201"}))[0]
    assert row == {
        "code": "341522100201",
        "name": "东湖村",
        "level": "village",
        "level_label": "村级",
        "prefix": "341522100201",
        "parent": "341522100",
        "population": None,
    }


@pytest.mark.parametrize(
    "params,field",
    [({"level": "planet"}, "level"), ({"within": "34a"}, "within"), ({"parent": "x"}, "parent")],
)
def test_region_list_rejects_bad_filters(world, api, params, field):
    response = api(world.hospital_doctor).get("/api/v1/regions", params)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_region_list_query_count(world, api, django_assert_num_queries):
    client = api(world.hospital_doctor)
    # token, scope, count, page (parent joined)
    with django_assert_num_queries(4):
        assert len(_codes(client.get("/api/v1/regions"))) == 9


def test_region_detail(world, api):
    client = api(world.hospital_doctor)
    assert client.get("/api/v1/regions/341522").json()["parent"] == "341500"
    missing = client.get("/api/v1/regions/341599")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"


def test_platform_admin_creates_a_region_with_the_official_name(world, api):
    response = api(world.admin).post("/api/v1/regions", {"code": "341523"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "舒城县"
    assert response.json()["parent"] == "341500"
    assert AuditEvent.objects.filter(action="region.create", region_code="341523").exists()


@pytest.mark.parametrize(
    "code,message",
    [
        ("341599", "区划代码 341599 不在 GB/T 2260 代码表中。"),
        ("34152", "区划代码应为 6 位、9 位或 12 位数字。"),
        ("341522", "区划代码 341522 已存在。"),
        ("341522600", "乡级代码第 7–9 位 600 不在统计用区划代码的取值范围内。"),
    ],
)
def test_invalid_region_code_is_a_field_error_and_saves_nothing(world, api, code, message):
    before = Region.objects.count()
    response = api(world.admin).post("/api/v1/regions", {"code": code, "name": "某地"}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"code": [message]}
    assert Region.objects.count() == before


@pytest.mark.parametrize("who", ["regulator", "hospital_admin", "office"])
def test_only_platform_admins_create_regions(world, api, who):
    response = api(getattr(world, who)).post("/api/v1/regions", {"code": "341523"}, format="json")
    assert response.status_code == 403
    assert not Region.objects.filter(code="341523").exists()


def _csv(text, encoding="utf-8"):
    return SimpleUploadedFile("regions.csv", text.encode(encoding), content_type="text/csv")


def test_region_import_creates_and_updates(world, api):
    content = "code,name,population\n341524,金寨县,\n341524100,梅山镇,\n341522100,城关镇,88000\n"
    response = api(world.admin).post("/api/v1/regions/import", {"file": _csv(content, "gb18030")})
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 2, "updated": 1, "unchanged": 0}
    assert Region.objects.get(code="341524100").parent.code == "341524"
    assert Region.objects.get(code="341522100").population == 88000


def test_region_import_with_bad_rows_reports_every_row_and_saves_nothing(world, api):
    before = Region.objects.count()
    content = "341524,金寨县\n341599,不存在县\n341524100,梅山镇,很多\n"
    response = api(world.admin).post("/api/v1/regions/import", {"file": _csv(content)})
    assert response.status_code == 400
    messages = error_of(response)["fields"]["file"]
    assert messages == [
        "第 2 行：区划代码 341599 不在 GB/T 2260 代码表中。",
        "第 3 行：人口应为整数。",
    ]
    assert Region.objects.count() == before


def test_region_import_needs_a_file_and_the_role(world, api):
    missing = api(world.admin).post("/api/v1/regions/import", {})
    assert missing.status_code == 400 and "file" in error_of(missing)["fields"]
    denied = api(world.regulator).post("/api/v1/regions/import", {"file": _csv("341524,金寨县\n")})
    assert denied.status_code == 403
    assert not Region.objects.filter(code="341524").exists()


# Institutions ------------------------------------------------------------------


def _names(response):
    return [row["name"] for row in _results(response)]


def test_institution_search_by_pinyin_initials(world, api):
    client = api(world.outsider_doctor)
    assert _names(client.get("/api/v1/institutions", {"q": "xrmyy"})) == ["霍邱县人民医院"]
    assert _names(client.get("/api/v1/institutions", {"q": "HQXRMYY"})) == ["霍邱县人民医院"]
    assert _names(client.get("/api/v1/institutions", {"q": "renmin"})) == ["霍邱县人民医院"]
    assert _names(client.get("/api/v1/institutions", {"q": world.township.credit_code})) == [
        world.township.name
    ]


def test_institution_list_filters(world, api):
    client = api(world.hospital_doctor)
    members = {"consortium": str(world.consortium.public_id)}
    assert set(_names(client.get("/api/v1/institutions", members))) == {
        world.hospital.name,
        world.township.name,
    }
    assert _names(client.get("/api/v1/institutions", {"category": "A100"})) == [world.hospital.name]
    assert set(_names(client.get("/api/v1/institutions", {"primary": "true"}))) == {
        world.township.name,
        world.outsider.name,
    }
    assert _names(client.get("/api/v1/institutions", {"primary": "false"})) == [world.hospital.name]
    assert _names(client.get("/api/v1/institutions", {"within": "341522101"})) == [world.outsider.name]
    assert _names(client.get("/api/v1/institutions", {"status": "closed"})) == []


@pytest.mark.parametrize(
    "params,field",
    [
        ({"category": "Z999"}, "category"),
        ({"status": "open"}, "status"),
        ({"consortium": "not-a-uuid"}, "consortium"),
        ({"consortium": "00000000-0000-0000-0000-000000000000"}, "consortium"),
        ({"primary": "maybe"}, "primary"),
        ({"within": "北京"}, "within"),
    ],
)
def test_institution_list_rejects_bad_filters(world, api, params, field):
    response = api(world.hospital_doctor).get("/api/v1/institutions", params)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_institution_list_query_count(world, api, django_assert_num_queries):
    for _ in range(5):
        InstitutionFactory(region=world.regions["town_a"])
    client = api(world.hospital_doctor)
    # token, scope, count, page (region joined)
    with django_assert_num_queries(4):
        assert len(_names(client.get("/api/v1/institutions"))) == 8
    with django_assert_num_queries(5):  # + resolving the consortium filter
        client.get("/api/v1/institutions", {"consortium": str(world.consortium.public_id)})


def test_institution_detail_uses_public_ids_only(world, api):
    body = api(world.hospital_doctor).get(f"/api/v1/institutions/{world.hospital.public_id}").json()
    assert body["public_id"] == str(world.hospital.public_id)
    assert body["region"] == "341522"
    assert body["hospital_level"] == "三级乙等"
    assert body["is_primary"] is False
    assert "id" not in body and "pk" not in body


@pytest.mark.parametrize("suffix", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_institution_is_404_envelope(world, api, suffix):
    response = api(world.admin).get(f"/api/v1/institutions/{suffix}")
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "not_found",
        "message": "未找到该对象，或您无权查看。",
        "request_id": response["X-Request-ID"],
    }


def _institution_payload(**overrides):
    payload = {
        "name": "霍邱县第二人民医院",
        "credit_code": credit_code("341522"),
        "category": "A100",
        "grade": "2",
        "grade_class": "a",
        "ownership": "public",
        "region": "341522",
        "beds": 300,
    }
    payload.update(overrides)
    return payload


def test_regulator_registers_an_institution_in_their_region(world, api):
    response = api(world.regulator).post("/api/v1/institutions", _institution_payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["may_serve_across_grids"] is False  # secondary general hospital
    institution = Institution.objects.get(public_id=body["public_id"])
    assert institution.name_initials == "hqxdermyy"


@pytest.mark.parametrize(
    "credit,message",
    [
        ("91350100M000100Y44", "统一社会信用代码校验位错误。"),
        ("12345", "统一社会信用代码应为 18 位。"),
    ],
)
def test_invalid_credit_code_is_a_field_error_and_saves_nothing(world, api, credit, message):
    before = Institution.objects.count()
    response = api(world.admin).post(
        "/api/v1/institutions", _institution_payload(credit_code=credit), format="json"
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["fields"] == {"credit_code": [message]}
    assert error["message"] == message
    assert Institution.objects.count() == before


def test_duplicate_credit_code_and_bad_grade_are_field_errors(world, api):
    response = api(world.admin).post(
        "/api/v1/institutions",
        _institution_payload(credit_code=world.hospital.credit_code, grade="0", grade_class="a"),
        format="json",
    )
    fields = error_of(response)["fields"]
    assert fields["credit_code"] == ["该统一社会信用代码已被其他机构使用。"]
    assert fields["grade_class"] == ["未定级机构的等次只能为“未评”。"]


def test_unknown_region_in_payload_is_a_field_error(world, api):
    response = api(world.admin).post(
        "/api/v1/institutions", _institution_payload(region="341599"), format="json"
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"region": ["“341599” 不存在，或您无权使用。"]}


@pytest.mark.parametrize("who", ["hospital_admin", "hospital_doctor", "office", "stranger"])
def test_who_may_not_register_institutions(world, api, who):
    before = Institution.objects.count()
    response = api(getattr(world, who)).post("/api/v1/institutions", _institution_payload(), format="json")
    assert response.status_code == 403
    assert Institution.objects.count() == before


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 403),  # other institution
        ("township_admin", 403),  # admin of another institution
        ("hospital_doctor", 403),  # same institution, without the admin role
        ("office", 403),
        ("hospital_admin", 200),  # same institution, with the role
        ("regulator", 200),
        ("admin", 200),
    ],
)
def test_institution_profile_change_matrix(world, api, who, status):
    user = world.users()[who]
    response = api(user).patch(
        f"/api/v1/institutions/{world.hospital.public_id}",
        {"phone": "0564-6099999", "beds": 650},
        format="json",
    )
    assert response.status_code == status, response.content
    world.hospital.refresh_from_db()
    changed = world.hospital.phone == "0564-6099999"
    assert changed is (status == 200)
    assert AuditEvent.objects.filter(action="institution.update").exists() is (status == 200)


def test_profile_change_validates_and_renames_with_pinyin(world, api):
    url = f"/api/v1/institutions/{world.hospital.public_id}"
    client = api(world.hospital_admin)
    bad = client.patch(url, {"beds": -1, "status": "gone"}, format="json")
    assert bad.status_code == 400
    assert set(error_of(bad)["fields"]) == {"beds", "status"}
    response = client.patch(url, {"name": "霍邱县第一人民医院"}, format="json")
    assert response.status_code == 200
    assert _names(client.get("/api/v1/institutions", {"q": "hqxdyrmyy"})) == ["霍邱县第一人民医院"]


# Departments -----------------------------------------------------------------


def test_department_create_list_and_change(world, api):
    client = api(world.hospital_admin)
    url = f"/api/v1/institutions/{world.hospital.public_id}/departments"
    response = client.post(url, {"name": "心血管内科", "code": "0301", "specialty": "03"}, format="json")
    assert response.status_code == 201, response.content
    department = response.json()
    assert department["institution"] == str(world.hospital.public_id)
    assert department["specialty_label"] == "内科"
    duplicate = client.post(url, {"name": "心血管内科"}, format="json")
    assert error_of(duplicate)["fields"] == {"name": ["本机构已有同名科室。"]}

    detail = f"/api/v1/departments/{department['public_id']}"
    assert client.patch(detail, {"is_active": False}, format="json").status_code == 200
    assert _results(client.get(url)) == []
    assert len(_results(client.get(url, {"include_inactive": "1"}))) == 1
    assert api(world.outsider_doctor).get(detail).json()["name"] == "心血管内科"


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("township_admin", 403),
        ("hospital_doctor", 403),
        ("regulator", 403),
        ("hospital_admin", 201),
        ("admin", 201),
    ],
)
def test_department_create_matrix(world, api, who, status):
    url = f"/api/v1/institutions/{world.hospital.public_id}/departments"
    response = api(world.users()[who]).post(url, {"name": "急诊科", "specialty": "20"}, format="json")
    assert response.status_code == status
    assert Department.objects.filter(name="急诊科").exists() is (status == 201)


def test_department_change_by_another_institutions_admin_is_refused(world, api):
    department = DepartmentFactory(institution=world.hospital, name="儿科")
    response = api(world.township_admin).patch(
        f"/api/v1/departments/{department.public_id}", {"name": "改名"}, format="json"
    )
    assert response.status_code == 403
    department.refresh_from_db()
    assert department.name == "儿科"


def test_department_list_query_count(world, api, django_assert_num_queries):
    for _ in range(6):
        DepartmentFactory(institution=world.hospital)
    DepartmentFactory(institution=HospitalFactory(region=world.regions["county"]))
    client = api(world.hospital_doctor)
    url = f"/api/v1/institutions/{world.hospital.public_id}/departments"
    # token, scope, institution, count, page
    with django_assert_num_queries(5):
        assert len(_results(client.get(url))) == 6


def test_department_change_over_a_newer_save_is_refused(world, api):
    department = DepartmentFactory(institution=world.hospital, name="儿科", beds=10)
    client = api(world.hospital_admin)
    detail = f"/api/v1/departments/{department.public_id}"
    seen = client.get(detail).json()["updated_at"]
    assert client.patch(detail, {"is_active": False}, format="json").status_code == 200

    stale = client.patch(detail, {"beds": 12, "is_active": True, "seen_updated_at": seen}, format="json")

    assert stale.status_code == 409
    department.refresh_from_db()
    assert department.is_active is False and department.beds == 10
    current = client.get(detail).json()["updated_at"]
    assert client.patch(detail, {"beds": 12, "seen_updated_at": current}, format="json").status_code == 200
    department.refresh_from_db()
    assert department.beds == 12
