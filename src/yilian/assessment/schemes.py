"""The shipped assessment schemes the seeds describe, installed by ``install_schemes``.

* 上转率月度排名: members' up-referral rate every month, graded 优/良/中/差 by
  quartile, with rewards (seeds ``000_`` 篇2 §3);
* 成员单位半年目标考核: members against targets every half year;
* 牵头单位科室下转率月度排名: the lead hospital's clinical departments on
  down-referral rate, medicine and surgery ranked apart;
* 医联体自评: the lead unit's self-assessment of the consortium's members;
* 医联体年度综合绩效考核: the regulator's annual assessment of each consortium.

Indicators are referenced by code; codes not (yet) in the catalogue are
skipped, so installing before the catalogue is loaded gives schemes with
fewer items, and installing again afterwards fills them in (idempotent by
scheme code). Weights and thresholds are working choices, editable data.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from yilian.assessment.choices import GradingMethod, GroupBy, SchemeSubject, ScoringRule
from yilian.assessment.models import AssessmentScheme, SchemeItem
from yilian.indicators.models import Indicator

REWARDS = {
    "excellent": "通报表扬，按考核办法给予奖励",
    "good": "通报表扬",
    "fair": "限期整改",
    "poor": "约谈并扣减绩效",
}
BANDS = {"excellent": "90", "good": "80", "fair": "60"}

# (code, name, description, subject, period type, grading, group_by, items: [(indicator codes…, weight, rule)])
SHIPPED: list[dict[str, Any]] = [
    {
        "code": "monthly-up-referral-ranking",
        "name": "成员单位上转率月度排名",
        "description": "每月对成员单位的上转率进行排名，按四分位评定优、良、中、差并兑现奖惩（依据种子材料 000_ 篇2 §3）。",
        "subject": SchemeSubject.MEMBERS,
        "period_type": "month",
        "grading": GradingMethod.QUARTILE,
        "group_by": GroupBy.NONE,
        "items": [(("seed_up_referral_rate",), "100", ScoringRule.RANK)],
    },
    {
        "code": "half-year-member-targets",
        "name": "成员单位半年目标考核",
        "description": "每半年按目标和分段考核成员单位，得分按分数段评定等级。",
        "subject": SchemeSubject.MEMBERS,
        "period_type": "half_year",
        "grading": GradingMethod.BANDS,
        "group_by": GroupBy.NONE,
        "items": [
            (("seed_up_referral_rate",), "40", ScoringRule.BANDED),
            (("seed_inside_share",), "30", ScoringRule.RANK),
            (("seed_teleconsultations",), "30", ScoringRule.RANK),
        ],
    },
    {
        "code": "department-down-referral-ranking",
        "name": "牵头医院临床科室下转率月度排名",
        "description": "每月对牵头医院临床科室的下转率排名，内科、外科分别排名（依据种子材料 000_ 篇2 §3）。",
        "subject": SchemeSubject.DEPARTMENTS,
        "period_type": "month",
        "grading": GradingMethod.QUARTILE,
        "group_by": GroupBy.SPECIALTY,
        "items": [(("seed_down_referral_rate",), "100", ScoringRule.RANK)],
    },
    {
        "code": "self-assessment",
        "name": "医联体自评",
        "description": "牵头单位组织医联体及各成员单位开展年度自评（依据种子材料第四十一条）。",
        "subject": SchemeSubject.MEMBERS,
        "period_type": "year",
        "grading": GradingMethod.BANDS,
        "group_by": GroupBy.NONE,
        "items": [
            (("seed_up_referral_rate",), "25", ScoringRule.BANDED),
            (("seed_inside_share",), "25", ScoringRule.RANK),
            (("ncm2024_01",), "20", ScoringRule.TARGET),
            (("ncm2024_03",), "15", ScoringRule.TARGET),
            (("seed_teleconsultations",), "15", ScoringRule.RANK),
        ],
    },
    {
        "code": "regulator-annual",
        "name": "医联体年度综合绩效考核",
        "description": "卫生健康行政部门每年对辖区内各医联体开展综合绩效考核，结果公开并用于动态调整（依据种子材料第三十八至四十条）。",
        "subject": SchemeSubject.CONSORTIA,
        "period_type": "year",
        "grading": GradingMethod.BANDS,
        "group_by": GroupBy.NONE,
        "items": [
            (("ncm2024_07",), "15", ScoringRule.TARGET),
            (("ncm2024_11",), "15", ScoringRule.TARGET),
            (("ncm2024_08",), "10", ScoringRule.BANDED),
            (("ncm2024_09",), "10", ScoringRule.BANDED),
            (("ncm2024_10",), "10", ScoringRule.RANK),
            (("ncm2024_04",), "10", ScoringRule.RANK),
            (("ncm2024_01",), "10", ScoringRule.TARGET),
            (("ncm2024_02",), "10", ScoringRule.TARGET),
            (("ncm2024_03",), "10", ScoringRule.TARGET),
        ],
    },
]
"""The shipped schemes. Each item lists candidate indicator codes (from ``indicators.catalogue``); the first
present is used. Qualitative indicators (ncm2024_01–03) score from judgements whatever the rule."""


def install_schemes(consortium: Any | None = None) -> list[AssessmentScheme]:
    """Create or refresh the shipped schemes (shared, or ``consortium``'s own copies), skipping absent indicators.

    Idempotent by (code, consortium): an existing scheme keeps its edits
    except that items for indicators that appeared since are added. No
    actor: this is installation, like the indicator catalogues.
    """
    wanted = {code for spec in SHIPPED for item in spec["items"] for code in item[0]}
    indicators = {indicator.code: indicator for indicator in Indicator.objects.filter(code__in=wanted)}
    installed = []
    with transaction.atomic():
        for spec in SHIPPED:
            scheme, _created = AssessmentScheme.objects.get_or_create(
                code=spec["code"],
                consortium=consortium,
                defaults={
                    "name": spec["name"],
                    "description": spec["description"],
                    "subject": spec["subject"],
                    "period_type": spec["period_type"],
                    "grading": spec["grading"],
                    "group_by": spec["group_by"],
                    "grade_bands": BANDS,
                    "rewards": REWARDS,
                    "is_shipped": True,
                },
            )
            present = set(scheme.items.values_list("indicator_id", flat=True))
            for position, (codes, weight, rule) in enumerate(spec["items"]):
                indicator = next((indicators[code] for code in codes if code in indicators), None)
                if indicator is None or indicator.pk in present:
                    continue
                SchemeItem.objects.create(
                    scheme=scheme, indicator=indicator, weight=Decimal(weight), rule=rule, sort_order=position
                )
                present.add(indicator.pk)
            installed.append(scheme)
    return installed
