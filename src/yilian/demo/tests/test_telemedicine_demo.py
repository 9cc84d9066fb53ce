"""The teleconsultation side of ``seed-demo``: every page has content for its demo account, the data agrees."""

from __future__ import annotations

import datetime
import io
import itertools
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from yilian.accounts.models import User
from yilian.core.models import AuditEvent
from yilian.institutions.models import Consortium
from yilian.telemedicine import selectors
from yilian.telemedicine.choices import ENDED_STATUSES, TeleconsultationStatus
from yilian.telemedicine.models import Teleconsultation

pytestmark = pytest.mark.django_db

REDUCED = ("--persons", "40", "--village-limit", "2", "--referral-months", "2")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded() -> str:
    out = io.StringIO()
    call_command("seed_demo", *REDUCED, stdout=out)
    return out.getvalue()


def user(username: str) -> User:
    return User.objects.get(username=username)


def county() -> Consortium:
    return Consortium.objects.get(type="county_community")


PAGES = (
    ("coordinator", "telemedicine:incoming"),
    ("city_coordinator", "telemedicine:incoming"),
    ("township_doctor", "telemedicine:outgoing"),
    ("doctor", "telemedicine:assigned"),
    ("radiologist", "telemedicine:assigned"),
    ("office", "telemedicine:all"),
    ("doctor", "telemedicine:availability"),
    ("coordinator", "telemedicine:availability"),
    ("hospital_admin", "telemedicine:charges"),
    ("office", "telemedicine:fees"),
    ("office", "telemedicine:statistics"),
)


def test_every_page_has_content(seeded, client):
    for username, name in PAGES:
        client.force_login(user(username))
        response = client.get(reverse(name))
        assert response.status_code == 200, (username, name)
        text = response.content.decode()
        assert re.search(r"YC\d{13}|\d{4}-\d{2}|300\.00", text), (username, name)
    # Open teleconsultations in every state for the township doctor; the coordinator has one to answer.
    township_doctor = user("township_doctor")
    open_states = set(
        selectors.teleconsultation_list(
            township_doctor, selectors.TeleconsultationFilters(box="outgoing", open_only=True)
        ).values_list("status", flat=True)
    )
    assert {"requested", "accepted", "scheduled", "opinion_signed"} <= open_states
    incoming = selectors.teleconsultation_list(
        user("coordinator"), selectors.TeleconsultationFilters(box="incoming", status="requested")
    )
    assert "accept" in selectors.available_actions(user("coordinator"), incoming.first())
    client.force_login(township_doctor)
    signed = selectors.teleconsultation_list(
        township_doctor, selectors.TeleconsultationFilters(box="outgoing", status="opinion_signed")
    ).first()
    assert client.get(reverse("telemedicine:detail", args=[signed.public_id])).status_code == 200
    assert "conclude" in selectors.available_actions(township_doctor, signed)
    # Fees, free times of titled experts, both ends' billing records.
    fees = {fee.kind: fee.amount for fee in selectors.fee_list(county())}
    assert fees["teaching"] == 0
    assert all(
        Decimal("250") <= amount <= Decimal("360") for kind, amount in fees.items() if kind != "teaching"
    )
    free = selectors.free_times(date_from=timezone.localdate())
    assert {slot.institution.name for slot in free} == {"金寨县人民医院", "六安市人民医院"}
    assert {slot.expert.professional_title for slot in free} <= {
        "chief_physician",
        "associate_chief_physician",
    }
    directions = set(selectors.charge_list(user("hospital_admin")).values_list("direction", flat=True))
    assert directions == {"payable", "receivable"}
    assert selectors.charge_list(user("township_admin")).filter(direction="payable").exists()
    # ~96 % of concluded patient consultations stay local; the live referral was made by the service.
    summary = selectors.teleconsultation_summary(user("office"), consortium_id=county().pk)
    assert summary.concluded_with_patient >= 20
    assert 0.85 <= summary.kept_local_share < 1, summary
    referred = Teleconsultation.objects.filter(referral__isnull=False).get()
    assert referred.referral.status == "submitted" and referred.referral.person == referred.person
    actions = AuditEvent.objects.filter(action__startswith="teleconsultation.", actor__isnull=False)
    assert actions.filter(actor__username="township_doctor", action="teleconsultation.create").count() >= 8
    assert actions.filter(actor__username="office", action="teleconsultation_fee.update").count() == 0
    assert (
        AuditEvent.objects.filter(actor__username="office", action="teleconsultation_fee.update").count() == 5
    )
    assert AuditEvent.objects.filter(
        actor__username="coordinator", action="expert_availability.publish"
    ).exists()


def test_teleconsultations_and_timelines_agree(seeded):
    now = timezone.now()
    numbers = set()
    rows = Teleconsultation.objects.prefetch_related("events", "charges").select_related("expert")
    assert rows.count() > 30
    for row in rows:
        events = sorted(row.events.all(), key=lambda e: (e.occurred_at, e.id))
        assert events[0].action == "create" and events[-1].to_status == row.status, row.number
        assert all(e.occurred_at <= now for e in events)
        assert re.fullmatch(r"YC\d{13}", row.number) and row.number not in numbers
        numbers.add(row.number)
        assert (row.ended_at is not None) == (row.status in ENDED_STATUSES), row.number
        if row.person_id:
            assert row.consent_signer_name and row.consent_signed_at <= row.created_at
        else:
            assert row.kind == "teaching" and not row.consent_signer_name
        if row.expert_id and row.status != TeleconsultationStatus.DECLINED:
            assert selectors.expert_qualifies(
                row.expert, row.invited_institution_id, row.required_specialty, row.required_title
            ), row.number
        moments = [row.created_at, row.answered_at, row.opinion_signed_at, row.decided_at]
        present = [m for m in moments if m is not None]
        assert present == sorted(present), row.number
        if row.opinion_signed_at:
            assert row.scheduled_at <= row.opinion_signed_at and row.opinion
            charges = list(row.charges.all())
            if row.fee_amount > 0:
                assert sorted(c.direction for c in charges) == ["payable", "receivable"]
                assert all(c.amount == row.fee_amount for c in charges)
            else:
                assert not charges
        else:
            assert not row.charges.all()
        if row.status == TeleconsultationStatus.CONCLUDED:
            assert row.outcome and row.decision
            assert row.outcome != "stayed_local" or row.person_id
        else:
            assert not row.outcome


def close(a: datetime.datetime | None, b: datetime.datetime | None) -> bool:
    """The same moment, give or take the service stamping a row and its timeline step separately."""
    return a is not None and b is not None and abs(a - b) < datetime.timedelta(seconds=2)


def test_timestamps_run_in_order(seeded):
    """History and live alike: consent, invitation, answer, booking, session, opinion, decision in order;
    a concluded teleconsultation's proposed and session times are past; each step matches its field."""
    now = timezone.now()
    rows = Teleconsultation.objects.prefetch_related("events", "charges", "attachments")
    live = 0
    for row in rows:
        events = sorted(row.events.all(), key=lambda e: (e.occurred_at, e.id))
        assert [e.id for e in events] == sorted(e.id for e in events), row.number  # time order = step order
        for before, after in itertools.pairwise(events):
            assert after.from_status == before.to_status, (row.number, before.action, after.action)
        steps = {e.action: e.occurred_at for e in events}
        chain = [row.consent_signed_at, row.created_at, row.answered_at, steps.get("schedule"),
                 row.scheduled_at if row.opinion_signed_at else None, row.opinion_signed_at,
                 row.decided_at]  # fmt: skip
        present = [moment for moment in chain if moment is not None]
        assert present == sorted(present), (row.number, chain)
        assert close(steps["create"], row.created_at), row.number
        for action, moment in (("accept", row.answered_at), ("decline", row.answered_at),
                               ("sign_opinion", row.opinion_signed_at), ("conclude", row.decided_at)):  # fmt: skip
            assert (action in steps) == (moment is not None) or action in ("accept", "decline"), row.number
            if action in steps:
                assert close(steps[action], moment), (row.number, action)
        if "schedule" in steps:
            assert row.scheduled_at is not None and steps["schedule"] <= row.scheduled_at, row.number
        if row.ended_at is not None:
            assert close(row.ended_at, events[-1].occurred_at), row.number
        for charge in row.charges.all():
            assert close(charge.created_at, row.opinion_signed_at), row.number
        for attachment in row.attachments.all():
            assert row.created_at <= attachment.created_at <= now, row.number
            live += 1
        if row.status == TeleconsultationStatus.CONCLUDED:
            assert row.proposed_at <= now and row.scheduled_at <= now, row.number
            assert row.proposed_at <= row.decided_at and row.scheduled_at <= row.opinion_signed_at
        if row.status == TeleconsultationStatus.OPINION_SIGNED:
            assert row.scheduled_at <= row.opinion_signed_at <= now, row.number
    assert live >= 2  # the live ones with their consent forms were checked too
    referred = Teleconsultation.objects.filter(referral__isnull=False).get()
    assert referred.decided_at <= referred.referral.created_at
