"""Expert clinic sessions: publishing slots, booking, cancelling, bad input, masking."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.notifications.models import Notification
from yilian.outreach import policies, selectors, services
from yilian.outreach.models import ClinicBooking, ClinicSlot, ExpertClinicSession
from yilian.outreach.tests.factories import outreach_world, session
from yilian.people.models import PersonInstitutionLink

pytestmark = pytest.mark.django_db


def test_publish_cuts_slots(world):
    ow = outreach_world(world)
    s = session(ow, length=120)
    assert s.home_institution == world.hospital and s.consortium == world.consortium
    assert ClinicSlot.objects.filter(session=s).count() == 8


def test_bad_session_input_saves_nothing(world):
    ow = outreach_world(world)
    start = timezone.now() - datetime.timedelta(hours=1)
    with pytest.raises(Invalid) as error:
        services.session_publish(
            actor=ow.expert,
            expert=ow.expert,
            host_institution=world.township,
            starts_at=start,
            ends_at=start - datetime.timedelta(minutes=5),
            slot_minutes=7,
        )
    assert {"starts_at", "ends_at", "slot_minutes"} <= set(error.value.errors)
    with pytest.raises(NotAllowed):
        services.session_publish(
            actor=ow.junior,
            expert=ow.expert,
            host_institution=world.township,
            starts_at=timezone.now() + datetime.timedelta(days=1),
            ends_at=timezone.now() + datetime.timedelta(days=1, hours=1),
        )
    with pytest.raises(Invalid):
        services.session_publish(
            actor=world.outsider_doctor,
            expert=world.outsider_doctor,
            host_institution=world.township,
            starts_at=timezone.now() + datetime.timedelta(days=1),
            ends_at=timezone.now() + datetime.timedelta(days=1, hours=1),
        )
    assert not ExpertClinicSession.objects.exists()
    session(ow)
    with pytest.raises(Invalid):
        session(ow)  # overlaps


def test_book_links_person_and_blocks_double_booking(world):
    ow = outreach_world(world)
    s = session(ow)
    slots = list(s.slots.order_by("starts_at"))
    booking = services.booking_create(
        actor=ow.township_doctor, slot=slots[0], person=ow.resident, note="胸闷"
    )
    assert PersonInstitutionLink.objects.filter(
        person=ow.resident, institution=world.township, reason="appointment"
    ).exists()
    with pytest.raises(Conflict):
        services.booking_create(
            actor=ow.township_nurse, slot=ClinicSlot.objects.get(pk=slots[0].pk), person=ow.resident2
        )
    with pytest.raises(Conflict):
        services.booking_create(actor=ow.township_nurse, slot=slots[1], person=ow.resident)
    assert ClinicBooking.objects.filter(status="booked").count() == 1
    services.booking_cancel(actor=ow.township_nurse, booking=booking)
    assert not ClinicSlot.objects.get(pk=slots[0].pk).is_booked
    services.booking_create(
        actor=ow.township_nurse, slot=ClinicSlot.objects.get(pk=slots[0].pk), person=ow.resident2
    )
    with pytest.raises(Conflict):
        services.booking_cancel(actor=ow.township_nurse, booking=booking)


def test_only_host_staff_book(world):
    ow = outreach_world(world)
    s = session(ow)
    slot = s.slots.first()
    for user in (world.hospital_admin, world.office, world.regulator, world.outsider_doctor, ow.expert):
        with pytest.raises(NotAllowed):
            services.booking_create(actor=user, slot=slot, person=ow.resident)


def test_cancel_session_cancels_bookings_and_notifies(world):
    ow = outreach_world(world)
    s = session(ow)
    slot = s.slots.first()
    services.booking_create(actor=ow.township_doctor, slot=slot, person=ow.resident)
    with pytest.raises(Invalid):
        services.session_cancel(actor=ow.expert, session=s, reason="")
    services.session_cancel(actor=ow.expert, session=s, reason="临时手术")
    assert ClinicBooking.objects.get().status == "session_cancelled"
    assert Notification.objects.filter(
        recipient=ow.township_doctor, topic="outreach.session_cancelled"
    ).exists()
    with pytest.raises(Conflict):
        services.booking_create(actor=ow.township_doctor, slot=s.slots.last(), person=ow.resident2)
    with pytest.raises(Conflict):
        services.session_cancel(actor=ow.expert, session=s, reason="x")


def test_patients_are_masked_for_oversight_and_the_sender(world):
    ow = outreach_world(world)
    s = session(ow)
    assert policies.sees_patients_of(ow.township_doctor, s)
    assert policies.sees_patients_of(ow.expert, s)
    for user in (world.office, world.regulator, world.hospital_admin):
        assert not policies.sees_patients_of(user, s)
    assert selectors.session_visible_to(world.office).filter(pk=s.pk).exists()
    assert not selectors.session_visible_to(world.outsider_doctor).exists()


def test_expert_clinics_are_held_only_at_lower_members_that_see_patients(world):
    """The session form offered every partner as host (the CDC, the 三级 lead hospital to a 二级 hospital's
    expert) and the service accepted them. Hosts are now members below the expert's hospital that see
    patients, in the form and in the service alike."""
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role
    from yilian.institutions.tests.factories import (
        ConsortiumMemberFactory,
        HospitalFactory,
        InstitutionFactory,
    )

    ow = outreach_world(world)
    cdc = InstitutionFactory(
        name="霍邱县疾病预防控制中心", region=world.regions["county"], category="J100", grade="0"
    )
    county = HospitalFactory(name="霍邱县第二人民医院", region=world.regions["county"], grade="2")
    for member in (cdc, county):
        ConsortiumMemberFactory(consortium=world.consortium, institution=member)
    county_doctor = user_with_role(Role.DOCTOR, username="county_doctor", institution=county)
    county_doctor.professional_title = "attending_physician"
    county_doctor.save()
    starts = (timezone.localtime() + datetime.timedelta(days=2)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    when = {"starts_at": starts, "ends_at": starts + datetime.timedelta(hours=1)}
    with pytest.raises(Invalid) as error:
        services.session_publish(actor=ow.expert, expert=ow.expert, host_institution=cdc, **when)
    assert set(error.value.errors) == {"host_institution"}
    with pytest.raises(Invalid) as error:
        services.session_publish(
            actor=county_doctor, expert=county_doctor, host_institution=world.hospital, **when
        )
    assert set(error.value.errors) == {"expert"}
    assert not ExpertClinicSession.objects.exists()
    services.session_publish(actor=ow.expert, expert=ow.expert, host_institution=county, **when)
    services.session_publish(
        actor=county_doctor, expert=county_doctor, host_institution=world.township, **when
    )
    offered = set(selectors.clinic_hosts(ow.expert))
    assert county in offered and world.township in offered
    assert not offered & {cdc, world.hospital}
    assert set(selectors.clinic_hosts(county_doctor)) == {world.township}
    # The township's administrator publishes the visiting expert's session at the township.
    assert world.township in selectors.clinic_hosts(world.township_admin)
