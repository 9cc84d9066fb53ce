"""Dispatch batches: recording, visits, the workflow, bad input, visibility."""

from __future__ import annotations

import datetime

import pytest

from yilian.core.exceptions import Conflict, Invalid, NotAllowed, NotFound
from yilian.core.models import AuditEvent
from yilian.notifications.models import Notification
from yilian.outreach import selectors, services
from yilian.outreach.models import OutreachBatch, OutreachEvent, OutreachVisit
from yilian.outreach.tests.factories import batch, done_batch, outreach_world, today, visit

pytestmark = pytest.mark.django_db


def test_the_whole_workflow_with_timeline_audit_and_notification(world):
    ow = outreach_world(world)
    b = batch(ow)
    assert b.number.startswith("XC") and b.status == "planned" and b.consortium == world.consortium
    visit(ow, b)
    visit(ow, b, expert=ow.junior, kind="lecture", sessions=1, attendees=40, home_department=None)
    services.batch_act(actor=world.hospital_admin, batch=b, action="complete", summary="完成坐诊与讲座")
    b.refresh_from_db()
    assert b.status == "done" and b.summary == "完成坐诊与讲座"
    assert Notification.objects.filter(recipient=world.township_admin, topic="outreach").exists()
    services.batch_act(actor=world.township_admin, batch=b, action="confirm")
    b.refresh_from_db()
    assert b.status == "confirmed" and b.confirmed_by == world.township_admin
    actions = list(OutreachEvent.objects.filter(batch=b).values_list("action", flat=True))
    assert actions == ["create", "visit_add", "visit_add", "complete", "confirm"]
    assert AuditEvent.objects.filter(action="outreach_batch.confirm", object_id=str(b.public_id)).count() == 1
    # Confirmed: nothing can be changed any more.
    with pytest.raises(Conflict):
        visit(ow, b)


def test_member_returns_a_done_batch_with_a_reason(world):
    ow = outreach_world(world)
    b = done_batch(ow)
    with pytest.raises(Invalid) as error:
        services.batch_act(actor=world.township_admin, batch=b, action="return", note="")
    assert "note" in error.value.errors
    services.batch_act(actor=world.township_admin, batch=b, action="return", note="诊疗人次有误")
    b.refresh_from_db()
    assert b.status == "planned" and b.cancel_reason == "诊疗人次有误"
    assert Notification.objects.filter(recipient=world.hospital_admin, topic="outreach").exists()


def test_wrong_sides_are_refused(world):
    ow = outreach_world(world)
    b = done_batch(ow)
    with pytest.raises(NotAllowed):
        services.batch_act(actor=world.hospital_admin, batch=b, action="confirm")
    with pytest.raises(NotAllowed):
        services.batch_act(actor=ow.township_doctor, batch=b, action="confirm")
    with pytest.raises(NotAllowed):
        services.batch_act(actor=world.office, batch=b, action="confirm")
    with pytest.raises(Conflict):
        services.batch_act(actor=world.hospital_admin, batch=b, action="cancel", note="x")


def test_stale_version_is_a_conflict(world):
    ow = outreach_world(world)
    b = done_batch(ow)
    with pytest.raises(Conflict):
        services.batch_act(actor=world.township_admin, batch=b, action="confirm", expected_version=1)


def test_bad_batch_input_saves_nothing(world):
    ow = outreach_world(world)
    with pytest.raises(Invalid) as error:
        services.batch_create(
            actor=world.hospital_admin,
            sending_institution=world.hospital,
            host_institution=world.outsider,
            starts_on=today(),
            ends_on=today() - datetime.timedelta(days=1),
            purpose="",
        )
    assert set(error.value.errors) == {"host_institution", "ends_on", "purpose"}
    with pytest.raises(Invalid) as error:
        services.batch_create(
            actor=world.hospital_admin,
            sending_institution=world.hospital,
            host_institution=world.township,
            starts_on=today(),
            ends_on=today() + datetime.timedelta(days=40),
            purpose="x",
        )
    assert "ends_on" in error.value.errors
    with pytest.raises(Invalid) as error:
        services.batch_create(
            actor=world.township_admin,
            sending_institution=world.township,
            host_institution=world.hospital,
            starts_on=today(),
            ends_on=today(),
            purpose="x",
        )
    assert "sending_institution" in error.value.errors
    with pytest.raises(NotAllowed):
        services.batch_create(
            actor=world.township_admin,
            sending_institution=world.hospital,
            host_institution=world.township,
            starts_on=today(),
            ends_on=today(),
            purpose="x",
        )
    assert not OutreachBatch.objects.exists()
    assert ow


def test_bad_visit_input_saves_nothing(world):
    ow = outreach_world(world)
    b = batch(ow)
    with pytest.raises(Invalid) as error:
        services.visit_add(
            actor=world.hospital_admin,
            batch=b,
            expert=ow.township_doctor,
            kind="dance",
            visit_on=b.starts_on - datetime.timedelta(days=1),
            sessions=0,
            patients_seen=-1,
            hazards_found=2,
            hazards_fixed=5,
        )
    assert {"expert", "kind", "visit_on", "patients_seen", "hazards_fixed"} <= set(error.value.errors)
    with pytest.raises(Invalid):
        services.visit_add(
            actor=world.hospital_admin,
            batch=b,
            expert=ow.expert,
            kind="clinic",
            visit_on=b.starts_on,
            sessions=0,
        )
    assert not OutreachVisit.objects.exists()
    with pytest.raises(Invalid):
        services.batch_act(actor=world.hospital_admin, batch=b, action="complete")


def test_future_batch_cannot_be_completed(world):
    ow = outreach_world(world)
    b = batch(ow, days_ago=-5)
    visit(ow, b)
    with pytest.raises(Invalid):
        services.batch_act(actor=world.hospital_admin, batch=b, action="complete")


def test_an_expert_records_their_own_trip_only(world):
    ow = outreach_world(world)
    b = batch(ow, actor=ow.expert)
    services.visit_add(actor=ow.expert, batch=b, expert=ow.expert, kind="ward_round", visit_on=b.starts_on)
    with pytest.raises(Invalid):
        services.visit_add(
            actor=ow.expert, batch=b, expert=ow.junior, kind="ward_round", visit_on=b.starts_on
        )
    other = batch(ow)
    with pytest.raises(NotAllowed):
        services.visit_add(
            actor=ow.junior, batch=other, expert=ow.junior, kind="clinic", visit_on=other.starts_on
        )


def test_update_and_remove_a_visit(world):
    ow = outreach_world(world)
    b = batch(ow)
    v = visit(ow, b)
    services.visit_update(
        actor=world.hospital_admin, visit=v, patients_seen=45, hazards_found=3, hazards_fixed=1
    )
    v.refresh_from_db()
    assert (v.patients_seen, v.hazards_found, v.hazards_fixed) == (45, 3, 1)
    event = AuditEvent.objects.get(action="outreach_batch.visit_update")
    assert event.before == {"patients_seen": "30", "hazards_found": "0", "hazards_fixed": "0"}
    services.visit_remove(actor=world.hospital_admin, visit=v)
    assert not OutreachVisit.objects.exists()


def test_visibility(world):
    ow = outreach_world(world)
    b = done_batch(ow)
    visible = {
        name: selectors.batch_visible_to(user).filter(pk=b.pk).exists()
        for name, user in world.users().items()
        if user is not None
    }
    assert visible == {
        "stranger": False,
        "admin": True,
        "regulator": True,
        "office": True,
        "hospital_admin": True,
        "township_admin": True,
        "hospital_doctor": True,
        "outsider_doctor": False,
    }
    assert selectors.batch_visible_to(ow.township_doctor).filter(pk=b.pk).exists()
    with pytest.raises(NotFound):
        selectors.batch_get_for(world.outsider_doctor, b.public_id)
    assert not selectors.batch_visible_to(None).exists()


def test_a_batch_goes_only_to_members_below_the_sender(world):
    """A 三级 hospital sends to a 二级 member and a township centre; a 二级 county hospital sends to the
    township centre only — not up to the 三级 lead nor sideways to another 二级 hospital."""
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role
    from yilian.institutions.tests.factories import ConsortiumMemberFactory, HospitalFactory

    outreach_world(world)
    county = HospitalFactory(name="霍邱县第二人民医院", region=world.regions["county"], grade="2")
    peer = HospitalFactory(name="霍邱县中医院", region=world.regions["county"], grade="2")
    for member in (county, peer):
        ConsortiumMemberFactory(consortium=world.consortium, institution=member)
    county_admin = user_with_role(Role.INSTITUTION_ADMIN, username="county_admin", institution=county)
    assert set(selectors.receiving_members([world.hospital])) == {world.township, county, peer}
    assert set(selectors.receiving_members([county])) == {world.township}
    start = today() + datetime.timedelta(days=1)
    for host in (world.hospital, peer):
        with pytest.raises(Invalid) as error:
            services.batch_create(
                actor=county_admin,
                sending_institution=county,
                host_institution=host,
                starts_on=start,
                ends_on=start,
                purpose="坐诊",
            )
        assert set(error.value.errors) == {"host_institution"}, host.name
    assert not OutreachBatch.objects.exists()
    services.batch_create(
        actor=county_admin,
        sending_institution=county,
        host_institution=world.township,
        starts_on=start,
        ends_on=start,
        purpose="坐诊",
    )


def test_a_public_health_institution_that_sees_no_patients_receives_no_batch(world):
    """The county CDC (疾控中心, ungraded, a consortium member) was offered as a receiver of a 三级
    hospital's batch and accepted; the maternal and child health hospital, which sees patients, still is."""
    from yilian.institutions.tests.factories import ConsortiumMemberFactory, InstitutionFactory

    outreach_world(world)
    cdc = InstitutionFactory(
        name="霍邱县疾病预防控制中心", region=world.regions["county"], category="J100", grade="0"
    )
    maternal = InstitutionFactory(
        name="霍邱县妇幼保健院", region=world.regions["county"], category="G100", grade="2"
    )
    for member in (cdc, maternal):
        ConsortiumMemberFactory(consortium=world.consortium, institution=member)
    offered = set(selectors.receiving_members([world.hospital]))
    assert cdc not in offered and {world.township, maternal} <= offered
    start = today() + datetime.timedelta(days=1)
    with pytest.raises(Invalid) as error:
        services.batch_create(
            actor=world.hospital_admin,
            sending_institution=world.hospital,
            host_institution=cdc,
            starts_on=start,
            ends_on=start,
            purpose="业务讲座",
        )
    assert set(error.value.errors) == {"host_institution"}
    assert not OutreachBatch.objects.exists()
    services.batch_create(
        actor=world.hospital_admin,
        sending_institution=world.hospital,
        host_institution=maternal,
        starts_on=start,
        ends_on=start,
        purpose="产科查房",
    )
