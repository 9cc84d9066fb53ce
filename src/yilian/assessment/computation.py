"""Computing a round: its subjects, their figures and judgements, item scores, totals, grades and ranks.

``compute`` reads every figure of the round in **one** query, so the
numbers come from a single snapshot even when a refresh commits meanwhile
(each refresh replaces its cells inside one transaction; one statement sees
either all old or all new rows, on SQLite and on PostgreSQL at READ
COMMITTED). The caller stores the outcome (draft as version 0, or a frozen
version) in its own transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yilian.assessment import scoring
from yilian.assessment.choices import (
    SUBJECT_UNIT_KIND,
    GradingMethod,
    GroupBy,
    RoundKind,
    SchemeSubject,
    ScoringRule,
)
from yilian.assessment.models import AssessmentRound, Judgement, SchemeItem
from yilian.assessment.policies import lead_institution_id
from yilian.indicators.models import IndicatorValue
from yilian.institutions.selectors import unit_ids_under_regions, unit_names

SPECIALTY_GROUPS = {"03": "内科", "04": "外科", "08": "外科"}
"""Departments ranked apart by first-level subject (the seeds rank medicine and surgery separately).

Group labels are stored data, shown as they are."""
OTHER_GROUP = "其他"


@dataclass(frozen=True)
class Subject:
    """One unit a round assesses."""

    kind: str
    id: int
    name: str
    group: str = ""


@dataclass
class ItemResult:
    """One subject's figure and score on one scheme item."""

    subject: Subject
    item: SchemeItem
    indicator_version: int
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    value: Decimal | None = None
    verdict: str = ""
    score: Decimal = Decimal(0)
    rank: int | None = None


@dataclass
class TotalResult:
    """One subject's total, rank, grade and reward."""

    subject: Subject
    score: Decimal = Decimal(0)
    rank: int | None = None
    grade: str = ""
    reward: str = ""


@dataclass
class Outcome:
    """Everything a round's computation produced."""

    items: list[ItemResult] = field(default_factory=list)
    totals: list[TotalResult] = field(default_factory=list)


def _group(scheme: Any, department_id: int, specialty: str) -> str:
    if scheme.group_by == GroupBy.SPECIALTY:
        return SPECIALTY_GROUPS.get(specialty, OTHER_GROUP)
    if scheme.group_by == GroupBy.CUSTOM:
        return str(scheme.department_groups.get(str(department_id), ""))
    return ""


def subjects(round_: AssessmentRound) -> list[Subject]:
    """The units ``round_`` assesses, by name: members (all of them for a self-assessment, else all but the
    lead), the lead unit's active clinical departments, or the consortia of the round (or its region)."""
    scheme = round_.scheme
    if scheme.subject == SchemeSubject.CONSORTIA:
        if round_.consortium_id is not None:
            ids = {round_.consortium_id}
        else:
            ids = unit_ids_under_regions({round_.region.prefix})["consortium"] if round_.region_id else set()
        names = unit_names("consortium", ids)
        return sorted((Subject("consortium", pk, names.get(pk, str(pk))) for pk in ids), key=lambda s: s.name)
    consortium = round_.consortium
    if consortium is None:
        return []
    lead = lead_institution_id(consortium)
    if scheme.subject == SchemeSubject.DEPARTMENTS:
        if lead is None:
            return []
        rows = consortium.members.get(institution_id=lead, is_active=True).institution.departments.filter(
            is_active=True, is_clinical=True
        )
        return sorted(
            (
                Subject("department", pk, name, _group(scheme, pk, specialty))
                for pk, name, specialty in rows.values_list("pk", "name", "specialty")
            ),
            key=lambda s: (s.group, s.name),
        )
    members = set(consortium.members.filter(is_active=True).values_list("institution_id", flat=True))
    if round_.kind != RoundKind.SELF:
        members.discard(lead)
    names = unit_names("institution", members)
    return sorted(
        (Subject("institution", pk, names.get(pk, str(pk))) for pk in members), key=lambda s: s.name
    )


def compute(round_: AssessmentRound) -> Outcome:
    """Score every subject of ``round_`` on every item of its scheme; rank and grade the totals per group.

    Subjects with no figure and no judgement at all are kept with a zero
    total but neither ranked nor graded, so empty units do not crowd the
    bottom quartile.

    Queries: the items, the subjects (two to six), the figures (one), the judgements (one).
    """
    scheme = round_.scheme
    items = list(
        SchemeItem.objects.filter(scheme=scheme).select_related("indicator").order_by("sort_order", "id")
    )
    units = subjects(round_)
    kind = SUBJECT_UNIT_KIND[SchemeSubject(scheme.subject)]
    quantitative = [item.indicator_id for item in items if not item.indicator.is_qualitative]
    figures: dict[tuple[int, int], tuple[Any, ...]] = {}
    if quantitative and units:
        # One statement: one snapshot of every figure the round uses.
        for row in IndicatorValue.objects.filter(
            indicator_id__in=quantitative,
            unit_kind=kind,
            unit_id__in=[unit.id for unit in units],
            period_type=round_.period_type,
            period_start=round_.period_start,
        ).values_list("indicator_id", "unit_id", "numerator", "denominator", "value", "indicator__version"):
            figures[(row[0], row[1])] = row[2:]
    verdicts = {
        (indicator_id, subject_id): verdict
        for indicator_id, subject_id, verdict in Judgement.objects.filter(
            round=round_, subject_kind=kind
        ).values_list("indicator_id", "subject_id", "verdict")
    }
    outcome = Outcome()
    for item in items:
        indicator = item.indicator
        rows: list[ItemResult] = []
        for unit in units:
            figure = figures.get((indicator.pk, unit.id))
            result = ItemResult(
                subject=unit,
                item=item,
                indicator_version=figure[3] if figure else indicator.version,
            )
            if indicator.is_qualitative:
                result.verdict = verdicts.get((indicator.pk, unit.id), "")
                share = scoring.VERDICT_SHARE.get(result.verdict, Decimal(0))
                result.score = scoring.points(item.weight, share)
            elif figure:
                result.numerator, result.denominator, result.value = figure[0], figure[1], figure[2]
            rows.append(result)
        if not indicator.is_qualitative:
            _score_quantitative(item, rows)
        outcome.items.extend(rows)
    totals = {unit: TotalResult(subject=unit) for unit in units}
    with_data: set[Subject] = set()
    for result in outcome.items:
        totals[result.subject].score += result.score
        if result.value is not None or result.verdict:
            with_data.add(result.subject)
    by_group: dict[str, list[TotalResult]] = defaultdict(list)
    for total in totals.values():
        # A unit without a single figure or judgement (no activity in the period) is listed, not ranked or graded.
        if total.subject in with_data:
            by_group[total.subject.group].append(total)
    for members in by_group.values():
        ranked = scoring.ranks({total.subject: total.score for total in members}, "higher")
        for total in members:
            total.rank = ranked[total.subject]
            if scheme.grading == GradingMethod.QUARTILE:
                total.grade = scoring.grade_by_quartile(total.rank, len(members))
            else:
                total.grade = scoring.grade_by_bands(total.score, scheme.grade_bands)
            total.reward = str(scheme.rewards.get(total.grade, ""))
    outcome.totals = sorted(
        totals.values(), key=lambda t: (t.subject.group, t.rank is None, t.rank or 0, t.subject.name)
    )
    return outcome


def _score_quantitative(item: SchemeItem, rows: list[ItemResult]) -> None:
    """Rank each group's values by the indicator's direction, then score by the item's rule."""
    indicator = item.indicator
    direction = indicator.direction if indicator.direction != "neutral" else "higher"
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for result in rows:
        groups[result.subject.group].append(result)
    for members in groups.values():
        ranked = scoring.ranks({id(r): r.value for r in members}, direction)
        count = sum(1 for r in members if r.value is not None)
        for result in members:
            result.rank = ranked[id(result)]
            if item.rule == ScoringRule.RANK:
                share = scoring.rank_share(result.rank, count)
            elif item.rule == ScoringRule.BANDED:
                share = scoring.band_share(result.value, item.bands, indicator.legend)
            else:
                share = scoring.target_share(result.value, indicator.target, indicator.direction)
            result.score = scoring.points(item.weight, share)
