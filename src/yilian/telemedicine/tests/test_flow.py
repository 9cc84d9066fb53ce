"""The teleconsultation end to end at the service level: consent and invitation, answer, schedule,
opinion with both billing records, the decision (with the referral it creates), bad input, free times,
fees and statistics."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yilian.core.exceptions import Conflict, Invalid, NotAllowed, NotFound
from yilian.core.models import AuditEvent
from yilian.notifications.models import Notification
from yilian.referrals.choices import ReferralStatus
from yilian.referrals.models import Referral
from yilian.telemedicine import selectors, services
from yilian.telemedicine.models import (
    ExpertAvailability,
    Teleconsultation,
    TeleconsultationAttachment,
    TeleconsultationCharge,
)
from yilian.telemedicine.tests.factories import (
    advance,
    invitation,
    later,
    requested,
    session_started,
    slot,
    tele_world,
)

pytestmark = pytest.mark.django_db


def _act(actor, teleconsultation, action, **fields):
    return services.teleconsultation_act(
        actor=actor, teleconsultation=teleconsultation, action=action, **fields
    )


def test_full_flow_stayed_local_with_both_charges(world):
    tw = tele_world(world)
    tc = requested(tw)
    assert tc.number.startswith("YC") and tc.status == "requested"
    assert tc.fee_amount == Decimal("300") and tc.consortium == world.consortium
    assert Notification.objects.filter(recipient=tw.coordinator, topic="teleconsultation.new").exists()
    tc = _act(tw.coordinator, tc, "accept", expert=tw.expert)
    assert tc.status == "accepted" and tc.expert == tw.expert
    assert Notification.objects.filter(recipient=tw.expert, topic="teleconsultation.assigned").exists()
    free = slot(tw)
    tc = _act(tw.coordinator, tc, "schedule", availability=free, meeting_link="https://meet.example.cn/r/9")
    assert tc.status == "scheduled" and tc.scheduled_at == free.starts_at
    assert ExpertAvailability.objects.get(pk=free.pk).taken_by_id == tc.pk
    with pytest.raises(Invalid) as early:
        _act(tw.expert, tc, "sign_opinion", opinion="建议调整用药。")
    assert "开始前不能签署" in early.value.as_text()["scheduled_at"][0]
    tc = _act(tw.expert, session_started(tc), "sign_opinion", opinion="建议调整用药。")
    assert tc.status == "opinion_signed" and tc.opinion_signed_by == tw.expert
    charges = {c.direction: c for c in TeleconsultationCharge.objects.filter(teleconsultation=tc)}
    assert charges["payable"].institution == world.township and charges["payable"].amount == Decimal("300")
    assert charges["receivable"].institution == world.hospital
    with pytest.raises(Conflict):
        _act(tw.expert, tc, "sign_opinion", opinion="再签一次")
    assert TeleconsultationCharge.objects.filter(teleconsultation=tc).count() == 2
    tc = _act(tw.township_doctor, tc, "conclude", decision="按意见调整用药", outcome="stayed_local")
    assert tc.status == "concluded" and tc.referral is None
    actions = list(selectors.teleconsultation_timeline(tc).values_list("action", flat=True))
    assert actions == ["create", "accept", "schedule", "sign_opinion", "conclude"]
    audited = set(AuditEvent.objects.filter(object_id=str(tc.public_id)).values_list("action", flat=True))
    assert {f"teleconsultation.{a}" for a in actions} <= audited


def test_conclude_as_referred_creates_the_referral_in_one_step(world):
    tw = tele_world(world)
    tc = advance(tw, requested(tw), "sign_opinion")
    tc = _act(
        tw.township_doctor,
        tc,
        "conclude",
        decision="需上转心内科进一步诊治",
        outcome="referred",
        referral_to_department=tw.cardiology,
    )
    referral = Referral.objects.get(pk=tc.referral_id)
    assert referral.status == ReferralStatus.SUBMITTED
    assert referral.person == tw.patient and referral.to_department == tw.cardiology
    assert tc.number in referral.reason


def test_referral_errors_roll_the_decision_back(world):
    tw = tele_world(world)
    tc = advance(tw, requested(tw, diagnosis_code="", diagnosis_name=""), "sign_opinion")
    with pytest.raises(Invalid) as error:
        _act(
            tw.township_doctor,
            tc,
            "conclude",
            decision="转诊",
            outcome="referred",
            referral_to_department=tw.cardiology,
        )
    assert "referral_diagnosis_code" in error.value.errors
    assert Teleconsultation.objects.get(pk=tc.pk).status == "opinion_signed"
    assert not Referral.objects.exists()
    with pytest.raises(Invalid) as error:
        _act(tw.township_doctor, tc, "conclude", decision="转诊", outcome="referred")
    assert "referral_to_department" in error.value.errors


def test_no_fee_no_charges_and_decline_cancel(world):
    tw = tele_world(world)
    tc = advance(tw, requested(tw, kind="reading"), "sign_opinion")
    assert tc.fee_amount == 0 and not TeleconsultationCharge.objects.exists()
    declined = _act(tw.coordinator, requested(tw), "decline", reason="专家外出")
    assert declined.status == "declined" and declined.decline_reason == "专家外出"
    with pytest.raises(Invalid):
        _act(tw.coordinator, requested(tw), "decline", reason="  ")
    booked = slot(tw)
    tc = _act(tw.coordinator, requested(tw), "accept", expert=tw.expert)
    tc = _act(tw.coordinator, tc, "schedule", availability=booked)
    tc = _act(tw.township_doctor, tc, "cancel", reason="患者病情好转")
    assert tc.status == "cancelled"
    assert ExpertAvailability.objects.get(pk=booked.pk).taken_by_id is None


def test_teaching_needs_no_patient_and_no_consent(world):
    tw = tele_world(world)
    tc = requested(
        tw,
        kind="teaching",
        person=None,
        consent_signer_name="",
        consent_relationship="",
        consent_signed_at=None,
    )
    assert tc.person is None and tc.consent_signer_name == ""
    tc = advance(tw, tc, "sign_opinion")
    with pytest.raises(Invalid):
        _act(tw.township_doctor, tc, "conclude", decision="教学完成", outcome="referred")
    tc = _act(tw.township_doctor, tc, "conclude", decision="教学完成", outcome="other")
    assert tc.status == "concluded"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent_signer_name": ""}, "consent_signer_name"),
        ({"consent_relationship": "friend"}, "consent_relationship"),
        ({"consent_signed_at": None}, "consent_signed_at"),
        ({"diagnosis_code": "XYZ"}, "diagnosis_code"),
        ({"proposed_at": timezone.now() - datetime.timedelta(hours=1)}, "proposed_at"),
        ({"required_title": "chief_nurse"}, "required_title"),
        ({"required_specialty": "99"}, "required_specialty"),
        ({"reason": ""}, "reason"),
        ({"case_summary": ""}, "case_summary"),
        ({"purpose": "目" * 51}, "purpose"),
        ({"kind": "séance"}, "kind"),
        ({"person": None}, "person"),
    ],
)
def test_bad_invitations_save_nothing(world, overrides, field):
    tw = tele_world(world)
    with pytest.raises(Invalid) as error:
        services.teleconsultation_create(actor=tw.township_doctor, **invitation(tw, **overrides))
    assert field in error.value.errors
    assert (
        not Teleconsultation.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="teleconsultation").exists()
    )


def test_invitation_to_itself_and_inactive_institution(world):
    tw = tele_world(world)
    with pytest.raises(Invalid) as error:
        services.teleconsultation_create(
            actor=tw.township_doctor, **invitation(tw, invited_institution=world.township)
        )
    assert "invited_institution" in error.value.errors
    world.hospital.status = "closed"
    world.hospital.save()
    with pytest.raises(Invalid) as error:
        services.teleconsultation_create(actor=tw.township_doctor, **invitation(tw))
    assert "invited_institution" in error.value.errors


def test_only_inviting_clinicians_of_a_visible_patient_invite(world):
    tw = tele_world(world)
    for actor in (tw.township_nurse, world.outsider_doctor, world.office, world.admin, tw.coordinator):
        with pytest.raises(NotAllowed):
            services.teleconsultation_create(actor=actor, **invitation(tw))
    from yilian.people.tests.factories import person

    stranger_patient = person("王五", institution=world.outsider)
    with pytest.raises(NotAllowed):
        services.teleconsultation_create(actor=tw.township_doctor, **invitation(tw, person=stranger_patient))
    assert not Teleconsultation.objects.exists()


def test_idempotency_key_returns_the_first(world):
    tw = tele_world(world)
    first, created = services.teleconsultation_create(
        actor=tw.township_doctor, idempotency_key="k1", **invitation(tw)
    )
    again, created_again = services.teleconsultation_create(
        actor=tw.township_doctor, idempotency_key="k1", **invitation(tw)
    )
    assert created and not created_again and again.pk == first.pk
    assert Teleconsultation.objects.count() == 1


def test_expert_must_qualify(world):
    tw = tele_world(world)
    tc = requested(tw)
    for unqualified in (tw.junior, tw.surgeon, tw.township_doctor, world.hospital_doctor):
        with pytest.raises(Invalid) as error:
            _act(tw.coordinator, tc, "accept", expert=unqualified)
        assert "expert" in error.value.errors
    assert Teleconsultation.objects.get(pk=tc.pk).status == "requested"


def test_schedule_validates_time_and_link_and_stale_version(world):
    tw = tele_world(world)
    tc = _act(tw.coordinator, requested(tw), "accept", expert=tw.expert)
    with pytest.raises(Invalid) as error:
        _act(tw.coordinator, tc, "schedule", scheduled_at=later(5), meeting_link="javascript:alert(1)")
    assert "meeting_link" in error.value.errors
    with pytest.raises(Invalid) as error:
        _act(tw.coordinator, tc, "schedule", scheduled_at=timezone.now() - datetime.timedelta(hours=1))
    assert "scheduled_at" in error.value.errors
    with pytest.raises(Conflict):
        _act(tw.coordinator, tc, "schedule", scheduled_at=later(5), expected_version=tc.version - 1)
    other = slot(tw, expert=tw.junior)
    with pytest.raises(Invalid) as error:
        _act(tw.coordinator, tc, "schedule", availability=other)
    assert "availability" in error.value.errors
    assert Teleconsultation.objects.get(pk=tc.pk).version == tc.version


def test_only_the_assigned_expert_signs(world):
    tw = tele_world(world)
    tc = advance(tw, requested(tw), "schedule")
    for actor in (tw.junior, tw.surgeon, tw.coordinator, tw.township_doctor, world.admin):
        with pytest.raises(NotAllowed):
            _act(actor, tc, "sign_opinion", opinion="意见")


def test_reassigning_releases_the_booked_time(world):
    tw = tele_world(world)
    from yilian.accounts.tests.factories import user_with_role

    second = user_with_role("doctor", username="second", institution=world.hospital, department=tw.cardiology)
    second.professional_title = "chief_physician"
    second.save()
    booked = slot(tw)
    tc = _act(tw.coordinator, requested(tw), "accept", expert=tw.expert)
    tc = _act(tw.coordinator, tc, "schedule", availability=booked)
    tc = _act(tw.coordinator, tc, "assign", expert=second)
    assert tc.expert == second and tc.status == "accepted"
    assert ExpertAvailability.objects.get(pk=booked.pk).taken_by_id is None


def test_attachments_size_and_type(world):
    tw = tele_world(world)
    tc = requested(tw)
    ok = SimpleUploadedFile("ct.pdf", b"%PDF-1.4", content_type="application/pdf")
    attachment = services.teleconsultation_attach(
        actor=tw.township_doctor, teleconsultation=tc, kind="imaging", upload=ok
    )
    assert attachment.size == 8
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(Invalid) as error:
        services.teleconsultation_attach(
            actor=tw.township_doctor, teleconsultation=tc, kind="imaging", upload=bad
        )
    assert "file" in error.value.errors
    big = SimpleUploadedFile("big.pdf", b"0", content_type="application/pdf")
    big.size = 21 * 1024 * 1024
    with pytest.raises(Invalid):
        services.teleconsultation_attach(
            actor=tw.township_doctor, teleconsultation=tc, kind="imaging", upload=big
        )
    with pytest.raises(NotAllowed):
        services.teleconsultation_attach(actor=tw.junior, teleconsultation=tc, kind="imaging", upload=ok)
    assert TeleconsultationAttachment.objects.count() == 1


def test_visibility_and_the_expert_sees_only_that_case(world):
    tw = tele_world(world)
    assigned = advance(tw, requested(tw), "accept")
    other = requested(tw)

    def visible(actor):
        return set(selectors.teleconsultation_visible_to(actor).values_list("pk", flat=True))

    both = {assigned.pk, other.pk}
    assert visible(tw.township_doctor) == both
    assert visible(tw.township_nurse) == both
    assert visible(tw.coordinator) == both
    assert visible(world.hospital_admin) == both
    assert visible(world.office) == both and visible(world.regulator) == both and visible(world.admin) == both
    assert visible(tw.expert) == {assigned.pk}
    assert visible(tw.junior) == set()
    assert (
        visible(world.outsider_doctor) == set()
        and visible(world.stranger) == set()
        and visible(None) == set()
    )
    with pytest.raises(NotFound):
        selectors.teleconsultation_get_for(tw.junior, assigned.public_id)
    from yilian.telemedicine import policies

    assert policies.sees_patient(tw.expert, assigned)
    assert not policies.sees_patient(world.office, assigned) and not policies.sees_patient(
        world.admin, assigned
    )


def test_free_times_offer_only_qualified_unbooked_future_slots(world):
    tw = tele_world(world)
    good = slot(tw)
    slot(tw, expert=tw.junior, hours=40)
    slot(tw, expert=tw.surgeon, hours=42)
    past = slot(tw, hours=2)
    ExpertAvailability.objects.filter(pk=past.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1)
    )
    taken = slot(tw, hours=80)
    ExpertAvailability.objects.filter(pk=taken.pk).update(taken_by=requested(tw))
    found = list(
        selectors.free_times(
            institution_id=world.hospital.pk, specialty="03", title="associate_chief_physician"
        )
    )
    assert found == [good]
    assert len(list(selectors.free_times(title="attending_physician"))) == 3
    tc = requested(tw, proposed_slot=good)
    assert tc.proposed_at == good.starts_at
    with pytest.raises(Invalid) as error:
        requested(tw, proposed_slot=ExpertAvailability.objects.get(expert=tw.junior))
    assert "proposed_slot" in error.value.errors


def test_publishing_and_withdrawing_free_times(world):
    tw = tele_world(world)
    start = later(10)
    mine = services.availability_publish(
        actor=tw.expert,
        expert=tw.expert,
        institution=world.hospital,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )
    with pytest.raises(Invalid):
        services.availability_publish(
            actor=tw.coordinator,
            expert=tw.expert,
            institution=world.hospital,
            starts_at=start + datetime.timedelta(hours=1),
            ends_at=start + datetime.timedelta(hours=3),
        )
    with pytest.raises(Invalid):
        services.availability_publish(
            actor=tw.expert,
            expert=tw.expert,
            institution=world.hospital,
            starts_at=start - datetime.timedelta(days=2),
            ends_at=start,
        )
    with pytest.raises(NotAllowed):
        services.availability_publish(
            actor=tw.junior,
            expert=tw.expert,
            institution=world.hospital,
            starts_at=later(100),
            ends_at=later(101),
        )
    with pytest.raises(Invalid):
        services.availability_publish(
            actor=tw.coordinator,
            expert=tw.township_doctor,
            institution=world.hospital,
            starts_at=later(100),
            ends_at=later(101),
        )
    tc = _act(tw.coordinator, requested(tw), "accept", expert=tw.expert)
    _act(tw.coordinator, tc, "schedule", availability=mine)
    with pytest.raises(Conflict):
        services.availability_withdraw(actor=tw.expert, slot=mine)
    free = slot(tw, hours=200)
    services.availability_withdraw(actor=tw.coordinator, slot=free)
    assert not ExpertAvailability.objects.filter(pk=free.pk).exists()
    assert AuditEvent.objects.filter(action="expert_availability.withdraw").count() == 1


def test_fees_are_set_by_the_office(world):
    tw = tele_world(world)
    fee = services.fee_set(actor=world.office, consortium=world.consortium, kind="consultation", amount="350")
    assert fee.pk == tw.fee.pk and fee.amount == Decimal("350.00")
    assert requested(tw).fee_amount == Decimal("350.00")
    with pytest.raises(NotAllowed):
        services.fee_set(
            actor=world.hospital_admin, consortium=world.consortium, kind="consultation", amount="1"
        )
    with pytest.raises(Invalid):
        services.fee_set(actor=world.office, consortium=world.consortium, kind="consultation", amount="-1")


def test_statistics_count_and_share_kept_local(world):
    tw = tele_world(world)
    advance(tw, requested(tw), "conclude")
    referred = advance(tw, requested(tw), "sign_opinion")
    _act(
        tw.township_doctor,
        referred,
        "conclude",
        decision="上转",
        outcome="referred",
        referral_to_department=tw.cardiology,
    )
    requested(tw, kind="reading")
    summary = selectors.teleconsultation_summary(world.office)
    assert summary.total == 3
    assert {row["kind"]: row["count"] for row in summary.by_kind} == {"consultation": 2, "reading": 1}
    assert summary.by_member[0]["count"] == 3
    assert (
        summary.concluded_with_patient == 2 and summary.stayed_local == 1 and summary.kept_local_share == 0.5
    )
    with pytest.raises(NotAllowed):
        selectors.teleconsultation_summary(tw.township_doctor)


def test_charges_are_read_by_each_end_and_the_office(world):
    tw = tele_world(world)
    advance(tw, requested(tw), "sign_opinion")
    assert [c.direction for c in selectors.charge_list(world.township_admin)] == ["payable"]
    assert [c.direction for c in selectors.charge_list(world.hospital_admin)] == ["receivable"]
    assert selectors.charge_list(world.office).count() == 2
    assert selectors.charge_list(tw.township_doctor).count() == 0


def test_each_change_notifies_the_other_side(world):
    tw = tele_world(world)

    def topics(user):
        return list(
            Notification.objects.filter(recipient=user).order_by("id").values_list("topic", flat=True)
        )

    tc = advance(tw, requested(tw), "conclude")
    assert topics(tw.coordinator) == ["teleconsultation.new", "teleconsultation.concluded"]
    assert topics(tw.township_doctor) == [
        "teleconsultation.answered",
        "teleconsultation.answered",
        "teleconsultation.opinion",
    ]
    assert topics(tw.expert) == [
        "teleconsultation.assigned",
        "teleconsultation.assigned",
        "teleconsultation.concluded",
    ]
    cancelled = _act(tw.township_doctor, requested(tw), "cancel", reason="病情好转")
    assert Notification.objects.filter(
        topic="teleconsultation.cancelled", object_id=str(cancelled.public_id)
    ).exists()
    assert not Notification.objects.filter(recipient=tw.junior).exists()
    assert tc.status == "concluded"


def test_audit_actions_have_readable_labels():
    from yilian.core.audit import action_label
    from yilian.telemedicine import workflow

    for action in (*workflow.ACTIONS, "create", "attach"):
        assert action_label(f"teleconsultation.{action}") != f"teleconsultation.{action}"


def test_concluding_lists_every_problem_at_once(world):
    """A 转诊 with no decision and no department named only the decision; the department came next time."""
    tw = tele_world(world)
    tc = advance(tw, requested(tw), "sign_opinion")
    with pytest.raises(Invalid) as error:
        _act(tw.township_doctor, tc, "conclude", decision="  ", outcome="referred")
    assert set(error.value.errors) == {"decision", "referral_to_department"}
    with pytest.raises(Invalid) as error:
        _act(tw.township_doctor, tc, "conclude", decision="上转")
    assert set(error.value.errors) == {"outcome"}
    assert Teleconsultation.objects.get(pk=tc.pk).status == "opinion_signed"


def test_the_opinion_is_signed_only_once_the_session_has_begun(world):
    tw = tele_world(world)
    tc = advance(tw, requested(tw), "schedule")
    start = timezone.localtime(tc.scheduled_at).strftime("%Y-%m-%d %H:%M")
    with pytest.raises(Invalid) as error:
        _act(tw.expert, tc, "sign_opinion", opinion="")
    # Both problems at once: the empty opinion and the session still ahead.
    assert set(error.value.as_text()) == {"opinion", "scheduled_at"}
    assert start in error.value.as_text()["scheduled_at"][0]
    tc.refresh_from_db()
    assert tc.status == "scheduled" and tc.opinion == "" and tc.opinion_signed_at is None
    assert not TeleconsultationCharge.objects.filter(teleconsultation=tc).exists()
    assert not tc.events.filter(action="sign_opinion").exists()
    tc = _act(tw.expert, session_started(tc, minutes=0.1), "sign_opinion", opinion="同意")
    assert tc.status == "opinion_signed" and tc.opinion_signed_at >= tc.scheduled_at
