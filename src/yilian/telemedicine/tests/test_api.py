"""Teleconsultation API: create (idempotent), every action over HTTP, who may do what, bad input,
versions, what each reader sees of the patient, free times, availability, charges, fees, statistics
and the query counts of every list."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yilian.core.api.testing import api_client, error_of
from yilian.telemedicine.models import ExpertAvailability, Teleconsultation, TeleconsultationAttachment
from yilian.telemedicine.tests.factories import advance, later, requested, session_started, slot, tele_world

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LIST = "/api/v1/teleconsultations"


@pytest.fixture
def tw(world):
    return tele_world(world)


def _url(tc, suffix=""):
    return f"{LIST}/{tc.public_id}{suffix}"


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _payload(tw, **overrides):
    data = {
        "kind": "consultation",
        "person": str(tw.patient.public_id),
        "inviting_institution": str(tw.world.township.public_id),
        "inviting_department": str(tw.township_clinic.public_id),
        "invited_institution": str(tw.world.hospital.public_id),
        "required_specialty": "03",
        "required_title": "associate_chief_physician",
        "reason": "血压控制不佳，伴胸闷",
        "purpose": "明确诊断",
        "proposed_at": later(48).isoformat(),
        "case_summary": "高血压病史 10 年。",
        "diagnosis_code": "I10",
        "diagnosis_name": "原发性高血压",
        "consent_signer_name": "李四",
        "consent_relationship": "patient",
        "consent_signed_at": timezone.now().isoformat(),
    }
    data.update(overrides)
    return data


def _post(client, url, data=None, **headers):
    return client.post(url, data or {}, format="json", **headers)


def test_full_flow_over_http(tw):
    doctor = api_client(tw.township_doctor)
    created = _post(doctor, LIST, _payload(tw), HTTP_IDEMPOTENCY_KEY="abc")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "requested" and body["fee_amount"] == "300.00" and created["ETag"] == '"1"'
    again = _post(doctor, LIST, _payload(tw), HTTP_IDEMPOTENCY_KEY="abc")
    assert again.status_code == 200 and again.json()["public_id"] == body["public_id"]
    tc = Teleconsultation.objects.get(public_id=body["public_id"])
    coordinator = api_client(tw.coordinator)
    assert _results(coordinator.get(LIST, {"box": "incoming"}))[0]["available_actions"] == [
        "accept",
        "decline",
    ]
    accepted = _post(
        coordinator, _url(tc, "/accept"), {"expert": str(tw.expert.public_id)}, HTTP_IF_MATCH='"1"'
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["expert"]["name"] == "王主任"
    free = slot(tw)
    scheduled = _post(
        coordinator,
        _url(tc, "/schedule"),
        {
            "availability": str(free.public_id),
            "meeting_link": "https://meet.example.cn/r/1",
            "expected_version": 2,
        },
    )
    assert scheduled.status_code == 200, scheduled.content
    expert = api_client(tw.expert)
    assert [row["number"] for row in _results(expert.get(LIST, {"box": "assigned"}))] == [tc.number]
    early = _post(expert, _url(tc, "/sign_opinion"), {"opinion": "建议调整用药。"})
    assert early.status_code == 400 and "scheduled_at" in early.content.decode()
    session_started(tc)
    signed = _post(expert, _url(tc, "/sign_opinion"), {"opinion": "建议调整用药。"})
    assert signed.status_code == 200 and signed.json()["opinion_signed_by_name"] == "王主任"
    twice = _post(expert, _url(tc, "/sign_opinion"), {"opinion": "再签"})
    assert twice.status_code == 409 and error_of(twice)["code"] == "conflict"
    concluded = _post(
        doctor,
        _url(tc, "/conclude"),
        {"decision": "上转", "outcome": "referred", "referral_to_department": str(tw.cardiology.public_id)},
    )
    assert concluded.status_code == 200, concluded.content
    assert concluded.json()["status"] == "concluded" and concluded.json()["referral"]["status"] == "submitted"
    assert [e["action"] for e in concluded.json()["timeline"]] == [
        "create",
        "accept",
        "schedule",
        "sign_opinion",
        "conclude",
    ]
    charges = _results(api_client(tw.world.hospital_admin).get("/api/v1/teleconsultation-charges"))
    assert [(c["direction"], c["amount"]) for c in charges] == [("receivable", "300.00")]
    stats = api_client(tw.world.office).get("/api/v1/teleconsultation-statistics")
    assert stats.status_code == 200 and stats.json()["total"] == 1 and stats.json()["kept_local_share"] == 0.0


def test_stale_version_and_minimal_answer(tw):
    tc = requested(tw)
    client = api_client(tw.coordinator)
    stale = _post(client, _url(tc, "/decline"), {"reason": "忙"}, HTTP_IF_MATCH='"7"')
    assert stale.status_code == 409
    minimal = _post(client, _url(tc, "/decline"), {"reason": "忙"}, HTTP_PREFER="return=minimal")
    assert minimal.status_code == 200 and set(minimal.json()) == {
        "public_id",
        "number",
        "status",
        "version",
        "updated_at",
    }
    assert minimal["ETag"] == '"2"'


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent_signer_name": ""}, "consent_signer_name"),
        ({"diagnosis_code": "ZZZ9"}, "diagnosis_code"),
        ({"proposed_at": (timezone.now() - datetime.timedelta(days=1)).isoformat()}, "proposed_at"),
        ({"required_title": "chief_nurse"}, "required_title"),
        ({"invited_institution": str(uuid.uuid4())}, "invited_institution"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_a_field_error(tw, overrides, field):
    response = _post(api_client(tw.township_doctor), LIST, _payload(tw, **overrides))
    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"]
    assert not Teleconsultation.objects.exists()


def test_bad_action_input(tw):
    tc = requested(tw)
    client = api_client(tw.coordinator)
    junior = _post(client, _url(tc, "/accept"), {"expert": str(tw.junior.public_id)})
    assert junior.status_code == 400 and "expert" in error_of(junior)["fields"]
    outsider = _post(client, _url(tc, "/accept"), {"expert": str(tw.township_doctor.public_id)})
    assert outsider.status_code == 400 and "expert" in error_of(outsider)["fields"]
    missing = _post(client, _url(tc, "/accept"), {})
    assert missing.status_code == 400 and "expert" in error_of(missing)["fields"]
    advance(tw, tc, "accept")
    link = _post(
        client, _url(tc, "/schedule"), {"scheduled_at": later(5).isoformat(), "meeting_link": "ftp://x"}
    )
    assert link.status_code == 400 and "meeting_link" in error_of(link)["fields"]
    assert Teleconsultation.objects.get(pk=tc.pk).status == "accepted"


EXPECTED = {
    # who: (list status, rows seen, detail status, patient visible)
    "anonymous": (401, None, 401, None),
    "stranger": (403, None, 403, None),
    "outsider_doctor": (200, 0, 404, None),
    "township_doctor": (200, 1, 200, True),
    "coordinator": (200, 1, 200, True),
    "junior": (200, 0, 404, None),
    "expert": (200, 1, 200, True),
    "office": (200, 1, 200, False),
    "regulator": (200, 1, 200, False),
    "admin": (200, 1, 200, False),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_authorization_matrix(tw, who, world):
    tc = advance(tw, requested(tw), "accept")
    users = {**world.users(), "township_doctor": tw.township_doctor, "coordinator": tw.coordinator}
    users.update(junior=tw.junior, expert=tw.expert)
    client = api_client(users[who])
    list_status, rows, detail_status, visible = EXPECTED[who]
    listed = client.get(LIST)
    assert listed.status_code == list_status
    if rows is not None:
        assert len(listed.json()["results"]) == rows
    detail = client.get(_url(tc))
    assert detail.status_code == detail_status
    if visible is not None:
        patient = detail.json()["patient"]
        assert patient["visible"] is visible
        assert patient["name"] == ("李四" if visible else "李*")
        assert (detail.json()["clinical"] is not None) is visible
    # Nobody but the invited coordinators may answer; readers change nothing.
    before = Teleconsultation.objects.get(pk=tc.pk).version
    answered = _post(client, _url(tc, "/schedule"), {"scheduled_at": later(5).isoformat()})
    if who == "coordinator":
        assert answered.status_code == 200
    else:
        assert answered.status_code in (401, 403, 404)
        assert Teleconsultation.objects.get(pk=tc.pk).version == before


def test_attachments_upload_and_download(tw):
    tc = requested(tw)
    doctor = api_client(tw.township_doctor)
    upload = doctor.post(
        _url(tc, "/attachments"),
        {"kind": "imaging", "file": SimpleUploadedFile("ct.pdf", PDF)},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    bad = doctor.post(
        _url(tc, "/attachments"),
        {"kind": "imaging", "file": SimpleUploadedFile("x.exe", b"MZ")},
        format="multipart",
    )
    assert bad.status_code == 400 and "file" in error_of(bad)["fields"]
    attachment = TeleconsultationAttachment.objects.get()
    url = f"/api/v1/teleconsultation-attachments/{attachment.public_id}/download"
    assert doctor.get(url).status_code == 200
    assert api_client(tw.world.office).get(url).status_code == 404
    assert api_client(tw.junior).get(url).status_code == 404


def test_free_times_and_availability(tw):
    free = slot(tw)
    slot(tw, expert=tw.junior, hours=40)
    doctor = api_client(tw.township_doctor)
    found = _results(
        doctor.get(
            "/api/v1/teleconsultations/free-times",
            {
                "institution": str(tw.world.hospital.public_id),
                "specialty": "03",
                "title": "associate_chief_physician",
            },
        )
    )
    assert [row["public_id"] for row in found] == [str(free.public_id)]
    expert = api_client(tw.expert)
    start = later(100)
    published = _post(
        expert,
        "/api/v1/teleconsultation-availability",
        {
            "institution": str(tw.world.hospital.public_id),
            "starts_at": start.isoformat(),
            "ends_at": (start + datetime.timedelta(hours=1)).isoformat(),
        },
    )
    assert published.status_code == 201, published.content
    overlap = _post(
        api_client(tw.coordinator),
        "/api/v1/teleconsultation-availability",
        {
            "institution": str(tw.world.hospital.public_id),
            "expert": str(tw.expert.public_id),
            "starts_at": start.isoformat(),
            "ends_at": (start + datetime.timedelta(hours=2)).isoformat(),
        },
    )
    assert overlap.status_code == 400
    assert len(_results(expert.get("/api/v1/teleconsultation-availability"))) == 2
    gone = expert.delete(f"/api/v1/teleconsultation-availability/{published.json()['public_id']}")
    assert gone.status_code == 204
    foreign = api_client(tw.junior).delete(f"/api/v1/teleconsultation-availability/{free.public_id}")
    assert foreign.status_code == 404
    assert ExpertAvailability.objects.count() == 2


def test_fees_by_the_office(tw, world, django_assert_num_queries):
    url = f"/api/v1/consortia/{world.consortium.public_id}/teleconsultation-fees"
    body = {"fees": [{"kind": "reading", "amount": "120.00"}]}
    assert api_client(world.hospital_admin).put(url, body, format="json").status_code == 403
    response = api_client(world.office).put(url, body, format="json")
    assert response.status_code == 200, response.content
    assert {row["kind"]: row["amount"] for row in response.json()} == {
        "consultation": "300.00",
        "reading": "120.00",
    }
    reader = api_client(tw.township_doctor)
    # token, scope, consortium, fees (agreement joined): the same whatever the number of kinds
    with django_assert_num_queries(4):
        assert len(reader.get(url).json()) == 2
    assert api_client(tw.township_doctor).get("/api/v1/teleconsultation-statistics").status_code == 403
    assert api_client(tw.township_doctor).get("/api/v1/teleconsultation-charges").status_code == 403


def _clone(template, count):
    for _ in range(count):
        template.pk = None
        template.public_id = uuid.uuid4()
        template.number = f"YC{uuid.uuid4().hex[:12]}"
        template.idempotency_key = ""
        template.save(force_insert=True)


@pytest.mark.parametrize(
    ("who", "params", "queries"),
    [
        ("township_doctor", {"box": "outgoing"}, 4),
        ("coordinator", {"box": "incoming"}, 4),
        ("expert", {"box": "assigned"}, 4),
        ("office", {}, 4),
        ("admin", {}, 4),
    ],
)
def test_list_query_count_does_not_grow(tw, world, django_assert_num_queries, who, params, queries):
    template = advance(tw, requested(tw), "accept")
    _clone(template, 2)
    users = {
        **world.users(),
        "township_doctor": tw.township_doctor,
        "coordinator": tw.coordinator,
        "expert": tw.expert,
    }
    client = api_client(users[who])
    # token, scope, count, page (patient, ends, doctor, expert, consortium joined)
    with django_assert_num_queries(queries):
        few = _results(client.get(LIST, params))
    assert len(few) == 3
    _clone(template, 27)
    with django_assert_num_queries(queries):
        many = _results(client.get(LIST, {**params, "page_size": 50}))
    assert len(many) == 30


@pytest.mark.parametrize(
    ("url", "who", "queries"),
    [
        ("/api/v1/teleconsultation-charges", "office", 4),
        ("/api/v1/teleconsultation-availability", "coordinator", 4),
        ("/api/v1/teleconsultations/free-times", "township_doctor", 4),
    ],
)
def test_other_lists_query_counts(tw, world, django_assert_num_queries, url, who, queries):
    users = {"office": world.office, "coordinator": tw.coordinator, "township_doctor": tw.township_doctor}
    client = api_client(users[who])

    def grow(start: int) -> None:
        for hours in range(start, start + 3):
            slot(tw, hours=hours * 2)
        advance(tw, requested(tw), "sign_opinion")

    grow(30)
    # token, scope, count, page (everything it renders joined)
    with django_assert_num_queries(queries):
        few = _results(client.get(url))
    grow(40)
    grow(50)
    with django_assert_num_queries(queries):
        many = _results(client.get(url))
    assert len(many) > len(few) >= 2


def test_detail_query_count(tw, django_assert_num_queries):
    tc = advance(tw, requested(tw), "accept")
    client = api_client(tw.coordinator)
    # token, scope, teleconsultation (joined), timeline, attachments
    with django_assert_num_queries(5):
        assert client.get(_url(tc)).status_code == 200
