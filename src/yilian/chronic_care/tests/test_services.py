"""Enrolment, follow-ups, closing, the suggestion and the one-action referral, through the services."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from yilian.chronic_care import selectors, services
from yilian.chronic_care.choices import Control, Suggestion, SuggestionState
from yilian.chronic_care.models import ChronicCase, FollowUp
from yilian.chronic_care.tests.factories import care_world, days_ago, enrol, visit
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.models import AuditEvent
from yilian.people.models import PersonInstitutionLink
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


def test_enrol_links_person_and_schedules_first_visit(world):
    cw = care_world(world)
    case = enrol(cw)
    assert case.status == "active" and case.diagnosis_code == "I10"
    assert case.next_due_on == case.enrolled_on + datetime.timedelta(days=14)
    assert PersonInstitutionLink.objects.filter(person=cw.patient, reason="chronic_care").exists()
    assert AuditEvent.objects.filter(action="chronic_case.enrol", object_id=str(case.public_id)).exists()


def test_enrol_rejects_diagnosis_outside_the_registry(world):
    cw = care_world(world)
    with pytest.raises(Invalid) as error:
        enrol(cw, diagnosis_code="E11.9")
    assert "diagnosis_code" in error.value.errors
    with pytest.raises(Invalid):
        enrol(cw, diagnosis_code="I99.9x")
    assert not ChronicCase.objects.exists()


def test_enrol_rejects_team_of_another_institution_and_hospital_institution(world):
    from yilian.family_doctors.models import CareTeam

    cw = care_world(world)
    foreign = CareTeam.objects.create(institution=world.outsider, name="河口一队")
    with pytest.raises(Invalid) as error:
        enrol(cw, care_team=foreign)
    assert "care_team" in error.value.errors
    with pytest.raises(NotAllowed):
        services.case_enrol(
            actor=world.outsider_doctor,
            person=cw.patient,
            registry=cw.hypertension,
            institution=world.township,
            diagnosis_code="I10",
        )


def test_one_active_case_per_person_and_registry(world):
    cw = care_world(world)
    case = enrol(cw)
    with pytest.raises(Conflict):
        enrol(cw)
    enrol(cw, registry="diabetes_t2")
    services.case_close(actor=cw.gp, case=case, reason="diagnosis_revised")
    again = enrol(cw)
    assert again.pk != case.pk
    assert ChronicCase.objects.filter(person=cw.patient).count() == 3


def test_close_needs_reason_and_only_once(world):
    cw = care_world(world)
    case = enrol(cw)
    with pytest.raises(Invalid):
        services.case_close(actor=cw.gp, case=case, reason="other")
    with pytest.raises(NotAllowed):
        services.case_close(actor=cw.nurse, case=case, reason="moved")
    services.case_close(actor=cw.gp, case=case, reason="moved")
    with pytest.raises(Conflict):
        services.case_close(actor=cw.gp, case=ChronicCase.objects.get(pk=case.pk), reason="died")
    with pytest.raises(Conflict):
        visit(cw, case)


def test_follow_up_computes_control_and_updates_case(world):
    cw = care_world(world)
    case = enrol(cw)
    follow_up = visit(cw, case, days=10, sbp=132, dbp=84, weight_kg="70", height_cm="170")
    assert follow_up.control == Control.CONTROLLED
    assert str(follow_up.bmi) == "24.2"
    assert follow_up.due_on == case.next_due_on
    assert follow_up.next_due_on == days_ago(10) + datetime.timedelta(days=91)
    case.refresh_from_db()
    assert case.last_follow_up_on == days_ago(10)
    assert case.last_control == Control.CONTROLLED and case.follow_up_count == 1
    assert case.next_due_on == follow_up.next_due_on


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sbp": 20}, "systolic"),
        ({"sbp": 400}, "systolic"),
        ({"sbp": 120, "dbp": 125}, "diastolic"),
        ({"sbp": 120, "dbp": 120}, "diastolic"),
        ({"heart_rate": 5}, "heart_rate"),
        ({"fasting_glucose": "0.5"}, "fasting_glucose"),
        ({"fasting_glucose": "40"}, "fasting_glucose"),
        ({"random_glucose": "abc"}, "random_glucose"),
        ({"weight_kg": "900"}, "weight_kg"),
        ({"visited_on": datetime.date.today() + datetime.timedelta(days=3)}, "visited_on"),
        ({"method": "telepathy"}, "method"),
        ({"danger_signs": ["bogus"]}, "danger_signs"),
    ],
)
def test_impossible_values_are_rejected_naming_the_field(world, values, field):
    cw = care_world(world)
    case = enrol(cw)
    with pytest.raises(Invalid) as error:
        visit(cw, case, **values)
    assert field in error.value.errors
    assert not FollowUp.objects.exists()
    case.refresh_from_db()
    assert case.follow_up_count == 0


def test_out_of_range_message_names_field_and_range(world):
    cw = care_world(world)
    case = enrol(cw)
    with pytest.raises(Invalid) as error:
        visit(cw, case, sbp=400)
    message = str(error.value.errors["systolic"][0])
    assert "收缩压" in message and "60–300" in message


def test_two_uncontrolled_visits_suggest_referral_and_bring_check_forward(world):
    cw = care_world(world)
    case = enrol(cw)
    first = visit(cw, case, days=30, sbp=160, dbp=95)
    assert first.suggestion == Suggestion.NONE and first.control == Control.UNCONTROLLED
    second = visit(cw, case, days=2, sbp=158, dbp=96)
    assert second.suggestion == Suggestion.REFER
    assert second.suggestion_state == SuggestionState.OPEN
    assert second.next_due_on == days_ago(2) + datetime.timedelta(days=14)
    assert second.outcome_check_due_on == second.next_due_on
    case.refresh_from_db()
    assert case.consecutive_uncontrolled == 2
    assert list(selectors.suggestion_list(cw.gp)) == [second]


def test_danger_signs_with_very_high_pressure_refer_at_once(world):
    cw = care_world(world)
    case = enrol(cw)
    follow_up = visit(cw, case, sbp=186, dbp=112, danger_signs=["headache_vomiting"])
    assert follow_up.suggestion == Suggestion.REFER_EMERGENCY


def test_back_dated_visit_keeps_derived_fields_right(world):
    cw = care_world(world)
    case = enrol(cw)
    visit(cw, case, days=5, sbp=130, dbp=80)
    visit(cw, case, days=40, sbp=170, dbp=100)
    case.refresh_from_db()
    assert case.last_follow_up_on == days_ago(5)
    assert case.last_control == Control.CONTROLLED and case.consecutive_uncontrolled == 0
    assert case.follow_up_count == 2


@pytest.mark.parametrize(
    ("language", "reason", "readings", "signs"),
    [
        (
            "zh-hans",
            "血压≥180/110 mmHg 且有危险征象；连续两次随访控制不满意；",
            "血压 186/112 mmHg、心率 110 次/分，控制不满意",
            "危险征象：剧烈头痛或呕吐、心率过快或过慢",
        ),
        (
            "en",
            "BP ≥ 180/110 mmHg with danger signs; Uncontrolled at two consecutive follow-ups; ",
            "BP 186/112 mmHg, Heart rate 110 bpm, Uncontrolled",
            "Danger signs: Severe headache or vomiting, Heart rate too fast or too slow",
        ),
    ],
    ids=["zh-hans", "en"],
)
def test_suggested_referral_lists_read_in_the_doctors_language(world, language, reason, readings, signs):
    """The prefilled reason and summary are written in the confirming doctor's language, lists included:
    no 、 or ； between English words."""
    cw = care_world(world)
    case = enrol(cw)
    visit(cw, case, days=30, sbp=165, dbp=98)
    follow_up = visit(
        cw,
        case,
        days=1,
        sbp=186,
        dbp=112,
        heart_rate=110,
        side_effects="uncontrolled",
        danger_signs=["headache_vomiting", "heart_rate"],
    )
    with translation.override(language):
        proposal = selectors.referral_proposal(follow_up)
    assert reason in proposal.reason
    lines = proposal.exam_results.splitlines()
    assert lines[0].endswith(readings) and signs in lines


def test_suggested_referral_is_sent_in_one_action(world):
    cw = care_world(world)
    case = enrol(cw)
    visit(cw, case, days=30, sbp=160, dbp=95)
    follow_up = visit(cw, case, days=1, sbp=165, dbp=98, side_effects="uncontrolled")
    proposal = selectors.referral_proposal(follow_up)
    assert proposal.lead_hospital == world.hospital
    assert proposal.department == cw.cardiology
    assert proposal.priority == "urgent" and proposal.diagnosis_code == "I10"
    assert "165/98" in proposal.exam_results
    referral = services.suggestion_refer(
        actor=cw.gp,
        follow_up=follow_up,
        to_department=proposal.department,
        priority=proposal.priority,
        kind=proposal.kind,
        diagnosis_code=proposal.diagnosis_code,
        diagnosis_name=proposal.diagnosis_name,
        reason=proposal.reason,
        exam_results=proposal.exam_results,
        patient_consented=True,
        acknowledge_missing=True,
    )
    assert referral.status == "submitted" and referral.to_institution == world.hospital
    follow_up.refresh_from_db()
    assert follow_up.referral == referral and follow_up.suggestion_state == SuggestionState.REFERRED
    with pytest.raises(Conflict):
        services.suggestion_refer(
            actor=cw.gp,
            follow_up=follow_up,
            to_department=proposal.department,
            priority="urgent",
            kind="outpatient",
            diagnosis_code="I10",
            diagnosis_name="高血压",
            reason="x",
            patient_consented=True,
            acknowledge_missing=True,
        )


def test_referral_without_consent_saves_nothing(world):
    from yilian.referrals.models import Referral

    cw = care_world(world)
    case = enrol(cw)
    follow_up = visit(cw, case, side_effects="uncontrolled")
    with pytest.raises(Invalid):
        services.suggestion_refer(
            actor=cw.gp,
            follow_up=follow_up,
            to_department=cw.cardiology,
            priority="urgent",
            kind="outpatient",
            diagnosis_code="I10",
            diagnosis_name="高血压",
            reason="药物不良反应",
            patient_consented=False,
            acknowledge_missing=True,
        )
    assert not Referral.objects.exists()
    follow_up.refresh_from_db()
    assert follow_up.suggestion_state == SuggestionState.OPEN


def test_dismiss_suggestion(world):
    cw = care_world(world)
    case = enrol(cw)
    follow_up = visit(cw, case, complications="new", complications_note="视物模糊")
    with pytest.raises(Invalid):
        services.suggestion_dismiss(actor=cw.gp, follow_up=follow_up, note=" ")
    services.suggestion_dismiss(actor=cw.gp, follow_up=follow_up, note="患者拒绝转诊，已告知风险")
    assert not selectors.suggestion_list(cw.gp).exists()


def test_stable_case_for(world):
    cw = care_world(world)
    case = enrol(cw)
    assert selectors.stable_case_for(cw.patient) is None
    visit(cw, case, days=20, sbp=130, dbp=80)
    assert selectors.stable_case_for(cw.patient) == case
    assert selectors.stable_case_for(cw.patient, registry_code="hypertension") == case
    assert selectors.stable_case_for(cw.patient, registry_code="diabetes_t2") is None
    assert selectors.stable_case_for(cw.patient, on=days_ago(30)) is None
    assert selectors.stable_case_for(cw.patient, on=days_ago(20) + datetime.timedelta(days=100)) is None
    visit(cw, case, days=1, sbp=130, dbp=80, side_effects="uncontrolled")
    assert selectors.stable_case_for(cw.patient) is None
    visit(cw, case, days=0, sbp=150, dbp=95)
    assert selectors.stable_case_for(cw.patient) is None


def test_active_case_counts(world, django_assert_num_queries):
    from yilian.institutions.tests.factories import GridFactory

    cw = care_world(world)
    grid = GridFactory(region=world.regions["county"])
    cw.patient.home_grid = grid
    cw.patient.save()
    other = person("李四", institution=world.township)
    enrol(cw)
    enrol(cw, registry="diabetes_t2")
    enrol(cw, patient=other)
    with django_assert_num_queries(1):
        counts = selectors.active_case_counts(
            grid_ids=[grid.pk], registry_codes=["hypertension", "diabetes_t2"]
        )
    assert counts == {"hypertension": 1, "diabetes_t2": 1}
    assert selectors.active_case_counts(person_ids=[other.pk]) == {"hypertension": 1}
    assert selectors.active_case_counts_by_grid(grid_ids=[grid.pk]) == {
        grid.pk: {"hypertension": 1, "diabetes_t2": 1}
    }


def test_registry_as_data(world):
    cw = care_world(world)
    with pytest.raises(NotAllowed):
        services.registry_save(actor=cw.gp, code="copd", name="慢阻肺")
    with pytest.raises(Invalid) as error:
        services.registry_save(
            actor=world.office,
            code="copd",
            name="慢阻肺",
            icd10_ranges="J44",
            measures=[],
            follow_ups_per_year=2,
        )
    assert {"measures", "follow_ups_per_year"} <= set(error.value.errors)
    registry = services.registry_save(
        actor=world.office,
        code="ckd",
        name="慢性肾脏病",
        icd10_ranges="N18",
        measures=["blood_pressure"],
        follow_ups_per_year=4,
        systolic_below=130,
        diastolic_below=80,
    )
    assert registry.icd10_ranges == [["N18", "N18"]]
    case = enrol(cw, registry="hypertension")
    assert case


def test_registered_counts_by_grid_for_family_doctors(world):
    from yilian.institutions.tests.factories import GridFactory

    cw = care_world(world)
    grid = GridFactory(region=world.regions["county"])
    cw.patient.home_grid = grid
    cw.patient.save()
    enrol(cw)
    enrol(cw, registry="diabetes_t2")
    assert selectors.registered_counts_by_grid([grid.pk]) == {grid.pk: {"hypertension": 1, "diabetes": 1}}


def test_out_of_range_heart_rate_reads_its_unit_in_english(world):
    """The unit in the range message follows the reader's language (was “次/分” in English)."""
    from django.utils import translation

    cw = care_world(world)
    case = enrol(cw)
    with translation.override("en"), pytest.raises(Invalid) as error:
        visit(cw, case, heart_rate=5)
    message = str(error.value.errors["heart_rate"][0])
    assert "次/分" not in message and "bpm" in message
