"""The invitation form's patient: the people app's resident picker, any visible resident accepted, only the
chosen one rendered, a page that does not grow with the number of residents, and no patient for teaching."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yilian.people.tests.factories import person
from yilian.telemedicine.models import Teleconsultation
from yilian.telemedicine.tests.factories import later, tele_world

pytestmark = pytest.mark.django_db

NEW = "/telemedicine/new/"


@pytest.fixture
def tw(world):
    return tele_world(world)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(client, query="") -> tuple[int, str]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(NEW + query)
    assert response.status_code == 200
    return len(context.captured_queries), response.content.decode()


def _person_options(html: str) -> list[str]:
    select = re.search(r'<select name="person".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"', select)


def _data(tw, who, **overrides) -> dict[str, str]:
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "kind": "consultation",
        "inviting_institution": str(tw.world.township.public_id),
        "person": str(who) if who else "",
        "invited_institution": str(tw.world.hospital.public_id),
        "required_specialty": "03",
        "required_title": "associate_chief_physician",
        "proposed_at": timezone.localtime(later(48)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "胸闷",
        "purpose": "明确诊断",
        "case_summary": "摘要",
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "consent_signer_name": "李四",
        "consent_relationship": "patient",
        "consent_signed_at": timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(overrides)
    return data


def test_the_form_offers_the_picker_and_only_the_chosen_resident(tw, world):
    client = _client(tw.township_doctor)
    queries, html = _page(client)
    assert 'data-testid="patient-search"' in html and reverse("people:options") in html
    assert _person_options(html) == [""]  # "不关联患者" only
    assert "不关联患者" in html and str(tw.patient.public_id) not in html
    for index in range(50):
        person(f"甲居民{index}", institution=world.township)
    more_queries, more = _page(client)
    assert more_queries == queries and "甲居民" not in more
    chosen_queries, chosen = _page(client, f"?person={tw.patient.public_id}")
    assert _person_options(chosen) == ["", str(tw.patient.public_id)] and "甲居民" not in chosen
    assert f'<option value="{tw.patient.public_id}" selected>' in chosen
    assert chosen_queries == queries + 1  # the chosen resident


def test_invites_for_a_resident_found_by_the_search(tw, world):
    found = person("赵六", institution=world.township, name_initials="zl", name_pinyin="zhaoliu")
    client = _client(tw.township_doctor)
    assert str(found.public_id) in client.post(reverse("people:options"), {"q": "zl"}).content.decode()
    response = client.post(NEW, _data(tw, found.public_id))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Teleconsultation.objects.get().person == found


def test_a_resident_the_doctor_may_not_see_is_refused(tw, world):
    stranger = person("王五", institution=world.outsider)
    response = _client(tw.township_doctor).post(NEW, _data(tw, stranger.public_id))
    html = response.content.decode()
    assert response.status_code == 400 and 'data-testid="error-person"' in html
    assert "未找到该居民，或该居民与您所在机构无关联。" in html and "王五" not in html
    assert not Teleconsultation.objects.exists()


def test_teaching_needs_no_patient_a_consultation_does(tw):
    client = _client(tw.township_doctor)
    no_patient = {"consent_signer_name": "", "consent_relationship": "", "consent_signed_at": ""}
    refused = client.post(NEW, _data(tw, None, **no_patient))
    assert refused.status_code == 400 and 'data-testid="error-person"' in refused.content.decode()
    assert not Teleconsultation.objects.exists()
    taught = client.post(NEW, _data(tw, None, kind="teaching", **no_patient))
    assert taught.status_code == 302, taught.content.decode()[:2000]
    assert Teleconsultation.objects.get().person is None
