"""A referral's whole loop through the services, with timeline, audit, notifications and closed-loop duties."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.models import AuditEvent
from yilian.encounters.services import encounter_record
from yilian.institutions.tests.factories import DepartmentFactory
from yilian.notifications.models import Notification
from yilian.people.models import PersonInstitutionLink
from yilian.referrals import selectors, services
from yilian.referrals.choices import ReferralDirection, ReferralStatus
from yilian.referrals.models import DeductibleSubsidy, FollowUpTask, Referral
from yilian.referrals.tests.factories import capacity, draft, referral_world, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(world):
    return referral_world(world)


def test_up_referral_full_loop(rw):
    DeductibleSubsidy.objects.create(consortium=rw.world.consortium, insurance_scheme="resident", amount=200)
    referral = draft(rw, kind="admission")
    assert referral.status == ReferralStatus.DRAFT
    assert referral.direction == ReferralDirection.UP
    assert referral.inside_consortium and referral.consortium == rw.world.consortium
    assert not PersonInstitutionLink.objects.filter(person=rw.patient, institution=rw.world.hospital).exists()

    referral = services.referral_submit(actor=rw.township_doctor, referral=referral)
    assert referral.status == ReferralStatus.SUBMITTED
    assert referral.answer_due_at > timezone.now()
    assert PersonInstitutionLink.objects.filter(person=rw.patient, institution=rw.world.hospital).exists()
    assert Notification.objects.filter(recipient=rw.hospital_doctor, topic="referral.new").exists()

    referral = services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    referral = services.referral_act(
        actor=rw.hospital_coordinator, referral=referral, action="schedule", scheduled_for=tomorrow
    )
    referral = services.referral_act(actor=rw.hospital_nurse, referral=referral, action="arrive")
    referral = services.referral_act(
        actor=rw.hospital_doctor,
        referral=referral,
        action="complete",
        outcome_diagnosis_code="I10.x00",
        outcome_summary="调整降压方案后血压达标",
        follow_up_plan="两周后社区随访",
    )
    assert referral.subsidy_amount == 200
    referral = services.referral_act(actor=rw.township_doctor, referral=referral, action="close")
    assert referral.status == ReferralStatus.CLOSED

    steps = list(selectors.referral_timeline(referral).values_list("action", flat=True))
    assert steps == ["create", "submit", "accept", "schedule", "arrive", "complete", "close"]
    audited = AuditEvent.objects.filter(object_id=str(referral.public_id)).count()
    assert audited == len(steps)
    assert Notification.objects.filter(recipient=rw.township_doctor, topic="referral.answered").count() == 4


def test_sender_books_reserved_slot_and_accept_confirms_it(rw):
    slot = capacity(rw.cardiology, quantity=1)
    referral = draft(rw)
    referral = services.referral_submit(actor=rw.township_doctor, referral=referral, booking_date=slot.date)
    slot.refresh_from_db()
    assert slot.booked == 1
    referral = services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    assert referral.status == ReferralStatus.SCHEDULED
    assert referral.scheduled_for == slot.date
    other = draft(rw)
    with pytest.raises(Conflict):
        services.referral_submit(actor=rw.township_doctor, referral=other, booking_date=slot.date)
    assert Referral.objects.get(pk=other.pk).status == ReferralStatus.DRAFT


def test_wrong_side_and_wrong_state(rw):
    referral = submitted(rw)
    with pytest.raises(NotAllowed):
        services.referral_act(actor=rw.township_doctor, referral=referral, action="accept")
    with pytest.raises(NotAllowed):
        services.referral_act(actor=rw.outsider_doctor, referral=referral, action="accept")
    with pytest.raises(Conflict):
        services.referral_act(
            actor=rw.hospital_doctor, referral=referral, action="complete", outcome_summary="x"
        )
    referral = services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    with pytest.raises(Conflict):
        services.referral_act(actor=rw.hospital_coordinator, referral=referral, action="accept")
    assert Referral.objects.get(pk=referral.pk).version == referral.version


def test_bad_input_is_refused_whole(rw):
    with pytest.raises(Invalid) as error:
        draft(rw, diagnosis_code="I99.9")
    assert "diagnosis_code" in error.value.errors
    referral = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(Invalid) as error:
        services.referral_act(
            actor=rw.hospital_doctor, referral=referral, action="schedule", scheduled_for=yesterday
        )
    assert "scheduled_for" in error.value.errors
    with pytest.raises(Invalid):
        services.referral_act(
            actor=rw.township_doctor, referral=referral, action="request_cancel", reason=" "
        )
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.ACCEPTED


def test_redirect_makes_a_successor(rw):
    referral = submitted(rw)
    successor = services.referral_act(
        actor=rw.hospital_doctor,
        referral=referral,
        action="redirect",
        to_department=rw.surgery,
        reason="外科处理",
    )
    assert successor.status == ReferralStatus.SUBMITTED and successor.to_department == rw.surgery
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.REDIRECTED
    assert successor.redirected_from_id == referral.pk


def test_redirect_back_to_the_sending_institution_is_refused(rw):
    township_medicine = DepartmentFactory(institution=rw.world.township, name="内科", specialty="03")
    referral = submitted(rw)
    for department in (township_medicine, rw.township_clinic):
        with pytest.raises(Invalid) as error:
            services.referral_act(
                actor=rw.hospital_doctor,
                referral=referral,
                action="redirect",
                to_department=department,
                reason="回基层",
            )
        assert "to_department" in error.value.errors
    fresh = Referral.objects.get(pk=referral.pk)
    assert fresh.status == ReferralStatus.SUBMITTED and fresh.version == referral.version
    assert not Referral.objects.filter(redirected_from=referral).exists()


def test_cancel_after_acceptance_needs_the_receiver(rw):
    referral = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    with pytest.raises(Conflict):
        services.referral_act(
            actor=rw.township_doctor, referral=referral, action="cancel", reason="患者不去了"
        )
    referral = services.referral_act(
        actor=rw.township_doctor, referral=referral, action="request_cancel", reason="患者不去了"
    )
    assert referral.status == ReferralStatus.CANCEL_REQUESTED
    referral = services.referral_act(
        actor=rw.hospital_doctor, referral=referral, action="decline_cancel", reason="已安排床位"
    )
    assert referral.status == ReferralStatus.ACCEPTED


def test_a_confirmed_cancel_keeps_the_senders_reason(rw):
    """Cancelled after acceptance, the referral records why, as one cancelled before acceptance does
    (the page's 拒绝/撤销原因, the API's decline_reason): the latest request's reason."""
    referral = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    for reason, answer in (("家属犹豫", "decline_cancel"), ("患者已在外院就诊", "confirm_cancel")):
        services.referral_act(
            actor=rw.township_doctor, referral=referral, action="request_cancel", reason=reason
        )
        referral = services.referral_act(
            actor=rw.hospital_doctor, referral=referral, action=answer, reason="已安排"
        )
        if answer == "decline_cancel":
            assert Referral.objects.get(pk=referral.pk).decline_reason == ""
    referral = Referral.objects.get(pk=referral.pk)
    assert referral.status == ReferralStatus.CANCELLED and referral.decline_reason == "患者已在外院就诊"


def _down_referral(rw, kind):
    """A submitted down-referral of a stroke patient to the township, after a 12-day stay at the hospital."""
    stay = encounter_record(
        actor=rw.hospital_doctor,
        institution=rw.world.hospital,
        person=rw.patient,
        kind="inpatient",
        department=rw.cardiology,
        started_at=timezone.now() - datetime.timedelta(days=12),
        diagnosis_code="I63.9",
        diagnosis_name="脑梗死",
    )
    referral, _ = services.referral_create(
        encounter=stay,
        actor=rw.hospital_doctor,
        person=rw.patient,
        from_institution=rw.world.hospital,
        from_department=rw.cardiology,
        to_department=rw.township_clinic,
        kind=kind,
        diagnosis_code="I63.9",
        diagnosis_name="脑梗死恢复期",
        reason="恢复期康复",
        recovery_phase="recovery",
        patient_consented=True,
        submit=True,
        acknowledge_missing=True,
    )
    return referral


def test_down_referral_creates_closed_loop_duties_and_sweep_expires(rw):
    referral = _down_referral(rw, "outpatient")
    assert referral.direction == ReferralDirection.DOWN
    services.referral_act(actor=rw.township_doctor, referral=referral, action="accept")
    services.referral_act(actor=rw.township_nurse, referral=referral, action="arrive")
    tasks = list(FollowUpTask.objects.filter(referral=referral).order_by("due_at"))
    assert [t.kind for t in tasks] == ["follow_up", "rehabilitation"]
    later = timezone.now() + datetime.timedelta(days=3)
    counts = services.referral_sweep_deadlines(now=later)
    assert counts["follow_up_overdue"] == 1
    services.follow_up_record(actor=rw.township_nurse, task=tasks[1], note="首次康复评估")
    with pytest.raises(Conflict):
        services.follow_up_record(actor=rw.township_nurse, task=tasks[1], note="again")

    late = submitted(rw)
    counts = services.referral_sweep_deadlines(
        now=timezone.now() + datetime.timedelta(days=30)
    )  # past deadline + grace
    assert counts["expired_unanswered"] == 1
    assert Referral.objects.get(pk=late.pk).status == ReferralStatus.EXPIRED


def _complete(rw, referral, receiver, nurse):
    services.referral_act(actor=receiver, referral=referral, action="accept")
    services.referral_act(actor=nurse, referral=referral, action="arrive")
    return services.referral_act(actor=receiver, referral=referral, action="complete", outcome_summary="好转")


@pytest.mark.parametrize(
    "kind,expected", [("admission", 200), ("emergency", 200), ("outpatient", 0), ("exam", 0)]
)
def test_only_an_admitting_up_referral_earns_the_deductible_subsidy(rw, kind, expected):
    # The subsidy makes up for a second hospitalisation start line: outpatient and exam referrals pay none.
    DeductibleSubsidy.objects.create(consortium=rw.world.consortium, insurance_scheme="resident", amount=200)
    referral = _complete(rw, submitted(rw, kind=kind), rw.hospital_doctor, rw.hospital_nurse)
    assert referral.status == ReferralStatus.COMPLETED
    assert referral.subsidy_amount == expected
    assert Referral.objects.get(pk=referral.pk).subsidy_amount == expected
    month = timezone.localdate()
    assert list(selectors.subsidy_report(rw.world.consortium, month)) == ([referral] if expected else [])


@pytest.mark.parametrize("kind,expected", [("admission", 200), ("outpatient", 0)])
def test_a_down_referral_earns_the_subsidy_only_for_continued_inpatient_care(rw, kind, expected):
    DeductibleSubsidy.objects.create(consortium=rw.world.consortium, insurance_scheme="resident", amount=200)
    referral = _down_referral(rw, kind)
    assert referral.direction == ReferralDirection.DOWN
    referral = _complete(rw, referral, rw.township_doctor, rw.township_nurse)
    assert referral.subsidy_amount == expected


def test_idempotency_key_returns_the_first_referral(rw):
    first, created = services.referral_create(
        actor=rw.township_doctor,
        person=rw.patient,
        from_institution=rw.world.township,
        to_department=rw.cardiology,
        idempotency_key="abc-1",
    )
    again, created_again = services.referral_create(
        actor=rw.township_doctor,
        person=rw.patient,
        from_institution=rw.world.township,
        to_department=rw.cardiology,
        idempotency_key="abc-1",
    )
    assert created and not created_again and first.pk == again.pk


def test_hypertension_scheme_loads_once_and_judges_a_referral(rw):
    created = services.criteria_load_scheme(
        actor=rw.world.office, consortium=rw.world.consortium, scheme="hypertension"
    )
    assert len(created) == 4
    assert (
        services.criteria_load_scheme(
            actor=rw.world.office, consortium=rw.world.consortium, scheme="hypertension"
        )
        == []
    )
    with pytest.raises(NotAllowed):
        services.criteria_load_scheme(
            actor=rw.township_doctor, consortium=rw.world.consortium, scheme="hypertension"
        )
    routine = services.referral_submit(actor=rw.township_doctor, referral=draft(rw))
    assert routine.criterion.category == "consult_then_up" and routine.criteria_met is True
    referral = draft(rw, priority="stat")  # history, exam results, medications present; no ECG attached
    with pytest.raises(Invalid) as error:
        services.referral_submit(actor=rw.township_doctor, referral=referral)
    assert "materials" in error.value.errors
    referral = services.referral_submit(actor=rw.township_doctor, referral=referral, acknowledge_missing=True)
    assert referral.criterion.name == "高血压急症上转（任何级别）"
    assert (
        referral.completeness == 75
        and referral.criteria_met is False
        and referral.missing_materials == ["ecg"]
    )


def test_overdue_shows_before_the_referral_expires(rw):
    referral = submitted(rw)
    just_late = referral.answer_due_at + datetime.timedelta(hours=1)
    assert services.referral_sweep_deadlines(now=just_late)["expired_unanswered"] == 0
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SUBMITTED
    after_grace = referral.answer_due_at + datetime.timedelta(hours=25)
    assert services.referral_sweep_deadlines(now=after_grace)["expired_unanswered"] == 1


def test_declining_returns_the_booked_place_and_clears_the_link(rw):
    slot = capacity(rw.cardiology, quantity=1)
    referral = services.referral_submit(actor=rw.township_doctor, referral=draft(rw), booking_date=slot.date)
    referral = services.referral_act(
        actor=rw.hospital_doctor, referral=referral, action="decline", reason="无床位"
    )
    assert referral.booking_id is None and Referral.objects.get(pk=referral.pk).booking_id is None
    slot.refresh_from_db()
    assert slot.booked == 0


def test_between_two_departments_of_one_member_is_lateral_inside_the_consortium(rw):
    PersonInstitutionLink.objects.create(person=rw.patient, institution=rw.world.hospital, reason="treated")
    referral, _ = services.referral_create(
        actor=rw.hospital_doctor,
        person=rw.patient,
        from_institution=rw.world.hospital,
        from_department=rw.cardiology,
        to_department=rw.surgery,
    )
    assert referral.direction == ReferralDirection.LATERAL
    assert referral.inside_consortium and referral.consortium == rw.world.consortium


def test_returning_the_outcome_lists_every_problem_at_once(rw):
    referral = submitted(rw)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    services.referral_act(actor=rw.hospital_nurse, referral=referral, action="arrive")
    with pytest.raises(Invalid) as error:
        services.referral_act(
            actor=rw.hospital_doctor,
            referral=referral,
            action="complete",
            outcome_diagnosis_code="XYZ",
            outcome_diagnosis_name="很" * 51,
        )
    assert set(error.value.errors) == {"outcome_summary", "outcome_diagnosis_code", "outcome_diagnosis_name"}
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.ARRIVED
    done = services.referral_act(
        actor=rw.hospital_doctor,
        referral=referral,
        action="complete",
        outcome_summary="好转",
        outcome_diagnosis_code="i10",
    )
    assert done.outcome_diagnosis_code == "I10"


@pytest.mark.parametrize(("kind", "place"), [("admission", "床位"), ("outpatient", "号源")])
def test_accepting_a_booked_place_names_a_bed_or_a_slot(rw, kind, place):
    pool = capacity(rw.cardiology, kind="bed" if kind == "admission" else "outpatient_slot")
    referral = draft(rw, kind=kind)
    services.referral_submit(actor=rw.township_doctor, referral=referral, booking=pool)
    services.referral_act(actor=rw.hospital_doctor, referral=referral, action="accept")
    confirmed = selectors.referral_timeline(referral).get(action="schedule")
    assert str(confirmed.display_note).endswith(place)
