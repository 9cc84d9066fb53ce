"""The enrolment form's resident picker: any visible resident, only the chosen one rendered, and a page
that does not grow with the number of residents."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yilian.chronic_care.models import ChronicCase
from yilian.chronic_care.tests.factories import care_world, days_ago
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _data(world, cw, who) -> dict[str, str]:
    return {
        "person": str(who),
        "registry": "hypertension",
        "diagnosis_code": "I10",
        "institution": str(world.township.public_id),
        "care_team": str(cw.team.public_id),
        "enrolled_on": days_ago(10).isoformat(),
    }


def _page(client, query="") -> tuple[int, str]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("chronic_care:enrol") + query)
    assert response.status_code == 200
    return len(context.captured_queries), response.content.decode()


def test_the_page_offers_the_picker_and_only_the_chosen_resident(world):
    cw = care_world(world)
    client = _client(cw.gp)
    queries, html = _page(client)
    assert 'data-testid="patient-search"' in html and reverse("people:options") in html
    assert str(cw.patient.public_id) not in html
    for index in range(50):
        person(f"甲居民{index}", institution=world.township)
    assert _person_options(html) == 1  # the blank option only
    # 50 more linked residents: not listed, not one query more, the same page.
    more_queries, more = _page(client)
    assert more_queries == queries and _without_tokens(more) == _without_tokens(html)
    chosen_queries, chosen = _page(client, f"?person={cw.patient.public_id}")
    assert f'<option value="{cw.patient.public_id}" selected>' in chosen and "甲居民" not in chosen
    assert _person_options(chosen) == 2
    assert chosen_queries == queries + 1  # the chosen resident


def _without_tokens(html: str) -> str:
    return re.sub(r"[A-Za-z0-9]{64}", "", html)  # the CSRF tokens differ from request to request


def _person_options(html: str) -> int:
    return re.search(r'<select name="person".*?</select>', html, re.S).group(0).count("<option")


def test_enrols_a_resident_found_by_the_search(world):
    cw = care_world(world)
    found = person("赵六", institution=world.township, name_initials="zl", name_pinyin="zhaoliu")
    client = _client(cw.gp)
    options = client.post(reverse("people:options"), {"q": "zl"}).content.decode()
    assert str(found.public_id) in options
    response = client.post(reverse("chronic_care:enrol"), _data(world, cw, found.public_id))
    assert response.status_code == 302
    assert ChronicCase.objects.get().person == found


@pytest.mark.parametrize("value", ["outsider", "not-a-uuid", ""])
def test_a_resident_the_doctor_may_not_see_is_refused_inline(world, value):
    cw = care_world(world)
    hidden = person("钱七", institution=world.outsider)
    who = {"outsider": hidden.public_id, "not-a-uuid": "not-a-uuid", "": ""}[value]
    response = _client(cw.gp).post(reverse("chronic_care:enrol"), _data(world, cw, who))
    html = response.content.decode()
    assert response.status_code == 400 and 'data-testid="error-person"' in html
    assert "钱七" not in html
    assert not ChronicCase.objects.exists()
