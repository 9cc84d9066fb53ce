"""Teleconsultation pages: each renders for the right users and refuses (403/404) the others; the
invitation form, the action forms, uploads, free times and the billing records; list query counts."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from yilian.accounts.models import Membership
from yilian.core.permissions import Role
from yilian.institutions.choices import ConsortiumType
from yilian.institutions.tests.factories import ConsortiumFactory, ConsortiumMemberFactory
from yilian.referrals.models import Referral
from yilian.telemedicine import selectors, services
from yilian.telemedicine.models import (
    ExpertAvailability,
    Teleconsultation,
    TeleconsultationAttachment,
    TeleconsultationFee,
)
from yilian.telemedicine.tests.factories import advance, later, requested, session_started, slot, tele_world

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


def _alliance(tw):
    """A second consortium of the township, with the outsider, charging 120 元 per consultation."""
    alliance = ConsortiumFactory(
        name="霍邱县心血管专科联盟",
        region=tw.world.regions["county"],
        type=ConsortiumType.SPECIALTY_ALLIANCE,
        lead=tw.world.outsider,
    )
    ConsortiumMemberFactory(consortium=alliance, institution=tw.world.township)
    TeleconsultationFee.objects.create(consortium=alliance, kind="consultation", amount=Decimal("120"))
    return alliance


def _notice(html):
    start = html.index('data-testid="fee-notice"')
    return html[start : html.index("</p>", start)]


def test_consent_notice_lists_each_consortium_once_until_the_invited_is_chosen(tw):
    alliance = _alliance(tw)
    client = _client(tw.township_doctor)
    notice = _notice(client.get("/telemedicine/new/").content.decode())
    assert 'data-testid="fee-pending"' in notice and 'data-testid="fee-applicable"' not in notice
    assert notice.count(tw.world.consortium.name) == 1 and notice.count(alliance.name) == 1
    assert f"{tw.world.consortium.name}：会诊 300.00 元" in notice
    assert f"{alliance.name}：会诊 120.00 元" in notice
    assert notice.count("会诊 ") == 2
    assert 'hx-get="/telemedicine/new/fee/"' in notice


@pytest.mark.parametrize(
    ("invited", "kind", "expected"),
    [
        ("hospital", "consultation", "按霍邱县人民医院医共体协议收费标准，本次会诊收费 300.00 元。"),
        ("outsider", "consultation", "按霍邱县心血管专科联盟协议收费标准，本次会诊收费 120.00 元。"),
        ("hospital", "teaching", "霍邱县人民医院医共体未设置远程教学收费标准，本次不收费。"),
    ],
)
def test_consent_notice_shows_the_fee_that_will_apply(tw, invited, kind, expected):
    _alliance(tw)
    invited_institution = getattr(tw.world, invited)
    fee = selectors.applicable_fee(tw.world.township, invited_institution, kind)
    assert fee.consortium == selectors.shared_consortium(tw.world.township, invited_institution)
    params = {
        "kind": kind,
        "inviting_institution": str(tw.world.township.public_id),
        "invited_institution": str(invited_institution.public_id),
    }
    client = _client(tw.township_doctor)
    partial = client.get("/telemedicine/new/fee/", params)
    assert partial.status_code == 200
    html = partial.content.decode()
    assert expected in html and fee.consortium.name in html
    if fee.is_set:
        assert f"{fee.amount} 元" in html
    # The page sent back with errors tells the same fee.
    page = client.post("/telemedicine/new/", params)
    assert page.status_code == 400 and expected in _notice(page.content.decode())
    # Only inviters get the partial.
    assert _client(tw.world.office).get("/telemedicine/new/fee/", params).status_code == 403


def test_the_fee_shown_is_the_fee_charged(tw):
    _alliance(tw)
    html = (
        _client(tw.township_doctor)
        .get(
            "/telemedicine/new/fee/",
            {"kind": "consultation", "invited_institution": str(tw.world.hospital.public_id)},
        )
        .content.decode()
    )
    # The only inviting institution counts as chosen.
    assert "本次会诊收费 300.00 元" in html
    tc = requested(tw)
    assert tc.consortium == tw.world.consortium and tc.fee_amount == Decimal("300.00")


def test_inviting_institution_preselected_only_when_there_is_one(tw):
    township = str(tw.world.township.public_id)
    page = _client(tw.township_doctor).get("/telemedicine/new/").content.decode()
    assert f'<option value="{township}" selected>' in page
    Membership.objects.create(user=tw.township_doctor, role=Role.DOCTOR, institution=tw.world.outsider)
    page = _client(tw.township_doctor).get("/telemedicine/new/").content.decode()
    assert f'<option value="{township}" selected>' not in page
    assert f'<option value="{tw.world.outsider.public_id}" selected>' not in page
    assert 'data-testid="fee-pending"' in page


def test_referral_linked_only_for_those_who_may_see_it(tw):
    tc = advance(tw, requested(tw), "sign_opinion")
    tc = services.teleconsultation_act(
        actor=tw.township_doctor,
        teleconsultation=tc,
        action="conclude",
        decision="上转",
        outcome="referred",
        referral_to_department=tw.cardiology,
    )
    referral = Teleconsultation.objects.get(pk=tc.pk).referral
    assert referral is not None
    link = f'href="/referrals/{referral.public_id}/"'
    page = _client(tw.township_doctor).get(f"/telemedicine/{tc.public_id}/").content.decode()
    assert link in page and 'data-testid="referral-link"' in page
    # Sent on to a third institution, the referral is no longer the hospital's to read.
    Referral.objects.filter(pk=referral.pk).update(to_institution=tw.world.outsider)
    coordinator = _client(tw.coordinator).get(f"/telemedicine/{tc.public_id}/")
    assert coordinator.status_code == 200
    html = coordinator.content.decode()
    assert referral.number in html and link not in html and 'data-testid="referral-link"' not in html
    assert _client(tw.coordinator).get(f"/referrals/{referral.public_id}/").status_code == 404


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
    expert = _client(tw.expert)
    detail = f"/telemedicine/{tc.public_id}/"
    assert "开始后方可签署" in expert.get(detail).content.decode()
    early = expert.post(
        url + "sign_opinion/", {"sign_opinion-expected_version": 3, "sign_opinion-opinion": "意见"}
    )
    assert early.status_code == 400
    page = early.content.decode()
    assert "error-opinion" in page and "开始前不能签署会诊意见" in page and "意见</textarea>" in page
    session_started(Teleconsultation.objects.get(pk=tc.pk))
    assert "开始后方可签署" not in expert.get(detail).content.decode()
    signed = expert.post(
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


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "会诊单 {number}：已谢绝邀请。"), ("en", "Teleconsultation {number}: invitation declined.")],
)
def test_an_action_says_what_happened_to_which_teleconsultation(tw, language, expected):
    tc = requested(tw)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(tw.coordinator)
    response = client.post(
        f"/telemedicine/{tc.public_id}/act/decline/",
        {"decline-expected_version": 1, "decline-reason": "本周无专家"},
        follow=True,
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [expected.format(number=tc.number)]


def test_english_pages_set_expert_titles_and_the_consent_signer_in_ascii_brackets(tw):
    """Experts' titles in the expert and free-time options and the consent signer's relationship were
    wrapped in full-width brackets （…） on English pages."""
    import re

    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    tc = requested(tw)
    detail = _client(tw.coordinator).get(f"/telemedicine/{tc.public_id}/", **english).content.decode()
    availability = _client(tw.expert).get("/telemedicine/availability/", **english).content.decode()
    options = re.findall(r"<option[^>]*>([^<]*)</option>", detail + availability)
    assert any("王主任 (Chief physician)" in option for option in options)
    assert not [option for option in options if "（" in option or "）" in option]
    assert "李四 (" in detail and "李四（" not in detail
    chinese = _client(tw.coordinator).get(f"/telemedicine/{tc.public_id}/").content.decode()
    assert "王主任（主任医师）" in chinese and "李四（" in chinese


def test_english_detail_names_the_one_consortium_in_the_singular(tw):
    """The teleconsultation's consortium was labelled “Medical consortia” (the menu's plural)."""
    tc = requested(tw)
    detail = _client(tw.coordinator).get(f"/telemedicine/{tc.public_id}/", HTTP_ACCEPT_LANGUAGE="en")
    html = detail.content.decode()
    assert "<dt>Medical consortium</dt>" in html and "<dt>Medical consortia</dt>" not in html


def test_a_search_too_long_to_run_lists_no_teleconsultations(tw):
    """A 51-character search showed its error above every teleconsultation of the box."""
    requested(tw)
    client = _client(tw.township_doctor)
    assert 'data-testid="teleconsultation-row"' in client.get("/telemedicine/").content.decode()
    body = client.get("/telemedicine/", {"q": "赵" * 51}).content.decode()
    assert "51" in body and 'data-testid="teleconsultation-row"' not in body


def test_concluding_as_referred_shows_every_missing_field_at_once(tw):
    tc = advance(tw, requested(tw), "sign_opinion")
    response = _client(tw.township_doctor).post(
        f"/telemedicine/{tc.public_id}/act/conclude/",
        {"conclude-expected_version": tc.version, "conclude-outcome": "referred"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "error-decision" in html and "请选择转诊的接收科室。" in html
