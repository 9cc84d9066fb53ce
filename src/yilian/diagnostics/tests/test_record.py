"""The patient's results on the person page: the ordering doctor reads the report there."""

from __future__ import annotations

import pytest
from django.test import Client

from yilian.diagnostics.tests.factories import diag_world, final_result, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world):
    return diag_world(world)


def _record(user, person):
    client = Client()
    client.force_login(user)
    response = client.get(f"/people/{person.public_id}/")
    return response.status_code, response.content.decode()


def test_the_ordering_doctor_sees_results_and_the_report_pdf_on_the_record(dw):
    done = final_result(dw)
    pending = order(dw)
    status, page = _record(dw.township_doctor, dw.patient)
    assert status == 200 and 'data-testid="record-diagnostics"' in page
    assert done.number in page and pending.number in page
    assert f"/diagnostics/orders/{done.public_id}/report.pdf" in page
    assert f"/diagnostics/orders/{pending.public_id}/report.pdf" not in page


def test_readers_who_see_no_patients_get_no_section(dw):
    final_result(dw)
    status, page = _record(dw.world.admin, dw.patient)
    assert status == 200 and 'data-testid="record-diagnostics"' not in page


def test_the_hub_administrator_reads_no_centre_results_on_the_record(dw):
    """The record names the patient: the centre's orders the hub's administrator reads masked are left out."""
    done = final_result(dw)
    status, page = _record(dw.world.hospital_admin, dw.patient)
    assert status == 200 and done.number not in page and 'data-testid="record-report-pdf"' not in page
    status, page = _record(dw.hospital_doctor, dw.patient)
    assert status == 200 and done.number in page and 'data-testid="record-report-pdf"' in page
