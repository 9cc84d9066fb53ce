"""Concurrent writes with REAL threads (each on its own connection): the case-row lock keeps the derived
fields right, the partial unique index and the lock leave one winner and a clean Conflict."""

from __future__ import annotations

from typing import Any

import pytest

from yilian.chronic_care import services
from yilian.chronic_care.models import ChronicCase, FollowUp
from yilian.chronic_care.tests.factories import care_world, days_ago, enrol, visit
from yilian.core.exceptions import Conflict
from yilian.core.testing import race
from yilian.referrals.models import Referral

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_follow_ups_saved_at_once_keep_case_fields_right(world):
    cw = care_world(world)
    case = enrol(cw)

    def record(days: int, sbp: int) -> Any:
        return lambda: services.follow_up_record(
            actor=cw.gp,
            case=ChronicCase.objects.get(pk=case.pk),
            visited_on=days_ago(days),
            method="clinic",
            systolic=sbp,
            diastolic=95,
            adherence="regular",
        )

    results = race(record(20, 160), record(2, 170))
    assert all(isinstance(r, FollowUp) for r in results), results
    stored = ChronicCase.objects.get(pk=case.pk)
    assert stored.follow_up_count == 2
    assert stored.last_follow_up_on == days_ago(2)
    assert stored.consecutive_uncontrolled == 2
    latest = FollowUp.objects.get(visited_on=days_ago(2))
    assert stored.next_due_on == latest.next_due_on


def test_two_enrolments_of_one_person_one_wins(world):
    cw = care_world(world)

    def enrol_once() -> Any:
        return lambda: services.case_enrol(
            actor=cw.gp,
            person=cw.patient,
            registry=cw.hypertension,
            institution=world.township,
            diagnosis_code="I10",
        )

    results = race(enrol_once(), enrol_once())
    winners = [r for r in results if isinstance(r, ChronicCase)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert ChronicCase.objects.filter(person=cw.patient, status="active").count() == 1


def test_two_clicks_on_refer_send_one_referral(world):
    cw = care_world(world)
    case = enrol(cw)
    follow_up = visit(cw, case, side_effects="uncontrolled")

    def refer() -> Any:
        return lambda: services.suggestion_refer(
            actor=cw.gp,
            follow_up=FollowUp.objects.select_related("case").get(pk=follow_up.pk),
            to_department=cw.cardiology,
            priority="urgent",
            kind="outpatient",
            diagnosis_code="I10",
            diagnosis_name="原发性高血压",
            reason="药物不良反应难以控制",
            patient_consented=True,
            acknowledge_missing=True,
        )

    results = race(refer(), refer())
    winners = [r for r in results if isinstance(r, Referral)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    assert Referral.objects.count() == 1
