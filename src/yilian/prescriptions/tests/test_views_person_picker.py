"""The prescription form's resident picker: any visible resident, only the chosen one rendered, a page
that does not grow with the number of residents."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yilian.people.tests.factories import person
from yilian.prescriptions.models import Prescription

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(client, query="") -> tuple[int, str]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("prescriptions:new") + query)
    assert response.status_code == 200
    return len(context.captured_queries), response.content.decode()


def _person_options(html: str) -> int:
    return re.search(r'<select name="person".*?</select>', html, re.S).group(0).count("<option")


def _data(rw, who) -> dict[str, str]:
    return {
        "institution": str(rw.world.township.public_id),
        "kind": "regular",
        "person": str(who),
        "diagnosis_code": "J06.9",
        "diagnosis_name": "急性上呼吸道感染",
        "items-TOTAL_FORMS": "5",
        "items-INITIAL_FORMS": "0",
        "items-0-drug": f"{rw.amoxicillin.code} {rw.amoxicillin.name}",
        "items-0-dose": "1",
        "items-0-frequency": "tid",
        "items-0-route": "oral",
        "items-0-days": "3",
        "save": "1",
    }


def test_the_page_offers_the_picker_and_only_the_chosen_resident(rw):
    client = _client(rw.gp)
    query = f"?kind=long&person={rw.patient.public_id}"
    queries, html = _page(client, query)
    assert 'data-testid="patient-search"' in html and reverse("people:options") in html
    # The chosen resident is the only one; choosing another still reloads the page (data-reload).
    assert f'<option value="{rw.patient.public_id}" selected>' in html
    assert _person_options(html) == 2  # the blank option and the chosen resident
    assert 'name="person" data-testid="person-select" data-reload="1"' in html
    for index in range(50):
        person(f"甲居民{index}", institution=rw.world.township)
    more_queries, more = _page(client, query)
    assert more_queries == queries and "甲居民" not in more
    blank = _page(client)[1]
    assert "甲居民" not in blank and rw.patient.name not in blank and _person_options(blank) == 1


def test_prescribes_for_a_resident_found_by_the_search(rw):
    found = person("赵六", institution=rw.world.township, name_initials="zl", name_pinyin="zhaoliu")
    client = _client(rw.gp)
    assert str(found.public_id) in client.post(reverse("people:options"), {"q": "zl"}).content.decode()
    # The search's choice reloads the page with it, then the form saves.
    assert f'<option value="{found.public_id}" selected>' in _page(client, f"?person={found.public_id}")[1]
    response = client.post(reverse("prescriptions:new"), _data(rw, found.public_id))
    assert response.status_code == 302, response.content.decode()
    assert Prescription.objects.get().person == found


@pytest.mark.parametrize("value", ["outsider", "not-a-uuid"])
def test_a_resident_the_doctor_may_not_see_is_refused_inline(rw, value):
    hidden = person("钱七", institution=rw.world.outsider)
    who = hidden.public_id if value == "outsider" else value
    response = _client(rw.gp).post(reverse("prescriptions:new"), _data(rw, who))
    html = response.content.decode()
    assert 'data-testid="error-person"' in html and "钱七" not in html
    assert not Prescription.objects.exists()
