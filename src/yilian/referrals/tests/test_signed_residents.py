"""Signed residents get the seeds' priority: the green channel and slots kept for them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yilian.core.api.testing import api_client
from yilian.core.exceptions import Invalid
from yilian.family_doctors.tests.factories import family_world, sign
from yilian.people.tests.factories import person
from yilian.referrals import selectors, services
from yilian.referrals.models import ReservedCapacity
from yilian.referrals.tests.factories import capacity, draft, referral_world, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world):
    rw = referral_world(world)
    fw = family_world(world)
    rw.patient.home_grid = fw.grid
    rw.patient.save(update_fields=["home_grid"])
    return rw, fw


def test_referral_of_a_signed_resident_is_green_channel_and_first_in_the_inbox(setup):
    rw, fw = setup
    unsigned_patient = person("周五", institution=rw.world.township)
    # an unsigned patient's referral, submitted first
    first, _created = services.referral_create(
        actor=rw.township_doctor,
        person=unsigned_patient,
        from_institution=rw.world.township,
        kind="outpatient",
        priority="routine",
        to_department=rw.cardiology,
        from_department=rw.township_clinic,
        diagnosis_code="I10",
        diagnosis_name="原发性高血压",
        reason="血压控制不佳",
        patient_consented=True,
        history="高血压 5 年",
        exam_results="血压 170/100",
        medications="氨氯地平",
        treatment="调整用药",
    )
    first = services.referral_submit(actor=rw.township_doctor, referral=first)
    sign(fw, who=rw.patient)
    second = submitted(rw)
    assert first.signed_resident is False and second.signed_resident is True
    inbox = list(selectors.referral_list(rw.hospital_doctor, selectors.ReferralFilters(box="inbox")))
    assert inbox[:2] == [second, first]
    html = Client()
    html.force_login(rw.hospital_doctor)
    page = html.get(reverse("referrals:inbox")).content.decode()
    assert page.count('data-testid="signed-resident"') == 1
    detail = api_client(rw.hospital_doctor).get(f"/api/v1/referrals/{second.public_id}")
    assert detail.json()["signed_resident"] is True


def test_slots_kept_for_signed_residents_refuse_others(setup):
    rw, fw = setup
    kept = capacity(rw.cardiology, quantity=1)
    ReservedCapacity.objects.filter(pk=kept.pk).update(signed_residents_only=True)
    referral = draft(rw)
    with pytest.raises(Invalid) as error:
        services.referral_submit(actor=rw.township_doctor, referral=referral, booking_date=kept.date)
    assert "签约居民" in str(error.value.errors["booking_date"][0])
    kept.refresh_from_db()
    assert kept.booked == 0
    sign(fw, who=rw.patient)
    booked = services.referral_submit(actor=rw.township_doctor, referral=referral, booking_date=kept.date)
    assert booked.booking_id == kept.pk


def test_signed_residents_use_kept_slots_first_then_general_ones(setup):
    rw, fw = setup
    general = capacity(rw.cardiology, quantity=2)
    kept = services.capacity_publish(
        actor=rw.hospital_coordinator,
        department=rw.cardiology,
        kind="outpatient_slot",
        date=general.date,
        quantity=1,
        signed_residents_only=True,
    )
    assert kept.pk != general.pk and kept.signed_residents_only
    sign(fw, who=rw.patient)
    one = services.referral_submit(actor=rw.township_doctor, referral=draft(rw), booking_date=general.date)
    two = services.referral_submit(actor=rw.township_doctor, referral=draft(rw), booking_date=general.date)
    assert one.booking_id == kept.pk and two.booking_id == general.pk
    api = api_client(rw.hospital_coordinator).get(
        "/api/v1/referral-capacity", {"department": str(rw.cardiology.public_id)}
    )
    assert api.status_code == 200, api.content
    flags = sorted(row["signed_residents_only"] for row in api.json()["results"])
    assert flags == [False, True]
