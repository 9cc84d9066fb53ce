"""Evaluating a referral against its consortium's criteria catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yilian.core.icd10 import in_range
from yilian.referrals.choices import (
    SUMMARY_MATERIALS,
    CriterionCategory,
    MissingMaterialAction,
    ReferralDirection,
)
from yilian.referrals.models import ReferralCriterion
from yilian.referrals.services._common import derive_direction, shared_consortium

CATEGORIES_FOR = {
    ReferralDirection.UP: (CriterionCategory.MUST_UP, CriterionCategory.CONSULT_THEN_UP),
    ReferralDirection.DOWN: (CriterionCategory.DOWN_REHABILITATION,),
    ReferralDirection.LATERAL: (),
}
"""Categories that justify a referral in each direction."""


@dataclass
class CriteriaCheck:
    """What the catalogue says about a referral.

    ``criterion`` is the matching rule (None when the diagnosis is outside
    the catalogue, then ``met`` is None); ``met`` is true when the rule's
    category fits the direction and the materials reach the threshold;
    ``blocks`` is true when missing materials must stop the submission.
    """

    criterion: ReferralCriterion | None = None
    met: bool | None = None
    completeness: int | None = None
    missing: list[str] = field(default_factory=list)
    blocks: bool = False
    category_fits: bool | None = None


def present_materials(values: dict[str, Any], attachment_materials: set[str]) -> set[str]:
    """Materials a referral carries: non-empty summary sections plus attachment kinds."""
    present = {name for name in SUMMARY_MATERIALS if str(values.get(name) or "").strip()}
    return present | attachment_materials


def matching_criterion(
    consortium: Any, diagnosis_code: str, direction: str, *, urgent: bool = False
) -> ReferralCriterion | None:
    """The active rule covering the code: one whose category fits the direction first, then any other.

    Going up, an urgent or emergency referral is judged by a must-go-up rule
    (the emergency criteria), a routine one by a consult-then-up rule, each
    falling back to the other.
    """
    if consortium is None or not diagnosis_code:
        return None
    rules = [
        rule
        for rule in ReferralCriterion.objects.filter(consortium=consortium, is_active=True)
        if in_range(diagnosis_code, rule.icd_from, rule.icd_to)
    ]
    preference = list(CATEGORIES_FOR.get(direction, ()))
    if direction == ReferralDirection.UP and not urgent:
        preference.reverse()
    fitting = sorted(
        (rule for rule in rules if rule.category in preference),
        key=lambda rule: preference.index(rule.category),
    )
    return (fitting or rules or [None])[0]


def evaluate(
    consortium: Any,
    direction: str,
    diagnosis_code: str,
    values: dict[str, Any],
    attachment_materials: set[str],
    *,
    urgent: bool = False,
) -> CriteriaCheck:
    """Check a referral's diagnosis and materials against the catalogue (no writes).

    ``urgent`` (urgent or emergency priority, or an emergency referral)
    prefers the must-go-up rule when going up.
    """
    rule = matching_criterion(consortium, diagnosis_code, direction, urgent=urgent)
    if rule is None:
        return CriteriaCheck()
    required = [str(m) for m in rule.required_materials]
    present = present_materials(values, attachment_materials)
    missing = [m for m in required if m not in present]
    completeness = round(100 * (len(required) - len(missing)) / len(required)) if required else 100
    fits = rule.category in CATEGORIES_FOR.get(direction, ())
    enough = completeness >= rule.completeness_threshold
    return CriteriaCheck(
        criterion=rule,
        met=fits and enough,
        completeness=completeness,
        missing=missing,
        blocks=not enough and rule.missing_action == MissingMaterialAction.BLOCK,
        category_fits=fits,
    )


@dataclass
class Preview:
    """What a referral being written would be: direction, whether both ends share a consortium, and the check."""

    direction: str
    inside_consortium: bool
    check: CriteriaCheck


def referral_preview(
    from_institution: Any,
    to_department: Any,
    diagnosis_code: str,
    values: dict[str, Any],
    *,
    urgent: bool = False,
    attached: set[str] | None = None,
) -> Preview:
    """Direction, consortium and criteria check of a referral being written (the form's live check).

    ``diagnosis_code`` must already be checked (``core.icd10.parse_icd10``);
    ``attached`` names the materials of files already on the draft being
    edited (none for a new referral). No writes.
    """
    consortium, roles = shared_consortium(from_institution, to_department.institution)
    direction = derive_direction(from_institution, to_department.institution, roles)
    check = evaluate(consortium, direction, diagnosis_code, values, attached or set(), urgent=urgent)
    inside = {from_institution.pk, to_department.institution_id} <= set(roles)
    return Preview(direction=direction, inside_consortium=inside, check=check)
