"""Test data for assessment: indicators with figures, a consortium with several members, schemes and rounds."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from yilian.assessment import services
from yilian.assessment.models import AssessmentRound, AssessmentScheme
from yilian.indicators.models import Indicator, IndicatorCatalogue, IndicatorValue, IndicatorVersion
from yilian.institutions.tests.factories import ConsortiumMemberFactory, InstitutionFactory

MONTH = datetime.date(2025, 3, 1)


def indicator(code: str, **fields: Any) -> Indicator:
    """An indicator of a local catalogue (version 1 saved)."""
    catalogue = IndicatorCatalogue.objects.get_or_create(code="test", defaults={"name": "测试指标"})[0]
    defaults = {
        "name": code,
        "direction": "higher",
        "period_type": "month",
        "unit": "%",
        "factor": Decimal(100),
    }
    defaults.update(fields)
    made = Indicator.objects.create(catalogue=catalogue, code=code, **defaults)
    IndicatorVersion.objects.create(indicator=made, version=1, definition={"code": code})
    return made


def figure(
    ind: Indicator,
    unit_id: int,
    value: Any,
    *,
    kind: str = "institution",
    period_type: str = "month",
    start: datetime.date = MONTH,
) -> IndicatorValue:
    """Store (or replace) one computed figure."""
    IndicatorValue.objects.filter(
        indicator=ind, unit_kind=kind, unit_id=unit_id, period_type=period_type, period_start=start
    ).delete()
    return IndicatorValue.objects.create(
        indicator=ind,
        unit_kind=kind,
        unit_id=unit_id,
        period_type=period_type,
        period_start=start,
        year=start.year,
        number=start.month,
        numerator=Decimal(value) if value is not None else Decimal(0),
        denominator=Decimal(100),
        value=Decimal(value) if value is not None else None,
    )


class AssessmentWorld:
    """The shared world plus two more members, an up-referral indicator with figures, a scheme and a round."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.members = [world.township]
        for name in ("霍邱县周集镇卫生院", "霍邱县冯井镇卫生院"):
            institution = InstitutionFactory(name=name, region=world.regions["town_a"])
            ConsortiumMemberFactory(consortium=world.consortium, institution=institution)
            self.members.append(institution)
        self.rate = indicator(
            "up_referral_rate", name="上转率", target=Decimal(10), is_working_definition=True
        )
        self.checklist = indicator("unified_management", name="统一管理", kind="qualitative")
        for member, value in zip(self.members, ("12", "8", "4"), strict=True):
            figure(self.rate, member.pk, value)
        self.scheme = services.scheme_create(
            actor=world.office,
            consortium=world.consortium,
            data={
                "name": "上转率月度排名",
                "subject": "members",
                "period_type": "month",
                "grading": "bands",
                "grade_bands": {"excellent": "90", "good": "70", "fair": "50"},
                "rewards": {"excellent": "奖励", "poor": "约谈"},
            },
            items=[
                {"indicator": self.rate, "weight": "80", "rule": "target"},
                {"indicator": self.checklist, "weight": "20", "rule": "target"},
            ],
        )
        self.round = services.round_create(
            actor=world.office,
            scheme=self.scheme,
            kind="monthly_ranking",
            period_start=MONTH,
            consortium=world.consortium,
        )

    def fresh_round(self) -> AssessmentRound:
        return AssessmentRound.objects.get(pk=self.round.pk)

    def fresh_scheme(self) -> AssessmentScheme:
        return AssessmentScheme.objects.get(pk=self.scheme.pk)
