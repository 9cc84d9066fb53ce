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
    assert f"派出批次 {b.number} 已确认。" in township.get(response.url).content.decode()
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
    expert = ow.expert.full_name or ow.expert.username
    said = f"{expert} 派驻{world.township.name}：已登记到岗。"
    assert said in client.get(response.url).content.decode()
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


def test_posting_list_links_the_indicator_only_for_its_readers(ow):
    """Doctors see the postings but the indicator answers them 403: no link to it."""
    for name, user in _users(ow).items():
        if user is None:
            continue
        page = _client(user).get("/outreach/postings/").content.decode()
        assert ('href="/outreach/indicator/"' in page) == (name in READERS), name


def test_the_received_tab_reads_received_in_english(ow):
    """The member's tab of batches it received read “Accept” (the diagnostics button's word)."""
    page = _client(ow.world.township_admin).get("/outreach/?box=received", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="tab-received">Received</a>' in text


def test_session_form_labels_the_end_time_not_ended_at(ow):
    """结束时间 of a clinic still to come read “Ended at” in English."""
    page = _client(ow.expert).get("/outreach/sessions/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">End time</label>" in page and "Ended at" not in page


def test_batch_and_session_pages_in_english_use_plain_brackets(ow, world):
    """Expert options “name（title）”, the hazards “found（fixed）” and the slot length were set in
    full-width brackets in English."""
    b = batch(ow)
    from yilian.outreach.tests.factories import visit

    visit(ow, b)
    admin = _client(world.hospital_admin)
    page = admin.get(f"/outreach/batches/{b.public_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "0 (0)" in page and "0（0）" not in page
    assert f"{ow.expert.full_name} (" in page and f"{ow.expert.full_name}（" not in page
    s = session(ow)
    detail = admin.get(f"/outreach/sessions/{s.public_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "minutes per slot)" in detail and "（15 minutes per slot）" not in detail


def test_posting_form_offers_and_accepts_only_physicians(ow, world):
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role

    engineer = user_with_role(Role.TECHNICIAN, username="engineer", institution=world.hospital)
    engineer.full_name = "鲍志刚"
    engineer.save()
    client = _client(world.hospital_admin)
    page = client.get("/outreach/postings/new/").content.decode()
    assert ow.expert.full_name in page and "鲍志刚" not in page
    start = today() + datetime.timedelta(days=1)
    response = client.post(
        "/outreach/postings/new/",
        {
            "home_institution": str(world.hospital.public_id),
            "expert": str(engineer.public_id),
            "home_department": str(ow.cardiology.public_id),
            "host_institution": str(world.township.public_id),
            "planned_start": str(start),
            "planned_end": str(start + datetime.timedelta(days=200)),
        },
    )
    assert response.status_code == 400 and "expert" in response.context["form"].errors
    assert not Posting.objects.exists()


def test_booking_resident_select_says_what_to_do_after_a_search(ow):
    s = session(ow)
    doctor = _client(ow.township_doctor)
    before = doctor.get(f"/outreach/sessions/{s.public_id}/").content.decode()
    assert "请先搜索居民" in before
    found = doctor.get(f"/outreach/sessions/{s.public_id}/", {"q": "张"}).content.decode()
    assert "张三" in found and "请先搜索居民" not in found and "请选择居民" in found
    assert f'<option value="{ow.resident.public_id}" selected>' in found  # the only match is chosen
    none = doctor.get(f"/outreach/sessions/{s.public_id}/", {"q": "不存在的人"}).content.decode()
    assert "请先搜索居民" not in none and "没有找到符合条件的居民。" in none


def _said(response):
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


def test_messages_name_what_happened_to_which_record(ow, world):
    admin = _client(world.hospital_admin)
    b = batch(ow)
    response = admin.post(
        f"/outreach/batches/{b.public_id}/visits/",
        {
            "expected_version": b.version,
            "expert": str(ow.expert.public_id),
            "kind": "clinic",
            "visit_on": str(b.starts_on),
            "sessions": 1,
            "patients_seen": 10,
            "attendees": 0,
            "surgeries": 0,
            "records_reviewed": 0,
            "hazards_found": 0,
            "hazards_fixed": 0,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302, response.content.decode()[:500]
    said = _said(response)
    assert any(b.number in m and "王主任" in m for m in said), said
    v = OutreachVisit.objects.get()
    response = admin.post(f"/outreach/visits/{v.public_id}/remove/")
    assert any(b.number in m and "王主任" in m and "已删除" in m for m in _said(response))
    s = session(ow)
    doctor = _client(ow.township_doctor)
    slot = s.slots.order_by("starts_at").first()
    response = doctor.post(
        f"/outreach/sessions/{s.public_id}/book/",
        {"slot": str(slot.public_id), "person": str(ow.resident.public_id)},
    )
    assert any("张三" in m and "王主任" in m for m in _said(response)), _said(response)
    booking = ClinicBooking.objects.get()
    response = doctor.post(f"/outreach/bookings/{booking.public_id}/cancel/")
    assert any("已取消张三" in m for m in _said(response)), _said(response)
    response = _client(ow.expert).post(f"/outreach/sessions/{s.public_id}/cancel/", {"reason": "临时手术"})
    assert any(world.township.name in m and "已停诊" in m for m in _said(response)), _said(response)


def test_indicator_period_reads_with_plain_brackets_in_english(ow, world):
    year = today().year - 1
    zh = _client(world.office).get("/outreach/indicator/", {"year": year}).content.decode()
    assert f"{year}-12-31（365 天）" in zh or f"{year}-12-31（366 天）" in zh
    en = (
        _client(world.office)
        .get("/outreach/indicator/", {"year": year}, HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    assert f"{year}-12-31 (365 days)" in en or f"{year}-12-31 (366 days)" in en
