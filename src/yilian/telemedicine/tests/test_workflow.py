"""The transition table, exhaustively: every action from every state, by the right and the wrong sides.

The service must allow exactly what ``workflow.TRANSITIONS`` allows (Conflict
otherwise, with nothing changed) and refuse the other sides (NotAllowed).
"""

from __future__ import annotations

import itertools

import pytest

from yilian.accounts.tests.factories import user_with_role
from yilian.core.exceptions import Conflict, NotAllowed
from yilian.core.permissions import Role
from yilian.telemedicine import services, workflow
from yilian.telemedicine.choices import TeleconsultationSide, TeleconsultationStatus
from yilian.telemedicine.models import Teleconsultation, TeleconsultationEvent
from yilian.telemedicine.tests.factories import later, requested, tele_world

pytestmark = pytest.mark.django_db


def _fields(second_expert) -> dict:
    return {
        "expert": second_expert,
        "reason": "原因",
        "scheduled_at": later(60),
        "meeting_link": "https://meet.example.cn/r/2",
        "opinion": "会诊意见",
        "decision": "诊疗决定",
        "outcome": "stayed_local",
    }


def _actors(tw) -> dict[str, object]:
    return {
        TeleconsultationSide.INVITING: tw.township_doctor,
        TeleconsultationSide.INVITED: tw.coordinator,
        TeleconsultationSide.EXPERT: tw.expert,
    }


def test_table_is_well_formed():
    statuses = set(TeleconsultationStatus.values)
    for transition in workflow.TRANSITIONS:
        assert transition.sources <= statuses, transition.action
        assert transition.target in statuses, transition.action
    reachable = {TeleconsultationStatus.REQUESTED} | {t.target for t in workflow.TRANSITIONS}
    assert reachable == statuses
    ends = {
        TeleconsultationStatus.DECLINED,
        TeleconsultationStatus.CONCLUDED,
        TeleconsultationStatus.CANCELLED,
    }
    assert not [t for t in workflow.TRANSITIONS if t.sources & ends]


@pytest.mark.parametrize(
    ("status", "action"), list(itertools.product(TeleconsultationStatus.values, workflow.ACTIONS))
)
def test_every_action_from_every_state(world, status, action):
    tw = tele_world(world)
    second = user_with_role(
        Role.DOCTOR, username="second", institution=world.hospital, department=tw.cardiology
    )
    second.professional_title = "chief_physician"
    second.save()
    teleconsultation = requested(tw)
    Teleconsultation.objects.filter(pk=teleconsultation.pk).update(status=status, expert=tw.expert)
    teleconsultation.refresh_from_db()
    transition = workflow.BY_ACTION[action]
    actors = _actors(tw)
    fields = _fields(second)
    steps = TeleconsultationEvent.objects.count()
    for side, other in actors.items():
        if side == transition.side:
            continue
        with pytest.raises(NotAllowed):
            services.teleconsultation_act(
                actor=other, teleconsultation=teleconsultation, action=action, **fields
            )
    before = Teleconsultation.objects.get(pk=teleconsultation.pk)
    assert TeleconsultationEvent.objects.count() == steps
    actor = actors[transition.side]
    if status in transition.sources:
        services.teleconsultation_act(actor=actor, teleconsultation=teleconsultation, action=action, **fields)
        after = Teleconsultation.objects.get(pk=teleconsultation.pk)
        assert after.status == transition.target
        assert after.version == before.version + 1
        assert TeleconsultationEvent.objects.filter(teleconsultation=after, action=action).count() == 1
    else:
        with pytest.raises(Conflict):
            services.teleconsultation_act(
                actor=actor, teleconsultation=teleconsultation, action=action, **fields
            )
        after = Teleconsultation.objects.get(pk=teleconsultation.pk)
        assert (after.status, after.version) == (before.status, before.version)
        assert TeleconsultationEvent.objects.count() == steps


def test_available_actions_follow_the_table():
    invited = {TeleconsultationSide.INVITED: frozenset({Role.REFERRAL_COORDINATOR})}
    assert workflow.available_actions(TeleconsultationStatus.REQUESTED, invited) == ["accept", "decline"]
    assert workflow.available_actions(TeleconsultationStatus.ACCEPTED, invited) == ["assign", "schedule"]
    expert = {TeleconsultationSide.EXPERT: frozenset({Role.DOCTOR})}
    assert workflow.available_actions(TeleconsultationStatus.SCHEDULED, expert) == ["sign_opinion"]
    inviting = {TeleconsultationSide.INVITING: frozenset({Role.DOCTOR})}
    assert workflow.available_actions(TeleconsultationStatus.OPINION_SIGNED, inviting) == ["conclude"]
    nurse = {TeleconsultationSide.INVITING: frozenset({Role.NURSE})}
    assert workflow.available_actions(TeleconsultationStatus.REQUESTED, nurse) == []
    assert workflow.available_actions(TeleconsultationStatus.CONCLUDED, inviting | invited | expert) == []
