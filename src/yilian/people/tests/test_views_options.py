"""The resident picker's options (people:options): search, need-to-know, the cap, the query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yilian.accounts.tests.factories import user_with_role
from yilian.core.permissions import Role
from yilian.people.tests.factories import person, resident_id
from yilian.people.views import PERSON_OPTIONS_LIMIT

pytestmark = pytest.mark.django_db

NUMBER = resident_id()


def _client(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _options(user, q):
    response = _client(user).post(reverse("people:options"), {"q": q})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def patient(world):
    # The factory leaves the pinyin keys to the caller (services fill them).
    return person(
        "李四", institution=world.hospital, id_number=NUMBER, name_initials="ls", name_pinyin="lisi"
    )


def test_finds_by_name_initials_and_id_number(world, patient):
    for q in ("李四", "ls", NUMBER, NUMBER.lower()):
        html = _options(world.hospital_doctor, q)
        assert str(patient.public_id) in html, q
        assert "selected" in html  # the only match is chosen at once
    # The label shows the masked ID number only.
    html = _options(world.hospital_doctor, NUMBER)
    assert patient.id_number_masked in html and NUMBER not in html


def test_messages_for_nothing_found_and_a_bad_id_number(world, patient):
    assert "没有找到符合条件的患者。" in _options(world.hospital_doctor, "王五")
    bad = _options(world.hospital_doctor, NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1"))
    assert str(patient.public_id) not in bad and "<option" in bad
    assert str(patient.public_id) not in _options(world.hospital_doctor, "")


def test_only_persons_the_actor_may_see(world, patient):
    assert str(patient.public_id) not in _options(world.outsider_doctor, "李四")
    assert str(patient.public_id) not in _options(world.outsider_doctor, NUMBER)
    assert str(patient.public_id) in _options(world.admin, "李四")


@pytest.mark.parametrize("who", ["stranger", "regulator", "office"])
def test_denied_without_a_patient_role(world, patient, who):
    response = _client(getattr(world, who)).post(reverse("people:options"), {"q": "李四"})
    assert response.status_code == 403 and "李四" not in response.content.decode()


def test_denied_to_an_institution_user_without_a_patient_role(world, patient):
    officer = user_with_role(Role.INSURANCE_OFFICER, username="insurance", institution=world.hospital)
    assert _client(officer).post(reverse("people:options"), {"q": "李四"}).status_code == 403


def test_anonymous_and_get_are_refused(world, patient):
    assert _client(None).post(reverse("people:options"), {"q": "李四"}).status_code == 302
    # GET would put a typed ID number into the URL.
    assert _client(world.hospital_doctor).get(reverse("people:options"), {"q": "李四"}).status_code == 405


def _count(user, q):
    with CaptureQueriesContext(connection) as context:
        html = _options(user, q)
    return len(context.captured_queries), html


def test_capped_with_a_hint_and_constant_queries(world):
    for index in range(3):
        person(f"王{index}", institution=world.hospital)
    few_queries, few = _count(world.hospital_doctor, "王")
    assert few.count('<option value="') == 4 and 'data-testid="person-options-more"' not in few
    for index in range(3, PERSON_OPTIONS_LIMIT + 5):
        person(f"王{index}", institution=world.hospital)
    many_queries, many = _count(world.hospital_doctor, "王")
    # The prompt, PERSON_OPTIONS_LIMIT persons, then the disabled hint.
    assert many.count('<option value="') == PERSON_OPTIONS_LIMIT + 2
    assert 'data-testid="person-options-more"' in many and "selected" not in many
    assert "还有更多居民符合条件" in many and f"找到超过 {PERSON_OPTIONS_LIMIT} 位患者" in many
    assert many_queries == few_queries


def test_english_picker_reads_with_plain_brackets_and_spaces(world, patient):
    from django import forms
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.utils import translation

    class Form(forms.Form):
        person = forms.ChoiceField(choices=[("", "—")], required=False)

    request = RequestFactory().get("/")
    request.user = world.hospital_doctor
    with translation.override("en"):
        html = render_to_string("people/_person_picker.html", {"field": Form()["person"]}, request=request)
    assert "Register new resident</a> (register in a new window" in html
    options = _client(world.hospital_doctor).post(
        reverse("people:options"), {"q": "李四"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "李四 (" in options.content.decode() and "李四（" not in options.content.decode()
