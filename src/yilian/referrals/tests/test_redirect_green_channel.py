"""A redirect that turns a referral into a down-referral obeys the rule of creating one: an emergency
(急危重 priority or 急诊 kind) is never redirected down — refused under the chosen department, nothing saved
(service, page and API). A routine referral may still be redirected down, without the green channel."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from yilian.core.api.testing import api_client
from yilian.core.exceptions import Invalid
from yilian.institutions.tests.factories import ConsortiumMemberFactory, DepartmentFactory, InstitutionFactory
from yilian.referrals import services
from yilian.referrals.choices import ReferralStatus
from yilian.referrals.models import Referral
from yilian.referrals.tests.factories import referral_world, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(world: Any) -> Any:
    return referral_world(world)


@pytest.fixture
def village_clinic(world: Any) -> Any:
    """A village clinic of the consortium: below the township, so a redirect there is a down-referral."""
    village = InstitutionFactory(name="东湖村卫生室", region=world.regions["village_a1"], category="D600")
    ConsortiumMemberFactory(consortium=world.consortium, institution=village)
    return DepartmentFactory(institution=village, name="全科", specialty="02")


def _unchanged(referral: Referral) -> None:
    fresh = Referral.objects.get(pk=referral.pk)
    assert fresh.status == ReferralStatus.SUBMITTED and fresh.version == referral.version
    assert not Referral.objects.filter(redirected_from=referral).exists()


@pytest.mark.parametrize("overrides", [{"priority": "stat"}, {"kind": "emergency"}])
def test_an_emergency_is_not_redirected_down(rw, village_clinic, overrides):
    referral = submitted(rw, **overrides)
    assert referral.direction == "up"
    with pytest.raises(Invalid) as refused:
        services.referral_act(
            actor=rw.hospital_doctor,
            referral=referral,
            action="redirect",
            to_department=village_clinic,
            reason="本院床位已满",
        )
    message = " ".join(refused.value.errors["to_department"])
    assert "下转" in message and "绿色通道" in message and "东湖村卫生室" in message
    _unchanged(referral)


def test_a_routine_referral_may_be_redirected_down_without_the_green_channel(rw, village_clinic):
    referral = submitted(rw)
    successor = services.referral_act(
        actor=rw.hospital_doctor,
        referral=referral,
        action="redirect",
        to_department=village_clinic,
        reason="村卫生室随访即可",
    )
    assert successor.direction == "down" and successor.priority == "routine"
    assert successor.signed_resident is False


def test_an_emergency_may_still_be_redirected_up_or_across(rw):
    referral = submitted(rw, priority="stat")
    successor = services.referral_act(
        actor=rw.hospital_doctor,
        referral=referral,
        action="redirect",
        to_department=rw.surgery,
        reason="外科",
    )
    assert successor.priority == "stat" and successor.direction == "up"


def test_the_page_and_the_api_refuse_it_under_the_department(rw, village_clinic):
    referral = submitted(rw, priority="stat")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(rw.hospital_doctor)
    page = client.post(
        reverse("referrals:act", args=[referral.public_id, "redirect"]),
        {
            "redirect-expected_version": referral.version,
            "redirect-to_department": str(village_clinic.public_id),
            "redirect-reason": "本院床位已满",
        },
    )
    assert page.status_code == 400, page.status_code
    assert "下转不走绿色通道" in page.content.decode()
    _unchanged(referral)
    api = api_client(rw.hospital_doctor)
    response = api.post(
        f"/api/v1/referrals/{referral.public_id}/redirect",
        {"to_department": str(village_clinic.public_id), "reason": "本院床位已满"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "to_department" in response.json()["error"]["fields"]
    _unchanged(referral)
