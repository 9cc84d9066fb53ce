"""People services and selectors: ID validation, protected storage, linking, reveal audit, need-to-know."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from stdnum.cn import ric

from yilian.accounts.models import Membership
from yilian.accounts.selectors import audit_visible_to
from yilian.accounts.tests.factories import user_with_role
from yilian.core.exceptions import Invalid, NotAllowed, NotFound
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.people import policies, selectors, services
from yilian.people.identifiers import hash_id_number, mask_id_number, parse_resident_id
from yilian.people.models import Person, PersonInstitutionLink
from yilian.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1962, 8, 19)


def _all_stored_text() -> str:
    """Every value of every person and audit row, as text (what a database dump would show)."""
    with connection.cursor() as cursor:
        rows = []
        for table in (Person._meta.db_table, AuditEvent._meta.db_table, PersonInstitutionLink._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")
            rows.extend(cursor.fetchall())
    return " ".join(str(value) for row in rows for value in row)


def test_register_stores_the_number_only_protected(world):
    number = resident_id(birth=BIRTH, male=False)
    created, is_new = services.person_register(
        actor=world.hospital_doctor,
        institution=world.hospital,
        id_number=number,
        name="王秀英",
        phone="13800000000",
    )
    assert is_new
    created.refresh_from_db()
    assert created.id_number_hash == hash_id_number(number)
    assert created.id_number_masked == mask_id_number(number) == f"{number[:3]}***********{number[-4:]}"
    assert created.birth_date == BIRTH and created.gender == "2"
    assert created.name_initials == "wxy"
    # The plain number is in no column of the person, its links or the audit log.
    assert number not in _all_stored_text()
    event = AuditEvent.objects.get(action="person.create")
    assert event.institution_public_id == world.hospital.public_id
    assert event.after["id_number_masked"] == created.id_number_masked
    assert PersonInstitutionLink.objects.get(person=created).institution == world.hospital


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def _wrong_check(body17: str) -> str:
    right = ric.calc_check_digit(body17 + "0")
    return body17 + ("1" if right != "1" else "2")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("34242319620819123", "18 位"),
        (_wrong_check("34242319620819123"), "校验位"),
        (_with_check("34242319621319123"), "出生日期"),
        (_with_check("99999919620819123"), "地址码"),
        ("3424231962081912A8", "格式"),
    ],
)
def test_register_rejects_bad_numbers_with_a_field_error_and_saves_nothing(world, value, message):
    with pytest.raises(Invalid) as error:
        services.person_register(
            actor=world.hospital_doctor, institution=world.hospital, id_number=value, name="甲"
        )
    messages = error.value.as_text()["id_number"]
    assert any(message in text for text in messages), messages
    assert value not in str(error.value.as_text())
    assert not Person.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        # 金寨县 has been 341524 since 1999 (六安 became a city); 18-digit numbers issued since then
        # carry it for residents born long before (python-stdnum issue #442 refused them).
        "34152419850312944",
        # 郎溪县's code 342522, retired in 2000, on a number of someone born before that.
        "34252219850312944",
    ],
)
def test_an_address_code_first_used_after_the_birth_is_accepted(world, body):
    parsed = parse_resident_id(_with_check(body))
    assert parsed.birth_date == datetime.date(1985, 3, 12) and parsed.region_code == body[:6]
    person, created = services.person_register(
        actor=world.hospital_doctor, institution=world.hospital, id_number=_with_check(body), name="甲"
    )
    assert created and person.birth_date == datetime.date(1985, 3, 12)


def test_an_address_code_retired_before_the_birth_is_refused(world):
    # 郎溪县's 342522 was retired in 2000: nobody born in 2005 was issued a number with it.
    with pytest.raises(Invalid) as error:
        parse_resident_id(_with_check("34252220050312944"))
    assert "地址码" in error.value.as_text()["id_number"][0]


def test_wrong_check_digit_is_reported_as_such(world):
    good = resident_id()
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(Invalid) as error:
        parse_resident_id(wrong)
    assert "校验位" in error.value.as_text()["id_number"][0]


def test_birth_date_or_gender_not_matching_the_number_is_rejected(world):
    number = resident_id(birth=BIRTH, male=True)
    with pytest.raises(Invalid) as error:
        services.person_register(
            actor=world.hospital_doctor,
            institution=world.hospital,
            id_number=number,
            name="甲",
            birth_date=datetime.date(1962, 8, 20),
            gender="2",
        )
    assert set(error.value.errors) == {"birth_date", "gender"}
    assert not Person.objects.exists()


def test_other_field_errors_are_reported_together(world):
    with pytest.raises(Invalid) as error:
        services.person_register(
            actor=world.hospital_doctor,
            institution=world.hospital,
            name=" ",
            phone="12ab",
            birth_date=datetime.date.today() + datetime.timedelta(days=2),
        )
    assert set(error.value.errors) == {"name", "phone", "birth_date"}


def test_same_number_links_the_existing_person(world):
    number = resident_id()
    existing = person("赵六", institution=world.hospital, id_number=number)
    nurse = user_with_role(Role.NURSE, username="township_nurse", institution=world.township)
    found, created = services.person_register(
        actor=nurse, institution=world.township, id_number=number.lower(), name="赵六"
    )
    assert found == existing and created is False
    assert Person.objects.count() == 1
    assert set(existing.institution_links.values_list("institution", flat=True)) == {
        world.hospital.pk,
        world.township.pk,
    }
    assert AuditEvent.objects.filter(action="person.link", object_id=str(existing.public_id)).count() == 1
    # A second registration changes nothing more.
    services.person_register(actor=nurse, institution=world.township, id_number=number, name="赵六")
    assert AuditEvent.objects.filter(action="person.link").count() == 1


def test_register_without_a_number(world):
    baby, created = services.person_register(
        actor=world.hospital_doctor, institution=world.hospital, name="新生儿", gender="1"
    )
    assert created and baby.id_number_hash is None and baby.id_number_masked == ""


@pytest.mark.parametrize("who", ["stranger", "regulator", "office", "outsider_doctor", "township_admin"])
def test_register_only_at_an_institution_where_one_sees_patients(world, who):
    with pytest.raises(NotAllowed):
        services.person_register(
            actor=getattr(world, who), institution=world.hospital, id_number=resident_id(), name="甲"
        )
    assert not Person.objects.exists()


def test_platform_admin_registers_anywhere(world):
    _person, created = services.person_register(actor=world.admin, institution=world.outsider, name="甲")
    assert created


def test_reveal_is_audited_with_purpose_but_never_the_number(world):
    number = resident_id()
    patient = person("钱七", institution=world.hospital, id_number=number)
    revealed = services.person_reveal_id_number(
        actor=world.hospital_doctor, person=patient, purpose="医保结算"
    )
    assert revealed == number
    event = AuditEvent.objects.get(action="person.reveal_id")
    assert event.actor == world.hospital_doctor and event.details == {"purpose": "医保结算"}
    assert number not in _all_stored_text()


def test_reveal_needs_a_purpose_and_a_clinical_role_at_a_linked_institution(world):
    patient = person("钱七", institution=world.hospital)
    with pytest.raises(Invalid) as error:
        services.person_reveal_id_number(actor=world.hospital_doctor, person=patient, purpose="  ")
    assert "purpose" in error.value.errors
    for who in ("hospital_admin", "outsider_doctor", "stranger", "regulator"):
        with pytest.raises(NotAllowed):
            services.person_reveal_id_number(actor=getattr(world, who), person=patient, purpose="查看")
    assert not AuditEvent.objects.filter(action="person.reveal_id").exists()


def test_need_to_know_visibility(world):
    ours = person("孙八", institution=world.hospital)
    theirs = person("周九", institution=world.outsider)
    assert set(selectors.person_visible_to(world.hospital_doctor)) == {ours}
    assert set(selectors.person_visible_to(world.hospital_admin)) == {ours}
    assert set(selectors.person_visible_to(world.outsider_doctor)) == {theirs}
    assert set(selectors.person_visible_to(world.admin)) == {ours, theirs}
    for who in ("stranger", "regulator", "office", "township_admin"):
        assert not selectors.person_visible_to(getattr(world, who)).exists()
    with pytest.raises(NotFound):
        selectors.person_get_for(world.outsider_doctor, ours.public_id)
    with pytest.raises(NotFound):
        selectors.person_get_for(world.hospital_doctor, "not-a-uuid")
    assert policies.can_view_people(world.hospital_doctor) and not policies.can_view_people(world.regulator)


def test_person_list_search_by_name_initials_phone_and_exact_number(world):
    number = resident_id()
    zhang = person(
        "张三丰", institution=world.hospital, id_number=number, phone="13912345678", name_initials="zsf"
    )
    person("李四", institution=world.hospital)
    assert list(selectors.person_list(world.hospital_doctor, query="张三")) == [zhang]
    assert list(selectors.person_list(world.hospital_doctor, query="zsf")) == [zhang]
    assert list(selectors.person_list(world.hospital_doctor, query="1391234")) == [zhang]
    assert list(selectors.person_list(world.hospital_doctor, id_number=number)) == [zhang]
    assert not selectors.person_list(world.outsider_doctor, id_number=number).exists()
    with pytest.raises(Invalid) as error:
        selectors.person_list(world.hospital_doctor, id_number="123")
    assert "id_number" in error.value.errors


def test_update_is_audited_and_birth_date_follows_the_number(world):
    patient = person("吴十", institution=world.hospital)
    original_birth = patient.birth_date
    services.person_update(
        actor=world.hospital_doctor,
        person=patient,
        phone="13700000000",
        birth_date=datetime.date(2000, 1, 1),
        insurance_scheme="employee",
    )
    patient.refresh_from_db()
    assert patient.phone == "13700000000" and patient.birth_date == original_birth
    event = AuditEvent.objects.get(action="person.update")
    assert event.after == {"phone": "13700000000", "insurance_scheme": "employee"}
    with pytest.raises(NotAllowed):
        services.person_update(actor=world.outsider_doctor, person=patient, phone="13600000000")
    with pytest.raises(Invalid):
        services.person_update(actor=world.hospital_doctor, person=patient, insurance_scheme="gold")


# Registering a known number -----------------------------------------------------------


def test_known_number_under_another_name_is_refused_and_nothing_changes(world):
    number = resident_id()
    existing = person("赵六", institution=world.hospital, id_number=number)
    nurse = user_with_role(Role.NURSE, username="township_nurse", institution=world.township)
    with pytest.raises(Invalid) as error:
        services.person_register(actor=nurse, institution=world.township, id_number=number, name="赵七")
    assert error.value.as_text() == {"name": ["该身份证号已登记，但姓名与登记信息不一致，请核对。"]}
    assert list(existing.institution_links.values_list("institution", flat=True)) == [world.hospital.pk]
    assert not AuditEvent.objects.exists()
    assert not selectors.person_visible_to(nurse).exists()


@pytest.mark.parametrize("typed", ["赵六", " 赵 六 ", "赵\u3000六"])
def test_known_number_with_the_same_name_links_spaces_aside(world, typed):
    number = resident_id()
    existing = person("赵六", institution=world.hospital, id_number=number)
    nurse = user_with_role(Role.NURSE, username="township_nurse", institution=world.township)
    found, created = services.person_register(
        actor=nurse, institution=world.township, id_number=number, name=typed
    )
    assert found == existing and not created
    existing.refresh_from_db()
    assert existing.name == "赵六"  # linking never renames
    event = AuditEvent.objects.get(action="person.link")
    assert event.institution_public_id == world.township.public_id


# Audit events under the acting institution ------------------------------------------------


def test_reveal_is_visible_to_the_doctors_institution_admin_only(world):
    patient = person("钱七", institution=world.township)
    PersonInstitutionLink.objects.create(person=patient, institution=world.hospital, reason="referral")
    township_doctor = user_with_role(Role.DOCTOR, username="township_doctor", institution=world.township)
    services.person_reveal_id_number(actor=township_doctor, person=patient, purpose="转诊核对")
    event = AuditEvent.objects.get(action="person.reveal_id")
    assert event.institution_public_id == world.township.public_id
    assert audit_visible_to(world.township_admin).filter(pk=event.pk).exists()
    # The hospital is linked to the patient too, but its staff did not reveal anything.
    assert not audit_visible_to(world.hospital_admin).filter(pk=event.pk).exists()
    assert not audit_visible_to(world.outsider_doctor).filter(pk=event.pk).exists()


def test_update_is_recorded_under_the_acting_institution(world):
    patient = person("孙八", institution=world.hospital)
    PersonInstitutionLink.objects.create(person=patient, institution=world.township, reason="referral")
    services.person_update(actor=world.hospital_doctor, person=patient, phone="13500000000")
    event = AuditEvent.objects.get(action="person.update")
    assert event.institution_public_id == world.hospital.public_id
    assert audit_visible_to(world.hospital_admin).filter(pk=event.pk).exists()
    assert not audit_visible_to(world.township_admin).filter(pk=event.pk).exists()


def test_actor_working_in_two_linked_institutions_records_the_first(world):
    patient = person("周九", institution=world.hospital)
    PersonInstitutionLink.objects.create(person=patient, institution=world.township, reason="referral")
    doctor = user_with_role(Role.DOCTOR, username="two_places", institution=world.township)
    Membership.objects.create(user=doctor, role=Role.DOCTOR, institution=world.hospital)
    services.person_reveal_id_number(actor=doctor, person=patient, purpose="核对")
    first = min((world.hospital, world.township), key=lambda institution: institution.pk)
    assert AuditEvent.objects.get(action="person.reveal_id").institution_public_id == first.public_id


def test_platform_admin_acting_from_outside_records_no_institution(world):
    patient = person("吴十", institution=world.hospital)
    services.person_reveal_id_number(actor=world.admin, person=patient, purpose="稽核")
    assert AuditEvent.objects.get(action="person.reveal_id").institution_public_id is None


def test_link_is_recorded_under_the_linked_institution(world):
    patient = person("郑十一", institution=world.hospital)
    services.person_link(
        actor=world.hospital_doctor, person=patient, institution=world.township, reason="referral"
    )
    event = AuditEvent.objects.get(action="person.link")
    assert event.institution_public_id == world.township.public_id
    assert audit_visible_to(world.township_admin).filter(pk=event.pk).exists()
