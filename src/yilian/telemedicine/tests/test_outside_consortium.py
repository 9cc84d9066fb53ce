"""Teleconsultations between institutions that share no consortium: marked so, fee by their agreement.

In the shared world the township (霍邱县城关镇卫生院) belongs to the county community; the outsider
(霍邱县河口镇卫生院) belongs to no consortium.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from yilian.accounts.tests.factories import user_with_role
from yilian.core.api.testing import api_client, error_of
from yilian.core.exceptions import Invalid
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.telemedicine import selectors, services
from yilian.telemedicine.models import Teleconsultation, TeleconsultationCharge
from yilian.telemedicine.tests.factories import (
    advance,
    invitation,
    later,
    requested,
    session_started,
    tele_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tw(world):
    tw = tele_world(world)
    world.outsider_doctor.professional_title = "chief_physician"
    world.outsider_doctor.save()
    return tw


def _outside(tw, **overrides):
    """An invitation from the township to the outsider, which shares no consortium with it."""
    return invitation(
        tw,
        invited_institution=tw.world.outsider,
        inviting_department=None,
        required_specialty="",
        **overrides,
    )


def test_outside_consortium_is_marked_and_charged_the_agreed_fee(tw):
    tc, _created = services.teleconsultation_create(
        actor=tw.township_doctor, **_outside(tw, agreed_fee="180.5")
    )
    assert tc.outside_consortium is True
    assert tc.fee_amount == Decimal("180.50")  # not the county community's 300 元
    assert tc.consortium == tw.world.consortium  # filed where the inviting end's office oversees it
    event = AuditEvent.objects.get(action="teleconsultation.create")
    assert event.details["fee_source"] == "agreement" and event.after["outside_consortium"] is True
    coordinator = user_with_role(
        Role.REFERRAL_COORDINATOR, username="outsider_coordinator", institution=tw.world.outsider
    )
    tc = services.teleconsultation_act(
        actor=coordinator, teleconsultation=tc, action="accept", expert=tw.world.outsider_doctor
    )
    tc = services.teleconsultation_act(
        actor=coordinator,
        teleconsultation=tc,
        action="schedule",
        scheduled_at=later(50),
        meeting_link="https://meet.example.cn/r/2",
    )
    session_started(tc)
    services.teleconsultation_act(
        actor=tw.world.outsider_doctor, teleconsultation=tc, action="sign_opinion", opinion="建议继续观察。"
    )
    assert set(TeleconsultationCharge.objects.values_list("amount", flat=True)) == {Decimal("180.50")}


def test_inside_the_consortium_nothing_changes(tw):
    tc = requested(tw, agreed_fee="1")  # ignored: the consortium's schedule applies
    assert tc.outside_consortium is False and tc.fee_amount == Decimal("300.00")
    assert AuditEvent.objects.get(action="teleconsultation.create").details["fee_source"] == "consortium"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "医联体外会诊须填写双方合作协议约定的费用（元），不收费请填 0。"),
        ("", "医联体外会诊须填写双方合作协议约定的费用（元），不收费请填 0。"),
        ("三百", "请填写金额（元），如 300 或 280.50。"),
        ("NaN", "请填写金额（元），如 300 或 280.50。"),
        ("-1", "费用不能为负数。"),
        ("12.345", "费用最多精确到分（两位小数）。"),
        ("1000000", "费用不能超过 999999.99 元。"),
        ("1e40", "费用不能超过 999999.99 元。"),
    ],
)
def test_bad_agreed_fee_is_a_field_error_and_nothing_is_saved(tw, value, message):
    with pytest.raises(Invalid) as caught:
        services.teleconsultation_create(actor=tw.township_doctor, **_outside(tw, agreed_fee=value))
    assert caught.value.as_text() == {"agreed_fee": [message]}
    assert not Teleconsultation.objects.exists() and not AuditEvent.objects.exists()


def test_a_free_agreement_is_allowed(tw):
    tc, _created = services.teleconsultation_create(actor=tw.township_doctor, **_outside(tw, agreed_fee="0"))
    assert tc.outside_consortium and tc.fee_amount == 0


def test_applicable_fee_says_outside_and_takes_no_schedule(tw):
    fee = selectors.applicable_fee(tw.world.township, tw.world.outsider, "consultation")
    assert fee.outside_consortium and not fee.is_set and fee.amount == 0
    inside = selectors.applicable_fee(tw.world.township, tw.world.hospital, "consultation")
    assert not inside.outside_consortium and inside.amount == Decimal("300")


# Pages ---------------------------------------------------------------------------------


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _form(tw, **overrides):
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "kind": "consultation",
        "inviting_institution": str(tw.world.township.public_id),
        "person": str(tw.patient.public_id),
        "invited_institution": str(tw.world.outsider.public_id),
        "required_title": "associate_chief_physician",
        "proposed_at": timezone.localtime(later(48)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "胸闷",
        "purpose": "明确诊断",
        "case_summary": "摘要",
        "consent_signer_name": "李四",
        "consent_relationship": "patient",
        "consent_signed_at": timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(overrides)
    return data


def test_pages_ask_for_the_agreed_fee_and_label_the_teleconsultation(tw):
    client = _client(tw.township_doctor)
    notice = client.get(
        "/telemedicine/new/fee/",
        {"kind": "consultation", "invited_institution": str(tw.world.outsider.public_id)},
    ).content.decode()
    assert 'data-testid="outside-consortium"' in notice and "合作协议" in notice and "300.00" not in notice
    missing = client.post("/telemedicine/new/", _form(tw))
    html = missing.content.decode()
    assert missing.status_code == 400 and 'data-testid="error-agreed_fee"' in html
    assert 'data-testid="outside-consortium"' in html
    assert not Teleconsultation.objects.exists()
    created = client.post("/telemedicine/new/", _form(tw, agreed_fee="200"))
    assert created.status_code == 302, created.content.decode()[:2000]
    tc = Teleconsultation.objects.get()
    assert tc.outside_consortium and tc.fee_amount == Decimal("200.00")
    detail = client.get(f"/telemedicine/{tc.public_id}/").content.decode()
    assert 'data-testid="outside-consortium"' in detail and 'data-testid="fee-source"' in detail
    listing = client.get("/telemedicine/").content.decode()
    assert 'data-testid="outside-consortium"' in listing
    inside = requested(tw)
    inside_detail = client.get(f"/telemedicine/{inside.public_id}/").content.decode()
    assert 'data-testid="outside-consortium"' not in inside_detail


# API -----------------------------------------------------------------------------------


def _payload(tw, **overrides):
    data = {
        "kind": "consultation",
        "person": str(tw.patient.public_id),
        "inviting_institution": str(tw.world.township.public_id),
        "invited_institution": str(tw.world.outsider.public_id),
        "required_title": "associate_chief_physician",
        "reason": "血压控制不佳",
        "purpose": "明确诊断",
        "proposed_at": later(48).isoformat(),
        "case_summary": "高血压病史 10 年。",
        "consent_signer_name": "李四",
        "consent_relationship": "patient",
        "consent_signed_at": timezone.now().isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("bad", [None, "-5", "1.234", "abc"])
def test_api_refuses_a_missing_or_bad_agreed_fee(tw, bad):
    payload = _payload(tw) if bad is None else _payload(tw, agreed_fee=bad)
    response = api_client(tw.township_doctor).post("/api/v1/teleconsultations", payload, format="json")
    assert response.status_code == 400, response.content
    assert list(error_of(response)["fields"]) == ["agreed_fee"]
    assert not Teleconsultation.objects.exists()


def test_api_creates_and_shows_outside_consortium(tw):
    client = api_client(tw.township_doctor)
    response = client.post("/api/v1/teleconsultations", _payload(tw, agreed_fee="260.00"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["outside_consortium"] is True and body["fee_amount"] == "260.00"
    inside = requested(tw)
    assert client.get(f"/api/v1/teleconsultations/{inside.public_id}").json()["outside_consortium"] is False


# Charges ---------------------------------------------------------------------------------


def _signed_outside(tw, fee="180.50"):
    """An outside teleconsultation whose opinion the outsider's expert signed (both charges written)."""
    tc, _created = services.teleconsultation_create(actor=tw.township_doctor, **_outside(tw, agreed_fee=fee))
    coordinator = user_with_role(
        Role.REFERRAL_COORDINATOR, username="outsider_coordinator", institution=tw.world.outsider
    )
    tc = services.teleconsultation_act(
        actor=coordinator, teleconsultation=tc, action="accept", expert=tw.world.outsider_doctor
    )
    tc = services.teleconsultation_act(
        actor=coordinator,
        teleconsultation=tc,
        action="schedule",
        scheduled_at=later(50),
        meeting_link="https://meet.example.cn/r/2",
    )
    session_started(tc)
    return services.teleconsultation_act(
        actor=tw.world.outsider_doctor, teleconsultation=tc, action="sign_opinion", opinion="建议继续观察。"
    )


def test_outside_charges_name_no_consortium_and_the_office_reads_its_members_payable_only(tw):
    tc = _signed_outside(tw)
    assert tc.consortium == tw.world.consortium  # the teleconsultation stays filed with the office
    charges = TeleconsultationCharge.objects.filter(teleconsultation=tc)
    assert charges.count() == 2 and not charges.filter(consortium__isnull=False).exists()
    assert not TeleconsultationCharge.objects.filter(consortium=tw.world.consortium).exists()
    # The office oversees the township's payable, not the outside hospital's receivable.
    assert [(c.direction, c.institution) for c in selectors.charge_list(tw.world.office)] == [
        ("payable", tw.world.township)
    ]
    assert [c.direction for c in selectors.charge_list(tw.world.township_admin)] == ["payable"]
    inside = advance(tw, requested(tw), "sign_opinion")
    inside_charges = TeleconsultationCharge.objects.filter(teleconsultation=inside)
    assert set(inside_charges.values_list("consortium", flat=True)) == {tw.world.consortium.pk}
    assert selectors.charge_list(tw.world.office).count() == 3


def test_charges_page_and_api_say_outside_the_consortium(tw):
    outside = _signed_outside(tw)
    inside = advance(tw, requested(tw), "sign_opinion")
    page = _client(tw.world.office).get("/telemedicine/charges/").content.decode()
    rows = [row.split("</tr>")[0] for row in page.split('data-testid="charge-row"')[1:]]
    outside_rows = [row for row in rows if outside.number in row]
    inside_rows = [row for row in rows if inside.number in row]
    assert len(outside_rows) == 1 and len(inside_rows) == 2  # the office: its member's payable only
    assert 'data-testid="outside-consortium"' in outside_rows[0] and "医联体外会诊" in outside_rows[0]
    assert tw.world.consortium.name not in outside_rows[0]
    for row in inside_rows:
        assert 'data-testid="outside-consortium"' not in row and tw.world.consortium.name in row
    response = api_client(tw.world.office).get("/api/v1/teleconsultation-charges")
    body = {c["teleconsultation"]["number"]: c for c in response.json()["results"]}
    assert body[outside.number]["consortium"] is None and body[outside.number]["outside_consortium"] is True
    assert body[outside.number]["amount"] == "180.50"
    assert body[inside.number]["outside_consortium"] is False
    assert body[inside.number]["consortium"]["public_id"] == str(tw.world.consortium.public_id)


def test_migration_unfiles_existing_outside_charges(tw):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("yilian.telemedicine.migrations.0004_outside_consortium_charges")
    tc = _signed_outside(tw)
    advance(tw, requested(tw), "sign_opinion")
    TeleconsultationCharge.objects.filter(teleconsultation=tc).update(consortium=tw.world.consortium)
    migration.unfile_outside_charges(apps, None)
    assert not TeleconsultationCharge.objects.filter(teleconsultation=tc, consortium__isnull=False).exists()
    assert TeleconsultationCharge.objects.filter(consortium=tw.world.consortium).count() == 2
