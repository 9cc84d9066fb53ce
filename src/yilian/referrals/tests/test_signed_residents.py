"""Signed residents get the seeds' priority: the green channel and slots kept for them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yilian.core.api.testing import api_client
from yilian.core.exceptions import Conflict, Invalid
from yilian.family_doctors.tests.factories import family_world, sign
from yilian.people.choices import PersonLinkReason
from yilian.people.services import person_link
from yilian.people.tests.factories import person
from yilian.referrals import selectors, services
from yilian.referrals.models import Referral, ReservedCapacity
from yilian.referrals.tests.factories import SUMMARY, capacity, draft, referral_world, submitted

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


def _two_pools(rw):
    """A day with 10 general places and 3 kept for signed residents at cardiology (the demo's case)."""
    general = capacity(rw.cardiology, quantity=10)
    kept = services.capacity_publish(
        actor=rw.hospital_coordinator,
        department=rw.cardiology,
        kind="outpatient_slot",
        date=general.date,
        quantity=3,
        signed_residents_only=True,
    )
    return general, kept


def _booked(*pools):
    return [ReservedCapacity.objects.get(pk=pool.pk).booked for pool in pools]


def _html(response) -> str:
    return response.content.decode()


def test_submit_panel_names_each_pool_and_books_the_chosen_one(setup):
    rw, fw = setup
    general, kept = _two_pools(rw)
    sign(fw, who=rw.patient)
    referral = draft(rw)
    client = Client()
    client.force_login(rw.township_doctor)
    page = _html(client.get(reverse("referrals:detail", args=[referral.public_id])))
    day = general.date.isoformat()
    assert f'value="{general.public_id}">{day} · 普通号源（剩余 10 个）' in page
    assert f'value="{kept.public_id}">{day} · 仅限签约居民（剩余 3 个）' in page
    response = client.post(
        reverse("referrals:act", args=[referral.public_id, "submit"]),
        {"submit-expected_version": referral.version, "submit-booking": str(kept.public_id)},
    )
    assert response.status_code == 302
    assert _booked(general, kept) == [0, 1]
    referral.refresh_from_db()
    assert referral.booking_id == kept.pk and referral.scheduled_for == kept.date
    # A signed resident may also choose the general pool: exactly that one is taken.
    other = draft(rw)
    response = client.post(
        reverse("referrals:act", args=[other.public_id, "submit"]),
        {"submit-expected_version": other.version, "submit-booking": str(general.public_id)},
    )
    assert response.status_code == 302 and _booked(general, kept) == [1, 1]


def test_new_form_refuses_the_signed_pool_for_a_patient_without_a_contract(setup):
    rw, _fw = setup
    general, kept = _two_pools(rw)
    client = Client()
    client.force_login(rw.township_doctor)
    options = _html(
        client.get(
            reverse("referrals:booking-options"),
            {"to_department": str(rw.cardiology.public_id), "kind": "outpatient"},
        )
    )
    assert f'value="{general.public_id}"' in options and f'value="{kept.public_id}"' in options
    assert "仅限签约居民" in options and "普通号源" in options
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
        "patient_consented": "on",
        "booking": str(kept.public_id),
        "intent": "submit",
        **SUMMARY,
    }
    refused = client.post(reverse("referrals:new"), data)
    html = _html(refused)
    assert refused.status_code == 400 and 'data-testid="error-booking"' in html and "签约居民" in html
    assert _booked(general, kept) == [0, 0] and not Referral.objects.exists()
    assert (
        client.post(reverse("referrals:new"), {**data, "booking": str(general.public_id)}).status_code == 302
    )
    assert _booked(general, kept) == [1, 0]


def test_a_full_pool_is_a_conflict_and_the_other_pool_is_untouched(setup):
    rw, fw = setup
    general, kept = _two_pools(rw)
    sign(fw, who=rw.patient)
    ReservedCapacity.objects.filter(pk=kept.pk).update(booked=3)
    with pytest.raises(Conflict):
        services.referral_submit(actor=rw.township_doctor, referral=draft(rw), booking=kept)
    assert _booked(general, kept) == [0, 3]


def test_api_books_the_chosen_pool(setup):
    rw, fw = setup
    general, kept = _two_pools(rw)
    api = api_client(rw.township_doctor)
    referral = draft(rw)
    url = f"/api/v1/referrals/{referral.public_id}/submit"
    refused = api.post(url, {"booking": str(kept.public_id)}, format="json")
    assert refused.status_code == 400 and "签约居民" in str(refused.json()), refused.content
    assert _booked(general, kept) == [0, 0]
    unknown = api.post(url, {"booking": "00000000-0000-0000-0000-000000000000"}, format="json")
    assert unknown.status_code == 400 and "booking" in str(unknown.json())
    mismatch = api.post(url, {"booking": str(general.public_id), "booking_date": "2000-01-01"}, format="json")
    assert mismatch.status_code == 400 and _booked(general, kept) == [0, 0]
    sign(fw, who=rw.patient)
    done = api.post(url, {"booking": str(kept.public_id)}, format="json")
    assert done.status_code == 200, done.content
    booking = done.json()["booking"]
    assert booking["public_id"] == str(kept.public_id) and booking["signed_residents_only"] is True
    assert _booked(general, kept) == [0, 1]
    created = api.post(
        "/api/v1/referrals",
        {
            "person": str(rw.patient.public_id),
            "from_institution": str(rw.world.township.public_id),
            "from_department": str(rw.township_clinic.public_id),
            "to_department": str(rw.cardiology.public_id),
            "kind": "outpatient",
            "diagnosis_code": "I10",
            "diagnosis_name": "原发性高血压",
            "reason": "血压控制不佳",
            "patient_consented": True,
            "submit": True,
            "booking": str(general.public_id),
            **SUMMARY,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["booking"]["public_id"] == str(general.public_id)
    assert _booked(general, kept) == [1, 1]


def test_api_submit_records_consent(setup):
    rw, _fw = setup
    referral = draft(rw, patient_consented=False)
    api = api_client(rw.township_doctor)
    url = f"/api/v1/referrals/{referral.public_id}/submit"
    refused = api.post(url, {}, format="json")
    assert refused.status_code == 400 and "patient_consented" in str(refused.json())
    done = api.post(url, {"patient_consented": True}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["patient_consented"] is True and done.json()["status"] == "submitted"


def _down_draft(rw, **overrides):
    data = {
        "kind": "outpatient",
        "priority": "routine",
        "from_department": rw.cardiology,
        "to_department": rw.township_clinic,
        "diagnosis_code": "I63.9",
        "diagnosis_name": "脑梗死恢复期",
        "reason": "恢复期康复",
        "recovery_phase": "recovery",
        "patient_consented": True,
        **SUMMARY,
    }
    data.update(overrides)
    # the patient was treated at the hospital, which may therefore refer them down
    person_link(
        actor=rw.hospital_doctor,
        person=rw.patient,
        institution=rw.world.hospital,
        reason=PersonLinkReason.TREATED,
    )
    return services.referral_create(
        actor=rw.hospital_doctor, person=rw.patient, from_institution=rw.world.hospital, **data
    )


def test_a_down_referral_of_a_signed_resident_takes_no_green_channel(setup):
    """The green channel is a priority into the hospital: a signed resident referred down is not flagged."""
    rw, fw = setup
    sign(fw, who=rw.patient)
    referral, _created = _down_draft(rw)
    assert referral.direction == "down"
    referral = services.referral_submit(actor=rw.hospital_doctor, referral=referral, acknowledge_missing=True)
    assert referral.signed_resident is False
    assert submitted(rw).signed_resident is True  # the same patient going up is


@pytest.mark.parametrize(("field", "value"), [("priority", "stat"), ("kind", "emergency")])
def test_a_down_referral_cannot_ask_for_the_green_channel(setup, field, value):
    rw, _fw = setup
    with pytest.raises(Invalid) as error:
        _down_draft(rw, **{field: value})
    assert field in error.value.errors
    assert not Referral.objects.exists()
    referral, _created = _down_draft(rw)
    with pytest.raises(Invalid) as error:
        services.referral_update(actor=rw.hospital_doctor, referral=referral, **{field: value})
    assert field in error.value.errors
    # a draft saved before the rule (or written straight to the table) is refused on submit
    Referral.objects.filter(pk=referral.pk).update(**{field: value})
    with pytest.raises(Invalid) as error:
        services.referral_submit(
            actor=rw.hospital_doctor, referral=Referral.objects.get(pk=referral.pk), acknowledge_missing=True
        )
    assert field in error.value.errors
    assert Referral.objects.get(pk=referral.pk).status == "draft"
