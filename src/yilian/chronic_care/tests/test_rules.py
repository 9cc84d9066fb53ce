"""The pure rules: control status, the follow-up referral rule, the schedule and BMI."""

from __future__ import annotations

import datetime
from decimal import Decimal

from yilian.chronic_care import rules
from yilian.chronic_care.choices import Control, Suggestion, SuggestionReason

BP = rules.Thresholds(
    systolic_below=140,
    diastolic_below=90,
    elderly_age=65,
    elderly_systolic_below=150,
    elderly_diastolic_below=90,
)
GLUCOSE = rules.Thresholds(fasting_glucose_below=Decimal("7.0"))


def test_blood_pressure_control_for_adults_and_the_elderly():
    assert rules.control_status(BP, age=50, systolic=139, diastolic=89) == Control.CONTROLLED
    assert rules.control_status(BP, age=50, systolic=140, diastolic=80) == Control.UNCONTROLLED
    assert rules.control_status(BP, age=50, systolic=130, diastolic=90) == Control.UNCONTROLLED
    assert rules.control_status(BP, age=65, systolic=145, diastolic=85) == Control.CONTROLLED
    assert rules.control_status(BP, age=70, systolic=150, diastolic=85) == Control.UNCONTROLLED
    assert rules.control_status(BP, age=None, systolic=145, diastolic=85) == Control.UNCONTROLLED
    assert rules.control_status(BP, age=50) == Control.UNKNOWN


def test_glucose_control():
    assert rules.control_status(GLUCOSE, age=50, fasting_glucose=Decimal("6.9")) == Control.CONTROLLED
    assert rules.control_status(GLUCOSE, age=50, fasting_glucose=Decimal("7.0")) == Control.UNCONTROLLED
    assert rules.control_status(GLUCOSE, age=50, systolic=180, diastolic=100) == Control.UNKNOWN


def rule(**overrides):
    values = {
        "control": Control.CONTROLLED,
        "previous_uncontrolled": 0,
        "side_effects": "none",
        "complications": "none",
        "danger_signs": [],
        "systolic": 130,
        "diastolic": 80,
    }
    values.update(overrides)
    return rules.referral_rule(**values)


def test_one_uncontrolled_visit_is_not_enough():
    assert rule(control=Control.UNCONTROLLED, previous_uncontrolled=0).suggestion == Suggestion.NONE


def test_two_consecutive_uncontrolled_visits_suggest_referral():
    result = rule(control=Control.UNCONTROLLED, previous_uncontrolled=1)
    assert result.suggestion == Suggestion.REFER
    assert result.reasons == [SuggestionReason.TWO_UNCONTROLLED]


def test_side_effects_and_complications_suggest_referral():
    assert rule(side_effects="uncontrolled").reasons == [SuggestionReason.SIDE_EFFECTS]
    assert rule(side_effects="controlled").suggestion == Suggestion.NONE
    assert rule(complications="new").reasons == [SuggestionReason.COMPLICATIONS]
    assert rule(complications="worse").reasons == [SuggestionReason.COMPLICATIONS]
    assert rule(complications="stable").suggestion == Suggestion.NONE


def test_very_high_pressure_with_danger_signs_is_an_emergency():
    result = rule(
        control=Control.UNCONTROLLED, systolic=185, diastolic=100, danger_signs=["headache_vomiting"]
    )
    assert result.suggestion == Suggestion.REFER_EMERGENCY and result.emergency
    assert SuggestionReason.DANGER in result.reasons
    assert rule(control=Control.UNCONTROLLED, systolic=150, diastolic=112, danger_signs=["other"]).emergency
    # Very high pressure without a danger sign: not an emergency (one uncontrolled visit).
    assert rule(control=Control.UNCONTROLLED, systolic=185, diastolic=100).suggestion == Suggestion.NONE
    # A danger sign with moderate pressure: not this rule's emergency.
    assert not rule(
        control=Control.UNCONTROLLED, systolic=160, diastolic=100, danger_signs=["other"]
    ).emergency


def test_uncontrolled_run_and_schedule():
    assert rules.next_uncontrolled_run(Control.UNCONTROLLED, 1) == 2
    assert rules.next_uncontrolled_run(Control.CONTROLLED, 3) == 0
    assert rules.next_uncontrolled_run(Control.UNKNOWN, 2) == 2
    day = datetime.date(2026, 1, 1)
    assert rules.default_next_due(day, 91, suggestion=Suggestion.NONE) == datetime.date(2026, 4, 2)
    assert rules.default_next_due(day, 91, suggestion=Suggestion.REFER) == datetime.date(2026, 1, 15)


def test_bmi():
    assert rules.bmi(Decimal("70"), Decimal("175")) == Decimal("22.9")
    assert rules.bmi(None, Decimal("175")) is None
