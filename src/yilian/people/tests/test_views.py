"""People pages: search, register, detail, edit, reveal; need-to-know; no ID number leaks."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from stdnum.cn import ric

from yilian.accounts.tests.factories import user_with_role
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.institutions.tests.factories import GridFactory
from yilian.people.models import Person, PersonInstitutionLink
from yilian.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(db):
    """A test client logged in as the given user (anonymous for None)."""

    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


BIRTH = datetime.date(1970, 5, 6)


def _rows(response):
    return response.content.decode().count('data-testid="person-row"')


def _register_data(world, number="", **overrides):
    data = {
        "institution": str(world.hospital.public_id),
        "id_number": number,
        "name": "王秀兰",
        "gender": "",
        "birth_date": "",
        "phone": "13855556666",
        "address": "城关镇东湖村 3 组",
        "address_region": "",
        "insurance_scheme": "resident",
        "home_grid": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def patient(world):
    return person(
        "张桂英",
        institution=world.hospital,
        id_number=resident_id(birth=BIRTH, male=False),
        phone="13700001111",
    )


# Anonymous and authorization matrix -------------------------------------------------------


def test_anonymous_is_sent_to_login(client, world, patient):
    for url in (
        reverse("people:list"),
        reverse("people:register"),
        reverse("people:detail", args=[patient.public_id]),
        reverse("people:edit", args=[patient.public_id]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == reverse("accounts:login") and parse_qs(location.query)["next"] == [url]
    response = client.post(reverse("people:reveal", args=[patient.public_id]), {"purpose": "x"})
    assert response.status_code == 302
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("who", "list_status", "detail_status"),
    [
        ("stranger", 403, 404),
        ("regulator", 403, 404),
        ("office", 403, 404),
        ("township_admin", 200, 404),
        ("outsider_doctor", 200, 404),
        ("hospital_doctor", 200, 200),
        ("hospital_admin", 200, 200),
        ("admin", 200, 200),
    ],
)
def test_people_authorization_matrix(client_for, world, patient, who, list_status, detail_status):
    client = client_for(getattr(world, who))
    listing = client.get(reverse("people:list"))
    assert listing.status_code == list_status
    sees = detail_status == 200
    assert ("张桂英" in listing.content.decode()) is sees
    for url in (
        reverse("people:detail", args=[patient.public_id]),
        reverse("people:edit", args=[patient.public_id]),
    ):
        response = client.get(url)
        assert response.status_code == detail_status
        assert ("张桂英" in response.content.decode()) is sees
    edit = client.post(
        reverse("people:edit", args=[patient.public_id]),
        {"name": "改名", "phone": "13000000000", "insurance_scheme": "employee"},
    )
    patient.refresh_from_db()
    assert (patient.name == "改名") is sees
    if not sees:
        assert edit.status_code == 404 and not AuditEvent.objects.exists()


def test_same_institution_without_a_patient_role_sees_nothing(client_for, world, patient):
    officer = user_with_role(
        Role.INSURANCE_OFFICER, username="hospital_insurance", institution=world.hospital
    )
    client = client_for(officer)
    assert client.get(reverse("people:list")).status_code == 403
    detail = client.get(reverse("people:detail", args=[patient.public_id]))
    assert detail.status_code == 404 and "张桂英" not in detail.content.decode()
    reveal = client.post(reverse("people:reveal", args=[patient.public_id]), {"purpose": "x"})
    assert reveal.status_code == 404
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("who", ["stranger", "regulator", "office"])
def test_register_page_refused_without_patient_roles(client_for, world, who):
    client = client_for(getattr(world, who))
    assert client.get(reverse("people:register")).status_code == 403
    response = client.post(reverse("people:register"), _register_data(world, resident_id(birth=BIRTH)))
    assert response.status_code == 403
    assert not Person.objects.exists()


# List and search -----------------------------------------------------------------------


def test_list_shows_only_masked_numbers(client_for, world):
    number = resident_id(birth=BIRTH)
    masked = person("李建国", institution=world.hospital, id_number=number)
    html = client_for(world.hospital_doctor).get(reverse("people:list")).content.decode()
    assert masked.id_number_masked in html
    assert number not in html and number[6:14] not in html  # not even the birth-date part


def test_search_by_name_initials_and_phone(client_for, world, patient):
    patient.name_initials = "zgy"
    patient.save()
    person("李建国", institution=world.hospital)
    client = client_for(world.hospital_doctor)
    assert _rows(client.get(reverse("people:list"))) == 2
    assert _rows(client.get(reverse("people:list"), {"q": "张桂"})) == 1
    assert _rows(client.get(reverse("people:list"), {"q": "zgy"})) == 1
    assert _rows(client.get(reverse("people:list"), {"q": "1370000"})) == 1
    assert (
        'data-testid="person-empty"' in client.get(reverse("people:list"), {"q": "无此人"}).content.decode()
    )


def test_a_search_too_long_to_run_lists_no_one(client_for, world, patient):
    """A 51-character search showed its error above the list of every visible resident."""
    response = client_for(world.hospital_doctor).get(reverse("people:list"), {"q": "张" * 51})
    assert response.status_code == 400
    assert _rows(response) == 0 and 'data-testid="person-empty"' in response.content.decode()
    assert "50" in response.content.decode()


def test_exact_lookup_by_id_number_is_a_post_and_redirects_by_public_id(client_for, world):
    number = resident_id(birth=BIRTH)
    found = person("李建国", institution=world.hospital, id_number=number)
    client = client_for(world.hospital_doctor)
    response = client.post(reverse("people:list"), {"id_number": number.lower()})
    assert response.status_code == 302
    assert response["Location"] == reverse("people:detail", args=[found.public_id])
    assert number not in response["Location"]


def test_lookup_of_a_person_of_another_institution_finds_nothing(client_for, world):
    number = resident_id(birth=BIRTH)
    person("李建国", institution=world.outsider, id_number=number)
    response = client_for(world.hospital_doctor).post(
        reverse("people:list"), {"id_number": number}, follow=True
    )
    html = response.content.decode()
    assert "未找到该身份证号对应的居民" in html and "李建国" not in html and number not in html


@pytest.mark.parametrize("bad", ["123", "342423197005061235", "34242319700506123X1", "abcdefghijklmnopqr"])
def test_bad_lookup_number_is_a_field_error_not_echoed(client_for, world, bad):
    response = client_for(world.hospital_doctor).post(reverse("people:list"), {"id_number": bad})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-id_number"' in html
    assert bad not in html and bad.upper() not in html


# Register ------------------------------------------------------------------------------


def test_register_a_new_person(client_for, world):
    number = resident_id(birth=BIRTH, male=False)
    grid = GridFactory(region=world.regions["county"])
    response = client_for(world.hospital_doctor).post(
        reverse("people:register"),
        _register_data(world, number, address_region="341522100", home_grid=str(grid.public_id)),
    )
    created = Person.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("people:detail", args=[created.public_id])
    assert created.birth_date == BIRTH and created.gender == "2" and created.home_grid == grid
    assert created.address_region == world.regions["town_a"]
    assert PersonInstitutionLink.objects.get().institution == world.hospital


def test_register_links_the_existing_person_and_says_so(client_for, world):
    number = resident_id(birth=BIRTH)
    existing = person("赵大山", institution=world.outsider, id_number=number)
    nurse = user_with_role(Role.NURSE, username="hospital_nurse", institution=world.hospital)
    response = client_for(nurse).post(
        reverse("people:register"), _register_data(world, number, name="赵大山"), follow=True
    )
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("people:detail", args=[existing.public_id])
    assert "已登记为居民" in html and "未新建档案" in html
    assert Person.objects.count() == 1
    assert existing.institution_links.filter(institution=world.hospital).exists()
    assert number not in html


def test_register_a_known_number_under_another_name_shows_the_error_on_the_name(client_for, world):
    number = resident_id(birth=BIRTH)
    existing = person("赵大山", institution=world.outsider, id_number=number)
    nurse = user_with_role(Role.NURSE, username="hospital_nurse", institution=world.hospital)
    response = client_for(nurse).post(
        reverse("people:register"), _register_data(world, number, name="钱小川")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-name"' in html
    assert "该身份证号已登记，但姓名与登记信息不一致，请核对。" in html
    assert "赵大山" not in html
    assert not existing.institution_links.filter(institution=world.hospital).exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("number_kind", "extra", "error_field"),
    [
        ("short", {}, "id_number"),
        ("wrong_check", {}, "id_number"),
        ("bad_date", {}, "id_number"),
        ("good", {"birth_date": "1970-05-07"}, "birth_date"),
        ("good", {"gender": "2"}, "gender"),
        ("good", {"phone": "12ab"}, "phone"),
        ("good", {"address_region": "999999999"}, "address_region"),
        ("good", {"name": ""}, "name"),
    ],
)
def test_register_bad_input_is_inline_and_saves_nothing(client_for, world, number_kind, extra, error_field):
    good = resident_id(birth=BIRTH, male=True)
    body = good[:17]
    right = ric.calc_check_digit(body + "0")
    bad_date_body = "34242319701306" + body[14:17]
    number = {
        "short": good[:16],
        "wrong_check": body + ("1" if right != "1" else "2"),
        "bad_date": bad_date_body + ric.calc_check_digit(bad_date_body + "0"),
        "good": good,
    }[number_kind]
    response = client_for(world.hospital_doctor).post(
        reverse("people:register"), _register_data(world, number, **extra)
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert f'data-testid="error-{error_field}"' in html
    assert number not in html  # the typed number is never echoed back
    assert not Person.objects.exists() and not AuditEvent.objects.exists()


def test_register_at_an_institution_of_someone_else_is_refused(client_for, world):
    response = client_for(world.hospital_doctor).post(
        reverse("people:register"),
        _register_data(world, resident_id(birth=BIRTH), institution=str(world.outsider.public_id)),
    )
    assert response.status_code == 400  # not among the choices
    assert not Person.objects.exists()


# Detail, edit, reveal ------------------------------------------------------------------


def test_detail_shows_masked_number_age_and_links(client_for, world, patient):
    html = (
        client_for(world.hospital_doctor)
        .get(reverse("people:detail", args=[patient.public_id]))
        .content.decode()
    )
    assert patient.id_number_masked in html
    assert "霍邱县人民医院" in html and "本机构登记" in html and "岁" in html
    assert 'data-testid="reveal-form"' in html


def test_institution_admin_sees_but_cannot_reveal(client_for, world, patient):
    client = client_for(world.hospital_admin)
    html = client.get(reverse("people:detail", args=[patient.public_id])).content.decode()
    assert 'data-testid="reveal-form"' not in html
    response = client.post(reverse("people:reveal", args=[patient.public_id]), {"purpose": "核对"})
    assert response.status_code == 403
    assert not AuditEvent.objects.exists()


def test_reveal_shows_the_number_once_and_audits(client_for, world):
    number = resident_id(birth=BIRTH)
    patient = person("钱多多", institution=world.hospital, id_number=number)
    client = client_for(world.hospital_doctor)
    response = client.post(reverse("people:reveal", args=[patient.public_id]), {"purpose": "医保结算"})
    html = response.content.decode()
    assert response.status_code == 200
    assert number in html and 'data-testid="revealed-id-number"' in html
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="person.reveal_id")
    assert event.actor == world.hospital_doctor and event.details == {"purpose": "医保结算"}
    # The detail page afterwards shows the masked number again.
    assert number not in client.get(reverse("people:detail", args=[patient.public_id])).content.decode()


def test_reveal_needs_a_purpose(client_for, world, patient):
    response = client_for(world.hospital_doctor).post(
        reverse("people:reveal", args=[patient.public_id]), {"purpose": ""}
    )
    assert response.status_code == 400 and 'data-testid="error-purpose"' in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_reveal_by_other_institution_is_404(client_for, world, patient):
    response = client_for(world.outsider_doctor).post(
        reverse("people:reveal", args=[patient.public_id]), {"purpose": "x"}
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.exists()


def test_reveal_is_post_only(client_for, world, patient):
    assert (
        client_for(world.hospital_doctor).get(reverse("people:reveal", args=[patient.public_id])).status_code
        == 405
    )


def test_edit_person(client_for, world, patient):
    client = client_for(world.hospital_doctor)
    page = client.get(reverse("people:edit", args=[patient.public_id]))
    assert page.status_code == 200 and "由身份证号确定" in page.content.decode()
    response = client.post(
        reverse("people:edit", args=[patient.public_id]),
        {
            "name": "张桂英",
            "gender": "1",  # disabled: ignored
            "birth_date": "2001-01-01",  # disabled: ignored
            "phone": "13711112222",
            "address": "河口镇",
            "address_region": "341522101",
            "insurance_scheme": "employee",
            "home_grid": "",
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "13711112222" and patient.insurance_scheme == "employee"
    assert patient.gender == "2" and patient.birth_date == BIRTH
    assert patient.address_region == world.regions["town_b"]
    event = AuditEvent.objects.get(action="person.update")
    assert set(event.after) == {"phone", "address", "address_region", "insurance_scheme"}


def test_edit_errors_are_inline(client_for, world, patient):
    response = client_for(world.hospital_doctor).post(
        reverse("people:edit", args=[patient.public_id]),
        {"name": "张桂英", "phone": "1", "insurance_scheme": "resident"},
    )
    assert response.status_code == 400 and 'data-testid="error-phone"' in response.content.decode()
    patient.refresh_from_db()
    assert patient.phone == "13700001111"


def test_unknown_person_is_404(client_for, world):
    response = client_for(world.admin).get(
        reverse("people:detail", args=["00000000-0000-0000-0000-000000000000"])
    )
    assert response.status_code == 404


def test_register_shows_id_number_and_other_errors_together(client_for, world):
    response = client_for(world.hospital_doctor).post(
        reverse("people:register"), _register_data(world, "123", name="")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-id_number"' in html and 'data-testid="error-name"' in html
    assert not Person.objects.exists()


def test_register_shows_every_field_error_in_one_submit(client_for, world):
    # A wrong checksum, a bad phone, no name and an unknown region code: all four at once, nothing saved.
    body = resident_id(birth=BIRTH)[:17]
    wrong = body + ("1" if ric.calc_check_digit(body + "0") != "1" else "2")
    response = client_for(world.hospital_doctor).post(
        reverse("people:register"),
        _register_data(world, wrong, name="", phone="12ab", address_region="999999999"),
    )
    html = response.content.decode()
    assert response.status_code == 400
    for field in ("id_number", "name", "phone", "address_region"):
        assert f'data-testid="error-{field}"' in html, field
    assert "联系电话应为 7–12 位数字。" in html and "未找到该行政区划。" in html
    assert wrong not in html
    assert not Person.objects.exists() and not AuditEvent.objects.exists()


def test_register_shows_the_id_number_disagreements_with_the_form_errors(client_for, world):
    # A good number the entered birth date and sex disagree with, and no name: every error in one submit.
    number = resident_id(birth=BIRTH, male=True)
    response = client_for(world.hospital_doctor).post(
        reverse("people:register"),
        _register_data(world, number, name="", birth_date="1970-05-07", gender="2"),
    )
    html = response.content.decode()
    assert response.status_code == 400
    for field in ("name", "birth_date", "gender"):
        assert f'data-testid="error-{field}"' in html, field
    assert html.count('data-testid="error-name"') == 1
    assert not Person.objects.exists() and not AuditEvent.objects.exists()


def test_edit_shows_every_field_error_in_one_submit(client_for, world, patient):
    # No name, a bad phone and an unknown region: all three at once, nothing changed or audited.
    response = client_for(world.hospital_doctor).post(
        reverse("people:edit", args=[patient.public_id]),
        {"name": "", "phone": "12ab", "address_region": "999999999", "insurance_scheme": "employee"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    for field in ("name", "phone", "address_region"):
        assert f'data-testid="error-{field}"' in html, field
    assert "联系电话应为 7–12 位数字。" in html and "未找到该行政区划。" in html
    patient.refresh_from_db()
    assert patient.name == "张桂英" and not AuditEvent.objects.filter(action="person.update").exists()


def _seen(page):
    import re

    return re.search(r'name="seen_updated_at" value="([^"]+)"', page.content.decode()).group(1)


def test_saving_a_stale_person_is_refused_and_keeps_the_newer_change(client_for, world, patient):
    from yilian.people import services

    url = reverse("people:edit", args=[patient.public_id])
    seen = _seen(client_for(world.hospital_doctor).get(url))
    # Someone else saves the person while the form is open.
    services.person_update(actor=world.admin, person=patient, phone="13799998888")
    stale = {
        "name": patient.name,
        "phone": "13700001111",
        "address": "河口镇",
        "insurance_scheme": "employee",
        "seen_updated_at": seen,
    }

    response = client_for(world.hospital_doctor).post(url, stale)

    assert response.status_code == 409
    assert "该居民信息在您编辑期间已被他人修改" in response.content.decode()
    patient.refresh_from_db()
    assert patient.phone == "13799998888" and patient.insurance_scheme != "employee"
    assert not AuditEvent.objects.filter(action="person.update", actor=world.hospital_doctor).exists()
    # The re-shown form carries the newer save time: saving again, after checking, goes through.
    again = client_for(world.hospital_doctor).post(url, dict(stale, seen_updated_at=_seen(response)))
    assert again.status_code == 302
    patient.refresh_from_db()
    assert patient.insurance_scheme == "employee"


def test_saving_a_current_person_goes_through(client_for, world, patient):
    url = reverse("people:edit", args=[patient.public_id])
    seen = _seen(client_for(world.hospital_doctor).get(url))
    response = client_for(world.hospital_doctor).post(
        url,
        {
            "name": patient.name,
            "phone": "13711112222",
            "insurance_scheme": "resident",
            "seen_updated_at": seen,
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "13711112222"
