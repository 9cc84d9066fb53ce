"""Outreach pages: each renders for the right users and refuses the others; forms save through the
services and show errors; list pages keep a constant query count."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yilian.outreach.models import ClinicBooking, OutreachBatch, OutreachVisit, Posting
from yilian.outreach.tests.factories import batch, done_batch, outreach_world, posting, session, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def ow(world):
    return outreach_world(world)


def _client(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _users(ow):
    return {**ow.world.users(), "expert": ow.expert, "township_doctor": ow.township_doctor}


ALL_STAFF = {
    "hospital_admin",
    "township_admin",
    "hospital_doctor",
    "outsider_doctor",
    "expert",
    "township_doctor",
    "office",
    "regulator",
    "admin",
}
READERS = {"hospital_admin", "township_admin", "office", "regulator", "admin"}
PAGES = {
    "/outreach/": ALL_STAFF,
    "/outreach/batches/new/": {"hospital_admin", "hospital_doctor", "expert"},
    "/outreach/postings/": ALL_STAFF,
    "/outreach/postings/new/": {"hospital_admin", "township_admin"},
    "/outreach/sessions/": ALL_STAFF,
    "/outreach/sessions/new/": {"hospital_admin", "township_admin", "hospital_doctor", "expert"},
    "/outreach/indicator/": READERS,
    "/outreach/report/": READERS,
    "/outreach/report.xlsx": READERS,
    "/outreach/statistics/": READERS,
}


@pytest.mark.parametrize("url", list(PAGES))
def test_pages_answer_each_role(ow, url):
    done_batch(ow)
    for name, user in _users(ow).items():
        response = _client(user).get(url)
        if user is None:
            assert response.status_code == 302, (name, url)
        elif name in PAGES[url]:
            assert response.status_code == 200, (name, url, response.status_code)
        else:
            assert response.status_code == 403, (name, url, response.status_code)


def test_batch_detail_matrix_and_masking(ow, world):
    b = done_batch(ow)
    for name, user in _users(ow).items():
        response = _client(user).get(f"/outreach/batches/{b.public_id}/")
        expected = {None: 302}.get(user, 404 if name in ("stranger", "outsider_doctor") else 200)
        assert response.status_code == expected, (name, response.status_code)
    page = _client(world.township_admin).get(f"/outreach/batches/{b.public_id}/").content.decode()
    assert 'data-testid="action-confirm"' in page


def test_record_a_batch_in_the_browser_forms(ow, world):
    client = _client(world.hospital_admin)
    start = today() - datetime.timedelta(days=1)
    response = client.post(
        "/outreach/batches/new/",
        {
            "sending_institution": str(world.hospital.public_id),
            "host_institution": str(world.township.public_id),
            "starts_on": str(start),
            "ends_on": str(start),
            "purpose": "",
        },
    )
    assert response.status_code == 400 and not OutreachBatch.objects.exists()
    response = client.post(
        "/outreach/batches/new/",
        {
            "sending_institution": str(world.hospital.public_id),
            "host_institution": str(world.township.public_id),
            "starts_on": str(start),
            "ends_on": str(start),
            "purpose": "坐诊",
        },
    )
    assert response.status_code == 302
    b = OutreachBatch.objects.get()
    data = {
        "expected_version": b.version,
        "expert": str(ow.expert.public_id),
        "kind": "clinic",
        "visit_on": str(start),
        "sessions": 1,
        "patients_seen": 20,
        "attendees": 0,
        "surgeries": 0,
        "records_reviewed": 0,
        "hazards_found": 1,
        "hazards_fixed": 3,
    }
    response = client.post(f"/outreach/batches/{b.public_id}/visits/", data)
    assert response.status_code == 400 and "已整改隐患数不能多于" in response.content.decode()
    response = client.post(f"/outreach/batches/{b.public_id}/visits/", {**data, "hazards_fixed": 1})
    assert response.status_code == 302 and OutreachVisit.objects.count() == 1
    b.refresh_from_db()
    response = client.post(
        f"/outreach/batches/{b.public_id}/act/complete/", {"expected_version": b.version, "summary": "好"}
    )
    assert response.status_code == 302
    township = _client(world.township_admin)
    response = township.post(f"/outreach/batches/{b.public_id}/act/confirm/", {"expected_version": 1})
    assert response.status_code == 409 and 'data-testid="action-error"' in response.content.decode()
    b.refresh_from_db()
    response = township.post(f"/outreach/batches/{b.public_id}/act/confirm/", {"expected_version": b.version})
    assert response.status_code == 302
    assert OutreachBatch.objects.get().status == "confirmed"
    assert (
        client.post(
            f"/outreach/batches/{b.public_id}/act/confirm/", {"expected_version": b.version}
        ).status_code
        == 403
    )


def test_posting_pages(ow, world):
    client = _client(world.hospital_admin)
    start = today()
    response = client.post(
        "/outreach/postings/new/",
        {
            "home_institution": str(world.hospital.public_id),
            "expert": str(ow.expert.public_id),
            "host_institution": str(world.township.public_id),
            "planned_start": str(start),
            "planned_end": str(start + datetime.timedelta(days=30)),
        },
    )
    assert response.status_code == 400 and "183" in response.content.decode()
    response = client.post(
        "/outreach/postings/new/",
        {
            "home_institution": str(world.hospital.public_id),
            "expert": str(ow.expert.public_id),
            "host_institution": str(world.township.public_id),
            "planned_start": str(start),
            "planned_end": str(start + datetime.timedelta(days=200)),
        },
    )
    assert response.status_code == 302
    p = Posting.objects.get()
    response = client.post(
        f"/outreach/postings/{p.public_id}/act/start/", {"expected_version": p.version, "date": str(start)}
    )
    assert response.status_code == 302
    p.refresh_from_db()
    response = client.post(
        f"/outreach/postings/{p.public_id}/act/end/", {"expected_version": p.version, "date": str(start)}
    )
    assert response.status_code == 400 and "提前结束请填写原因" in response.content.decode()
    year = today().year - 1
    posting(
        ow,
        start=datetime.date(year, 1, 1),
        end=datetime.date(year, 12, 31),
        actual_start=datetime.date(year, 1, 1),
        actual_end=datetime.date(year, 12, 31),
    )
    page = _client(world.office).get("/outreach/indicator/", {"year": year}).content.decode()
    assert 'data-testid="working-definition"' in page and 'data-counted="1"' in page


def test_session_pages_book_and_mask(ow, world):
    s = session(ow)
    doctor = _client(ow.township_doctor)
    page = doctor.get(f"/outreach/sessions/{s.public_id}/", {"q": "张"}).content.decode()
    assert 'data-testid="booking-form"' in page and "张三" in page
    slot = s.slots.order_by("starts_at").first()
    response = doctor.post(
        f"/outreach/sessions/{s.public_id}/book/",
        {"slot": str(slot.public_id), "person": str(ow.resident.public_id)},
    )
    assert response.status_code == 302 and ClinicBooking.objects.count() == 1
    response = _client(ow.township_nurse).post(
        f"/outreach/sessions/{s.public_id}/book/",
        {"slot": str(slot.public_id), "person": str(ow.resident2.public_id)},
    )
    assert response.status_code in (400, 409) and ClinicBooking.objects.count() == 1
    office = _client(world.office).get(f"/outreach/sessions/{s.public_id}/").content.decode()
    assert "张*" in office and "张三" not in office
    week = doctor.get("/outreach/sessions/", {"week": str(timezone.localdate(s.starts_at))}).content.decode()
    assert 'data-testid="session-row"' in week
    response = _client(ow.expert).post(f"/outreach/sessions/{s.public_id}/cancel/", {"reason": "临时手术"})
    assert response.status_code == 302 and ClinicBooking.objects.get().status == "session_cancelled"


def test_report_page_and_export(ow, world):
    done_batch(ow, confirmed=True)
    page = _client(world.office).get("/outreach/report/").content.decode()
    assert 'data-testid="report-row"' in page and world.township.name in page
    export = _client(world.office).get("/outreach/report.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"


def _clone(template, count):
    visits = list(template.visits.all())
    for _ in range(count):
        template.pk = None
        template.public_id = uuid.uuid4()
        template.number = f"XT{uuid.uuid4().hex[:12]}"
        template.save(force_insert=True)
        for v in visits:
            v.pk, v.public_id, v.batch = None, uuid.uuid4(), template
            v.save(force_insert=True)


def _queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("who", ["hospital_admin", "township_admin", "office", "expert"])
def test_list_pages_keep_a_constant_query_count(ow, world, who):
    template = done_batch(ow)
    _clone(OutreachBatch.objects.get(pk=template.pk), 2)
    client = _client(_users(ow)[who])
    few = _queries(client, "/outreach/?box=all")
    _clone(OutreachBatch.objects.get(pk=template.pk), 20)
    assert _queries(client, "/outreach/?box=all") == few
    posting(ow, start=today(), end=today() + datetime.timedelta(days=200))
    few = _queries(client, "/outreach/postings/")
    posting(ow, expert=ow.junior, start=today(), end=today() + datetime.timedelta(days=200))
    posting(ow, expert=world.hospital_doctor, start=today(), end=today() + datetime.timedelta(days=200))
    assert _queries(client, "/outreach/postings/") == few


def test_session_week_query_count(ow, world):
    session(ow)
    client = _client(ow.township_doctor)
    few = _queries(client, "/outreach/sessions/?week=" + str(today()))
    for hours in (72, 96, 120):
        session(ow, hours=hours)
    assert _queries(client, "/outreach/sessions/?week=" + str(today())) == few


def test_batch_unrelated_is_invisible(ow, world):
    b = batch(ow)
    assert _client(world.outsider_doctor).get(f"/outreach/batches/{b.public_id}/").status_code == 404


def test_person_page_shows_the_bookings(ow, world):
    from yilian.outreach import services

    s = session(ow)
    services.booking_create(actor=ow.township_doctor, slot=s.slots.first(), person=ow.resident)
    page = _client(ow.township_doctor).get(f"/people/{ow.resident.public_id}/").content.decode()
    assert 'data-testid="record-outreach-rows"' in page
