"""End to end in Chromium: a doctor registers a resident; the ID number is checked live,
stored protected and revealed only with a purpose."""

from __future__ import annotations

import datetime
import re

import pytest

from tests.browser.conftest import login
from yilian.accounts.tests.factories import PASSWORD
from yilian.core.models import AuditEvent
from yilian.people.models import Person
from yilian.people.tests.factories import resident_id

pytestmark = pytest.mark.django_db(transaction=True)


def test_doctor_registers_a_resident_and_reveals_the_number_with_a_purpose(page, world):
    number = resident_id("342423", datetime.date(1956, 8, 9), male=True)
    login(page, "hospital_doctor", PASSWORD)
    page.goto(f"{page.base_url}/people/new/")
    page.fill("#id_id_number", number)
    page.locator("#id_id_number").press("End")
    live = page.locator("#live-id_id_number [data-testid=live-check-result]")
    live.wait_for()
    assert "1956-08-09" in live.inner_text() and "男" in live.inner_text()
    page.fill("#id_name", "储德山")
    page.click("[data-testid=person-submit]")
    page.wait_for_url(re.compile(r"/people/[0-9a-f-]{36}/$"))
    masked = page.inner_text("[data-testid=person-masked-id]")
    assert masked == f"{number[:3]}{'*' * 11}{number[-4:]}"
    assert number not in page.content()

    person = Person.objects.get(name="储德山")
    assert person.id_number_masked == masked and number not in (person.id_number_encrypted or "")

    page.fill(
        "[data-testid=reveal-form] textarea, [data-testid=reveal-form] input[name=purpose]", "开具转诊单"
    )
    page.click("[data-testid=reveal-form] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert number in page.content()
    event = AuditEvent.objects.get(action="person.reveal_id", object_id=str(person.public_id))
    assert event.details == {"purpose": "开具转诊单"}
