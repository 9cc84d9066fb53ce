"""Teleconsultation pages: each renders for the right users and refuses (403/404) the others; the
invitation form, the action forms, uploads, free times and the billing records; list query counts."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from yilian.telemedicine.models import ExpertAvailability, Teleconsultation, TeleconsultationAttachment
from yilian.telemedicine.tests.factories import advance, later, requested, slot, tele_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def tw(world):
    return tele_world(world)


def _client(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _users(tw):
    return {
        **tw.world.users(),
        "township_doctor": tw.township_doctor,
        "coordinator": tw.coordinator,
        "expert": tw.expert,
        "junior": tw.junior,
    }


PAGES = {
    # page: users answered 200; everyone else logged in gets 403 (404 for the detail), anonymous a login redirect
    "/telemedicine/": {
        "township_doctor",
        "coordinator",
        "expert",
        "junior",
        "office",
        "regulator",
        "admin",
        "hospital_admin",
        "township_admin",
        "hospital_doctor",
        "outsider_doctor",
    },
    "/telemedicine/new/": {
        "township_doctor",
        "coordinator",
        "hospital_doctor",
        "outsider_doctor",
        "expert",
        "junior",
    },
    "/telemedicine/availability/": {
        "coordinator",
        "expert",
        "junior",
        "hospital_admin",
        "township_admin",
        "hospital_doctor",
        "outsider_doctor",
        "township_doctor",
    },
    "/telemedicine/charges/": {"coordinator", "office", "admin", "hospital_admin", "township_admin"},
    "detail": {
        "township_doctor",
        "coordinator",
        "expert",
        "office",
        "regulator",
        "admin",
        "hospital_admin",
        "township_admin",
    },
}


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_render_for_the_right_users(tw, page):
    tc = advance(tw, requested(tw), "accept")
    url = f"/telemedicine/{tc.public_id}/" if page == "detail" else page
    for who, user in _users(tw).items():
        response = _client(user).get(url)
        if user is None:
            assert response.status_code == 302, who
        elif who in PAGES[page]:
            assert response.status_code == 200, (who, response.status_code)
        else:
            assert response.status_code == (404 if page == "detail" else 403), (who, response.status_code)


def test_detail_shows_only_allowed_actions_and_masks_oversight(tw):
    tc = requested(tw)
    coordinator = _client(tw.coordinator).get(f"/telemedicine/{tc.public_id}/").content.decode()
    assert 'data-testid="action-accept"' in coordinator and 'data-testid="action-decline"' in coordinator
    assert 'data-testid="action-cancel"' not in coordinator
    doctor = _client(tw.township_doctor).get(f"/telemedicine/{tc.public_id}/").content.decode()
    assert 'data-testid="action-cancel"' in doctor and 'data-testid="action-accept"' not in doctor
    office = _client(tw.world.office).get(f"/telemedicine/{tc.public_id}/").content.decode()
    assert "李*" in office and "action-panel" not in office and 'data-testid="case-summary"' not in office


def test_invitation_form_offers_free_times_and_creates(tw):
    free = slot(tw)
    client = _client(tw.township_doctor)
    page = client.get("/telemedicine/new/").content.decode()
    assert str(free.public_id) in page and "300.00" in page
    options = client.get(
        "/telemedicine/new/free-times/",
        {"invited_institution": str(tw.world.hospital.public_id), "required_specialty": "04"},
    )
    assert options.status_code == 200 and str(free.public_id) not in options.content.decode()
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "kind": "consultation",
        "inviting_institution": str(tw.world.township.public_id),
        "person": str(tw.patient.public_id),
        "invited_institution": str(tw.world.hospital.public_id),
        "required_specialty": "03",
        "required_title": "associate_chief_physician",
        "proposed_slot": str(free.public_id),
        "reason": "胸闷",
        "purpose": "明确诊断",
        "case_summary": "摘要",
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "consent_signer_name": "",
        "consent_relationship": "patient",
        "consent_signed_at": _local(timezone.now()),
    }
    bad = client.post("/telemedicine/new/", data)
    assert bad.status_code == 400 and 'data-testid="error-consent_signer_name"' in bad.content.decode()
    assert not Teleconsultation.objects.exists()
    data["consent_signer_name"] = "李四"
    created = client.post("/telemedicine/new/", data)
    assert created.status_code == 302, created.content.decode()[:2000]
    tc = Teleconsultation.objects.get()
    assert tc.proposed_slot == free and tc.proposed_at == free.starts_at


def test_actions_through_the_pages(tw):
    tc = requested(tw)
    coordinator = _client(tw.coordinator)
    url = f"/telemedicine/{tc.public_id}/act/"
    junior = coordinator.post(
        url + "accept/", {"accept-expected_version": 1, "accept-expert": str(tw.junior.public_id)}
    )
    assert junior.status_code == 400
    accepted = coordinator.post(
        url + "accept/", {"accept-expected_version": 1, "accept-expert": str(tw.expert.public_id)}
    )
    assert accepted.status_code == 302
    stale = coordinator.post(url + "decline/", {"decline-expected_version": 1, "decline-reason": "忙"})
    assert stale.status_code == 409 and 'data-testid="action-error"' in stale.content.decode()
    scheduled = coordinator.post(
        url + "schedule/",
        {
            "schedule-expected_version": 2,
            "schedule-scheduled_at": _local(later(30)),
            "schedule-meeting_link": "bad link",
        },
    )
    assert scheduled.status_code == 400 and "error-meeting_link" in scheduled.content.decode()
    scheduled = coordinator.post(
        url + "schedule/",
        {
            "schedule-expected_version": 2,
            "schedule-scheduled_at": _local(later(30)),
            "schedule-meeting_link": "https://m.example.cn/1",
        },
    )
    assert scheduled.status_code == 302
    assert (
        _client(tw.junior)
        .post(url + "sign_opinion/", {"sign_opinion-expected_version": 3, "sign_opinion-opinion": "x"})
        .status_code
        == 404
    )
    assert (
        _client(tw.coordinator)
        .post(url + "sign_opinion/", {"sign_opinion-expected_version": 3, "sign_opinion-opinion": "x"})
        .status_code
        == 403
    )
    signed = _client(tw.expert).post(
        url + "sign_opinion/", {"sign_opinion-expected_version": 3, "sign_opinion-opinion": "意见"}
    )
    assert signed.status_code == 302
    concluded = _client(tw.township_doctor).post(
        url + "conclude/",
        {
            "conclude-expected_version": 4,
            "conclude-decision": "上转",
            "conclude-outcome": "referred",
            "conclude-referral_to_department": str(tw.cardiology.public_id),
        },
    )
    assert concluded.status_code == 302
    stored = Teleconsultation.objects.get(pk=tc.pk)
    assert stored.status == "concluded" and stored.referral is not None
    page = _client(tw.township_doctor).get(f"/telemedicine/{tc.public_id}/").content.decode()
    assert stored.referral.number in page and "action-panel" not in page


def test_upload_and_download(tw):
    tc = requested(tw)
    client = _client(tw.township_doctor)
    bad = client.post(
        f"/telemedicine/{tc.public_id}/attach/",
        {"kind": "imaging", "file": SimpleUploadedFile("a.exe", b"MZ")},
    )
    assert bad.status_code == 400
    ok = client.post(
        f"/telemedicine/{tc.public_id}/attach/",
        {"kind": "imaging", "file": SimpleUploadedFile("a.pdf", b"%PDF")},
    )
    assert ok.status_code == 302
    attachment = TeleconsultationAttachment.objects.get()
    assert client.get(f"/telemedicine/attachments/{attachment.public_id}/").status_code == 200
    assert (
        _client(tw.world.office).get(f"/telemedicine/attachments/{attachment.public_id}/").status_code == 404
    )


def test_availability_page_publishes_and_withdraws(tw):
    client = _client(tw.expert)
    start = later(72)
    posted = client.post(
        "/telemedicine/availability/",
        {
            "expert": f"{tw.expert.public_id}:{tw.world.hospital.public_id}",
            "starts_at": _local(start),
            "ends_at": _local(start + datetime.timedelta(hours=1)),
        },
    )
    assert posted.status_code == 302
    published = ExpertAvailability.objects.get()
    overlap = client.post(
        "/telemedicine/availability/",
        {
            "expert": f"{tw.expert.public_id}:{tw.world.hospital.public_id}",
            "starts_at": _local(start),
            "ends_at": _local(start + datetime.timedelta(hours=2)),
        },
    )
    assert overlap.status_code == 400
    assert (
        _client(tw.junior).post(f"/telemedicine/availability/{published.public_id}/withdraw/").status_code
        == 404
    )
    assert client.post(f"/telemedicine/availability/{published.public_id}/withdraw/").status_code == 302
    assert not ExpertAvailability.objects.exists()


def test_charges_page_lists_the_records(tw):
    advance(tw, requested(tw), "sign_opinion")
    page = _client(tw.world.hospital_admin).get("/telemedicine/charges/").content.decode()
    assert page.count('data-testid="charge-row"') == 1 and "300.00" in page


@pytest.mark.parametrize("who", ["township_doctor", "coordinator", "office"])
def test_list_page_query_count_does_not_grow(tw, who):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    template = advance(tw, requested(tw), "accept")
    client = _client(_users(tw)[who])
    client.get("/telemedicine/all/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/telemedicine/all/").status_code == 200
    for _ in range(10):
        template.pk = None
        template.public_id = uuid.uuid4()
        template.number = f"YC{uuid.uuid4().hex[:12]}"
        template.save(force_insert=True)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/telemedicine/all/").status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_fees_page_for_the_office(tw, world):
    assert _client(tw.township_doctor).get("/telemedicine/fees/").status_code == 403
    assert _client(world.regulator).get("/telemedicine/fees/").status_code == 403
    client = _client(world.office)
    page = client.get("/telemedicine/fees/")
    assert page.status_code == 200 and page.content.decode().count('data-testid="fee-row"') == 1
    bad = client.post(
        "/telemedicine/fees/",
        {"consortium": str(world.consortium.public_id), "kind": "reading", "amount": "-5"},
    )
    assert bad.status_code == 400
    saved = client.post(
        "/telemedicine/fees/",
        {"consortium": str(world.consortium.public_id), "kind": "reading", "amount": "150"},
    )
    assert saved.status_code == 302
    assert str(tw.fee.consortium.teleconsultation_fees.get(kind="reading").amount) == "150.00"


def test_statistics_page_for_oversight(tw, world):
    advance(tw, requested(tw), "conclude")
    for user in (world.office, world.regulator, world.admin):
        page = _client(user).get("/telemedicine/statistics/")
        assert page.status_code == 200 and "100.0%" in page.content.decode()
    assert _client(tw.township_doctor).get("/telemedicine/statistics/").status_code == 403
