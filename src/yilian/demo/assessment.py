"""Demo step: the shipped assessment schemes and two rounds on the demo consortium.

Runs after the indicators are computed (``demo.indicators.seed_indicators``):
installs the shipped schemes, then opens on the consortium a monthly
up-referral ranking for the last complete month with figures (computed, frozen and
published) and a half-year target assessment for the last full half-year
(computed, left as a draft) on the consortium's own copy of the half-year
scheme, whose up-referral bands fit the demo county (see ``UP_RATE_BANDS``). Idempotent: a round already there is reused.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from yilian.assessment import services
from yilian.assessment.models import AssessmentRound, AssessmentScheme, SchemeItem
from yilian.assessment.schemes import install_schemes
from yilian.indicators.models import IndicatorValue
from yilian.institutions.models import Consortium


def _round(
    actor: Any, scheme: AssessmentScheme, consortium: Consortium, kind: str, start: datetime.date
) -> AssessmentRound:
    existing = AssessmentRound.objects.filter(
        scheme=scheme, consortium=consortium, kind=kind, period_start=start
    ).first()
    if existing is not None:
        return existing
    return services.round_create(
        actor=actor, scheme=scheme, kind=kind, period_start=start, consortium=consortium
    )


UP_RATE_BANDS = [
    {"from": "0", "to": "0.05", "share": "1"},
    {"from": "0.05", "to": "0.1", "share": "0.75"},
    {"from": "0.1", "to": "0.2", "share": "0.5"},
    {"from": "0.2", "to": None, "share": "0.25"},
]
"""The demo consortium's own bands for the half-year up-referral item (per cent, lower is better).

The shipped item scores by the indicator's legend (under 4 % full marks),
and every member of the demo county refers up less than 0.5 % of its
visits: every member scored full marks, whatever its rank. The county
office therefore keeps its own copy of the scheme with bands on its
members' actual spread (about 0–0.35 % over a half-year)."""


def _own_half_year_scheme(actor: Any, shared: AssessmentScheme, consortium: Consortium) -> AssessmentScheme:
    """The consortium's own copy of the half-year scheme, its up-referral item banded by ``UP_RATE_BANDS``."""
    existing = AssessmentScheme.objects.filter(code=shared.code, consortium=consortium).first()
    if existing is not None:
        return existing
    items = [
        {
            "indicator": item.indicator,
            "weight": item.weight,
            "rule": item.rule,
            "sort_order": item.sort_order,
            "bands": UP_RATE_BANDS if item.indicator.code == "seed_up_referral_rate" else item.bands,
        }
        for item in SchemeItem.objects.filter(scheme=shared).select_related("indicator")
    ]
    return services.scheme_create(
        actor=actor,
        consortium=consortium,
        data={
            "code": shared.code,
            "name": f"{shared.name}（{consortium.name}）",
            "description": f"{shared.description}上转率按本医联体成员单位的实际水平分段计分。",
            "subject": shared.subject,
            "period_type": shared.period_type,
            "grading": shared.grading,
            "group_by": shared.group_by,
            "grade_bands": shared.grade_bands,
            "rewards": shared.rewards,
        },
        items=items,
    )


def seed_assessment(admin_user: Any, consortium: Consortium | None = None) -> dict[str, Any]:
    """Install the shipped schemes and seed a published monthly ranking and a draft half-year round.

    ``consortium`` defaults to the first consortium that has a lead member.
    Returns the schemes installed and the rounds' public ids and versions.
    Raises what the services raise (NotAllowed unless ``admin_user`` is a
    platform administrator or the consortium's assessor).
    """
    schemes = {scheme.code: scheme for scheme in install_schemes()}
    consortium = consortium or Consortium.objects.filter(members__role="lead").order_by("pk").first()
    if consortium is None:
        return {"schemes": sorted(schemes), "rounds": []}
    # The last complete month with figures of the ranking's indicator, and the last complete half-year.
    this_month = timezone.localdate().replace(day=1)
    ranking_scheme = schemes["monthly-up-referral-ranking"]
    months = IndicatorValue.objects.filter(
        indicator__in=ranking_scheme.items.values("indicator"),
        unit_kind="institution",
        period_type="month",
        period_start__lt=this_month,
        numerator__gt=0,
    ).order_by("-period_start")
    last = months.values_list("period_start", flat=True).first() or (
        this_month - datetime.timedelta(days=1)
    ).replace(day=1)
    rounds = []
    ranking = _round(admin_user, ranking_scheme, consortium, "monthly_ranking", last)
    if ranking.published_version is None:
        services.round_compute(actor=admin_user, round_=ranking)
        frozen = services.round_freeze(actor=admin_user, round_=ranking, expected_version=ranking.version)
        ranking = services.round_publish(actor=admin_user, round_=frozen, expected_version=frozen.version)
    rounds.append({"kind": ranking.kind, "id": str(ranking.public_id), "version": ranking.version})
    half_start = (
        datetime.date(this_month.year, 1, 1)
        if this_month.month >= 7
        else datetime.date(this_month.year - 1, 7, 1)
    )
    half_scheme = _own_half_year_scheme(admin_user, schemes["half-year-member-targets"], consortium)
    half = _round(admin_user, half_scheme, consortium, "half_year_target", half_start)
    if half.computed_at is None:
        half = services.round_compute(actor=admin_user, round_=half)
    rounds.append({"kind": half.kind, "id": str(half.public_id), "version": half.version})
    return {"schemes": sorted(schemes), "rounds": rounds}
