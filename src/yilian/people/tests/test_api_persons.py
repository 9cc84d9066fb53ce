"""People API: need-to-know visibility, protected ID numbers, the audited reveal."""

from __future__ import annotations

import datetime
import json

import pytest

from yilian.accounts.tests.factories import user_with_role
from yilian.core.api.testing import error_of
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.institutions.tests.factories import GridFactory
from yilian.people.identifiers import decrypt_id_number
from yilian.people.models import Person, PersonInstitutionLink
from yilian.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _person_url(obj, suffix=""):
    return f"/api/v1/persons/{obj.public_id}{suffix}"


def _register(client, institution, **fields):
    payload = {"institution": str(institution.public_id), "name": "王秀英", **fields}
    return client.post("/api/v1/persons", payload, format="json")


def test_doctor_registers_a_person_and_the_number_is_never_returned(world, api):
    number = resident_id(birth=datetime.date(1960, 5, 1), male=False)
    grid = GridFactory(region=world.regions["county"])
    response = _register(
        api(world.hospital_doctor),
        world.hospital,
        id_number=number,
        phone="13955550000",
        address_region="341522100201",
        home_grid=str(grid.public_id),
        insurance_scheme="resident",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert number not in response.content.decode()
    assert body["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]
    assert body["birth_date"] == "1960-05-01"
    assert body["gender"] == "2" and body["gender_label"] == "女性"
    assert body["address_region"] == "341522100201"
    assert body["home_grid"] == str(grid.public_id)
    assert "id_number" not in body and "id" not in body
    created = Person.objects.get(public_id=body["public_id"])
    assert PersonInstitutionLink.objects.filter(person=created, institution=world.hospital).exists()
    events = json.dumps(list(AuditEvent.objects.values("before", "after", "details")), ensure_ascii=False)
    assert number not in events


@pytest.mark.parametrize(
    "number,message",
    [
        ("34152219600501002X", "身份证号校验位错误。"),
        ("3415221960050", "身份证号应为 18 位。"),
        ("341522196013010024", "身份证号中的出生日期或地址码无效。"),  # month 13
    ],
)
def test_invalid_resident_id_is_a_field_error_and_saves_nothing(world, api, number, message):
    response = _register(api(world.hospital_doctor), world.hospital, id_number=number)
    assert response.status_code == 400
    error = error_of(response)
    assert error["fields"] == {"id_number": [message]}
    assert number not in response.content.decode()
    assert not Person.objects.exists()


def test_birth_date_must_agree_with_the_id_number(world, api):
    number = resident_id(birth=datetime.date(1958, 3, 14))
    response = _register(
        api(world.hospital_doctor), world.hospital, id_number=number, birth_date="1959-01-01"
    )
    assert error_of(response)["fields"] == {"birth_date": ["出生日期与身份证号不一致。"]}
    assert not Person.objects.exists()


def test_registering_a_known_number_under_another_name_is_refused(world, api):
    number = resident_id()
    existing = person("赵大山", institution=world.outsider, id_number=number)
    response = _register(api(world.hospital_doctor), world.hospital, id_number=number, name="钱小川")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"name": ["该身份证号已登记，但姓名与登记信息不一致，请核对。"]}
    assert "赵大山" not in response.content.decode() and number not in response.content.decode()
    assert not existing.institution_links.filter(institution=world.hospital).exists()
    assert not AuditEvent.objects.filter(object_type="people.person").exists()
    assert api(world.hospital_doctor).get(_person_url(existing)).status_code == 404


def test_registering_a_known_number_links_the_existing_person(world, api):
    number = resident_id()
    existing = person("赵大山", institution=world.outsider, id_number=number)
    response = _register(api(world.hospital_doctor), world.hospital, id_number=number, name="赵大山")
    assert response.status_code == 200
    assert response.json()["public_id"] == str(existing.public_id)
    assert Person.objects.count() == 1
    assert api(world.hospital_doctor).get(_person_url(existing)).status_code == 200


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 403),  # another institution's doctor
        ("regulator", 403),
        ("office", 403),
        ("hospital_doctor", 201),
        ("hospital_admin", 201),
        ("admin", 201),
    ],
)
def test_register_matrix(world, api, who, status):
    response = _register(api(world.users()[who]), world.hospital, id_number=resident_id())
    assert response.status_code == status
    assert Person.objects.exists() is (status == 201)


def test_person_list_is_need_to_know(world, api):
    mine = person("李建国", institution=world.hospital)
    theirs = person("李建军", institution=world.outsider)
    names = {row["name"] for row in _results(api(world.hospital_doctor).get("/api/v1/persons"))}
    assert names == {"李建国"}
    assert {row["name"] for row in _results(api(world.outsider_doctor).get("/api/v1/persons"))} == {"李建军"}
    assert _results(api(world.township_admin).get("/api/v1/persons")) == []
    assert _results(api(world.regulator).get("/api/v1/persons")) == []
    assert len(_results(api(world.admin).get("/api/v1/persons"))) == 2
    # A doctor of another institution cannot read, change or reveal the person: 404, nothing leaks.
    outsider = api(world.outsider_doctor)
    for response in (
        outsider.get(_person_url(mine)),
        outsider.patch(_person_url(mine), {"phone": "13900000000"}, format="json"),
        outsider.post(_person_url(mine, "/reveal-id-number"), {"purpose": "核对"}, format="json"),
    ):
        assert response.status_code == 404
        assert "李建国" not in response.content.decode()
    mine.refresh_from_db()
    assert mine.phone == ""
    assert not AuditEvent.objects.filter(object_id=str(mine.public_id)).exists()
    assert api(world.hospital_doctor).get(_person_url(theirs)).status_code == 404


def test_person_search_by_name_pinyin_and_id_number(world, api):
    number = resident_id()
    client = api(world.hospital_doctor)
    registered = _register(client, world.hospital, name="张卫国", id_number=number, phone="13812345678")
    target = Person.objects.get(public_id=registered.json()["public_id"])
    _register(client, world.hospital, name="王芳")
    for params in ({"q": "张卫"}, {"q": "zwg"}, {"q": "13812345678"}):
        assert [row["public_id"] for row in _results(client.get("/api/v1/persons", params))] == [
            str(target.public_id)
        ], params
    lookup = client.post("/api/v1/persons/lookup", {"id_number": number}, format="json")
    assert lookup.status_code == 200
    assert [row["name"] for row in lookup.json()] == ["张卫国"]
    # Someone outside the need-to-know finds nothing, even with the exact number.
    assert (
        api(world.outsider_doctor).post("/api/v1/persons/lookup", {"id_number": number}, format="json").json()
        == []
    )


@pytest.mark.parametrize("value", ["valid", "123", ""])
def test_id_number_in_the_query_string_is_refused(world, api, value):
    number = resident_id()
    person("张卫国", institution=world.hospital, id_number=number)
    sent = number if value == "valid" else value
    response = api(world.hospital_doctor).get("/api/v1/persons", {"id_number": sent, "q": "张"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "id_number": ["身份证号不能放在网址中，请改用 POST /api/v1/persons/lookup 查找。"]
    }
    assert "张卫国" not in response.content.decode()
    if sent:
        assert sent not in response.content.decode()


def test_id_number_query_string_refusal_speaks_english_too(world, api):
    response = api(world.hospital_doctor, language="en").get("/api/v1/persons", {"id_number": "123"})
    assert response.status_code == 400
    assert "/api/v1/persons/lookup" in error_of(response)["fields"]["id_number"][0]


def test_malformed_id_number_lookup_is_a_400(world, api):
    lookup = api(world.hospital_doctor).post("/api/v1/persons/lookup", {"id_number": "123"}, format="json")
    assert lookup.status_code == 400
    assert error_of(lookup)["fields"] == {"id_number": ["身份证号应为 18 位。"]}


def test_person_list_query_count(world, api, django_assert_num_queries):
    grid = GridFactory(region=world.regions["county"])
    for n in range(6):
        person(
            f"居民{n}",
            institution=world.hospital,
            address_region=world.regions["village_a1"],
            home_grid=grid,
        )
    person("别家居民", institution=world.outsider)
    client = api(world.hospital_doctor)
    # token, scope, count, page (address region and home grid joined)
    with django_assert_num_queries(4):
        rows = _results(client.get("/api/v1/persons"))
    assert len(rows) == 6
    assert all(row["home_grid"] == str(grid.public_id) for row in rows)


def test_person_update(world, api):
    target = person("孙丽", institution=world.hospital)
    client = api(world.hospital_doctor)
    response = client.patch(
        _person_url(target),
        {"phone": "13700001111", "insurance_scheme": "employee", "birth_date": "1990-01-01"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phone"] == "13700001111" and body["insurance_scheme"] == "employee"
    assert body["birth_date"] != "1990-01-01"  # fixed by the ID number
    bad_phone = client.patch(_person_url(target), {"phone": "12"}, format="json")
    assert error_of(bad_phone)["fields"] == {"phone": ["联系电话应为 7–12 位数字。"]}
    bad_gender = client.patch(_person_url(target), {"gender": "7"}, format="json")
    assert "gender" in error_of(bad_gender)["fields"]
    target.refresh_from_db()
    assert target.phone == "13700001111"


def test_reveal_id_number_is_audited(world, api):
    number = resident_id()
    target = person("周强", institution=world.hospital, id_number=number)
    response = api(world.hospital_doctor).post(
        _person_url(target, "/reveal-id-number"), {"purpose": "医保结算核对"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"id_number": number}
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="person.reveal_id", object_id=str(target.public_id))
    assert event.actor == world.hospital_doctor
    assert event.details == {"purpose": "医保结算核对"}
    assert number not in json.dumps([event.before, event.after, event.details])


def test_reveal_needs_a_purpose_and_a_clinical_role(world, api):
    target = person("吴敏", institution=world.hospital)
    url = _person_url(target, "/reveal-id-number")
    missing = api(world.hospital_doctor).post(url, {"purpose": ""}, format="json")
    assert missing.status_code == 400 and "purpose" in error_of(missing)["fields"]
    # The institution admin sees the person but may not reveal the number.
    assert api(world.hospital_admin).get(_person_url(target)).status_code == 200
    denied = api(world.hospital_admin).post(url, {"purpose": "好奇"}, format="json")
    assert denied.status_code == 403
    assert decrypt_id_number(target.id_number_encrypted) not in denied.content.decode()
    nurse = user_with_role(Role.NURSE, username="ward_nurse", institution=world.hospital)
    assert api(nurse).post(url, {"purpose": "核对身份"}, format="json").status_code == 200
    assert AuditEvent.objects.filter(action="person.reveal_id").count() == 1
