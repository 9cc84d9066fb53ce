"""The shipped indicator catalogues, as plain data, and the service that installs them.

Two catalogues ship with the platform:

* ``ncm-2024``: the 14 indicators of the 2024 county-consortium monitoring
  set (紧密型县域医疗卫生共同体监测指标体系（2024版）). Names, areas, kinds and
  units are the official ones; every numerator and denominator is a working
  definition inferred from the name (the official 指标说明 was not found),
  so each is marked ``is_working_definition``. Indicators the platform has
  no data for (staff income, deaths by cause and age) ship as qualitative
  checklists that say what is missing; nothing is invented.
* ``consortium-seeds``: the indicators the seed documents name directly
  (monthly up-referral rate per member, down-referral rate per lead-hospital
  department, primary-care share, two-way referral ratio, …), all working
  definitions.

Targets are set only where a published figure exists (domain notes,
indicators.md §3.4) and the description says where it comes from. Legend
bands follow the target, or the seeds' 优/良/中/差 bounds for the referral
rates; they are editable like every other field.

The catalogue is data: an assessor edits a shipped indicator through the
ordinary service (a new version each time). Re-installing updates a shipped
indicator only while nobody has edited it by hand; a hand-edited one is
kept and reported.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from yilian.accounts.selectors import scope_for
from yilian.core import generations
from yilian.core.audit import record_event
from yilian.core.exceptions import NotAllowed
from yilian.indicators import expressions, policies, registry
from yilian.indicators.choices import Direction, IndicatorKind, PeriodType
from yilian.indicators.models import (
    KNOWN_AREAS,
    KNOWN_UNITS,
    SYMBOL_UNITS,
    Indicator,
    IndicatorCatalogue,
    IndicatorVersion,
)
from yilian.indicators.selectors import FIGURES_GENERATION
from yilian.indicators.services import indicator_definition

NCM_2024_DOCUMENT = "紧密型县域医疗卫生共同体监测指标体系（2024版）"
SEEDS_DOCUMENT = (
    "《医疗联合体管理办法（试行）》（国卫医发〔2020〕13号）；"
    "《裕安区深化区域医疗共同体及紧密型城市医疗联合体建设实施方案（试行）》政策解读；"
    "《医联体建设管理》制度汇编（篇2、篇4、篇7）"
)

PERCENT = "%"


def _band(low: str | None, high: str | None, color: str, label: str) -> dict[str, Any]:
    return {"from": low, "to": high, "color": color, "label": label}


def _higher_is_better(target: str, warn: str) -> list[dict[str, Any]]:
    """Green at or above the target, yellow down to ``warn``, red below."""
    return [
        _band(target, None, "green", "达标"),
        _band(warn, target, "yellow", "接近"),
        _band(None, warn, "red", "未达标"),
    ]


def _percent_thirds(green_from: str, yellow_from: str) -> list[dict[str, Any]]:
    """Three bands on a 0–100 % scale for a share where higher is better."""
    return [
        _band(green_from, "100", "green", "较好"),
        _band(yellow_from, green_from, "yellow", "一般"),
        _band("0", yellow_from, "red", "较差"),
    ]


_QUALITATIVE_POINTS = [
    "有明确的制度安排：查阅政策文件、章程或管理制度",
    "已落地实施：查看实物或文档佐证（会议纪要、台账、系统记录等）",
    "访谈印证：与牵头医院及成员单位人员访谈一致",
]
_QUALITATIVE_METHOD = (
    "定性指标：通过查阅政策文件、实物或文档佐证、访谈等方式评判；"
    "有明确制度安排且已落地实施的判为达到。请上传佐证材料并记录评判意见。"
)

NCM_2024: dict[str, Any] = {
    "code": "ncm-2024",
    "name": "紧密型县域医疗卫生共同体监测指标体系（2024版）",
    "name_en": "Monitoring indicators of close-knit county medical communities (2024)",
    "description": (
        "5 个领域 14 项监测指标。指标名称、领域、定性/定量性质和单位依据官方问答；"
        "官方“指标说明”（计算方法、数据来源、指标导向）未找到，定量指标的公式均为工作定义，请核实后修改。"
        "文号未找到。"
    ),
    "source_document": NCM_2024_DOCUMENT,
    "sort_order": 10,
    "indicators": [
        {
            "code": "ncm2024_01",
            "name": "资源统一管理",
            "name_en": "Resources managed as one (staff, finance, services, drugs, information)",
            "area": "紧密型",
            "kind": IndicatorKind.QUALITATIVE,
            "description": "医共体内人事、财务、业务、药品、信息等统一管理。" + _QUALITATIVE_METHOD,
            "direction": Direction.NEUTRAL,
            "period_type": PeriodType.YEAR,
            "checklist": [
                "人事统一管理：有明确制度安排且已落实",
                "财务统一管理：有明确制度安排且已落实",
                "业务统一管理：有明确制度安排且已落实",
                "药品（耗材）统一管理：有明确制度安排且已落实",
                "信息统一管理：有明确制度安排且已落实",
                *_QUALITATIVE_POINTS,
            ],
        },
        {
            "code": "ncm2024_02",
            "name": "医共体内部民主决策",
            "name_en": "Democratic decision-making inside the community",
            "area": "紧密型",
            "kind": IndicatorKind.QUALITATIVE,
            "description": "医共体内部重大事项实行民主决策。" + _QUALITATIVE_METHOD,
            "direction": Direction.NEUTRAL,
            "period_type": PeriodType.YEAR,
            "checklist": list(_QUALITATIVE_POINTS),
        },
        {
            "code": "ncm2024_03",
            "name": "服务协同联动",
            "name_en": "Coordinated services",
            "area": "紧密型",
            "kind": IndicatorKind.QUALITATIVE,
            "description": "医共体成员单位之间服务协同联动。" + _QUALITATIVE_METHOD,
            "direction": Direction.NEUTRAL,
            "period_type": PeriodType.YEAR,
            "checklist": list(_QUALITATIVE_POINTS),
        },
        {
            "code": "ncm2024_04",
            "name": "二级及以上医疗卫生机构中级及以上医师到基层医疗卫生机构派驻人数",
            "name_en": "Mid-level or senior physicians of secondary+ institutions posted to primary care, per 10 000 residents",
            "area": "同质化",
            "description": (
                "每万常住人口中，二级及以上医疗卫生机构主治医师及以上职称医师派驻基层医疗卫生机构的人数。"
                "派驻人数为各月末在岗人数的平均，只计派驻满183天的长期派驻（按实际结束日期，未结束按计划结束日期）。"
                "常住人口取乡镇级区划登记数，因此只对区划、医联体（按其区划）有值，不对单个机构计算。"
            ),
            "numerator": "outreach_postings_senior_to_primary",
            "numerator_description": "二级及以上机构中级及以上医师派驻基层在岗人数（月末，期内平均）",
            "denominator": "population",
            "denominator_description": "常住人口",
            "factor": Decimal("10000"),
            "unit": "人/每万常住人口",
            "direction": Direction.HIGHER,
            "period_type": PeriodType.YEAR,
            "decimals": 2,
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_05a",
            "name": "影像心电中心服务开展（远程诊断报告数）",
            "name_en": "Imaging and ECG centres: remote diagnostic reports",
            "area": "同质化",
            "description": (
                "指标5“影像心电中心服务开展与心电设备村级覆盖率”的第一部分：医学影像中心、心电中心"
                "为中心所在机构以外的成员单位出具的诊断报告数。"
            ),
            "numerator": "diagnostics_reports_imaging_ecg_remote",
            "numerator_description": "影像、心电中心远程诊断报告数",
            "unit": "份",
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 0,
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_05b",
            "name": "心电设备村级覆盖率（支援设备）",
            "name_en": "ECG devices in village clinics (supported devices)",
            "area": "同质化",
            "description": (
                "指标5的第二部分：村卫生室心电设备覆盖率。平台只登记医联体捐赠或借用的支援设备，"
                "不含村卫生室自购设备，且按台数而非按配备了设备的村卫生室数计，因此只是近似值"
                "（一室多台时可能高估，自购设备未计入时低估）。需要村卫生室设备配置台账才能按官方口径计算。"
            ),
            "numerator": "cb_devices_ecg_village",
            "numerator_description": "村卫生室在用支援心电设备数（月末，期内平均）",
            "denominator": "institutions_village_clinics",
            "denominator_description": "村卫生室数（按所在区划）",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "legend": _percent_thirds("80", "50"),
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_06",
            "name": "基层医疗卫生机构人均收入与牵头医院人均收入的比值",
            "name_en": "Per-capita staff income: primary institutions vs the lead hospital",
            "area": "同质化",
            "kind": IndicatorKind.QUALITATIVE,
            "description": (
                "平台没有职工收入数据，无法计算。工作定义：基层医疗卫生机构在岗职工人均收入 ÷ "
                "牵头医院在岗职工人均收入（比值越接近 1 越好）。请依据财务年报录入两项人均收入并上传佐证，"
                "由考核人员记录比值和评判意见。"
            ),
            "direction": Direction.HIGHER,
            "period_type": PeriodType.YEAR,
            "checklist": [
                "基层医疗卫生机构在岗职工人均收入（财务年报，附佐证）",
                "牵头医院在岗职工人均收入（财务年报，附佐证）",
                "比值 = 基层人均收入 ÷ 牵头医院人均收入，与上年比较",
            ],
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_07",
            "name": "县域内基层医疗卫生机构诊疗人次数占比",
            "name_en": "Share of visits at primary institutions in the county",
            "area": "促分工",
            "description": (
                "县域内基层医疗卫生机构门急诊人次 ÷ 县域内全部医疗卫生机构门急诊人次。"
                "目标值 65% 取自 2015 年国家分级诊疗试点标准（2017 年基层诊疗量占比≥65%）。"
                "只统计向平台报送就诊数据的机构。"
            ),
            "numerator": "encounters_visits_primary",
            "numerator_description": "基层医疗卫生机构门急诊人次",
            "denominator": "encounters_visits",
            "denominator_description": "全部机构门急诊人次",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "target": Decimal("65"),
            "legend": _higher_is_better("65", "55"),
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_08",
            "name": "医保基金县域内支出占比（不含药店）",
            "name_en": "Share of the insurance fund spent inside the county (pharmacies excluded)",
            "area": "促分工",
            "description": (
                "县域参保人在县域内定点医疗机构就医的医保基金支出 ÷ 县域参保人医保基金总支出（分子分母均不含定点药店）。"
                "按参保地统计，只对区划和医联体（按其区划）有值。"
            ),
            "numerator": "claims_fund_paid_in_county",
            "numerator_description": "县域内定点医疗机构医保基金支出",
            "denominator": "claims_fund_paid_excl_pharmacy",
            "denominator_description": "医保基金总支出（不含药店）",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "legend": _percent_thirds("80", "70"),
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_09",
            "name": "县域内基层医疗卫生机构医保基金支出占比",
            "name_en": "Share of in-county fund spending at primary institutions",
            "area": "促分工",
            "description": (
                "县域参保人在县域内基层医疗卫生机构就医的医保基金支出 ÷ 县域内医保基金支出（不含药店）。"
                "按参保地统计。"
            ),
            "numerator": "claims_fund_paid_primary_in_county",
            "numerator_description": "县域内基层医疗卫生机构医保基金支出",
            "denominator": "claims_fund_paid_in_county",
            "denominator_description": "县域内医保基金支出（不含药店）",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "legend": _percent_thirds("30", "20"),
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_10",
            "name": "参保人在县域内住院人均费用",
            "name_en": "In-county inpatient cost per stay of the insured",
            "area": "提效能",
            "description": (
                "县域参保人在县域内住院总费用 ÷ 县域内住院人次（按结算日期）；增长率 = (本期 − 上年同期) ÷ 上年同期，"
                "由“上年同期值”计算，越低越好。按参保地统计。"
            ),
            "numerator": "claims_inpatient_cost_in_county",
            "numerator_description": "参保人县域内住院总费用",
            "denominator": "claims_admissions_in_county",
            "denominator_description": "参保人县域内住院人次",
            "unit": "元",
            "direction": Direction.LOWER,
            "period_type": PeriodType.MONTH,
            "decimals": 2,
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_11",
            "name": "参保人县域内住院人次占比",
            "name_en": "Share of admissions of the insured inside the county",
            "area": "提效能",
            "description": (
                "县域参保人县域内住院人次 ÷ 县域参保人全部住院人次（县域就诊率（住院））。"
                "目标值 90% 取自安徽省 2020 年目标（县域内就诊率（住院）≈90%，省级文件）。按参保地统计。"
            ),
            "numerator": "claims_admissions_in_county",
            "numerator_description": "参保人县域内住院人次",
            "denominator": "claims_admissions",
            "denominator_description": "参保人住院人次",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "target": Decimal("90"),
            "legend": _higher_is_better("90", "85"),
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_12",
            "name": "县域内中医类诊疗量占比",
            "name_en": "Share of TCM visits in the county",
            "area": "提效能",
            "description": "县域内中医类门急诊人次 ÷ 县域内门急诊人次。",
            "numerator": "encounters_visits_tcm",
            "numerator_description": "中医类门急诊人次",
            "denominator": "encounters_visits",
            "denominator_description": "门急诊人次",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_13",
            "name": "县域内慢性病健康管理人群住院率",
            "name_en": "Admission rate of people under chronic-disease management",
            "area": "保健康",
            "description": (
                "入院时处于慢病管理中的居民的住院人次 ÷ 慢病管理人数（月末在管人数的期内平均；一人两病计两档）。"
                "分子按收治机构、分母按管理机构统计，单个机构的值没有意义，请看医联体和区划的值。"
            ),
            "numerator": "encounters_admissions_chronic",
            "numerator_description": "慢病管理人群住院人次",
            "denominator": "chronic_cases_managed",
            "denominator_description": "慢病管理人数（期内平均）",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.LOWER,
            "period_type": PeriodType.YEAR,
            "decimals": 2,
            "is_working_definition": True,
        },
        {
            "code": "ncm2024_14",
            "name": "县域内四类慢性病过早死亡率",
            "name_en": "Premature mortality from four major NCDs in the county",
            "area": "保健康",
            "kind": IndicatorKind.QUALITATIVE,
            "description": (
                "平台没有死亡登记数据（按死因和年龄）和分年龄组人口，无法计算。官方常用口径：30–70 岁人群死于"
                "心脑血管疾病、癌症、慢性呼吸系统疾病和糖尿病的概率（寿命表法）。请依据疾控死因监测数据录入并上传佐证。"
            ),
            "direction": Direction.LOWER,
            "period_type": PeriodType.YEAR,
            "checklist": [
                "死因监测数据：30–70 岁四类慢性病死亡数（分 5 岁年龄组，附来源）",
                "分年龄组常住人口（附来源）",
                "按寿命表法计算的过早死亡概率，与上年比较",
            ],
            "is_working_definition": True,
        },
    ],
}

_UP_RATE_LEGEND = [
    _band("0", "2", "green", "优"),
    _band("2", "4", "green", "良"),
    _band("4", "6", "yellow", "中"),
    _band("6", None, "red", "差"),
]
_DOWN_RATE_LEGEND = [
    _band("8", None, "green", "优"),
    _band("5", "8", "green", "良"),
    _band("2", "5", "yellow", "中"),
    _band("0", "2", "red", "差"),
]

SEEDS: dict[str, Any] = {
    "code": "consortium-seeds",
    "name": "医联体运行监测指标（政策文件点名）",
    "name_en": "Consortium operation indicators (named in the policy documents)",
    "description": (
        "政策文件直接点名的指标：成员单位月度上转率、牵头医院科室月度下转率（内科、外科分开排名）、"
        "基层诊疗量占比、双向转诊比、医联体内转诊占比、县外住院占比、次均住院费用及其增长、专家下沉和新技术、"
        "结果互认和远程会诊。公式均为依据名称的工作定义。"
    ),
    "source_document": SEEDS_DOCUMENT,
    "sort_order": 20,
    "indicators": [
        {
            "code": "seed_up_referral_rate",
            "name": "成员单位月度上转率",
            "name_en": "Monthly up-referral rate of a member",
            "area": "双向转诊",
            "description": (
                "上转人次 ÷（门急诊人次 + 入院人次），按月统计，按优/良/中/差分级（默认界值 2%、4%、6%，越低越好："
                "患者留在基层）。方向可按医联体要求调整。"
            ),
            "numerator": "referrals_up",
            "numerator_description": "上转人次（按转出机构、提交日期）",
            "denominator": "volume_visits + volume_admissions",
            "denominator_description": "门急诊人次 + 入院人次（月度服务量）",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.LOWER,
            "period_type": PeriodType.MONTH,
            "decimals": 2,
            "legend": _UP_RATE_LEGEND,
            "is_working_definition": True,
        },
        {
            "code": "seed_down_referral_rate",
            "name": "牵头医院科室月度下转率",
            "name_en": "Monthly down-referral rate of a lead-hospital department",
            "area": "双向转诊",
            "description": (
                "科室下转人次 ÷ 科室出院人次，按月统计，按优/良/中/差分级（默认界值 8%、5%、2%，越高越好）。"
                "内科、外科分开排名：科室的“诊疗科目”（Department.specialty）区分内科系与外科系"
                "（与转诊统计页的分组相同）。"
            ),
            "numerator": "referrals_down",
            "numerator_description": "下转人次（按转出科室、提交日期）",
            "denominator": "volume_department_discharges",
            "denominator_description": "科室出院人次（月度服务量）",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 2,
            "legend": _DOWN_RATE_LEGEND,
            "is_working_definition": True,
        },
        {
            "code": "seed_primary_care_share",
            "name": "基层诊疗量占比",
            "name_en": "Primary-care share of visits",
            "area": "分级诊疗",
            "description": (
                "基层医疗卫生机构门急诊人次 ÷ 区域内全部门急诊人次。目标值 65% 取自 2015 年国家分级诊疗试点标准。"
            ),
            "numerator": "encounters_visits_primary",
            "numerator_description": "基层医疗卫生机构门急诊人次",
            "denominator": "encounters_visits",
            "denominator_description": "门急诊人次",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "target": Decimal("65"),
            "legend": _higher_is_better("65", "55"),
            "is_working_definition": True,
        },
        {
            "code": "seed_two_way_ratio",
            "name": "双向转诊比（下转 ÷ 上转）",
            "name_en": "Two-way referral ratio (down ÷ up)",
            "area": "双向转诊",
            "description": "下转人次 ÷ 上转人次，越高说明下转越充分。",
            "numerator": "referrals_down",
            "numerator_description": "下转人次",
            "denominator": "referrals_up",
            "denominator_description": "上转人次",
            "unit": "",
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 2,
            "is_working_definition": True,
        },
        {
            "code": "seed_inside_share",
            "name": "医联体内转诊占比",
            "name_en": "Share of referrals inside the consortium",
            "area": "双向转诊",
            "description": "转出、接收双方均为医联体成员的转诊人次 ÷ 成员单位全部转诊人次（全国 2019 年为 46.9%，仅供参考）。",
            "numerator": "referrals_inside",
            "numerator_description": "医联体内转诊人次",
            "denominator": "referrals_issued",
            "denominator_description": "转诊人次",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "is_working_definition": True,
        },
        {
            "code": "seed_out_of_region_admissions",
            "name": "参保人县外住院人次占比",
            "name_en": "Share of admissions of the insured outside the county",
            "area": "分级诊疗",
            "description": "县域参保人县域外住院人次 ÷ 县域参保人全部住院人次，越低越好。按参保地统计。",
            "numerator": "claims_admissions_out_of_county",
            "numerator_description": "参保人县域外住院人次",
            "denominator": "claims_admissions",
            "denominator_description": "参保人住院人次",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.LOWER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "is_working_definition": True,
        },
        {
            "code": "seed_cost_per_stay",
            "name": "次均住院费用",
            "name_en": "Cost per inpatient stay",
            "area": "费用控制",
            "description": (
                "出院患者住院总费用 ÷ 出院人次（按出院日期，全部出院患者）；增长率由“上年同期值”计算，增长越低越好。"
            ),
            "numerator": "encounters_inpatient_cost",
            "numerator_description": "出院患者住院总费用",
            "denominator": "encounters_discharges",
            "denominator_description": "出院人次",
            "unit": "元",
            "direction": Direction.LOWER,
            "period_type": PeriodType.MONTH,
            "decimals": 2,
            "is_working_definition": True,
        },
        {
            "code": "seed_outreach_visits",
            "name": "专家下沉人次",
            "name_en": "Expert outreach visits",
            "area": "资源下沉",
            "description": "派出机构专家下沉帮扶的人次（批次已完成或已确认）。",
            "numerator": "outreach_visits",
            "numerator_description": "专家下沉帮扶人次",
            "unit": "人次",
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 0,
            "is_working_definition": True,
        },
        {
            "code": "seed_postings_received",
            "name": "接收派驻人数",
            "name_en": "Senior physicians posted in (counted at the receiving primary institution)",
            "area": "资源下沉",
            "description": (
                "基层医疗卫生机构接收的、二级及以上医疗卫生机构主治医师及以上职称医师的派驻在岗人数，"
                "计入接收机构（派出机构不计）；医联体、区划为其成员或辖区内接收机构之和。"
                "月末在岗人数，季度、年度取各月末的平均；只计派驻满183天的长期派驻。"
                "与指标4“每万常住人口派驻人数”的分子相同：指标4的分母常住人口只属于区划，"
                "单个机构没有指标4的值，机构的派驻情况看本指标。"
            ),
            "numerator": "outreach_postings_senior_to_primary",
            "numerator_description": "二级及以上机构中级及以上医师派驻基层在岗人数（月末，期内平均）",
            "unit": "人",
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "is_working_definition": True,
        },
        {
            "code": "seed_techniques",
            "name": "引进新技术新项目数",
            "name_en": "New techniques introduced",
            "area": "资源下沉",
            "description": "经医联体办公室确认、在成员单位引进的新技术新项目数（按引进日期）。",
            "numerator": "cb_techniques",
            "numerator_description": "引进新技术新项目数",
            "unit": "项",
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 0,
            "is_working_definition": True,
        },
        {
            "code": "seed_shared_centre_orders",
            "name": "共享中心服务量",
            "name_en": "Shared-centre service volume",
            "area": "资源共享",
            "description": "成员单位送共享诊断中心的检查检验申请数（不含已撤销）。",
            "numerator": "diagnostics_orders",
            "numerator_description": "共享中心检查检验申请数",
            "unit": "人次",
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 0,
            "is_working_definition": True,
        },
        {
            "code": "seed_reports_on_time",
            "name": "共享中心报告按时发布率",
            "name_en": "Shared-centre reports published on time",
            "area": "资源共享",
            "description": "报告发布时间不晚于报告截止时间的报告数 ÷ 发布报告数（按诊断中心所在机构）。",
            "numerator": "diagnostics_reports_on_time",
            "numerator_description": "按时发布报告数",
            "denominator": "diagnostics_reports",
            "denominator_description": "发布报告数",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "legend": _percent_thirds("95", "85"),
            "is_working_definition": True,
        },
        {
            "code": "seed_recognition_rate",
            "name": "检查检验结果互认率",
            "name_en": "Result mutual recognition rate",
            "area": "资源共享",
            "description": "采用既往结果的次数 ÷ 开单时发现可互认既往结果的次数。",
            "numerator": "diagnostics_recognition_used",
            "numerator_description": "采用既往结果次数",
            "denominator": "diagnostics_recognition_checks",
            "denominator_description": "可互认结果判断次数",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "is_working_definition": True,
        },
        {
            "code": "seed_duplicates_avoided_saving",
            "name": "结果互认节省费用",
            "name_en": "Cost saved by avoided duplicate examinations",
            "area": "资源共享",
            "description": "采用既往结果、避免重复检查所节省的费用之和。",
            "numerator": "diagnostics_recognition_saved",
            "numerator_description": "结果互认节省费用",
            "unit": "元",
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 2,
            "is_working_definition": True,
        },
        {
            "code": "seed_teleconsultations",
            "name": "远程会诊例数",
            "name_en": "Teleconsultations",
            "area": "远程医疗",
            "description": "会诊意见已签署的远程会诊数（按邀请机构）。",
            "numerator": "tele_consultations",
            "numerator_description": "远程会诊例数",
            "unit": "例",
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 0,
            "is_working_definition": True,
        },
        {
            "code": "seed_tele_kept_local",
            "name": "远程会诊后留在本地治疗占比",
            "name_en": "Share of patients kept local after a teleconsultation",
            "area": "远程医疗",
            "description": "会诊后诊疗决定为留在本地治疗的例数 ÷ 远程会诊例数（尚未记录决定的计入分母）。",
            "numerator": "tele_kept_local",
            "numerator_description": "会诊后留在本地治疗例数",
            "denominator": "tele_consultations",
            "denominator_description": "远程会诊例数",
            "factor": Decimal("100"),
            "unit": PERCENT,
            "direction": Direction.HIGHER,
            "period_type": PeriodType.MONTH,
            "decimals": 1,
            "is_working_definition": True,
        },
    ],
}

CATALOGUES: list[dict[str, Any]] = [NCM_2024, SEEDS]
"""Every shipped catalogue, in display order."""

_CATALOGUE_FIELDS = ("name", "name_en", "description", "source_document", "sort_order")
_DEFAULTS: dict[str, Any] = {
    "name_en": "",
    "area": "",
    "description": "",
    "kind": IndicatorKind.QUANTITATIVE,
    "numerator": "",
    "numerator_description": "",
    "denominator": "",
    "denominator_description": "",
    "factor": Decimal(1),
    "unit": "",
    "direction": Direction.HIGHER,
    "period_type": PeriodType.MONTH,
    "decimals": 2,
    "legend": [],
    "target": None,
    "weight": Decimal(0),
    "checklist": [],
    "is_working_definition": False,
}


def shipped_indicator_fields(catalogue: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """Every definition field of one shipped indicator (defaults filled in, source document inherited)."""
    fields = {**_DEFAULTS, **spec}
    fields.setdefault("source_document", catalogue["source_document"])
    return fields


def check_catalogues(catalogues: list[dict[str, Any]] | None = None) -> list[str]:
    """Problems in the shipped data: duplicate codes, formulas that do not parse or name unknown items, units
    without a reading in English (not among ``models.KNOWN_UNITS`` or ``models.SYMBOL_UNITS``), areas without
    one (not among ``models.KNOWN_AREAS``)."""
    problems: list[str] = []
    known = registry.data_items().keys()
    seen: set[str] = set()
    for catalogue in catalogues or CATALOGUES:
        for spec in catalogue["indicators"]:
            code = spec["code"]
            if code in seen:
                problems.append(f"{code}: duplicate code")
            seen.add(code)
            if not expressions.ITEM_CODE.match(code):
                problems.append(f"{code}: code is not an identifier")
            area = spec.get("area", "")
            if area and area not in KNOWN_AREAS:
                problems.append(f"{code}: area {area!r} is not a known area (add it to models.KNOWN_AREAS)")
            unit = spec.get("unit", "")
            if unit and unit not in KNOWN_UNITS and unit not in SYMBOL_UNITS:
                problems.append(f"{code}: unit {unit!r} is not a known unit (add it to models.KNOWN_UNITS)")
            for formula in ("numerator", "denominator"):
                text = spec.get(formula, "")
                if text:
                    try:
                        expressions.validate(text, known)
                    except expressions.ExpressionError as error:
                        problems.append(f"{code} {formula}: {error}")
            if spec.get("kind", IndicatorKind.QUANTITATIVE) == IndicatorKind.QUANTITATIVE and not spec.get(
                "numerator"
            ):
                problems.append(f"{code}: quantitative without a numerator")
    return problems


def _may_install(actor: Any) -> bool:
    if actor is None:
        return True  # the system (migrations, the demo, a management command)
    return scope_for(actor).is_platform_admin or policies.can_edit_indicator(actor, None)


def _edited_by_hand(indicator: Indicator) -> bool:
    # Installed versions carry no author (the installer is in the audit event); hand edits do.
    latest = IndicatorVersion.objects.filter(indicator=indicator).order_by("-version").first()
    return latest is not None and latest.changed_by_id is not None


def install_catalogues(
    *, actor: Any = None, catalogues: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Create or update the shipped catalogues and their indicators, idempotently, in one transaction.

    A new indicator is created at version 1 with its ``IndicatorVersion``; an
    existing one whose shipped definition changed gets a new version, unless
    somebody edited it by hand (then it is kept and listed under ``kept``);
    one that did not change is left alone (no new version). One audit event
    ``indicator_catalogue.install`` per catalogue that changed. Returns the
    codes created, updated, unchanged and kept. Raises NotAllowed (actor
    neither a platform administrator nor a regulator) and ValueError when
    the shipped data itself is broken (a formula naming an unknown item).
    """
    if not _may_install(actor):
        raise NotAllowed()
    chosen = catalogues or CATALOGUES
    problems = check_catalogues(chosen)
    if problems:
        raise ValueError("; ".join(problems))
    user = actor if getattr(actor, "pk", None) else None
    result: dict[str, Any] = {"catalogues": [], "created": [], "updated": [], "unchanged": [], "kept": []}
    with transaction.atomic():
        for order, spec in enumerate(chosen):
            catalogue, catalogue_created = IndicatorCatalogue.objects.select_for_update().get_or_create(
                code=spec["code"],
                defaults={**{name: spec.get(name, "") for name in _CATALOGUE_FIELDS}, "is_shipped": True},
            )
            catalogue_changed = catalogue_created
            wanted = {
                name: spec.get(name, "" if name != "sort_order" else order) for name in _CATALOGUE_FIELDS
            }
            if not catalogue.is_shipped or any(getattr(catalogue, k) != v for k, v in wanted.items()):
                for name, value in wanted.items():
                    setattr(catalogue, name, value)
                catalogue.is_shipped = True
                catalogue.save()
                catalogue_changed = True
            changes: dict[str, list[str]] = {"created": [], "updated": [], "kept": []}
            for position, indicator_spec in enumerate(spec["indicators"], start=1):
                fields = shipped_indicator_fields(spec, indicator_spec)
                code = fields.pop("code")
                existing = Indicator.objects.select_for_update().filter(code=code).first()
                if existing is None:
                    indicator = Indicator(
                        catalogue=catalogue, code=code, sort_order=position, created_by=user, **fields
                    )
                    indicator.save()
                    IndicatorVersion.objects.create(
                        indicator=indicator,
                        version=1,
                        definition=indicator_definition(indicator),
                        changed_by=None,  # an installed version; hand edits carry their author
                    )
                    changes["created"].append(code)
                    continue
                proposed = Indicator(code=code, **fields)
                if indicator_definition(proposed) == indicator_definition(existing):
                    result["unchanged"].append(code)
                    continue
                if _edited_by_hand(existing):
                    changes["kept"].append(code)
                    continue
                for name, value in fields.items():
                    setattr(existing, name, value)
                existing.version += 1
                existing.save()
                IndicatorVersion.objects.create(
                    indicator=existing,
                    version=existing.version,
                    definition=indicator_definition(existing),
                    changed_by=None,
                )
                changes["updated"].append(code)
            for key, codes in changes.items():
                result[key] += codes
            if catalogue_changed or changes["created"] or changes["updated"]:
                generations.bump(FIGURES_GENERATION)
                record_event(
                    actor=actor,
                    action="indicator_catalogue.install",
                    obj=catalogue,
                    details={
                        "catalogue": catalogue.code,
                        "created": changes["created"],
                        "updated": changes["updated"],
                        "kept": changes["kept"],
                    },
                )
            result["catalogues"].append(catalogue.code)
    return result
