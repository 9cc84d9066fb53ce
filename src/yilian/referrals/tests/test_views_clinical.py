"""Clinical referral pages: lists, new referral, detail with actions, worklist, closed-loop duties.

Every page acts through the selectors and services; these tests check who
gets what (authorization matrices), that only the available actions are
offered, that stale pages and bad input change nothing, and exact query
counts of the list and detail pages.
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from yilian.accounts.tests.factories import user_with_role
from yilian.core.exceptions import Invalid
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.encounters import services as encounter_services
from yilian.encounters.models import Encounter
from yilian.encounters.services import encounter_record
from yilian.institutions.tests.factories import DepartmentFactory
from yilian.notifications.models import Notification
from yilian.people.models import Person
from yilian.referrals import selectors, services
from yilian.referrals.choices import ReferralStatus
from yilian.referrals.models import FollowUpTask, Referral, ReferralCriterion, ReferralEvent
from yilian.referrals.tests.factories import SUMMARY, capacity, draft, referral_world, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(world):
    made = referral_world(world)
    Person.objects.filter(pk=made.patient.pk).update(name_initials="ls", name_pinyin="lisi")
    return made


@pytest.fixture
def client_for(db):
    """A test client logged in as the given user (anonymous for None)."""

    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _html(response) -> str:
    return response.content.decode()


def _offered(response) -> list[str]:
    """The actions whose forms the page shows, in page order."""
    return re.findall(r'<form[^>]*data-testid="action-([a-z_]+)"', _html(response))


def _act(client, referral, action, version=None, **fields):
    data = {f"{action}-expected_version": referral.version if version is None else version}
    data.update({f"{action}-{name}": value for name, value in fields.items()})
    return client.post(reverse("referrals:act", args=[referral.public_id, action]), data)


def _reload(referral) -> Referral:
    return Referral.objects.get(pk=referral.pk)


def _new_data(rw, **overrides):
    data = {
        "person": str(rw.patient.public_id),
        "from_institution": str(rw.world.township.public_id),
        "from_department": str(rw.township_clinic.public_id),
        "kind": "outpatient",
        "priority": "routine",
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "to_department": str(rw.cardiology.public_id),
        "reason": "血压控制不佳",
        "recovery_phase": "",
        "patient_consented": "on",
        "booking": "",
        "idempotency_key": "",
        "intent": "draft",
        **SUMMARY,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _tomorrow() -> str:
    return (timezone.localdate() + datetime.timedelta(days=1)).isoformat()


# Anonymous ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_and_changes_nothing(client, rw):
    referral = submitted(rw)
    urls = [
        reverse("referrals:list"),
        reverse("referrals:inbox"),
        reverse("referrals:outbox"),
        reverse("referrals:all"),
        reverse("referrals:new"),
        reverse("referrals:worklist"),
        reverse("referrals:follow-ups"),
        reverse("referrals:detail", args=[referral.public_id]),
        reverse("referrals:edit", args=[referral.public_id]),
        reverse("referrals:slip", args=[referral.public_id]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        location = urlsplit(response["Location"])
        assert location.path == reverse("accounts:login") and parse_qs(location.query)["next"] == [url]
    response = _act(client, referral, "accept")
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert _reload(referral).status == ReferralStatus.SUBMITTED
    assert client.post(reverse("referrals:new"), _new_data(rw)).status_code == 302
    assert Referral.objects.count() == 1


# Lists --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "shown"),
    [
        ("stranger", 403, None),
        ("outsider_doctor", 200, None),
        ("township_doctor", 200, "李四"),
        ("township_admin", 200, "李四"),
        ("hospital_doctor", 200, "李四"),
        ("hospital_admin", 200, "李四"),
        ("office", 200, "李*"),
        ("regulator", 200, "李*"),
        ("admin", 200, "李*"),
    ],
)
def test_list_authorization_matrix(client_for, rw, who, status, shown):
    referral = submitted(rw)
    user = getattr(rw, who, None) or getattr(rw.world, who)
    response = client_for(user).get(reverse("referrals:list"), {"box": "all"})
    assert response.status_code == status
    if status != 200:
        return
    html = _html(response)
    assert (referral.number in html) is (shown is not None)
    if shown == "李*":
        assert "李四" not in html
    if shown is not None:
        assert f'data-testid="referral-patient">{shown}<' in html
    assert rw.patient.id_number_masked not in html  # lists never show an ID number


def test_inbox_is_ordered_by_priority_then_deadline_and_marks_overdue(client_for, rw):
    routine = submitted(rw)
    emergency = submitted(rw, priority="stat")
    urgent = submitted(rw, priority="urgent")
    Referral.objects.filter(pk=routine.pk).update(answer_due_at=timezone.now() - datetime.timedelta(hours=1))
    sent = draft(rw)  # drafts never reach the receiver
    response = client_for(rw.hospital_doctor).get(reverse("referrals:inbox"))
    html = _html(response)
    numbers = re.findall(r'data-testid="referral-link">([^<]+)<', html)
    assert numbers == [emergency.number, urgent.number, routine.number]
    assert sent.number not in html
    assert html.count('data-testid="answer-overdue"') == 1
    outbox = _html(client_for(rw.township_doctor).get(reverse("referrals:outbox")))
    assert sent.number in outbox and routine.number in outbox


def test_inbox_opens_on_referrals_still_in_flight(client_for, rw):
    done = submitted(rw, priority="stat")
    services.referral_act(actor=rw.hospital_doctor, referral=done, action="decline", reason="无床位")
    waiting = submitted(rw)
    doctor = client_for(rw.hospital_doctor)
    html = _html(doctor.get(reverse("referrals:inbox")))
    assert waiting.number in html and done.number not in html
    assert re.search(r'<input[^>]*name="open_only"[^>]*checked', html)  # the filter says so
    everything = _html(doctor.get(reverse("referrals:inbox") + "?status="))
    # The declined emergency, though more urgent, stands below the routine one still waiting.
    assert re.findall(r'data-testid="referral-link">([^<]+)<', everything) == [waiting.number, done.number]


def test_list_filters(client_for, rw):
    first = submitted(rw)
    second = submitted(rw, diagnosis_code="I63.9", diagnosis_name="脑梗死", priority="urgent")
    client = client_for(rw.hospital_doctor)

    def numbers(**params):
        return re.findall(
            r'data-testid="referral-link">([^<]+)<', _html(client.get(reverse("referrals:inbox"), params))
        )

    assert numbers(q="脑梗") == [second.number]
    assert numbers(q=first.number) == [first.number]
    assert numbers(q="ls") == [second.number, first.number]  # pinyin initials of 李四
    assert numbers(priority="urgent") == [second.number]
    services.referral_act(actor=rw.hospital_doctor, referral=first, action="accept")
    assert numbers(status="accepted") == [first.number]
    assert numbers(direction="down") == []
    assert numbers(open_only="on") == [second.number, first.number]
    today = timezone.localdate()
    assert numbers(submitted_from=(today + datetime.timedelta(days=1)).isoformat()) == []
    assert numbers(submitted_from=today.isoformat(), submitted_to=today.isoformat()) == [
        second.number,
        first.number,
    ]


def test_oversight_readers_only_get_the_all_tab(client_for, rw):
    submitted(rw)
    html = _html(client_for(rw.world.office).get(reverse("referrals:list")))
    assert 'data-testid="tab-all"' in html and 'data-testid="tab-inbox"' not in html
    assert 'data-testid="referral-new"' not in html
    doctor = _html(client_for(rw.township_doctor).get(reverse("referrals:list")))
    assert 'data-testid="tab-inbox"' in doctor and 'data-testid="referral-new"' in doctor


def test_the_inbox_opens_on_the_doctors_own_department(client_for, rw):
    """A cardiologist's inbox holds cardiology's referrals, not surgery's; 全院 widens it to the hospital.
    A coordinator, whose role is tied to no department, sees the whole hospital's by default."""
    cardiologist = user_with_role(
        Role.DOCTOR, username="cardiologist", institution=rw.world.hospital, department=rw.cardiology
    )
    to_cardiology = submitted(rw)
    to_surgery = submitted(rw, to_department=rw.surgery)
    client = client_for(cardiologist)
    own = _html(client.get(reverse("referrals:inbox")))
    assert to_cardiology.number in own and to_surgery.number not in own
    assert 'name="scope"' in own
    whole = _html(client.get(reverse("referrals:inbox"), {"scope": "institution", "open_only": "on"}))
    assert to_cardiology.number in whole and to_surgery.number in whole
    # the other tabs are not narrowed and offer no scope
    sent_and_received = _html(client.get(reverse("referrals:all")))
    assert to_surgery.number in sent_and_received and 'name="scope"' not in sent_and_received
    coordinator = _html(client_for(rw.hospital_coordinator).get(reverse("referrals:inbox")))
    assert to_cardiology.number in coordinator and to_surgery.number in coordinator


def _list_queries(user, url, params=None):
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(context.captured_queries), _html(response).count('data-testid="referral-row"')


@pytest.mark.parametrize(
    ("who", "url_name", "queries"),
    [
        # the two ends' clinicians: + whether their institution hosts a shared centre (the menu)
        ("hospital_doctor", "referrals:inbox", 8),
        ("township_doctor", "referrals:outbox", 8),
        ("office", "referrals:all", 7),
    ],
)
def test_list_queries_are_constant(rw, who, url_name, queries):
    user = getattr(rw, who, None) or getattr(rw.world, who)
    for _ in range(2):
        submitted(rw)
    # session, user, scope, notification badge, count, the page's keys, its referrals with both ends
    # and the patient
    assert _list_queries(user, reverse(url_name)) == (queries, 2)
    for _ in range(10):
        submitted(rw)
    assert _list_queries(user, reverse(url_name)) == (queries, 12)
    assert _list_queries(user, reverse(url_name), {"q": "李", "open_only": "on"}) == (queries, 12)


def test_the_department_inbox_queries_are_constant(rw):
    cardiologist = user_with_role(
        Role.DOCTOR, username="cardiologist", institution=rw.world.hospital, department=rw.cardiology
    )
    submitted(rw, to_department=rw.surgery)
    submitted(rw)
    url = reverse("referrals:inbox")
    assert _list_queries(cardiologist, url) == (8, 1)
    assert _list_queries(cardiologist, url, {"scope": "institution"}) == (8, 2)
    for _ in range(5):
        submitted(rw)
        submitted(rw, to_department=rw.surgery)
    assert _list_queries(cardiologist, url) == (8, 6)
    assert _list_queries(cardiologist, url, {"scope": "institution"}) == (8, 12)


# Detail -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "actions", "sees"),
    [
        ("stranger", 404, None, False),
        ("outsider_doctor", 404, None, False),
        ("office", 200, [], False),
        ("regulator", 200, [], False),
        ("admin", 200, [], False),
        ("hospital_admin", 200, [], True),
        ("township_nurse", 200, [], True),
        ("township_doctor", 200, ["cancel"], True),
        ("hospital_nurse", 200, [], True),
        ("hospital_doctor", 200, ["accept", "decline", "redirect"], True),
        ("hospital_coordinator", 200, ["accept", "decline", "redirect"], True),
    ],
)
def test_detail_authorization_matrix(client_for, rw, who, status, actions, sees):
    referral = submitted(rw)
    user = getattr(rw, who, None) or getattr(rw.world, who)
    client = client_for(user)
    response = client.get(reverse("referrals:detail", args=[referral.public_id]))
    assert response.status_code == status
    html = _html(response)
    assert ("李四" in html) is sees
    assert (rw.patient.id_number_masked in html) is sees
    if status == 200:
        assert _offered(response) == actions
        assert ('data-testid="action-panel"' in html) is bool(actions)
        assert ("血压 186/112" in html) is sees
        assert ('data-testid="referral-slip"' in html) is sees
    # accepting: only the receiving clinicians; readers are refused, strangers do not find it
    accept = _act(client, referral, "accept")
    fresh = _reload(referral)
    if "accept" in (actions or []):
        assert accept.status_code == 302 and fresh.status == ReferralStatus.ACCEPTED
    else:
        assert accept.status_code == (404 if status == 404 else 403)
        assert fresh.status == ReferralStatus.SUBMITTED and fresh.version == referral.version
        assert not ReferralEvent.objects.filter(referral=referral, action="accept").exists()


@pytest.mark.parametrize("who", ["office", "regulator", "hospital_admin", "admin"])
def test_readers_cannot_post_any_action_or_upload(client_for, rw, media, who):
    referral = submitted(rw)
    client = client_for(getattr(rw, who, None) or getattr(rw.world, who))
    for action, fields in (
        ("decline", {"reason": "x"}),
        ("redirect", {"to_department": str(rw.surgery.public_id), "reason": "x"}),
        ("cancel", {"reason": "x"}),
        ("submit", {}),
        ("close", {}),
    ):
        assert _act(client, referral, action, **fields).status_code == 403, action
    upload = client.post(
        reverse("referrals:attach", args=[referral.public_id]),
        {"material": "lab_report", "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert upload.status_code in (403, 404)
    fresh = _reload(referral)
    assert fresh.version == referral.version and fresh.status == ReferralStatus.SUBMITTED
    assert not fresh.attachments.exists()
    assert Referral.objects.count() == 1


def test_unknown_action_is_404(client_for, rw):
    referral = submitted(rw)
    client = client_for(rw.hospital_doctor)
    assert _act(client, referral, "expire").status_code == 404
    assert _act(client, referral, "frobnicate").status_code == 404


def _through(rw, state):
    """A referral brought to ``state`` through the services."""
    if state == "draft":
        return draft(rw)
    referral = submitted(rw)
    if state == "submitted":
        return referral
    referral = services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    if state == "accepted":
        return referral
    if state == "cancel_requested":
        return services.referral_act(
            actor=rw.township_doctor, referral=referral, action="request_cancel", reason="患者改变主意"
        )
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    referral = services.referral_act(
        actor=rw.hospital_doctor, referral=referral, action="schedule", scheduled_for=tomorrow
    )
    if state == "scheduled":
        return referral
    referral = services.referral_act(actor=rw.hospital_nurse, referral=referral, action="arrive")
    if state == "arrived":
        return referral
    referral = services.referral_act(
        actor=rw.hospital_doctor, referral=referral, action="complete", outcome_summary="好转"
    )
    if state == "completed":
        return referral
    return services.referral_act(actor=rw.township_doctor, referral=referral, action="close")


@pytest.mark.parametrize(
    "state",
    ["draft", "submitted", "accepted", "scheduled", "arrived", "completed", "cancel_requested", "closed"],
)
@pytest.mark.parametrize(
    "who", ["township_doctor", "township_nurse", "hospital_doctor", "hospital_nurse", "hospital_coordinator"]
)
def test_offered_actions_are_exactly_the_available_ones(client_for, rw, state, who):
    referral = _through(rw, state)
    user = getattr(rw, who)
    response = client_for(user).get(reverse("referrals:detail", args=[referral.public_id]))
    if response.status_code == 404:  # the receiver does not see a draft
        assert state == "draft" and who.startswith("hospital")
        return
    assert _offered(response) == selectors.available_actions(user, _reload(referral))


# Acting -------------------------------------------------------------------------------------


def test_whole_loop_through_the_pages(client_for, rw):
    sender = client_for(rw.township_doctor)
    response = sender.post(reverse("referrals:new"), _new_data(rw, intent="submit"))
    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "referrals:detail", args=[referral.public_id]
    )
    assert referral.status == ReferralStatus.SUBMITTED
    assert Notification.objects.filter(recipient=rw.hospital_doctor, topic="referral.new").exists()

    receiver = client_for(rw.hospital_doctor)
    assert _act(receiver, referral, "accept", note="已收到").status_code == 302
    referral = _reload(referral)
    assert _act(receiver, referral, "schedule", scheduled_for=_tomorrow()).status_code == 302
    referral = _reload(referral)
    assert _act(client_for(rw.hospital_nurse), referral, "arrive").status_code == 302
    referral = _reload(referral)
    response = _act(
        receiver,
        referral,
        "complete",
        outcome_diagnosis_code="I10.x00",
        outcome_diagnosis_name="高血压 3 级",
        outcome_summary="调整降压方案后血压达标",
        discharge_summary="",
        follow_up_plan="两周后社区随访",
    )
    assert response.status_code == 302
    referral = _reload(referral)
    assert referral.status == ReferralStatus.COMPLETED and referral.outcome_diagnosis_code == "I10.x00"
    page = sender.get(reverse("referrals:detail", args=[referral.public_id]))
    assert "调整降压方案后血压达标" in _html(page) and _offered(page) == ["close"]
    assert _act(sender, referral, "close").status_code == 302
    referral = _reload(referral)
    assert referral.status == ReferralStatus.CLOSED
    html = _html(sender.get(reverse("referrals:detail", args=[referral.public_id])))
    steps = re.findall(r'data-testid="timeline-step" data-action="([a-z_]+)"', html)
    assert steps == ["create", "submit", "accept", "schedule", "arrive", "complete", "close"]
    assert "已收到" in html  # the accept note is on the timeline


def test_stale_version_shows_the_conflict_and_changes_nothing(client_for, rw):
    referral = _through(rw, "accepted")
    seen = referral.version
    day_after = timezone.localdate() + datetime.timedelta(days=2)
    # a colleague schedules first; rescheduling is still allowed, so only the version can stop the stale page
    services.referral_act(
        actor=rw.hospital_coordinator, referral=referral, action="schedule", scheduled_for=day_after
    )
    response = _act(
        client_for(rw.hospital_doctor), referral, "schedule", version=seen, scheduled_for=_tomorrow()
    )
    assert response.status_code == 409
    html = _html(response)
    assert 'data-testid="action-error"' in html and "请刷新" in html
    fresh = _reload(referral)
    assert fresh.scheduled_for == day_after and fresh.version == seen + 1
    assert ReferralEvent.objects.filter(referral=referral, action="schedule").count() == 1
    # the page re-rendered with the current state offers what is possible now, at the current version
    # (no no-show before the appointment's day)
    assert _offered(response) == ["schedule", "arrive"]
    assert f'name="schedule-expected_version" value="{fresh.version}"' in html


def test_stale_page_after_the_state_moved_on(client_for, rw):
    referral = submitted(rw)
    seen = referral.version
    services.referral_act(actor=rw.hospital_coordinator, referral=referral, action="accept")
    response = _act(client_for(rw.hospital_doctor), referral, "decline", version=seen, reason="无床位")
    assert response.status_code == 409 and "请刷新" in _html(response)
    assert _reload(referral).status == ReferralStatus.ACCEPTED
    assert not ReferralEvent.objects.filter(referral=referral, action="decline").exists()


def test_state_moved_on_with_the_same_version_is_a_conflict_too(client_for, rw):
    referral = _through(rw, "accepted")
    response = _act(client_for(rw.hospital_doctor), referral, "accept")
    assert response.status_code == 409 and "请刷新" in _html(response)


def test_past_schedule_date_shows_a_field_error_and_saves_nothing(client_for, rw):
    referral = _through(rw, "accepted")
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = _act(client_for(rw.hospital_doctor), referral, "schedule", scheduled_for=yesterday)
    assert response.status_code == 400
    html = _html(response)
    assert 'data-testid="error-scheduled_for"' in html and "不能早于今天" in html
    fresh = _reload(referral)
    assert (
        fresh.status == ReferralStatus.ACCEPTED
        and fresh.scheduled_for is None
        and fresh.version == referral.version
    )


def test_rescheduling_says_the_new_day_on_the_timeline(client_for, rw):
    """A second schedule step changes no state, so its note names the day (in the reader's language)."""
    referral = _through(rw, "accepted")
    client = client_for(rw.hospital_doctor)
    first = timezone.localdate() + datetime.timedelta(days=1)
    second = timezone.localdate() + datetime.timedelta(days=3)
    assert _act(client, referral, "schedule", scheduled_for=first.isoformat()).status_code == 302
    referral = _reload(referral)
    response = _act(client, referral, "schedule", scheduled_for=second.isoformat(), note="请空腹")
    assert response.status_code == 302
    url = reverse("referrals:detail", args=[referral.public_id])
    chinese = _html(client_for(rw.township_doctor).get(url))
    assert f'<div class="note">预约 {first:%Y-%m-%d}</div>' in chinese
    assert f'<div class="note">预约 {second:%Y-%m-%d}：请空腹</div>' in chinese
    english = _html(client_for(rw.township_doctor).get(url, HTTP_ACCEPT_LANGUAGE="en"))
    assert f'<div class="note">Appointment on {second:%Y-%m-%d}: 请空腹</div>' in english


def test_beds_are_offered_and_shown_as_beds(client_for, rw):
    """An admission books a reserved bed: the options count beds, the referral's badge says bed."""
    bed = capacity(rw.cardiology, kind="bed", quantity=4)
    slot = capacity(rw.cardiology, quantity=2)
    client = client_for(rw.township_doctor)
    options = reverse("referrals:booking-options")
    beds = _html(client.get(options, {"to_department": str(rw.cardiology.public_id), "kind": "admission"}))
    assert f"{bed.date:%Y-%m-%d} · 普通床位（剩余 4 张）" in beds and "号源" not in beds
    slots = _html(client.get(options, {"to_department": str(rw.cardiology.public_id), "kind": "outpatient"}))
    assert f"{slot.date:%Y-%m-%d} · 普通号源（剩余 2 个）" in slots
    english = _html(
        client.get(
            options,
            {"to_department": str(rw.cardiology.public_id), "kind": "admission"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    )
    assert f"{bed.date:%Y-%m-%d} · General beds (4 beds left)" in english
    referral = draft(rw, kind="admission")
    services.referral_submit(actor=rw.township_doctor, referral=referral, booking=bed)
    page = _html(client.get(reverse("referrals:detail", args=[referral.public_id])))
    assert 'data-testid="booked-place">预留床位</span>' in page


def test_required_reason_and_invalid_outcome_code_are_field_errors(client_for, rw):
    referral = submitted(rw)
    client = client_for(rw.hospital_doctor)
    response = _act(client, referral, "decline", reason="  ")
    assert response.status_code == 400 and 'data-testid="error-reason"' in _html(response)
    assert _reload(referral).status == ReferralStatus.SUBMITTED
    referral = _through(rw, "arrived")
    response = _act(client, referral, "complete", outcome_diagnosis_code="I99.9", outcome_summary="好转")
    assert response.status_code == 400 and 'data-testid="error-outcome_diagnosis_code"' in _html(response)
    fresh = _reload(referral)
    assert fresh.status == ReferralStatus.ARRIVED and fresh.outcome_summary == ""


def test_redirect_offers_departments_and_creates_the_successor(client_for, rw):
    referral = submitted(rw)
    client = client_for(rw.hospital_doctor)
    page = _html(client.get(reverse("referrals:detail", args=[referral.public_id])))
    assert str(rw.surgery.public_id) in page
    response = _act(client, referral, "redirect", to_department=str(rw.surgery.public_id), reason="外科处理")
    assert response.status_code == 302
    assert _reload(referral).status == ReferralStatus.REDIRECTED
    successor = Referral.objects.get(redirected_from=referral)
    html = _html(client.get(reverse("referrals:detail", args=[referral.public_id])))
    assert successor.number in html
    assert "改派原因" in html and "拒绝/撤销原因" not in html
    english = _html(
        client.get(reverse("referrals:detail", args=[referral.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    )
    assert "Reason for redirecting" in english
    # The sender learns where the patient goes now.
    note = Notification.objects.get(recipient=rw.township_doctor, object_id=str(referral.public_id))
    assert note.body.endswith(f"→ {rw.world.hospital.name} {rw.surgery.name} · {successor.number}")


def test_redirect_never_offers_the_sending_institution(client_for, rw):
    """Redirecting back to the sender is a decline: none of its departments is offered, and posting one
    anyway is refused under the field with nothing changed."""
    township_medicine = DepartmentFactory(institution=rw.world.township, name="内科", specialty="03")
    referral = submitted(rw)
    client = client_for(rw.hospital_doctor)
    page = _html(client.get(reverse("referrals:detail", args=[referral.public_id])))
    assert str(rw.surgery.public_id) in page
    assert str(township_medicine.public_id) not in page
    assert str(rw.township_clinic.public_id) not in page
    response = _act(
        client, referral, "redirect", to_department=str(township_medicine.public_id), reason="回基层"
    )
    assert response.status_code == 400
    assert 'data-testid="error-to_department"' in _html(response)
    assert _reload(referral).status == ReferralStatus.SUBMITTED
    assert not Referral.objects.filter(redirected_from=referral).exists()


def test_timeline_notes_read_in_the_readers_language_and_typed_reasons_as_typed(client_for, rw):
    referral = submitted(rw)
    chinese = client_for(rw.hospital_doctor)
    _act(chinese, referral, "redirect", to_department=str(rw.surgery.public_id), reason="外科处理")
    successor = Referral.objects.get(redirected_from=referral)
    english = client_for(rw.hospital_coordinator)
    page = _html(
        english.get(reverse("referrals:detail", args=[successor.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    )
    assert f'<div class="note">Redirected from {referral.number}</div>' in page and "改派</div>" not in page
    page = _html(chinese.get(reverse("referrals:detail", args=[successor.public_id])))
    assert f'<div class="note">由 {referral.number} 改派</div>' in page
    page = _html(
        english.get(reverse("referrals:detail", args=[referral.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    )
    assert '<div class="note">外科处理</div>' in page


def test_draft_is_edited_and_submitted_from_its_page(client_for, rw):
    referral = draft(rw, reason="初稿")
    client = client_for(rw.township_doctor)
    page = client.get(reverse("referrals:detail", args=[referral.public_id]))
    assert _offered(page) == ["submit", "cancel"] and 'data-testid="referral-edit"' in _html(page)
    edit_url = reverse("referrals:edit", args=[referral.public_id])
    form = client.get(edit_url)
    assert form.status_code == 200 and "初稿" in _html(form)
    data = _new_data(rw, reason="复诊血压仍高", expected_version=referral.version)
    assert client.post(edit_url, data).status_code == 302
    referral = _reload(referral)
    assert referral.reason == "复诊血压仍高"
    stale = client.post(edit_url, {**data, "reason": "旧页面", "expected_version": referral.version - 1})
    assert stale.status_code == 409 and "请刷新" in _html(stale)
    assert _reload(referral).reason == "复诊血压仍高"
    assert _act(client, referral, "submit").status_code == 302
    assert _reload(referral).status == ReferralStatus.SUBMITTED
    assert client.get(edit_url).status_code == 302  # no longer a draft
    assert client_for(rw.hospital_doctor).get(edit_url).status_code == 403


def test_submit_books_a_reserved_place(client_for, rw):
    slot = capacity(rw.cardiology, quantity=1)
    referral = draft(rw)
    client = client_for(rw.township_doctor)
    page = _html(client.get(reverse("referrals:detail", args=[referral.public_id])))
    assert slot.date.isoformat() in page and "剩余 1" in page
    assert f'value="{slot.public_id}"' in page
    assert _act(client, referral, "submit", booking=str(slot.public_id)).status_code == 302
    referral = _reload(referral)
    assert referral.scheduled_for == slot.date and referral.booking_id == slot.pk


def test_submit_refuses_a_pool_of_another_department_or_an_unknown_one(client_for, rw):
    elsewhere = capacity(rw.surgery, quantity=1)
    referral = draft(rw)
    client = client_for(rw.township_doctor)
    response = _act(client, referral, "submit", booking=str(elsewhere.public_id))
    assert response.status_code == 400 and 'data-testid="error-booking"' in _html(response)
    response = _act(client, referral, "submit", booking="not-a-pool")
    assert response.status_code == 400 and 'data-testid="error-booking"' in _html(response)
    elsewhere.refresh_from_db()
    assert elsewhere.booked == 0 and _reload(referral).status == ReferralStatus.DRAFT


def test_submit_panel_records_the_consent_a_draft_lacks(client_for, rw):
    referral = draft(rw, patient_consented=False)
    client = client_for(rw.township_doctor)
    page = _html(client.get(reverse("referrals:detail", args=[referral.public_id])))
    panel = page[page.index('data-testid="action-submit"') :]
    panel = panel[: panel.index("</form>")]
    assert 'name="submit-patient_consented"' in panel
    # Every checkbox of the panel sits on one line with its label.
    assert panel.count('class="field checkbox-field') == 2
    refused = _act(client, referral, "submit")
    assert refused.status_code == 400 and 'data-testid="error-patient_consented"' in _html(refused)
    assert _reload(referral).status == ReferralStatus.DRAFT
    assert _act(client, referral, "submit", patient_consented="on").status_code == 302
    referral = _reload(referral)
    assert referral.status == ReferralStatus.SUBMITTED and referral.patient_consented
    recorded = AuditEvent.objects.get(action="referral.update", object_id=str(referral.public_id))
    assert recorded.after == {"patient_consented": True}
    assert ReferralEvent.objects.filter(referral=referral, action="update").exists()


def test_submit_panel_asks_no_consent_when_the_draft_has_it(client_for, rw):
    referral = draft(rw)
    page = _html(client_for(rw.township_doctor).get(reverse("referrals:detail", args=[referral.public_id])))
    assert 'name="submit-patient_consented"' not in page and 'name="submit-acknowledge_missing"' in page


def test_live_check_of_a_draft_counts_its_attachments(client_for, rw, media):
    ReferralCriterion.objects.create(
        consortium=rw.world.consortium,
        name="高血压上转",
        category="must_up",
        icd_from="I10",
        icd_to="I15",
        required_materials=["history", "exam_results", "medications", "ecg"],
        completeness_threshold=100,
        missing_action="block",
    )
    referral = draft(rw)
    client = client_for(rw.township_doctor)
    edit = _html(client.get(reverse("referrals:edit", args=[referral.public_id])))
    assert f'name="referral" value="{referral.public_id}"' in edit
    data = _new_data(rw, referral=str(referral.public_id), expected_version=referral.version)
    before = _html(client.post(reverse("referrals:check"), data))
    assert 'data-testid="criteria-completeness">75%' in before and "心电图" in before
    services.referral_attach(
        actor=rw.township_doctor,
        referral=referral,
        material="ecg",
        upload=SimpleUploadedFile("ecg.pdf", b"%PDF-1.4", "application/pdf"),
    )
    after = _html(client.post(reverse("referrals:check"), data))
    assert 'data-testid="criteria-completeness">100%' in after and "符合转诊标准" in after
    assert 'data-testid="criteria-missing"' not in after
    # The new-referral form has no draft: nothing attached counts.
    fresh = _html(client.post(reverse("referrals:check"), _new_data(rw)))
    assert 'data-testid="criteria-completeness">75%' in fresh
    # Another institution's doctor cannot probe a draft through the check.
    assert client_for(rw.outsider_doctor).post(reverse("referrals:check"), data).status_code == 404


# New referral -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("stranger", 403),
        ("office", 403),
        ("regulator", 403),
        ("township_admin", 403),
        ("township_nurse", 403),
        ("township_doctor", 200),
        ("hospital_coordinator", 200),
    ],
)
def test_new_page_authorization_matrix(client_for, rw, who, status):
    user = getattr(rw, who, None) or getattr(rw.world, who)
    client = client_for(user)
    assert client.get(reverse("referrals:new")).status_code == status
    response = client.post(reverse("referrals:new"), _new_data(rw))
    if status == 403:
        assert response.status_code == 403 and not Referral.objects.exists()


def test_new_form_offers_the_consortium_departments_and_the_sender(client_for, rw):
    html = _html(
        client_for(rw.township_doctor).get(reverse("referrals:new"), {"person": rw.patient.public_id})
    )
    assert "霍邱县人民医院 · 心血管内科（三级乙等）" in html
    assert f'<option value="{rw.world.township.public_id}" selected>' in html
    assert f'<option value="{rw.patient.public_id}" selected>' in html


def test_new_referral_saves_a_draft(client_for, rw):
    response = client_for(rw.township_doctor).post(reverse("referrals:new"), _new_data(rw))
    referral = Referral.objects.get()
    assert response.status_code == 302 and referral.status == ReferralStatus.DRAFT
    assert referral.from_department == rw.township_clinic and referral.history == SUMMARY["history"]


def test_invalid_icd10_shows_the_field_error_and_saves_nothing(client_for, rw):
    client = client_for(rw.township_doctor)
    for intent in ("draft", "submit"):
        response = client.post(reverse("referrals:new"), _new_data(rw, diagnosis_code="I99.9", intent=intent))
        assert response.status_code == 400
        assert 'data-testid="error-diagnosis_code"' in _html(response)
    assert (
        not Referral.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="referral").exists()
    )


def test_submit_without_consent_saves_nothing(client_for, rw):
    response = client_for(rw.township_doctor).post(
        reverse("referrals:new"), _new_data(rw, patient_consented=None, intent="submit")
    )
    assert response.status_code == 400 and "知情同意" in _html(response)
    assert not Referral.objects.exists()


def test_a_patient_the_sender_may_not_see_is_refused(client_for, rw):
    from yilian.people.tests.factories import person

    stranger_patient = person("王五", institution=rw.world.outsider)
    response = client_for(rw.township_doctor).post(
        reverse("referrals:new"), _new_data(rw, person=str(stranger_patient.public_id))
    )
    assert response.status_code == 400 and 'data-testid="error-person"' in _html(response)
    assert not Referral.objects.exists()


def test_same_form_posted_twice_makes_one_referral(client_for, rw):
    client = client_for(rw.township_doctor)
    data = _new_data(rw, idempotency_key="form-1", intent="submit")
    assert client.post(reverse("referrals:new"), data).status_code == 302
    assert client.post(reverse("referrals:new"), data).status_code == 302
    assert Referral.objects.count() == 1


def test_blocking_criteria_stop_the_submission(client_for, rw):
    ReferralCriterion.objects.create(
        consortium=rw.world.consortium,
        name="高血压上转",
        category="must_up",
        icd_from="I10",
        icd_to="I15",
        triggers=["血压 ≥ 180/110 mmHg"],
        required_materials=["history", "exam_results", "lab_report"],
        completeness_threshold=100,
        missing_action="block",
    )
    client = client_for(rw.township_doctor)
    check = client.post(reverse("referrals:check"), _new_data(rw))
    html = _html(check)
    assert check.status_code == 200
    assert "高血压上转" in html and "血压 ≥ 180/110 mmHg" in html
    assert 'data-testid="criteria-completeness">67%' in html and "检验报告" in html and "将阻止提交" in html
    assert 'data-testid="criteria-direction">上转' in html
    response = client.post(reverse("referrals:new"), _new_data(rw, intent="submit", acknowledge_missing="on"))
    assert response.status_code == 400 and "资料完整度 67%" in _html(response)
    assert not Referral.objects.exists()


def test_criteria_check_reports_a_bad_code_and_unlisted_diagnoses(client_for, rw):
    client = client_for(rw.township_doctor)
    html = _html(client.post(reverse("referrals:check"), _new_data(rw, diagnosis_code="Q1")))
    assert 'data-testid="criteria-code-error"' in html
    html = _html(client.post(reverse("referrals:check"), _new_data(rw, diagnosis_code="J18.9")))
    assert 'data-testid="criteria-none"' in html
    assert client_for(rw.world.office).post(reverse("referrals:check"), _new_data(rw)).status_code == 403


def test_htmx_option_endpoints(client_for, rw):
    client = client_for(rw.township_doctor)
    # The new-referral form's patient picker is the people app's (people:options).
    form = _html(client.get(reverse("referrals:new")))
    assert 'data-testid="patient-search"' in form and reverse("people:options") in form
    found = _html(client.post(reverse("people:options"), {"q": "ls"}))
    assert str(rw.patient.public_id) in found
    assert str(rw.patient.public_id) in _html(client.post(reverse("people:options"), {"q": "李四"}))
    bad_id = _html(client.post(reverse("people:options"), {"q": "34242319580314103X"}))
    assert str(rw.patient.public_id) not in bad_id
    outsider = _html(client_for(rw.outsider_doctor).post(reverse("people:options"), {"q": "李四"}))
    assert str(rw.patient.public_id) not in outsider
    departments = _html(
        client.get(
            reverse("referrals:department-options"),
            {"from_institution": str(rw.world.township.public_id), "diagnosis_code": "S72.0"},
        )
    )
    assert "推荐" in departments and departments.index("普外科") < departments.index("心血管内科")
    slot = capacity(rw.surgery, quantity=3)
    days = _html(
        client.get(
            reverse("referrals:booking-options"),
            {"to_department": str(rw.surgery.public_id), "kind": "outpatient"},
        )
    )
    assert slot.date.isoformat() in days and "剩余 3" in days
    assert client_for(rw.world.office).get(reverse("referrals:booking-options")).status_code == 403


# Attachments and closed-loop duties ---------------------------------------------------------


def test_attachment_upload_and_download(client_for, rw, media):
    referral = submitted(rw)
    client = client_for(rw.hospital_doctor)
    bad = client.post(
        reverse("referrals:attach", args=[referral.public_id]),
        {"material": "lab_report", "file": SimpleUploadedFile("a.exe", b"MZ", "application/octet-stream")},
    )
    assert bad.status_code == 400 and 'data-testid="error-file"' in _html(bad)
    ok = client.post(
        reverse("referrals:attach", args=[referral.public_id]),
        {
            "material": "lab_report",
            "file": SimpleUploadedFile("血常规.pdf", b"%PDF-1.4 x", "application/pdf"),
        },
    )
    assert ok.status_code == 302
    attachment = referral.attachments.get()
    url = reverse("referrals:attachment", args=[attachment.public_id])
    assert url in _html(
        client_for(rw.township_doctor).get(reverse("referrals:detail", args=[referral.public_id]))
    )
    download = client_for(rw.township_doctor).get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 x"
    for who in (rw.world.office, rw.outsider_doctor, rw.world.stranger):
        assert client_for(who).get(url).status_code == 404


def _down_referral(rw):
    stay = encounter_record(
        actor=rw.hospital_doctor,
        institution=rw.world.hospital,
        person=rw.patient,
        kind="inpatient",
        department=rw.cardiology,
        started_at=timezone.now() - datetime.timedelta(days=12),
        diagnosis_code="I63.9",
        diagnosis_name="脑梗死",
    )
    referral, _created = services.referral_create(
        actor=rw.hospital_doctor,
        person=rw.patient,
        from_institution=rw.world.hospital,
        from_department=rw.cardiology,
        to_department=rw.township_clinic,
        encounter=stay,
        kind="outpatient",
        diagnosis_code="I63.9",
        diagnosis_name="脑梗死恢复期",
        reason="恢复期康复",
        recovery_phase="recovery",
        patient_consented=True,
        submit=True,
        acknowledge_missing=True,
    )
    services.referral_act(actor=rw.township_doctor, referral=referral, action="accept")
    services.referral_act(actor=rw.township_nurse, referral=referral, action="arrive")
    return referral


def test_follow_up_duties_on_the_referral_and_their_page(client_for, rw):
    referral = _down_referral(rw)
    first = FollowUpTask.objects.filter(referral=referral).order_by("due_at").first()
    FollowUpTask.objects.filter(pk=first.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    nurse = client_for(rw.township_nurse)
    page = _html(nurse.get(reverse("referrals:detail", args=[referral.public_id])))
    assert page.count('data-testid="follow-up-form"') == 2 and 'data-testid="follow-up-overdue"' in page
    sender_page = _html(
        client_for(rw.hospital_doctor).get(reverse("referrals:detail", args=[referral.public_id]))
    )
    assert (
        'data-testid="follow-up-overdue"' in sender_page and 'data-testid="follow-up-form"' not in sender_page
    )
    duties = _html(nurse.get(reverse("referrals:follow-ups")))
    assert duties.count('data-testid="pending-row"') == 2 and duties.count('data-testid="overdue-row"') == 1
    sender_duties = _html(client_for(rw.hospital_doctor).get(reverse("referrals:follow-ups")))
    assert (
        sender_duties.count('data-testid="overdue-row"') == 1
        and 'data-testid="pending-row"' not in sender_duties
    )
    record_url = reverse("referrals:follow-up-record", args=[first.public_id])
    empty = nurse.post(record_url, {f"task-{first.pk}-note": " "})
    assert empty.status_code == 400 and 'data-testid="error-note"' in _html(empty)
    assert client_for(rw.hospital_doctor).post(record_url, {f"task-{first.pk}-note": "x"}).status_code == 403
    assert client_for(rw.outsider_doctor).post(record_url, {f"task-{first.pk}-note": "x"}).status_code == 404
    assert nurse.post(record_url, {f"task-{first.pk}-note": "电话随访，血压平稳"}).status_code == 302
    first.refresh_from_db()
    assert first.done_at is not None and first.note == "电话随访，血压平稳"


def test_recording_a_follow_up_twice_goes_back_to_the_referral_with_the_message(client_for, rw):
    referral = _down_referral(rw)
    first = FollowUpTask.objects.filter(referral=referral).order_by("due_at").first()
    record_url = reverse("referrals:follow-up-record", args=[first.public_id])
    nurse = client_for(rw.township_nurse)
    assert nurse.post(record_url, {f"task-{first.pk}-note": "电话随访，血压平稳"}).status_code == 302
    # A second tab (or a double click) sends the same duty again.
    again = nurse.post(record_url, {f"task-{first.pk}-note": "入户随访"}, follow=True)
    assert again.redirect_chain[-1][0] == reverse("referrals:detail", args=[referral.public_id])
    assert again.status_code == 200 and "该任务已登记，无需重复登记。" in _html(again)
    first.refresh_from_db()
    assert first.note == "电话随访，血压平稳"


def test_uploading_to_a_referral_that_ended_meanwhile_goes_back_to_the_referral(client_for, rw, media):
    referral = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="decline", reason="无床位")
    response = client_for(rw.township_doctor).post(
        reverse("referrals:attach", args=[referral.public_id]),
        {
            "material": "lab_report",
            "file": SimpleUploadedFile("血常规.pdf", b"%PDF-1.4 x", "application/pdf"),
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("referrals:detail", args=[referral.public_id])
    assert response.status_code == 200 and "转诊已结束，不能再上传资料。" in _html(response)
    assert not referral.attachments.exists()


# Down-referral worklist ---------------------------------------------------------------------


def _inpatient(rw, days=12):
    return encounter_record(
        actor=rw.hospital_doctor,
        institution=rw.world.hospital,
        person=rw.patient,
        kind="inpatient",
        department=rw.cardiology,
        started_at=timezone.now() - datetime.timedelta(days=days),
        diagnosis_code="I63.9",
        diagnosis_name="脑梗死",
    )


def test_worklist_flag_and_start_a_down_referral(client_for, rw):
    rw.patient.address_region = rw.world.township.region
    rw.patient.save(update_fields=["address_region"])
    stay = _inpatient(rw)
    client = client_for(rw.hospital_doctor)
    assert 'data-testid="worklist-empty"' in _html(client.get(reverse("referrals:worklist")))
    flag_url = reverse("referrals:worklist-flag", args=[stay.public_id])
    assert client_for(rw.hospital_nurse).post(flag_url, {"recovery_phase": "recovery"}).status_code == 403
    assert client_for(rw.township_doctor).post(flag_url, {"recovery_phase": "recovery"}).status_code == 404
    assert client.post(flag_url, {"recovery_phase": "recovery"}).status_code == 302
    assert Encounter.objects.get(pk=stay.pk).recovery_phase == "recovery"
    html = _html(client.get(reverse("referrals:worklist")))
    assert html.count('data-testid="worklist-row"') == 1 and "急性病恢复期" in html
    assert rw.world.township.name in html

    form = _html(client.get(reverse("referrals:new"), {"encounter": str(stay.public_id)}))
    assert f'<option value="{rw.township_clinic.public_id}" selected>' in form
    assert f'value="{stay.public_id}"' in form and "急性病恢复期" in form
    data = _new_data(
        rw,
        person=str(rw.patient.public_id),
        from_institution=str(rw.world.hospital.public_id),
        from_department=str(rw.cardiology.public_id),
        to_department=str(rw.township_clinic.public_id),
        diagnosis_code="I63.9",
        diagnosis_name="脑梗死恢复期",
        reason="急性病恢复期，转回基层继续治疗与康复",
        recovery_phase="recovery",
        encounter=str(stay.public_id),
        intent="submit",
        acknowledge_missing="on",
    )
    assert client.post(reverse("referrals:new"), data).status_code == 302
    referral = Referral.objects.get()
    assert referral.direction == "down" and referral.encounter_id == stay.pk
    assert referral.number in _html(client.get(reverse("referrals:worklist")))

    assert client.post(flag_url, {"recovery_phase": ""}).status_code == 302
    assert Encounter.objects.get(pk=stay.pk).recovery_phase == ""


def test_english_pages_use_english_brackets_and_list_separators(client_for, rw):
    """Age, the materials missing at submission and the catalogue rule's stay read as English on English
    pages (no full-width brackets or 、 around translated words), and as before in Chinese."""
    referral = submitted(rw)
    criterion = ReferralCriterion.objects.create(
        consortium=rw.world.consortium,
        name="高血压",
        category="consult_then_up",
        icd_from="I10",
        icd_to="I15",
    )
    Referral.objects.filter(pk=referral.pk).update(
        criterion=criterion, missing_materials=["exam_results", "medications"]
    )
    url = reverse("referrals:detail", args=[referral.public_id])
    english = _html(client_for(rw.township_doctor).get(url, HTTP_ACCEPT_LANGUAGE="en"))
    assert re.search(r'data-testid="patient-age"> \(age \d+\)</span>', english)
    assert 'data-testid="missing-at-submission">Test and examination results, Medication</dd>' in english
    chinese = _html(client_for(rw.township_doctor).get(url))
    assert re.search(r'data-testid="patient-age">（\d+ 岁）</span>', chinese)
    assert 'data-testid="missing-at-submission">检查检验结果、用药情况</dd>' in chinese

    ReferralCriterion.objects.create(
        consortium=rw.world.consortium,
        name="脑卒中恢复期（下转康复）",
        category="down_rehabilitation",
        icd_from="I63",
        icd_to="I63",
        min_stay_days=10,
    )
    rw.patient.address_region = rw.world.township.region
    rw.patient.save(update_fields=["address_region"])
    _inpatient(rw)
    worklist = reverse("referrals:worklist")
    english = _html(client_for(rw.hospital_doctor).get(worklist, HTTP_ACCEPT_LANGUAGE="en"))
    assert "脑卒中恢复期（下转康复） (≥10 days)" in english and "（≥" not in english
    assert "脑卒中恢复期（下转康复）（≥10 天）" in _html(client_for(rw.hospital_doctor).get(worklist))


@pytest.mark.parametrize(
    ("language", "warned", "blocked"),
    [
        ("zh-hans", "缺少资料：心电图、出院小结。", "资料完整度 33% 低于要求，缺少：心电图、出院小结。"),
        ("en", "Missing material: ECG, Discharge summary.", "missing: ECG, Discharge summary."),
    ],
    ids=["zh-hans", "en"],
)
def test_a_refused_submission_lists_the_missing_materials_in_the_submitters_language(
    rw, language, warned, blocked
):
    """The refusal is read at once by the submitter: its list of missing materials is joined with 、 in
    Chinese and ", " in English (not 、 between English labels)."""
    ReferralCriterion.objects.create(
        consortium=rw.world.consortium,
        name="高血压",
        category="must_up",
        icd_from="I10",
        icd_to="I15",
        required_materials=["history", "ecg", "discharge_summary"],
        completeness_threshold=70,
        missing_action="warn",
    )
    referral = draft(rw)
    with translation.override(language):
        with pytest.raises(Invalid) as warning:
            services.referral_submit(actor=rw.township_doctor, referral=referral)
        assert warning.value.as_text()["materials"][0].startswith(warned)
        ReferralCriterion.objects.update(missing_action="block")
        with pytest.raises(Invalid) as refusal:
            services.referral_submit(actor=rw.township_doctor, referral=referral, acknowledge_missing=True)
        assert refusal.value.as_text()["materials"][0].endswith(blocked)
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.DRAFT


@pytest.mark.parametrize(("language", "separator"), [("zh-hans", "；"), ("en", "; ")], ids=["zh-hans", "en"])
def test_a_refused_recovery_flag_joins_its_messages_in_the_readers_language(
    client_for, rw, monkeypatch, language, separator
):
    """Several refusals of the worklist mark are shown in one notice, separated by the punctuation of the
    reader's language (；in Chinese, "; " in English)."""

    def refuse(**_kwargs):
        raise Invalid({"recovery_phase": ["无效的下转阶段。"], "encounter": ["只能标记在院患者。"]})

    stay = _inpatient(rw)
    monkeypatch.setattr(encounter_services, "encounter_flag_recovery", refuse)
    response = client_for(rw.hospital_doctor).post(
        reverse("referrals:worklist-flag", args=[stay.public_id]),
        {"recovery_phase": "recovery"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE=language,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [separator.join(["无效的下转阶段。", "只能标记在院患者。"])]
    assert Encounter.objects.get(pk=stay.pk).recovery_phase == ""


def test_a_stay_with_a_referral_under_way_is_not_sent_down_twice(client_for, rw):
    """Two tabs of the worklist (each form with its own idempotency key) send one down-referral, not two."""
    rw.patient.address_region = rw.world.township.region
    rw.patient.save(update_fields=["address_region"])
    stay = _inpatient(rw)
    client = client_for(rw.hospital_doctor)
    first, second = (
        _new_data(
            rw,
            person=str(rw.patient.public_id),
            from_institution=str(rw.world.hospital.public_id),
            from_department=str(rw.cardiology.public_id),
            to_department=str(rw.township_clinic.public_id),
            diagnosis_code="I63.9",
            diagnosis_name="脑梗死恢复期",
            reason="急性病恢复期，转回基层继续治疗与康复",
            recovery_phase="recovery",
            encounter=str(stay.public_id),
            intent="submit",
            acknowledge_missing="on",
            idempotency_key=key,
        )
        for key in ("tab-one", "tab-two")
    )
    assert client.post(reverse("referrals:new"), first).status_code == 302
    again = client.post(reverse("referrals:new"), second)
    referral = Referral.objects.get()
    assert again.status_code == 409 and f"已有进行中的转诊单 {referral.number}" in _html(again)
    # Once that one has ended, the stay may be referred again.
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="cancel", reason="改期")
    assert client.post(reverse("referrals:new"), second).status_code == 302
    assert Referral.objects.filter(encounter=stay).count() == 2


def test_overdue_duties_are_paginated_not_cut(client_for, rw, monkeypatch):
    """Every overdue duty is reachable page by page, with the count; the pending list's page is apart."""
    from yilian.referrals.views import clinical

    monkeypatch.setattr(clinical, "OVERDUE_PAGE_SIZE", 1)
    referral = _down_referral(rw)
    FollowUpTask.objects.filter(referral=referral).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    tasks = list(FollowUpTask.objects.filter(referral=referral).order_by("due_at", "id"))
    assert len(tasks) == 2
    client = client_for(rw.hospital_doctor)
    url = reverse("referrals:follow-ups")
    seen = []
    for number in (1, 2):
        page = _html(client.get(url, {"overdue_page": number}))
        assert page.count('data-testid="overdue-row"') == 1
        assert f"第 {number} / 2 页，共 2 条" in page
        seen += [t for t in tasks if t.get_kind_display() in page.split('data-testid="overdue-table"')[1]]
    assert {t.pk for t in seen} == {t.pk for t in tasks}


def test_an_expired_referral_reads_expired_in_english_not_overdue(client_for, rw):
    """已超时 as a referral's state is over (Expired); an unanswered or late duty stays Overdue."""
    referral = submitted(rw)
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.EXPIRED)
    client = client_for(rw.township_doctor)
    english = _html(
        client.get(reverse("referrals:detail", args=[referral.public_id]), HTTP_ACCEPT_LANGUAGE="en")
    )
    assert ">Expired<" in english and ">Overdue<" not in english
    chinese = _html(client.get(reverse("referrals:detail", args=[referral.public_id])))
    assert "已超时" in chinese
    duties = _html(client.get(reverse("referrals:list") + "?status=expired", HTTP_ACCEPT_LANGUAGE="en"))
    assert ">Expired<" in duties


def test_no_show_waits_for_the_appointment_day(client_for, rw):
    referral = _through(rw, "accepted")
    services.referral_act(
        actor=rw.hospital_coordinator,
        referral=referral,
        action="schedule",
        scheduled_for=timezone.localdate() + datetime.timedelta(days=1),
    )
    client = client_for(rw.hospital_doctor)
    page = client.get(reverse("referrals:detail", args=[referral.public_id]))
    assert _offered(page) == ["schedule", "arrive"]
    forced = _act(client, referral, "no_show", version=_reload(referral).version)
    assert forced.status_code == 409 and "还未到" in _html(forced)
    assert _reload(referral).status == ReferralStatus.SCHEDULED
    Referral.objects.filter(pk=referral.pk).update(scheduled_for=timezone.localdate())
    assert _offered(client.get(reverse("referrals:detail", args=[referral.public_id]))) == [
        "schedule",
        "arrive",
        "no_show",
    ]
    assert _act(client, referral, "no_show", version=_reload(referral).version).status_code == 302
    assert _reload(referral).status == ReferralStatus.NO_SHOW


def test_worklist_offers_a_new_down_referral_after_a_no_show(client_for, rw):
    """A no-show ends the referral: the inpatient, still on the ward, may be referred down again."""
    rw.patient.address_region = rw.world.township.region
    rw.patient.save(update_fields=["address_region"])
    stay = _inpatient(rw)
    Encounter.objects.filter(pk=stay.pk).update(recovery_phase="recovery")
    referral, _created = services.referral_create(
        actor=rw.hospital_doctor,
        person=rw.patient,
        from_institution=rw.world.hospital,
        from_department=rw.cardiology,
        to_department=rw.township_clinic,
        encounter=stay,
        kind="outpatient",
        diagnosis_code="I63.9",
        diagnosis_name="脑梗死恢复期",
        reason="恢复期康复",
        recovery_phase="recovery",
        patient_consented=True,
        submit=True,
        acknowledge_missing=True,
    )
    services.referral_act(actor=rw.township_doctor, referral=referral, action="accept")
    services.referral_act(
        actor=rw.township_doctor, referral=referral, action="schedule", scheduled_for=timezone.localdate()
    )
    services.referral_act(actor=rw.township_doctor, referral=referral, action="no_show")
    (row,) = selectors.down_referral_worklist(rw.hospital_doctor)
    assert row.open_referral is None
    html = _html(client_for(rw.hospital_doctor).get(reverse("referrals:worklist")))
    assert 'data-testid="worklist-refer"' in html and referral.number not in html


def test_worklist_is_for_senders_only(client_for, rw):
    for who, status in (
        (rw.world.office, 403),
        (rw.world.stranger, 403),
        (rw.hospital_nurse, 403),
        (rw.hospital_doctor, 200),
    ):
        assert client_for(who).get(reverse("referrals:worklist")).status_code == status


# Menu, documents ----------------------------------------------------------------------------


def test_menu_entries_follow_the_policies(client_for, rw):
    doctor = _html(client_for(rw.township_doctor).get("/"))
    for label in ("转入待办", "转出记录", "新建转诊", "下转工作台"):
        assert label in doctor
    assert "全部转诊" not in doctor
    office = _html(client_for(rw.world.office).get("/"))
    assert "全部转诊" in office and "新建转诊" not in office and "转入待办" not in office
    assert "转入待办" not in _html(client_for(rw.world.stranger).get("/"))


def test_printable_documents(client_for, rw):
    from yilian.referrals import documents

    if not hasattr(documents, "referral_slip_pdf") or not hasattr(documents, "referral_ws445"):
        pytest.skip("referrals.documents is not written yet")
    referral = submitted(rw)
    client = client_for(rw.hospital_doctor)
    pdf = client.get(reverse("referrals:slip", args=[referral.public_id]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    data = client.get(reverse("referrals:ws445", args=[referral.public_id]))
    assert data.status_code == 200 and data["Content-Type"] == "application/json"
    assert referral.number in data.content.decode()
    for who, status in ((rw.world.office, 403), (rw.outsider_doctor, 404)):
        assert client_for(who).get(reverse("referrals:slip", args=[referral.public_id])).status_code == status
        assert (
            client_for(who).get(reverse("referrals:ws445", args=[referral.public_id])).status_code == status
        )


def test_a_technician_may_not_print_or_export_the_slip(client_for, rw):
    """Technicians take no step of a referral: no slip link, and the slip and the export answer 403."""
    technician = user_with_role(
        Role.TECHNICIAN, username="hospital_technician", institution=rw.world.hospital
    )
    referral = submitted(rw)
    client = client_for(technician)
    page = client.get(reverse("referrals:detail", args=[referral.public_id]))
    assert page.status_code == 200 and 'data-testid="referral-slip"' not in _html(page)
    assert client.get(reverse("referrals:slip", args=[referral.public_id])).status_code == 403
    assert client.get(reverse("referrals:ws445", args=[referral.public_id])).status_code == 403
    for who in (rw.hospital_nurse, rw.hospital_coordinator, rw.world.hospital_admin, rw.township_nurse):
        assert client_for(who).get(reverse("referrals:slip", args=[referral.public_id])).status_code == 200


# Query counts of the detail page ------------------------------------------------------------


def _detail_queries(user, referral):
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("referrals:detail", args=[referral.public_id]))
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(("who", "queries"), [("hospital_doctor", 13), ("office", 8)])
def test_detail_queries_are_constant(rw, media, who, queries):
    # session, user, scope, the referral with both ends and the patient, [the receiver's departments
    # to redirect to, consortium members, their departments], duties, timeline, attachments (the office:
    # their kinds counted, no names), badge
    user = getattr(rw, who, None) or getattr(rw.world, who)
    for _ in range(2):
        submitted(rw)
    referral = submitted(rw)
    first = _detail_queries(user, referral)
    for _ in range(10):
        submitted(rw)
    for index in range(10):  # more attachments and more timeline steps
        services.referral_attach(
            actor=rw.township_doctor,
            referral=referral,
            material="lab_report",
            upload=SimpleUploadedFile(f"r{index}.pdf", b"%PDF", "application/pdf"),
        )
    assert first == _detail_queries(user, referral) == queries


def test_an_action_says_what_happened_to_which_referral(client_for, rw):
    referral = submitted(rw)
    client = client_for(rw.hospital_doctor)
    response = _act(client, referral, "decline", reason="无床位")
    assert response.status_code == 302
    page = client.get(response.url)
    assert [str(m) for m in page.context["messages"]] == [f"转诊单 {referral.number} 已拒绝。"]
    assert f"转诊单 {referral.number} 已拒绝。" in _html(page)
