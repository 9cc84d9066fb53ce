"""Live check of a typed resident ID number."""

from __future__ import annotations

import datetime

import pytest

from yilian.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db
URL = "/people/check/id-number/"


def test_id_number_check_describes_the_number(client, world):
    client.force_login(world.hospital_doctor)
    number = resident_id("342423", datetime.date(1962, 5, 1), male=False)
    html = client.post(URL, {"id_number": number}).content.decode()
    assert 'data-ok="1"' in html and "1962-05-01" in html and "女" in html
    bad = client.post(URL, {"id_number": number[:-1] + ("0" if number[-1] != "0" else "1")}).content.decode()
    assert 'data-ok="0"' in bad and number not in bad


def test_id_number_check_names_only_visible_people(client, world):
    number = resident_id("342423", datetime.date(1950, 1, 2))
    person("王大山", institution=world.hospital, id_number=number)
    client.force_login(world.hospital_doctor)
    assert "王大山" in client.post(URL, {"id_number": number}).content.decode()
    client.force_login(world.outsider_doctor)
    assert "王大山" not in client.post(URL, {"id_number": number}).content.decode()


def test_id_number_check_is_post_only_and_needs_a_patient_role(client, world):
    client.force_login(world.hospital_doctor)
    assert client.get(URL, {"id_number": "x"}).status_code == 405
    client.force_login(world.regulator)
    assert client.post(URL, {"id_number": "x"}).status_code == 403


def test_register_form_wires_the_live_check(client, world):
    client.force_login(world.hospital_doctor)
    html = client.get("/people/new/").content.decode()
    assert f'hx-post="{URL}"' in html and 'id="live-id_id_number"' in html
