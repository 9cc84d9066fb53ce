"""Referral API: create (idempotent), drafts, every workflow action, who may do what, bad input,
versions, what each reader sees of the patient, lists and their query counts, files and documents."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yilian.accounts.tests.factories import user_with_role
from yilian.core.api.testing import api_client, error_of
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.notifications.models import Notification
from yilian.people.models import PersonInstitutionLink
from yilian.people.tests.factories import person
from yilian.referrals import services
from yilian.referrals.choices import ReferralSide, ReferralStatus
from yilian.referrals.models import Referral, ReferralAttachment, ReferralEvent, ReservedCapacity
from yilian.referrals.tests.factories import SUMMARY, capacity, draft, referral_world, submitted

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def api(db):
    return api_client


@pytest.fixture
def rw(world):
    return referral_world(world)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _url(referral, suffix=""):
    return f"/api/v1/referrals/{referral.public_id}{suffix}"


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _payload(rw, **overrides):
    data = {
        "person": str(rw.patient.public_id),
        "from_institution": str(rw.world.township.public_id),
        "from_department": str(rw.township_clinic.public_id),
        "to_department": str(rw.cardiology.public_id),
        "kind": "outpatient",
        "priority": "routine",
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "reason": "血压控制不佳",
        "patient_consented": True,
        **SUMMARY,
    }
    data.update(overrides)
    return data


def _post(client, url, body=None, **headers):
    return client.post(url, body or {}, format="json", **headers)


def _tomorrow():
    return timezone.localdate() + datetime.timedelta(days=1)


# Create, edit, the whole loop --------------------------------------------------------------------


def test_a_referral_goes_round_the_whole_loop_through_the_api(rw, api):
    township, hospital = api(rw.township_doctor), api(rw.hospital_doctor)
    created = township.post("/api/v1/referrals", _payload(rw), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["version"] == 1 and created["ETag"] == '"1"'
    assert body["direction"] == "up" and body["inside_consortium"] is True
    assert body["consortium"]["public_id"] == str(rw.world.consortium.public_id)
    assert body["to_institution"]["name"] == "霍邱县人民医院"
    assert body["to_department"]["public_id"] == str(rw.cardiology.public_id)
    assert body["patient"]["name"] == "李四" and body["patient"]["visible"] is True
    assert body["patient"]["id_number_masked"] == rw.patient.id_number_masked
    assert body["patient"]["age"] is not None and body["patient"]["gender"] in ("1", "2")
    assert body["available_actions"] == ["submit", "cancel"]
    assert [step["action"] for step in body["timeline"]] == ["create"]
    assert body["timeline"][0]["action_label"] == "新建转诊单"
    referral = Referral.objects.get(public_id=body["public_id"])
    # The receiver does not see a draft.
    assert hospital.get(_url(referral)).status_code == 404

    changed = township.patch(
        _url(referral), {"reason": "血压控制不佳，头痛"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["reason"] == "血压控制不佳，头痛" and changed["ETag"] == '"2"'

    sent = _post(township, _url(referral, "/submit"), HTTP_IF_MATCH='"2"')
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "submitted" and sent.json()["submitted_at"]
    assert PersonInstitutionLink.objects.filter(person=rw.patient, institution=rw.world.hospital).exists()
    assert Notification.objects.filter(recipient=rw.hospital_doctor, topic="referral.new").exists()

    seen = hospital.get(_url(referral)).json()
    assert seen["available_actions"] == ["accept", "decline", "redirect"]
    assert seen["patient"]["name"] == "李四"

    accepted = _post(hospital, _url(referral, "/accept"), {"note": "请带既往检查资料"})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    scheduled = _post(
        api(rw.hospital_coordinator), _url(referral, "/schedule"), {"scheduled_for": str(_tomorrow())}
    )
    assert scheduled.status_code == 200, scheduled.content
    assert scheduled.json()["scheduled_for"] == str(_tomorrow())
    arrived = _post(api(rw.hospital_nurse), _url(referral, "/arrive"))
    assert arrived.status_code == 200 and arrived.json()["arrived_at"]
    completed = _post(
        hospital,
        _url(referral, "/complete"),
        {
            "outcome_diagnosis_code": "I10.x00",
            "outcome_diagnosis_name": "高血压 3 级",
            "outcome_summary": "调整降压方案后血压达标",
            "follow_up_plan": "两周后社区随访",
        },
    )
    assert completed.status_code == 200, completed.content
    outcome = completed.json()["outcome"]
    assert outcome["diagnosis_code"] == "I10.x00" and outcome["summary"] == "调整降压方案后血压达标"
    closed = _post(township, _url(referral, "/close"))
    assert closed.status_code == 200
    final = closed.json()
    assert final["status"] == "closed" and final["available_actions"] == []
    steps = [step["action"] for step in final["timeline"]]
    assert steps == ["create", "update", "submit", "accept", "schedule", "arrive", "complete", "close"]
    assert final["timeline"][3]["note"] == "请带既往检查资料"
    assert (
        final["timeline"][3]["side"] == "receiver"
        and final["timeline"][3]["institution_name"] == "霍邱县人民医院"
    )
    assert final["version"] == Referral.objects.get(pk=referral.pk).version


def test_create_and_submit_at_once_booking_a_reserved_place(rw, api):
    slot = capacity(rw.cardiology, quantity=1)
    response = api(rw.township_doctor).post(
        "/api/v1/referrals", _payload(rw, submit=True, booking_date=str(slot.date)), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted"
    assert body["booking"]["date"] == str(slot.date) and body["scheduled_for"] == str(slot.date)
    assert ReservedCapacity.objects.get(pk=slot.pk).booked == 1
    # The slot is full now: the next one is a conflict and stays unsent (nothing is created).
    before = Referral.objects.count()
    full = api(rw.township_doctor).post(
        "/api/v1/referrals", _payload(rw, submit=True, booking_date=str(slot.date)), format="json"
    )
    assert full.status_code == 409
    assert "约满" in error_of(full)["message"]
    assert Referral.objects.count() == before


def test_idempotency_key_retry_returns_the_first_referral_and_makes_one(rw, api):
    client = api(rw.township_doctor)
    key = str(uuid.uuid4())
    first = client.post("/api/v1/referrals", _payload(rw), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.content
    retry = client.post(
        "/api/v1/referrals", _payload(rw, reason="重发"), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert retry.status_code == 200, retry.content
    assert retry.json()["public_id"] == first.json()["public_id"]
    assert retry.json()["reason"] == "血压控制不佳"
    assert Referral.objects.count() == 1
    assert AuditEvent.objects.filter(action="referral.create").count() == 1
    # Another key (or none) is another referral; the same key from another user is theirs alone.
    assert client.post("/api/v1/referrals", _payload(rw), format="json").status_code == 201
    other = api(rw.world.hospital_doctor)
    own_patient = person("王五", institution=rw.world.hospital)
    theirs = other.post(
        "/api/v1/referrals",
        _payload(
            rw,
            person=str(own_patient.public_id),
            from_institution=str(rw.world.hospital.public_id),
            from_department=str(rw.cardiology.public_id),
            to_department=str(rw.township_clinic.public_id),
        ),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert theirs.status_code == 201
    assert Referral.objects.count() == 3
    too_long = client.post("/api/v1/referrals", _payload(rw), format="json", HTTP_IDEMPOTENCY_KEY="k" * 65)
    assert too_long.status_code == 400 and "Idempotency-Key" in error_of(too_long)["fields"]
    assert Referral.objects.count() == 3


# Bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"diagnosis_code": "I99.9"}, "diagnosis_code", "ICD-10 编码 I99.9 不存在。"),
        (
            {"diagnosis_code": "高血压"},
            "diagnosis_code",
            "ICD-10 编码格式不正确（例如 I10、I63.9、I10.x00）。",
        ),
        ({"to_department": str(uuid.uuid4())}, "to_department", "接收科室不存在或已停用。"),
        ({"to_department": "cardiology"}, "to_department", "“cardiology” 不是有效的编号。"),
        ({"kind": "home_visit"}, "kind", None),
        ({"person": str(uuid.uuid4())}, "person", None),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nothing(rw, api, overrides, field, message):
    response = api(rw.township_doctor).post("/api/v1/referrals", _payload(rw, **overrides), format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    if message:
        assert error["fields"][field] == [message]
    assert not Referral.objects.exists()


def test_an_inactive_department_and_an_unknown_body_field_are_refused(rw, api):
    rw.surgery.is_active = False
    rw.surgery.save()
    client = api(rw.township_doctor)
    inactive = client.post(
        "/api/v1/referrals", _payload(rw, to_department=str(rw.surgery.public_id)), format="json"
    )
    assert error_of(inactive)["fields"] == {"to_department": ["接收科室不存在或已停用。"]}
    unknown = client.post("/api/v1/referrals", _payload(rw, status="closed"), format="json")
    assert error_of(unknown)["fields"] == {"status": ["此接口不接受该字段。"]}
    assert not Referral.objects.exists()


def test_submit_without_consent_and_schedule_in_the_past_are_400(rw, api):
    referral = draft(rw, patient_consented=False)
    client = api(rw.township_doctor)
    response = _post(client, _url(referral, "/submit"))
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"patient_consented": ["转诊须经患者（或家属）知情同意。"]}
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.DRAFT

    referral = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    past = _post(api(rw.hospital_doctor), _url(referral, "/schedule"), {"scheduled_for": str(yesterday)})
    assert past.status_code == 400
    assert error_of(past)["fields"] == {"scheduled_for": ["预约日期不能早于今天。"]}
    missing = _post(api(rw.hospital_doctor), _url(referral, "/schedule"), {})
    assert error_of(missing)["fields"] == {"scheduled_for": ["该字段是必填项。"]}
    not_a_date = _post(api(rw.hospital_doctor), _url(referral, "/schedule"), {"scheduled_for": "明天"})
    assert "scheduled_for" in error_of(not_a_date)["fields"]
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.status == ReferralStatus.ACCEPTED and stored.scheduled_for is None


def test_decline_needs_a_reason_and_redirect_a_known_department(rw, api):
    referral = submitted(rw)
    client = api(rw.hospital_doctor)
    no_reason = _post(client, _url(referral, "/decline"), {"reason": "  "})
    assert error_of(no_reason)["fields"] == {"reason": ["该字段是必填项。"]}
    unknown = _post(
        client, _url(referral, "/redirect"), {"to_department": str(uuid.uuid4()), "reason": "转外科"}
    )
    assert unknown.status_code == 400
    assert error_of(unknown)["fields"] == {"to_department": ["接收科室不存在或已停用。"]}
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SUBMITTED
    assert Referral.objects.count() == 1


def test_wrong_state_is_409_and_wrong_side_is_403_with_their_messages(rw, api):
    referral = submitted(rw)
    version = Referral.objects.get(pk=referral.pk).version
    early = _post(api(rw.hospital_doctor), _url(referral, "/complete"), {"outcome_summary": "好转"})
    assert early.status_code == 409
    error = error_of(early)
    assert error["code"] == "conflict"
    assert error["message"] == "转诊单当前状态为“待接收”，不能执行此操作（可能已被他人处理，请刷新）。"
    wrong_side = _post(api(rw.township_doctor), _url(referral, "/accept"))
    assert wrong_side.status_code == 403
    assert error_of(wrong_side)["message"] == "您不是该转诊单的转出方或接收方，不能执行此操作。"
    assert _post(api(rw.hospital_doctor), _url(referral, "/accept")).status_code == 200
    twice = _post(api(rw.hospital_coordinator), _url(referral, "/accept"))
    assert twice.status_code == 409 and "已接收" in error_of(twice)["message"]
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.status == ReferralStatus.ACCEPTED and stored.version == version + 1
    # PATCH only changes drafts.
    late_edit = api(rw.township_doctor).patch(_url(referral), {"reason": "改"}, format="json")
    assert late_edit.status_code == 409
    assert error_of(late_edit)["message"] == "只能修改草稿状态的转诊单。"


def test_stale_version_is_409_and_a_malformed_if_match_400(rw, api):
    referral = submitted(rw)
    client = api(rw.hospital_doctor)
    stale = _post(client, _url(referral, "/accept"), HTTP_IF_MATCH='"1"')
    assert stale.status_code == 409
    assert error_of(stale)["message"] == "该转诊单已被他人更新，请刷新后重试。"
    in_body = _post(client, _url(referral, "/accept"), {"expected_version": 1})
    assert in_body.status_code == 409
    malformed = _post(client, _url(referral, "/accept"), HTTP_IF_MATCH="latest")
    assert malformed.status_code == 400 and "If-Match" in error_of(malformed)["fields"]
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SUBMITTED
    current = client.get(_url(referral))
    fresh = _post(client, _url(referral, "/accept"), HTTP_IF_MATCH=current["ETag"])
    assert fresh.status_code == 200


def test_unknown_and_malformed_referral_ids_are_404(rw, api):
    client = api(rw.hospital_doctor)
    assert client.get(f"/api/v1/referrals/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/v1/referrals/ZZ2026").status_code == 404
    assert _post(client, f"/api/v1/referrals/{uuid.uuid4()}/accept").status_code == 404


# Who may do what ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 403),  # another institution's doctor, who also knows the patient
        ("township_admin", 403),  # same institution, but administrators do not write referrals
        ("township_nurse", 403),  # same institution, clinical but not a sending role
        ("office", 403),
        ("regulator", 403),
        ("admin", 403),
        ("township_doctor", 201),
    ],
)
def test_create_matrix(rw, api, who, status):
    PersonInstitutionLink.objects.create(person=rw.patient, institution=rw.world.outsider, reason="treated")
    actor = getattr(rw, who, None) or rw.world.users()[who]
    response = api(actor).post("/api/v1/referrals", _payload(rw), format="json")
    assert response.status_code == status, response.content
    assert Referral.objects.exists() is (status == 201)
    if status != 201:
        assert not AuditEvent.objects.filter(action="referral.create").exists()
        assert "李四" not in response.content.decode()


def test_a_patient_the_sender_cannot_see_reads_as_unknown(rw, api):
    stranger_patient = person("赵六", institution=rw.world.outsider)
    response = api(rw.township_doctor).post(
        "/api/v1/referrals", _payload(rw, person=str(stranger_patient.public_id)), format="json"
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["person"]
    assert "赵六" not in response.content.decode()
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    "who,status",
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 404),  # cannot see the referral at all
        ("township_doctor", 403),  # the sending side cannot accept
        ("hospital_admin", 403),  # the receiving institution, without a receiving role
        ("hospital_nurse", 403),  # may mark arrival, not accept
        ("office", 403),  # reads, never acts
        ("regulator", 403),
        ("admin", 403),
        ("hospital_doctor", 200),
        ("hospital_coordinator", 200),
    ],
)
def test_accept_matrix(rw, api, who, status):
    referral = submitted(rw)
    before = Referral.objects.get(pk=referral.pk)
    actor = getattr(rw, who, None) or rw.world.users()[who]
    response = _post(api(actor), _url(referral, "/accept"))
    assert response.status_code == status, response.content
    after = Referral.objects.get(pk=referral.pk)
    accepted = AuditEvent.objects.filter(action="referral.accept", object_id=str(referral.public_id))
    if status == 200:
        assert after.status == ReferralStatus.ACCEPTED and accepted.count() == 1
    else:
        assert (after.status, after.version, after.answered_at) == (before.status, before.version, None)
        assert not accepted.exists()
        assert not Notification.objects.filter(topic="referral.answered").exists()


@pytest.mark.parametrize(
    "who,action,body",
    [
        ("office", "decline", {"reason": "x"}),
        ("regulator", "redirect", None),
        ("office", "cancel", {"reason": "x"}),
        ("regulator", "schedule", "tomorrow"),
        ("admin", "decline", {"reason": "x"}),
    ],
)
def test_readers_cannot_act(rw, api, who, action, body):
    referral = submitted(rw)
    if body is None:
        body = {"to_department": str(rw.surgery.public_id), "reason": "x"}
    elif body == "tomorrow":
        body = {"scheduled_for": str(_tomorrow())}
    response = _post(api(rw.world.users()[who]), _url(referral, f"/{action}"), body)
    assert response.status_code == 403, response.content
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.status == ReferralStatus.SUBMITTED and stored.version == referral.version
    assert Referral.objects.count() == 1


@pytest.mark.parametrize(
    "who,status,sees_patient",
    [
        ("anonymous", 401, None),
        ("stranger", 403, None),
        ("outsider_doctor", 404, None),
        ("township_admin", 200, True),
        ("township_doctor", 200, True),
        ("hospital_doctor", 200, True),
        ("hospital_admin", 200, True),
        ("office", 200, False),
        ("regulator", 200, False),
        ("admin", 200, False),
    ],
)
def test_detail_matrix_and_what_each_reader_sees_of_the_patient(rw, api, who, status, sees_patient):
    referral = submitted(rw)
    actor = getattr(rw, who, None) or rw.world.users()[who]
    response = api(actor).get(_url(referral))
    assert response.status_code == status
    text = response.content.decode()
    if status != 200:
        assert "李四" not in text and referral.number not in text
        return
    patient = response.json()["patient"]
    assert patient["visible"] is sees_patient
    if sees_patient:
        assert patient["name"] == "李四" and patient["id_number_masked"] == rw.patient.id_number_masked
    else:
        assert patient == {
            "visible": False,
            "public_id": None,
            "name": "李*",
            "id_number_masked": None,
            "gender": None,
            "gender_label": None,
            "age": None,
        }
        assert "李四" not in text and rw.patient.id_number_masked not in text
        assert str(rw.patient.public_id) not in text
        assert response.json()["available_actions"] == []


def test_only_the_sender_edits_a_draft(rw, api):
    referral = draft(rw)
    for who in ("township_nurse", "hospital_doctor"):
        response = api(getattr(rw, who)).patch(_url(referral), {"reason": "改写"}, format="json")
        assert response.status_code in (403, 404), (who, response.status_code)
    office = api(rw.world.office).patch(_url(referral), {"reason": "改写"}, format="json")
    assert office.status_code == 404  # the office sees referrals once submitted
    assert Referral.objects.get(pk=referral.pk).reason == "血压控制不佳"


# Other actions ---------------------------------------------------------------------------------------


def test_redirect_answers_the_original_naming_its_successor(rw, api):
    referral = submitted(rw)
    response = _post(
        api(rw.hospital_doctor),
        _url(referral, "/redirect"),
        {"to_department": str(rw.surgery.public_id), "reason": "需外科处理"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "redirected" and body["decline_reason"] == "需外科处理"
    successor = Referral.objects.get(redirected_from=referral)
    assert body["redirected_to"] == {
        "public_id": str(successor.public_id),
        "number": successor.number,
        "status": "submitted",
    }
    follow = api(rw.hospital_doctor).get(_url(successor)).json()
    assert follow["redirected_from"]["public_id"] == str(referral.public_id)
    assert follow["to_department"]["public_id"] == str(rw.surgery.public_id)


def test_the_timeline_reads_in_the_requests_language_whoever_wrote_it(rw, api):
    referral = submitted(rw)
    english = api(rw.hospital_doctor, language="en")
    redirect = {"to_department": str(rw.surgery.public_id), "reason": "需外科处理"}
    assert _post(english, _url(referral, "/redirect"), redirect).status_code == 200
    successor = Referral.objects.get(redirected_from=referral)
    # A step written before notes kept their parameters: translated then, shown as stored.
    ReferralEvent.objects.create(
        referral=successor,
        action="submit",
        side=ReferralSide.RECEIVER,
        actor_label="王医生",
        note="由 ZZ0 改派",
    )
    services.referral_sweep_deadlines(
        now=timezone.now() + datetime.timedelta(days=30)
    )  # the system expires it

    def steps(client):
        timeline = client.get(_url(successor)).json()["timeline"]
        return [(step["actor_name"], step["note"]) for step in timeline]

    doctor = rw.hospital_doctor.full_name or rw.hospital_doctor.username
    assert steps(english) == [
        (doctor, f"Redirected from {referral.number}"),
        ("王医生", "由 ZZ0 改派"),
        ("System", "The receiver did not respond in time"),
    ]
    assert steps(api(rw.hospital_doctor)) == [
        (doctor, f"由 {referral.number} 改派"),
        ("王医生", "由 ZZ0 改派"),
        ("系统", "接收方未在时限内响应"),
    ]
    # The reason the doctor typed stays as typed for every reader.
    assert english.get(_url(referral)).json()["timeline"][-1]["note"] == "需外科处理"


def test_cancel_request_is_answered_by_the_receiver(rw, api):
    referral = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    sender, receiver = api(rw.township_doctor), api(rw.hospital_doctor)
    too_late = _post(sender, _url(referral, "/cancel"), {"reason": "患者不去了"})
    assert too_late.status_code == 409
    asked = _post(sender, _url(referral, "/request_cancel"), {"reason": "患者不去了"})
    assert asked.status_code == 200 and asked.json()["status"] == "cancel_requested"
    assert receiver.get(_url(referral)).json()["available_actions"] == ["confirm_cancel", "decline_cancel"]
    refused = _post(receiver, _url(referral, "/decline_cancel"), {"reason": "床位已安排"})
    assert refused.status_code == 200 and refused.json()["status"] == "accepted"
    _post(sender, _url(referral, "/request_cancel"), {"reason": "患者已去他院"})
    confirmed = _post(receiver, _url(referral, "/confirm_cancel"))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "cancelled"


def test_sender_cancels_an_unanswered_referral_and_a_no_show_ends_one(rw, api):
    referral = submitted(rw)
    cancelled = _post(api(rw.township_doctor), _url(referral, "/cancel"), {"reason": "患者转往他院"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["decline_reason"] == "患者转往他院"
    other = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=other, action="accept")
    services.referral_act(
        actor=rw.hospital_doctor, referral=other, action="schedule", scheduled_for=_tomorrow()
    )
    early = _post(api(rw.hospital_coordinator), _url(other, "/no_show"), {"note": "电话未接通"})
    assert early.status_code == 409 and "no_show" not in early.json().get("available_actions", [])
    Referral.objects.filter(pk=other.pk).update(scheduled_for=timezone.localdate())
    gone = _post(api(rw.hospital_coordinator), _url(other, "/no_show"), {"note": "电话未接通"})
    assert gone.status_code == 200 and gone.json()["status"] == "no_show"
    assert gone.json()["timeline"][-1]["note"] == "电话未接通"


def test_schedule_can_book_a_reserved_place(rw, api):
    slot = capacity(rw.cardiology, quantity=1)
    referral = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    response = _post(
        api(rw.hospital_doctor), _url(referral, "/schedule"), {"scheduled_for": str(slot.date), "book": True}
    )
    assert response.status_code == 200, response.content
    assert response.json()["booking"]["public_id"] == str(slot.public_id)
    assert ReservedCapacity.objects.get(pk=slot.pk).booked == 1


# Criteria check -------------------------------------------------------------------------------------


def test_check_shows_the_rule_and_what_is_missing_and_submit_asks_to_acknowledge(rw, api):
    criterion = services.criterion_create(
        actor=rw.world.office,
        consortium=rw.world.consortium,
        name="高血压急症上转",
        category="must_up",
        icd_from="I10",
        icd_to="I15",
        triggers=["血压≥180/110 mmHg 伴剧烈头痛"],
        required_materials=["history", "exam_results", "medications", "ecg"],
        completeness_threshold=70,
        missing_action="warn",
    )
    referral = draft(rw, priority="stat")
    client = api(rw.township_doctor)
    response = client.get(_url(referral, "/check"))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "criterion": {
            "public_id": str(criterion.public_id),
            "name": "高血压急症上转",
            "category": "must_up",
            "category_label": "必须上转",
            "icd_from": "I10",
            "icd_to": "I15",
            "triggers": ["血压≥180/110 mmHg 伴剧烈头痛"],
            "required_materials": ["history", "exam_results", "medications", "ecg"],
            "required_material_labels": ["病史（含外伤史）", "检查检验结果", "用药情况", "心电图"],
            "completeness_threshold": 70,
            "missing_action": "warn",
            "min_stay_days": None,
            "source": "",
            "is_active": True,
        },
        "category_fits": True,
        "met": True,
        "completeness": 75,
        "missing_materials": [{"material": "ecg", "label": "心电图"}],
        "blocks": False,
    }
    refused = _post(client, _url(referral, "/submit"))
    assert refused.status_code == 400
    assert error_of(refused)["fields"]["materials"] == [
        "缺少资料：心电图。确认仍要提交请勾选“资料不全仍提交”。"
    ]
    sent = _post(client, _url(referral, "/submit"), {"acknowledge_missing": True})
    assert sent.status_code == 200, sent.content
    body = sent.json()
    assert body["criteria_met"] is True and body["completeness"] == 75
    assert body["missing_materials"] == [{"material": "ecg", "label": "心电图"}]
    assert body["criterion"]["name"] == "高血压急症上转"


def test_check_outside_the_catalogue_is_empty(rw, api):
    referral = draft(rw)
    body = api(rw.township_doctor).get(_url(referral, "/check")).json()
    assert body["criterion"] is None and body["met"] is None and body["missing_materials"] == []


# Attachments and documents -----------------------------------------------------------------------


def test_attachments_upload_list_and_download_only_for_the_two_ends(rw, api, media_root):
    referral = draft(rw)
    client = api(rw.township_doctor)
    upload = client.post(
        _url(referral, "/attachments"),
        {"material": "ecg", "file": SimpleUploadedFile("心电图.pdf", PDF, content_type="application/pdf")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    body = upload.json()
    assert body["material"] == "ecg" and body["material_label"] == "心电图"
    assert body["original_filename"] == "心电图.pdf" and body["size"] == len(PDF)
    bad = client.post(
        _url(referral, "/attachments"),
        {"material": "history", "file": SimpleUploadedFile("a.pdf", PDF)},
        format="multipart",
    )
    assert bad.status_code == 400 and "material" in error_of(bad)["fields"]
    wrong_type = client.post(
        _url(referral, "/attachments"),
        {"material": "ecg", "file": SimpleUploadedFile("a.exe", b"MZ")},
        format="multipart",
    )
    assert error_of(wrong_type)["fields"] == {"file": ["只能上传 PDF、图片、DICOM、Word 或文本文件。"]}
    assert ReferralAttachment.objects.count() == 1
    services.referral_submit(actor=rw.township_doctor, referral=referral)
    detail = api(rw.hospital_doctor).get(_url(referral)).json()
    assert [a["original_filename"] for a in detail["attachments"]] == ["心电图.pdf"]
    download_url = detail["attachments"][0]["download_url"]
    download = api(rw.hospital_doctor).get(download_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    # The office reads the referral but not the patient's files.
    assert api(rw.world.office).get(_url(referral)).json()["attachments"] == []
    for who in ("office", "outsider_doctor", "regulator"):
        assert api(rw.world.users()[who]).get(download_url).status_code in (403, 404), who
    assert (
        api(rw.world.office)
        .post(
            _url(referral, "/attachments"),
            {"material": "ecg", "file": SimpleUploadedFile("x.pdf", PDF)},
            format="multipart",
        )
        .status_code
        == 403
    )
    assert ReferralAttachment.objects.count() == 1


def test_slip_pdf_and_ws445_for_the_two_ends_only(rw, api):
    referral = submitted(rw)
    slip = api(rw.hospital_doctor).get(_url(referral, "/slip.pdf"), HTTP_ACCEPT="application/pdf")
    assert slip.status_code == 200, slip.content[:200]
    assert slip["Content-Type"] == "application/pdf"
    assert slip.content.startswith(b"%PDF-")
    assert referral.number in slip["Content-Disposition"]
    ws445 = api(rw.township_doctor).get(_url(referral, "/ws445"))
    assert ws445.status_code == 200, ws445.content
    assert "李四" in ws445.content.decode()
    for who in ("office", "regulator"):
        refused = api(rw.world.users()[who]).get(_url(referral, "/slip.pdf"))
        assert refused.status_code == 403
        assert api(rw.world.users()[who]).get(_url(referral, "/ws445")).status_code == 403
    assert api(rw.world.outsider_doctor).get(_url(referral, "/slip.pdf")).status_code == 404


def test_a_technician_may_not_fetch_the_slip_or_the_ws445_export(rw, api):
    technician = user_with_role(
        Role.TECHNICIAN, username="hospital_technician", institution=rw.world.hospital
    )
    referral = submitted(rw)
    assert api(technician).get(_url(referral)).status_code == 200
    assert api(technician).get(_url(referral, "/slip.pdf")).status_code == 403
    assert api(technician).get(_url(referral, "/ws445")).status_code == 403
    assert api(rw.hospital_nurse).get(_url(referral, "/ws445")).status_code == 200


# Lists ------------------------------------------------------------------------------------------


def _clone(referral, count):
    """``count`` copies of a referral row (new numbers and ids), for list sizes without the services."""
    rows = []
    for _ in range(count):
        copy = Referral.objects.get(pk=referral.pk)
        copy.pk = None
        copy.public_id = uuid.uuid4()
        copy.number = f"ZZC{uuid.uuid4().hex[:16]}"
        copy.idempotency_key = ""
        rows.append(copy)
    Referral.objects.bulk_create(rows)


def test_the_inbox_lists_what_still_waits_above_what_has_ended(rw, api):
    routine = submitted(rw)
    emergency = submitted(rw, priority="stat")
    services.referral_act(actor=rw.hospital_doctor, referral=emergency, action="decline", reason="无床位")
    inbox = _results(api(rw.hospital_doctor).get("/api/v1/referrals", {"box": "inbox"}))
    assert [row["number"] for row in inbox] == [routine.number, emergency.number]


def test_inbox_outbox_and_filters(rw, api):
    routine = submitted(rw)
    urgent = submitted(rw, priority="urgent", diagnosis_code="I63.9", diagnosis_name="脑梗死")
    draft(rw, reason="草稿")
    hospital, township = api(rw.hospital_doctor), api(rw.township_doctor)
    inbox = _results(hospital.get("/api/v1/referrals", {"box": "inbox"}))
    assert [row["number"] for row in inbox] == [urgent.number, routine.number]  # most urgent first
    assert _results(township.get("/api/v1/referrals", {"box": "inbox"})) == []
    assert len(_results(township.get("/api/v1/referrals", {"box": "outbox"}))) == 3
    assert len(_results(township.get("/api/v1/referrals", {"status": "draft"}))) == 1
    assert len(_results(township.get("/api/v1/referrals", {"priority": "urgent"}))) == 1
    assert len(_results(township.get("/api/v1/referrals", {"direction": "down"}))) == 0
    assert len(_results(township.get("/api/v1/referrals", {"open": "1"}))) == 2
    for term in ("脑梗", "i63", urgent.number):
        assert [r["number"] for r in _results(township.get("/api/v1/referrals", {"q": term}))] == [
            urgent.number
        ], term
    assert len(_results(township.get("/api/v1/referrals", {"q": "李四"}))) == 3
    today = str(timezone.localdate())
    assert len(_results(township.get("/api/v1/referrals", {"from": today, "to": today}))) == 2
    assert _results(township.get("/api/v1/referrals", {"from": "2020-01-01", "to": "2020-01-31"})) == []
    consortium = str(rw.world.consortium.public_id)
    assert len(_results(api(rw.world.office).get("/api/v1/referrals", {"consortium": consortium}))) == 2
    assert len(_results(hospital.get("/api/v1/referrals", {"department": str(rw.cardiology.public_id)}))) == 2
    bad = township.get("/api/v1/referrals", {"status": "lost", "from": "yesterday"})
    assert bad.status_code == 400
    assert set(error_of(bad)["fields"]) == {"status", "from"}
    backwards = township.get("/api/v1/referrals", {"from": "2026-02-01", "to": "2026-01-01"})
    assert error_of(backwards)["fields"] == {"to": ["结束日期不能早于开始日期。"]}


def test_list_rows_mask_the_patient_for_the_office(rw, api):
    submitted(rw)
    row = _results(api(rw.world.office).get("/api/v1/referrals"))[0]
    assert row["patient"]["name"] == "李*" and row["patient"]["visible"] is False
    assert row["available_actions"] == []
    mine = _results(api(rw.hospital_doctor).get("/api/v1/referrals"))[0]
    assert mine["patient"]["name"] == "李四" and mine["available_actions"] == [
        "accept",
        "decline",
        "redirect",
    ]


@pytest.mark.parametrize(
    "who,params,queries",
    [
        # token, scope, count, the page's keys, its rows (patient, both ends, departments, doctor,
        # consortium joined)
        ("hospital_doctor", {}, 5),
        ("hospital_doctor", {"box": "inbox"}, 5),
        ("township_doctor", {"box": "outbox", "q": "高血压"}, 5),
        ("office", {}, 5),
        ("regulator", {}, 5),
        ("office", {"consortium": "world"}, 6),  # + resolving the consortium filter
    ],
)
def test_list_query_count_does_not_grow(rw, api, django_assert_num_queries, who, params, queries):
    template = submitted(rw)
    _clone(template, 2)
    if params.get("consortium") == "world":
        params = {**params, "consortium": str(rw.world.consortium.public_id)}
    actor = getattr(rw, who, None) or rw.world.users()[who]
    client = api(actor)
    with django_assert_num_queries(queries):
        few = _results(client.get("/api/v1/referrals", params))
    assert len(few) == 3
    _clone(template, 27)
    with django_assert_num_queries(queries):
        many = _results(client.get("/api/v1/referrals", {**params, "page_size": 50}))
    assert len(many) == 30


def test_the_api_inbox_is_the_requesters_department_unless_scope_institution(
    rw, api, django_assert_num_queries
):
    cardiologist = user_with_role(
        Role.DOCTOR, username="cardiologist", institution=rw.world.hospital, department=rw.cardiology
    )
    to_cardiology = submitted(rw)
    to_surgery = submitted(rw, to_department=rw.surgery)
    client = api(cardiologist)
    with django_assert_num_queries(5):
        own = _results(client.get("/api/v1/referrals", {"box": "inbox"}))
    assert [row["number"] for row in own] == [to_cardiology.number]
    with django_assert_num_queries(5):
        whole = _results(client.get("/api/v1/referrals", {"box": "inbox", "scope": "institution"}))
    assert {row["number"] for row in whole} == {to_cardiology.number, to_surgery.number}
    coordinator = _results(api(rw.hospital_coordinator).get("/api/v1/referrals", {"box": "inbox"}))
    assert len(coordinator) == 2
    bad = client.get("/api/v1/referrals", {"box": "inbox", "scope": "ward"})
    assert bad.status_code == 400


def test_detail_query_count(rw, api, django_assert_num_queries):
    referral = submitted(rw)
    client = api(rw.hospital_doctor)
    # token, scope, referral (ends, patient, doctor, consortium joined), timeline, attachments, duties
    with django_assert_num_queries(6):
        assert client.get(_url(referral)).status_code == 200


def test_prefer_return_minimal_answers_the_state_alone(rw, api, django_assert_num_queries):
    referral = submitted(rw)
    client = api(rw.hospital_doctor)
    # token, scope, visibility, lock (ends, doctor, consortium joined), update, notification, timeline
    # step, audit event; nothing is read back for the answer.
    with django_assert_num_queries(10):
        accepted = _post(client, _url(referral, "/accept"), HTTP_PREFER="return=minimal")
    assert accepted.status_code == 200, accepted.content
    assert accepted["Preference-Applied"] == "return=minimal" and accepted["ETag"] == '"3"'
    assert set(accepted.json()) == {"public_id", "number", "status", "version", "updated_at"}
    assert accepted.json()["status"] == "accepted" and accepted.json()["version"] == 3
    # Without the preference (or on a read) the full detail comes back.
    full = _post(client, _url(referral, "/schedule"), {"scheduled_for": str(_tomorrow())})
    assert "timeline" in full.json() and "Preference-Applied" not in full
    read = client.get(_url(referral), HTTP_PREFER="return=minimal")
    assert "timeline" in read.json()
    sender = api(rw.township_doctor)
    sender.get("/api/v1/notifications/unread-count")  # the token's last use is recorded once a minute
    # token, scope, the four references (patient, institution, two departments), idempotency key,
    # patient visibility, consortium, number, insert (own savepoint), create step and audit, catalogue,
    # settings, contract, update, patient link, submit step and audit, recipients, notifications;
    # nothing is read back for the answer (each field of it was once a query of its own).
    with django_assert_num_queries(26):
        created = sender.post(
            "/api/v1/referrals", _payload(rw, submit=True), format="json", HTTP_PREFER="return=minimal"
        )
    assert created.status_code == 201 and created.json()["status"] == "submitted"
    assert "timeline" not in created.json()
    assert created.json()["number"] == Referral.objects.get(public_id=created.json()["public_id"]).number


def test_a_number_taken_meanwhile_is_retried_not_refused(rw, api, monkeypatch):
    """Two senders creating at once read the same last number; the loser takes the next one (the bench
    showed one create in five refused with 409 at four concurrent clients on PostgreSQL)."""
    from yilian.referrals.services import _common

    taken = draft(rw)
    real = _common.next_number
    answers = iter([taken.number])
    monkeypatch.setattr(_common, "next_number", lambda skip=0: next(answers, None) or real(skip))
    response = api(rw.township_doctor).post("/api/v1/referrals", _payload(rw, submit=True), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["number"] not in ("", taken.number)
    assert Referral.objects.count() == 2


def test_every_user_action_of_the_workflow_has_a_route():
    from django.urls import reverse

    from yilian.referrals import workflow
    from yilian.referrals.api.views import ACTION_VIEWS

    assert set(ACTION_VIEWS) == set(workflow.USER_ACTIONS)
    some_id = uuid.uuid4()
    for action in workflow.USER_ACTIONS:
        url = reverse(f"api-referral-{action.replace('_', '-')}", kwargs={"public_id": some_id})
        assert url == f"/api/v1/referrals/{some_id}/{action}"
