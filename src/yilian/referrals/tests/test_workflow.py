"""The transition table, exhaustively: every action from every state, by the right and the wrong side.

The service must allow exactly what ``workflow.TRANSITIONS`` allows (Conflict
otherwise, with nothing changed) and refuse the other side (NotAllowed).
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone

from yilian.core.exceptions import Conflict, NotAllowed
from yilian.referrals import services, workflow
from yilian.referrals.choices import ReferralSide, ReferralStatus
from yilian.referrals.models import Referral
from yilian.referrals.tests.factories import draft, referral_world

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)


def _fields(action: str, rw) -> dict:
    return {
        "reason": "原因",
        "to_department": rw.surgery,
        "scheduled_for": TOMORROW,
        "outcome_summary": "好转",
    }


def _actor(side: str, rw):
    return rw.township_doctor if side == ReferralSide.SENDER else rw.hospital_doctor


def test_table_is_well_formed():
    statuses = set(ReferralStatus.values)
    for transition in workflow.TRANSITIONS:
        assert transition.sources <= statuses, transition.action
        assert transition.target in statuses | {workflow.RESUME}, transition.action
    reachable = {ReferralStatus.DRAFT} | {t.target for t in workflow.TRANSITIONS} - {workflow.RESUME}
    assert reachable == statuses  # every state can be reached, no dead entries
    ends = {
        ReferralStatus.DECLINED,
        ReferralStatus.REDIRECTED,
        ReferralStatus.CLOSED,
        ReferralStatus.CANCELLED,
    }
    ends |= {ReferralStatus.NO_SHOW, ReferralStatus.EXPIRED}
    assert not [t for t in workflow.TRANSITIONS if t.sources & ends]  # nothing leaves an end state


@pytest.mark.parametrize(
    ("status", "action"), list(itertools.product(ReferralStatus.values, workflow.USER_ACTIONS))
)
def test_every_action_from_every_state(world, status, action):
    rw = referral_world(world)
    referral = draft(rw)
    # Scheduled for today: a no-show may be recorded from the appointment's day on.
    Referral.objects.filter(pk=referral.pk).update(
        status=status, scheduled_for=timezone.localdate() if status == ReferralStatus.SCHEDULED else None
    )
    referral.refresh_from_db()
    transition = workflow.BY_ACTION[action]
    allowed = status in transition.sources
    actor = _actor(transition.side, rw)
    if status == ReferralStatus.DRAFT and transition.side == ReferralSide.RECEIVER:
        # The receiver does not see a draft at all: it is not theirs to act on.
        with pytest.raises(NotAllowed):
            services.referral_act(actor=actor, referral=referral, action=action, **_fields(action, rw))
        return
    if allowed:
        other = _actor(
            ReferralSide.RECEIVER if transition.side == ReferralSide.SENDER else ReferralSide.SENDER, rw
        )
        with pytest.raises(NotAllowed):
            services.referral_act(actor=other, referral=referral, action=action, **_fields(action, rw))
        result = services.referral_act(actor=actor, referral=referral, action=action, **_fields(action, rw))
        expected = workflow.target_of(transition, status, has_schedule=referral.scheduled_for is not None)
        if action == "redirect":
            assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.REDIRECTED
            assert result.status == ReferralStatus.SUBMITTED
        else:
            assert Referral.objects.get(pk=referral.pk).status == expected
    else:
        before = Referral.objects.get(pk=referral.pk)
        with pytest.raises(Conflict):
            services.referral_act(actor=actor, referral=referral, action=action, **_fields(action, rw))
        after = Referral.objects.get(pk=referral.pk)
        assert (after.status, after.version) == (before.status, before.version)


def test_available_actions_follow_the_table():
    receiver_roles = {ReferralSide.RECEIVER: frozenset({"doctor"})}
    assert workflow.available_actions(ReferralStatus.SUBMITTED, receiver_roles) == [
        "accept",
        "decline",
        "redirect",
    ]
    nurse = {ReferralSide.RECEIVER: frozenset({"nurse"})}
    assert workflow.available_actions(ReferralStatus.SCHEDULED, nurse) == ["arrive"]
    sender = {ReferralSide.SENDER: frozenset({"doctor"})}
    assert workflow.available_actions(ReferralStatus.COMPLETED, sender) == ["close"]
    assert workflow.available_actions(ReferralStatus.CLOSED, sender | receiver_roles) == []
