"""Pure rules of chronic-disease management: control status, the follow-up referral rule and the schedule.

No database access here, so every branch is unit-tested directly. Sources (see docs/guide/chronic-care.md):
the hypertension follow-up rule of the national basic public-health service specification as quoted in
``referral.md`` (S/R), the emergency criteria of the county hypertension scheme (国卫办医函〔2022〕34号, V).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yilian.chronic_care.choices import ComplicationChange, Control, SideEffects, Suggestion, SuggestionReason

OUTCOME_CHECK_DAYS = 14
"""A suggested referral's outcome is checked within two weeks (a follow-up due in 14 days)."""

EMERGENCY_SYSTOLIC = 180
EMERGENCY_DIASTOLIC = 110
"""SBP ≥ 180 or DBP ≥ 110 with danger signs → refer at once."""

STABLE_WINDOW_DAYS = 92
"""``stable_case_for``: the most recent follow-up must be this recent (about three months)."""


@dataclass(frozen=True)
class Thresholds:
    """The control thresholds of a registry (a copy, so the rule needs no model)."""

    systolic_below: int | None = None
    diastolic_below: int | None = None
    elderly_age: int | None = None
    elderly_systolic_below: int | None = None
    elderly_diastolic_below: int | None = None
    fasting_glucose_below: Decimal | None = None

    @classmethod
    def of(cls, registry: Any) -> Thresholds:
        """Thresholds of a ``ChronicRegistry`` (or anything with the same attributes)."""
        return cls(
            systolic_below=registry.systolic_below,
            diastolic_below=registry.diastolic_below,
            elderly_age=registry.elderly_age,
            elderly_systolic_below=registry.elderly_systolic_below,
            elderly_diastolic_below=registry.elderly_diastolic_below,
            fasting_glucose_below=registry.fasting_glucose_below,
        )


def control_status(
    thresholds: Thresholds,
    *,
    age: int | None,
    systolic: int | None = None,
    diastolic: int | None = None,
    fasting_glucose: Decimal | None = None,
) -> str:
    """Control of one visit: every threshold the registry sets that was measured must be met.

    Blood pressure: below the target (the elderly target from ``elderly_age`` on); glucose: fasting
    glucose below the target. Nothing measured that the registry judges by → ``unknown``.
    """
    judged: list[bool] = []
    if thresholds.systolic_below is not None and systolic is not None and diastolic is not None:
        sbp_limit, dbp_limit = thresholds.systolic_below, thresholds.diastolic_below or 999
        if thresholds.elderly_age is not None and age is not None and age >= thresholds.elderly_age:
            sbp_limit = thresholds.elderly_systolic_below or sbp_limit
            dbp_limit = thresholds.elderly_diastolic_below or dbp_limit
        judged.append(systolic < sbp_limit and diastolic < dbp_limit)
    if thresholds.fasting_glucose_below is not None and fasting_glucose is not None:
        judged.append(Decimal(fasting_glucose) < Decimal(thresholds.fasting_glucose_below))
    if not judged:
        return Control.UNKNOWN
    return Control.CONTROLLED if all(judged) else Control.UNCONTROLLED


@dataclass(frozen=True)
class RuleResult:
    """What the follow-up rule says: the suggestion, its reasons and the outcome-check date."""

    suggestion: str = Suggestion.NONE
    reasons: list[str] = field(default_factory=list)
    emergency: bool = False


def referral_rule(
    *,
    control: str,
    previous_uncontrolled: int,
    side_effects: str,
    complications: str,
    danger_signs: list[str] | tuple[str, ...],
    systolic: int | None,
    diastolic: int | None,
) -> RuleResult:
    """The follow-up rule (referral.md §3): refer when two consecutive visits are uncontrolled (this one
    and the one before), side effects cannot be controlled, or complications are new or worse; refer at
    once (emergency) when SBP ≥ 180 or DBP ≥ 110 together with a danger sign.

    ``previous_uncontrolled`` is the case's run of uncontrolled visits before this one.
    """
    reasons: list[str] = []
    high = (systolic is not None and systolic >= EMERGENCY_SYSTOLIC) or (
        diastolic is not None and diastolic >= EMERGENCY_DIASTOLIC
    )
    emergency = bool(high and danger_signs)
    if emergency:
        reasons.append(SuggestionReason.DANGER)
    if control == Control.UNCONTROLLED and previous_uncontrolled >= 1:
        reasons.append(SuggestionReason.TWO_UNCONTROLLED)
    if side_effects == SideEffects.UNCONTROLLED:
        reasons.append(SuggestionReason.SIDE_EFFECTS)
    if complications in (ComplicationChange.NEW, ComplicationChange.WORSE):
        reasons.append(SuggestionReason.COMPLICATIONS)
    if not reasons:
        return RuleResult()
    return RuleResult(
        suggestion=Suggestion.REFER_EMERGENCY if emergency else Suggestion.REFER,
        reasons=reasons,
        emergency=emergency,
    )


def next_uncontrolled_run(control: str, previous: int) -> int:
    """The run of consecutive uncontrolled visits after this one (an unmeasured visit keeps the run)."""
    if control == Control.UNCONTROLLED:
        return previous + 1
    if control == Control.CONTROLLED:
        return 0
    return previous


def default_next_due(visited_on: datetime.date, interval_days: int, *, suggestion: str) -> datetime.date:
    """The next follow-up date: the registry's interval, or two weeks when the rule suggests a referral
    (the outcome check)."""
    if suggestion != Suggestion.NONE:
        return visited_on + datetime.timedelta(days=OUTCOME_CHECK_DAYS)
    return visited_on + datetime.timedelta(days=interval_days)


def bmi(weight_kg: Decimal | None, height_cm: Decimal | None) -> Decimal | None:
    """Body-mass index (kg/m²) to one decimal, or None when weight or height is missing."""
    if not weight_kg or not height_cm:
        return None
    metres = Decimal(height_cm) / 100
    return (Decimal(weight_kg) / (metres * metres)).quantize(Decimal("0.1"))


# Plausible ranges: outside them a value is a typing error, not a patient (field → (low, high)).
RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "systolic": (Decimal(60), Decimal(300)),
    "diastolic": (Decimal(30), Decimal(200)),
    "heart_rate": (Decimal(20), Decimal(250)),
    "fasting_glucose": (Decimal(1), Decimal(35)),
    "random_glucose": (Decimal(1), Decimal(35)),
    "hba1c": (Decimal(3), Decimal(20)),
    "weight_kg": (Decimal(20), Decimal(300)),
    "height_cm": (Decimal(100), Decimal(230)),
}
