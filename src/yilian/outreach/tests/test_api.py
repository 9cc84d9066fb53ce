"""The outreach API: the flows end to end, the authorization matrix, bad input, 409s, masking, query counts."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yilian.core.api.testing import api_client
from yilian.outreach.models import ClinicBooking, OutreachBatch, OutreachVisit
from yilian.outreach.tests.factories import batch, done_batch, outreach_world, session, today, visit

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def ow(world):
    return outreach_world(world)


def _users(ow):
    return {**ow.world.users(), "expert": ow.expert, "township_doctor": ow.township_doctor}


def test_batch_flow_through_the_api(ow, world):
    admin = api_client(world.hospital_admin)
    start = today() - datetime.timedelta(days=2)
    response = admin.post(
        f"{API}/outreach-batches",
        {
            "sending_institution": str(world.hospital.public_id),
            "host_institution": str(world.township.public_id),
            "starts_on": str(start),
            "ends_on": str(start),
            "purpose": "心内科坐诊",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    public_id, version = body["public_id"], body["version"]
    response = admin.post(
        f"{API}/outreach-batches/{public_id}/visits",
        {
            "expert": str(ow.expert.public_id),
            "kind": "clinic",
            "visit_on": str(start),
            "sessions": 2,
            "patients_seen": 31,
            "expected_version": version,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["visits"][0]["patients_seen"] == 31
    response = admin.post(f"{API}/outreach-batches/{public_id}/complete", {"summary": "顺利"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "done"
    township = api_client(world.township_admin)
    assert township.get(f"{API}/outreach-batches/{public_id}").json()["actions"] == ["confirm", "return"]
    stale = township.post(
        f"{API}/outreach-batches/{public_id}/confirm", {"expected_version": 1}, format="json"
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    response = township.post(f"{API}/outreach-batches/{public_id}/confirm", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    assert [s["action"] for s in response.json()["timeline"]] == [
        "create",
        "visit_add",
        "complete",
        "confirm",
    ]


def test_batch_bad_input_is_400_with_fields_and_nothing_saved(ow, world):
    admin = api_client(world.hospital_admin)
    response = admin.post(
        f"{API}/outreach-batches",
        {
            "sending_institution": str(world.hospital.public_id),
            "host_institution": str(world.outsider.public_id),
            "starts_on": str(today()),
            "ends_on": str(today() - datetime.timedelta(days=3)),
            "purpose": "x",
        },
        format="json",
    )
    assert response.status_code == 400
    assert {"host_institution", "ends_on"} <= set(response.json()["error"]["fields"])
    b = batch(ow)
    response = admin.post(
        f"{API}/outreach-batches/{b.public_id}/visits",
        {"expert": str(ow.township_doctor.public_id), "kind": "clinic", "visit_on": str(b.starts_on)},
        format="json",
    )
    assert response.status_code == 400 and "expert" in response.json()["error"]["fields"]
    response = admin.post(
        f"{API}/outreach-batches/{b.public_id}/visits",
        {
            "expert": str(ow.expert.public_id),
            "kind": "clinic",
            "visit_on": str(b.starts_on),
            "hazards_found": 1,
            "hazards_fixed": 4,
        },
        format="json",
    )
    assert response.status_code == 400 and "hazards_fixed" in response.json()["error"]["fields"]
    assert not OutreachVisit.objects.exists()
    assert OutreachBatch.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 404),
        ("hospital_doctor", 200),
        ("hospital_admin", 200),
        ("township_admin", 200),
        ("township_doctor", 200),
        ("office", 200),
        ("regulator", 200),
        ("admin", 200),
    ],
)
def test_batch_detail_matrix(ow, world, who, status):
    b = done_batch(ow)
    response = api_client(_users(ow)[who]).get(f"{API}/outreach-batches/{b.public_id}")
    assert response.status_code == status, response.content


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("stranger", 403),
        ("outsider_doctor", 404),
        ("hospital_doctor", 403),
        ("hospital_admin", 403),
        ("township_doctor", 403),
        ("office", 403),
        ("regulator", 403),
        ("admin", 403),
        ("township_admin", 200),
    ],
)
def test_confirm_matrix(ow, world, who, status):
    b = done_batch(ow)
    response = api_client(_users(ow)[who]).post(
        f"{API}/outreach-batches/{b.public_id}/confirm", {}, format="json"
    )
    assert response.status_code == status, response.content


def test_posting_api_and_indicator(ow, world):
    admin = api_client(world.hospital_admin)
    start = today() - datetime.timedelta(days=10)
    response = admin.post(
        f"{API}/outreach-postings",
        {
            "expert": str(ow.expert.public_id),
            "home_institution": str(world.hospital.public_id),
            "host_institution": str(world.township.public_id),
            "planned_start": str(start),
            "planned_end": str(start + datetime.timedelta(days=100)),
        },
        format="json",
    )
    assert response.status_code == 400 and "planned_end" in response.json()["error"]["fields"]
    response = admin.post(
        f"{API}/outreach-postings",
        {
            "expert": str(ow.expert.public_id),
            "home_institution": str(world.hospital.public_id),
            "host_institution": str(world.township.public_id),
            "planned_start": str(start),
            "planned_end": str(start + datetime.timedelta(days=365)),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    public_id = response.json()["public_id"]
    assert response.json()["title_at_posting"] == "chief_physician"
    response = api_client(world.township_admin).post(
        f"{API}/outreach-postings/{public_id}/start", {"date": str(start)}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "active"
    response = api_client(world.office).get(
        f"{API}/outreach-posting-indicator",
        {"year": start.year, "consortium": str(world.consortium.public_id)},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["postings_counted"] == 1 and body["postings"][0]["counted"] is True
    assert (
        api_client(ow.expert).get(f"{API}/outreach-posting-indicator", {"year": start.year}).status_code
        == 403
    )
    assert (
        api_client(world.office)
        .post(f"{API}/outreach-postings/{public_id}/end", {"date": str(today())}, format="json")
        .status_code
        == 403
    )


def test_booking_api_masks_and_conflicts(ow, world):
    s = session(ow)
    slot = s.slots.order_by("starts_at").first()
    doctor = api_client(ow.township_doctor)
    url = f"{API}/expert-clinic-slots/{slot.public_id}/booking"
    response = doctor.post(url, {"person": str(ow.resident.public_id), "note": "复诊"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["person"]["name"] == "张三"
    again = api_client(ow.township_nurse).post(url, {"person": str(ow.resident2.public_id)}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    office = api_client(world.office).get(f"{API}/expert-clinic-sessions/{s.public_id}").json()
    booked = [x for x in office["slots"] if x["booking"]]
    assert booked[0]["booking"]["person"] == {"visible": False, "public_id": None, "name": "张*"}
    assert booked[0]["booking"]["note"] == ""
    own = doctor.get(f"{API}/expert-clinic-sessions/{s.public_id}").json()
    assert next(x for x in own["slots"] if x["booking"])["booking"]["person"]["name"] == "张三"
    # The office cannot book, nor can a resident nobody there sees be booked.
    other_slot = s.slots.order_by("starts_at").last()
    assert api_client(world.office).post(
        f"{API}/expert-clinic-slots/{other_slot.public_id}/booking",
        {"person": str(ow.resident2.public_id)},
        format="json",
    ).status_code in (400, 403)
    assert ClinicBooking.objects.count() == 1
    booking_id = response.json()["public_id"]
    response = doctor.post(f"{API}/expert-clinic-bookings/{booking_id}/cancel", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_publish_and_cancel_session_api(ow, world):
    expert = api_client(ow.expert)
    start = (datetime.datetime.now().astimezone() + datetime.timedelta(days=3)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    response = expert.post(
        f"{API}/expert-clinic-sessions",
        {
            "expert": str(ow.expert.public_id),
            "host_institution": str(world.township.public_id),
            "starts_at": start.isoformat(),
            "ends_at": (start + datetime.timedelta(hours=2)).isoformat(),
            "slot_minutes": 20,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["slots"]) == 6
    public_id = response.json()["public_id"]
    assert (
        expert.post(f"{API}/expert-clinic-sessions/{public_id}/cancel", {}, format="json").status_code == 400
    )
    response = expert.post(
        f"{API}/expert-clinic-sessions/{public_id}/cancel", {"reason": "出差"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_report_and_export(ow, world):
    done_batch(ow, confirmed=True)
    b = batch(ow)
    visit(ow, b, kind="lecture", sessions=1, attendees=50, patients_seen=0)
    visit(
        ow,
        b,
        expert=ow.junior,
        kind="quality",
        sessions=1,
        hazards_found=3,
        hazards_fixed=2,
        home_department=None,
        patients_seen=0,
    )
    from yilian.outreach import services

    services.batch_act(actor=world.hospital_admin, batch=b, action="complete")
    response = api_client(world.office).get(
        f"{API}/outreach-report", {"year": today().year, "consortium": str(world.consortium.public_id)}
    )
    assert response.status_code == 200, response.content
    rows = response.json()["rows"]
    township = next(r for r in rows if r["institution"] == world.township.name)["values"]
    assert township["batches"] == 2 and township["confirmed_batches"] == 1
    assert township["person_times"] == 3
    assert township["clinic_sessions"] == 2 and township["patients_seen"] == 30
    assert township["lectures"] == 1 and township["attendees"] == 50
    assert (
        township["quality_supervisions"] == 1
        and township["hazards_found"] == 3
        and township["hazards_fixed"] == 2
    )
    assert rows[-1]["institution"] == ""
    export = api_client(world.office).get(f"{API}/outreach-report/export", {"year": today().year})
    assert export.status_code == 200 and export.content[:2] == b"PK"
    assert api_client(ow.expert).get(f"{API}/outreach-report", {"year": today().year}).status_code == 403
    stats = api_client(world.office).get(f"{API}/outreach-statistics").json()
    assert stats["batches"] == 2 and stats["person_times"] == 3


def _clone_batches(template, count):
    visits = list(template.visits.all())
    for _ in range(count):
        template.pk = None
        template.public_id = uuid.uuid4()
        template.number = f"XT{uuid.uuid4().hex[:12]}"
        template.save(force_insert=True)
        for v in visits:
            v.pk = None
            v.public_id = uuid.uuid4()
            v.batch = template
            v.save(force_insert=True)


def _count(client, url, params):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(context.captured_queries), response.json()


@pytest.mark.parametrize(
    "who", ["hospital_admin", "township_admin", "office", "regulator", "expert", "admin"]
)
def test_batch_list_query_count_does_not_grow(ow, world, who):
    template = done_batch(ow)
    _clone_batches(OutreachBatch.objects.get(pk=template.pk), 2)
    client = api_client(_users(ow)[who])
    few, body = _count(client, f"{API}/outreach-batches", {})
    assert len(body["results"]) == 3
    _clone_batches(OutreachBatch.objects.get(pk=template.pk), 27)
    many, body = _count(client, f"{API}/outreach-batches", {"page_size": 50})
    assert len(body["results"]) == 30
    assert few == many


def test_session_and_booking_lists_query_counts(ow, world):
    s = session(ow, length=120)
    from yilian.outreach import services

    client = api_client(ow.township_doctor)
    slots = list(s.slots.order_by("starts_at"))
    services.booking_create(actor=ow.township_doctor, slot=slots[0], person=ow.resident)
    few_sessions, _ = _count(client, f"{API}/expert-clinic-sessions", {})
    few_bookings, _ = _count(client, f"{API}/expert-clinic-bookings", {})
    from yilian.people.tests.factories import person

    for i, slot in enumerate(slots[1:6]):
        services.booking_create(
            actor=ow.township_doctor, slot=slot, person=person(f"居民{i}", institution=world.township)
        )
    for hours in (96, 120, 144):
        session(ow, hours=hours)
    many_sessions, body = _count(client, f"{API}/expert-clinic-sessions", {})
    assert len(body["results"]) == 4
    many_bookings, body = _count(client, f"{API}/expert-clinic-bookings", {})
    assert len(body["results"]) == 6
    assert (few_sessions, few_bookings) == (many_sessions, many_bookings)


def test_visit_patch_and_delete(ow, world):
    b = batch(ow)
    v = visit(ow, b)
    admin = api_client(world.hospital_admin)
    response = admin.patch(f"{API}/outreach-visits/{v.public_id}", {"patients_seen": 44}, format="json")
    assert response.status_code == 200 and response.json()["patients_seen"] == 44
    response = admin.patch(f"{API}/outreach-visits/{v.public_id}", {"hazards_fixed": 3}, format="json")
    assert response.status_code == 400 and "hazards_fixed" in response.json()["error"]["fields"]
    assert api_client(world.township_admin).delete(f"{API}/outreach-visits/{v.public_id}").status_code == 403
    assert admin.delete(f"{API}/outreach-visits/{v.public_id}").status_code == 204
    assert not OutreachVisit.objects.exists()
