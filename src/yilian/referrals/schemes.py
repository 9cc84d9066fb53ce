"""Shipped example criteria: the county hypertension scheme (县域高血压分级诊疗技术方案, 国卫办医函〔2022〕34号).

As read in the workspace's referral notes (shared/domain/referral.md §3):
the emergency up-referral criteria and the down-referral criteria are from
the scheme; the materials, thresholds and minimum stay are working
assumptions (marked in ``source``) for a consortium to adjust.
"""

from __future__ import annotations

from typing import Any

from yilian.referrals.choices import CriterionCategory, Material, MissingMaterialAction

SCHEME_SOURCE = "县域高血压分级诊疗技术方案（国卫办医函〔2022〕34号）"
ASSUMPTION = "；资料要求与阈值为示例设置（非国家标准）"

HYPERTENSION: tuple[dict[str, Any], ...] = (
    {
        "name": "高血压急症上转（任何级别）",
        "category": CriterionCategory.MUST_UP,
        "icd_from": "I10",
        "icd_to": "I15",
        "triggers": [
            "意识丧失或模糊",
            "血压≥180/110 mmHg 伴剧烈头痛、呕吐，或突发言语障碍和/或肢体瘫痪",
            "血压显著升高伴持续性胸背部剧烈疼痛",
            "血压升高伴下肢水肿、呼吸困难或不能平卧",
            "疑似急性冠脉综合征：尽快转至就近具备 PCI 能力的医院",
            "其他危及生命的情况：淡漠伴血压过低或测不出、心率过慢或过快、严重过敏反应",
        ],
        "required_materials": [Material.HISTORY, Material.EXAM_RESULTS, Material.MEDICATIONS, Material.ECG],
        "completeness_threshold": 90,
        "missing_action": MissingMaterialAction.WARN,
        "source": SCHEME_SOURCE + "，急诊上转标准" + ASSUMPTION,
    },
    {
        "name": "高血压随访控制不佳上转",
        "category": CriterionCategory.CONSULT_THEN_UP,
        "icd_from": "I10",
        "icd_to": "I15",
        "triggers": [
            "连续两次随访血压未达标（≥140/90 mmHg；老年人≥150/90 mmHg）",
            "药物不良反应难以控制",
            "出现新的并发症或原有并发症加重",
            "乡镇卫生院：患者要求中医治疗而本院无法提供，或中医治疗无效",
        ],
        "required_materials": [
            Material.HISTORY,
            Material.EXAM_RESULTS,
            Material.MEDICATIONS,
            Material.TREATMENT,
            Material.PLAN,
        ],
        "completeness_threshold": 80,
        "missing_action": MissingMaterialAction.WARN,
        "source": "基层高血压随访管理（国家基本公共卫生服务规范）" + ASSUMPTION,
    },
    {
        "name": "高血压稳定期下转基层",
        "category": CriterionCategory.DOWN_REHABILITATION,
        "icd_from": "I10",
        "icd_to": "I15",
        "triggers": [
            "诊断明确，治疗方案确定，适合基层或居家口服药物治疗",
            "病情稳定；合并症经治疗后稳定",
            "中医治疗方案确定且病情稳定",
        ],
        "required_materials": [Material.DISCHARGE_SUMMARY, Material.MEDICATIONS, Material.PLAN],
        "completeness_threshold": 85,
        "missing_action": MissingMaterialAction.BLOCK,
        "min_stay_days": 5,
        "source": SCHEME_SOURCE + "，县级医院→乡镇卫生院下转标准" + ASSUMPTION,
    },
    {
        "name": "高血压血压达标留基层管理",
        "category": CriterionCategory.STAY_PRIMARY,
        "icd_from": "I10",
        "icd_to": "I15",
        "triggers": ["诊断明确且有长期治疗方案，近期无需调整", "规范用药下血压控制达标，需长期随访"],
        "required_materials": [],
        "completeness_threshold": 0,
        "missing_action": MissingMaterialAction.WARN,
        "source": SCHEME_SOURCE + "，乡镇卫生院→村卫生室下转标准",
    },
)
"""The hypertension scheme as catalogue rules (criterion_create keyword arguments)."""

SCHEMES = {"hypertension": HYPERTENSION}
"""Example schemes a consortium office can load, by name."""
