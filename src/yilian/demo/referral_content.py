"""Fixed content of the referral demo: the county catalogue, diagnoses by department, clinical texts.

The county loads the shipped hypertension scheme (``yilian.referrals.schemes``,
国卫办医函〔2022〕34号 as far as it was read) and adds the rules below;
those marked "示例（非国家标准）" are working assumptions of the demo county,
not national rules. Clinical texts are templates filled with seeded numbers;
none of them describes a real patient.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TypeVar

from yilian.referrals.choices import CriterionCategory as C
from yilian.referrals.choices import Material as M
from yilian.referrals.choices import MissingMaterialAction as A
from yilian.referrals.choices import RecoveryPhase as R

T = TypeVar("T")

# --- the county's referral settings -------------------------------------------------------------

GRADE_BOUNDS = {"up_rate": [0.1, 0.2, 0.4], "down_rate": [8.0, 5.0, 2.0]}
"""Percent bounds of 优/良/中. The up-referral bounds are calibrated to the county's own volume (a few
hundred up-referrals a month against ~150 000 member visits); the down-referral ones are the defaults."""

SUBSIDIES = {"resident": 200, "employee": 240}
"""Deductible difference subsidy per completed admitting referral inside the consortium (`000_` 篇2 §2)."""


@dataclass(frozen=True)
class CriterionSpec:
    """One rule of the catalogue as the consortium office enters it."""

    name: str
    category: str
    icd_from: str
    icd_to: str
    triggers: tuple[str, ...]
    required_materials: tuple[str, ...] = ()
    completeness_threshold: int = 85
    missing_action: str = A.WARN
    min_stay_days: int | None = None
    source: str = ""


_EXAMPLE = "示例（非国家标准）"

HYPERTENSION_THRESHOLD = 85
"""Completeness the county asks of an emergency hypertension up-referral (the shipped scheme says 90)."""

CRITERIA: tuple[CriterionSpec, ...] = (
    # Hypertension comes from the shipped scheme (``yilian.referrals.schemes``); these are the county's own.
    CriterionSpec(
        "急性冠脉综合征（紧急上转）",
        C.MUST_UP,
        "I20",
        "I22",
        (
            "持续胸痛≥20 分钟不缓解，含服硝酸甘油无效",
            "心电图 ST 段抬高或新发左束支传导阻滞",
            "心肌损伤标志物升高",
            "首次医疗接触后直接转运至有 PCI 能力的胸痛中心",
        ),
        (M.HISTORY, M.EXAM_RESULTS, M.MEDICATIONS, M.ECG),
        90,
        A.BLOCK,
        source=f"{_EXAMPLE}：参照胸痛中心建设要求拟定；急诊资料完整度 90% 参照某县原型系统",
    ),
    CriterionSpec(
        "急性脑血管病（上转）",
        C.MUST_UP,
        "I60",
        "I69",
        (
            "突发一侧肢体无力或麻木、口角歪斜、言语不清等疑似急性脑卒中（发病 4.5 小时内立即转卒中中心）",
            "意识障碍或进行性加重的神经功能缺损",
            "剧烈头痛伴呕吐、颈项强直，疑似蛛网膜下腔出血",
            "短暂性脑缺血发作反复发作",
        ),
        (M.HISTORY, M.EXAM_RESULTS, M.MEDICATIONS),
        85,
        A.WARN,
        source=f"{_EXAMPLE}：参照国卫办医函〔2022〕34号脑血管病分级诊疗技术方案的方向拟定，条文未经核对",
    ),
    CriterionSpec(
        "脑卒中恢复期（下转康复）",
        C.DOWN_REHABILITATION,
        "I60",
        "I69",
        (
            "生命体征平稳，神经功能缺损不再进展",
            "需长期肢体、言语或吞咽功能康复训练",
            "二级预防用药方案已确定",
        ),
        (M.HISTORY, M.EXAM_RESULTS, M.MEDICATIONS, M.TREATMENT, M.PLAN),
        80,
        A.WARN,
        10,
        f"{_EXAMPLE}：依据国办发〔2017〕32号“急性病恢复期患者下转”原则拟定，最短住院日 10 天为本医共体设定",
    ),
    CriterionSpec(
        "糖尿病（会诊后上转）",
        C.CONSULT_THEN_UP,
        "E10",
        "E14",
        (
            "规范治疗 3 个月血糖仍不达标",
            "反复发生低血糖，或出现酮症、高渗状态",
            "新发或加重的慢性并发症（视网膜、肾脏、神经病变，糖尿病足）",
            "初诊需明确分型或妊娠合并糖尿病",
        ),
        (M.HISTORY, M.EXAM_RESULTS, M.MEDICATIONS),
        80,
        A.WARN,
        source=f"{_EXAMPLE}：会诊后上转完整度 80% 参照某县原型系统；国家糖尿病分级诊疗方案条文未取得",
    ),
    CriterionSpec(
        "糖尿病（下转基层管理）",
        C.DOWN_REHABILITATION,
        "E10",
        "E14",
        ("血糖控制稳定，治疗方案已确定", "急性并发症已纠正", "需在基层长期随访和健康管理"),
        (M.HISTORY, M.EXAM_RESULTS, M.MEDICATIONS, M.PLAN),
        85,
        A.WARN,
        7,
        f"{_EXAMPLE}：依据国办发〔2015〕70号“慢性病稳定期患者下转”原则拟定",
    ),
    CriterionSpec(
        "慢阻肺急性加重（上转）",
        C.MUST_UP,
        "J44",
        "J44",
        (
            "急性加重经基层治疗 48 小时无改善",
            "出现呼吸衰竭、意识改变或需要无创通气",
            "新出现心律失常或右心衰竭",
        ),
        (M.HISTORY, M.EXAM_RESULTS, M.MEDICATIONS),
        85,
        A.WARN,
        source=f"{_EXAMPLE}：国家慢阻肺分级诊疗方案条文未取得，按常见临床转诊指征拟定",
    ),
    CriterionSpec(
        "慢阻肺稳定期（下转康复）",
        C.DOWN_REHABILITATION,
        "J44",
        "J44",
        ("急性加重已控制，生命体征平稳", "需长期吸入治疗、家庭氧疗与呼吸康复"),
        (M.HISTORY, M.EXAM_RESULTS, M.MEDICATIONS, M.PLAN),
        85,
        A.WARN,
        7,
        f"{_EXAMPLE}：依据国办发〔2015〕70号“慢性病稳定期患者下转”原则拟定",
    ),
    CriterionSpec(
        "股骨骨折（上转手术）",
        C.MUST_UP,
        "S72",
        "S72",
        ("髋部或大腿外伤后疼痛、活动受限，疑似股骨颈、转子间或股骨干骨折", "需手术治疗"),
        (M.HISTORY, M.EXAM_RESULTS, M.IMAGING_REPORT),
        85,
        A.WARN,
        source=f"{_EXAMPLE}：按县域骨科常见转诊指征拟定",
    ),
    CriterionSpec(
        "股骨骨折术后（下转康复）",
        C.DOWN_REHABILITATION,
        "S72",
        "S72",
        ("术后伤口愈合良好，无感染", "生命体征平稳，需负重及关节功能康复训练"),
        (M.HISTORY, M.PROCEDURES, M.MEDICATIONS, M.PLAN),
        85,
        A.WARN,
        7,
        f"{_EXAMPLE}：依据国办发〔2017〕32号“术后恢复期患者下转”原则拟定",
    ),
)


# --- diagnoses ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dx:
    """A diagnosis (national-edition ICD-10 code) and the text group that describes it."""

    code: str
    name: str
    group: str


HTN = Dx("I10.x00", "原发性高血压", "htn")
HHD = Dx("I11.900", "高血压性心脏病", "htn")
UA = Dx("I20.000", "不稳定型心绞痛", "acs")
AMI = Dx("I21.900", "急性心肌梗死", "acs")
CHD = Dx("I25.100", "冠状动脉粥样硬化性心脏病", "heart")
AF = Dx("I48.x00", "心房颤动", "heart")
HF = Dx("I50.900", "心力衰竭", "heart")
CI = Dx("I63.900", "脑梗死", "stroke")
ICH = Dx("I61.900", "脑出血", "stroke")
TIA = Dx("G45.900", "短暂性脑缺血发作", "stroke")
CI_SEQ = Dx("I69.300", "脑梗死后遗症", "stroke")
ICH_SEQ = Dx("I69.100", "脑出血后遗症", "stroke")
PD = Dx("G20.x00", "帕金森病", "medicine")
AECOPD = Dx("J44.100", "慢性阻塞性肺疾病伴急性加重", "copd")
COPD = Dx("J44.900", "慢性阻塞性肺疾病", "copd")
PNEUMONIA = Dx("J18.900", "肺炎", "resp")
ASTHMA = Dx("J45.900", "支气管哮喘", "resp")
BRONCHIECTASIS = Dx("J47.x00", "支气管扩张", "resp")
LUNG_CA = Dx("C34.900", "肺恶性肿瘤", "cancer")
T2DM = Dx("E11.900", "2型糖尿病", "dm")
T2DM_NEURO = Dx("E11.400", "2型糖尿病伴周围神经病变", "dm")
DKA = Dx("E11.100", "2型糖尿病酮症酸中毒", "dm")
T1DM = Dx("E10.900", "1型糖尿病", "dm")
HYPERTHYROID = Dx("E05.900", "甲状腺功能亢进症", "medicine")
GASTRITIS = Dx("K29.700", "慢性胃炎", "gi")
GI_BLEED = Dx("K92.200", "上消化道出血", "gi")
CIRRHOSIS = Dx("K74.600", "肝硬化", "gi")
PANCREATITIS = Dx("K85.900", "急性胰腺炎", "gi")
APPENDICITIS = Dx("K35.800", "急性阑尾炎", "surgery")
GALLSTONE = Dx("K80.200", "胆囊结石", "surgery")
HERNIA = Dx("K40.900", "腹股沟疝", "surgery")
ILEUS = Dx("K56.700", "肠梗阻", "surgery")
GASTRIC_CA = Dx("C16.900", "胃恶性肿瘤", "cancer")
COLON_CA = Dx("C18.900", "结肠恶性肿瘤", "cancer")
FEMUR_NECK = Dx("S72.000", "股骨颈骨折", "femur")
FEMUR_TROCH = Dx("S72.100", "股骨转子间骨折", "femur")
TIBIA = Dx("S82.200", "胫骨干骨折", "ortho")
LUMBAR_FX = Dx("S32.000", "腰椎骨折", "ortho")
DISC = Dx("M51.200", "腰椎间盘突出症", "ortho")
KNEE_OA = Dx("M17.900", "膝关节骨性关节炎", "ortho")
BACK_PAIN = Dx("M54.500", "腰痛", "ortho")
SDH = Dx("S06.500", "创伤性硬膜下血肿", "neurosurgery")
MENINGIOMA = Dx("D32.900", "脑膜瘤", "cancer")
KIDNEY_STONE = Dx("N20.000", "肾结石", "uro")
URETER_STONE = Dx("N20.100", "输尿管结石", "uro")
BPH = Dx("N40.x00", "前列腺增生", "uro")
FIBROID = Dx("D25.900", "子宫平滑肌瘤", "gyn")
BRONCHITIS = Dx("J20.900", "急性支气管炎", "resp")
GASTROENTERITIS = Dx("A09.900", "急性胃肠炎", "gi")
RESP_FAILURE = Dx("J96.000", "急性呼吸衰竭", "icu")
SEPSIS = Dx("A41.900", "脓毒症", "icu")
CO_POISONING = Dx("T58.x00", "一氧化碳中毒", "icu")
CKD = Dx("N18.900", "慢性肾脏病", "medicine")

Weighted = tuple[tuple[Dx, int], ...]

UP_DIAGNOSES: dict[str, Weighted] = {
    # Receiving department of the county hospital → what primary care sends it.
    "心血管内科": ((HTN, 30), (HHD, 8), (UA, 10), (AMI, 4), (CHD, 14), (AF, 8), (HF, 10)),
    "神经内科": ((CI, 40), (ICH, 6), (TIA, 12), (CI_SEQ, 6), (PD, 4)),
    "呼吸内科": ((AECOPD, 35), (COPD, 8), (PNEUMONIA, 25), (ASTHMA, 6), (BRONCHIECTASIS, 4)),
    "内分泌科": ((T2DM, 30), (T2DM_NEURO, 10), (DKA, 6), (T1DM, 2), (HYPERTHYROID, 5)),
    "消化内科": ((GASTRITIS, 8), (GI_BLEED, 10), (CIRRHOSIS, 6), (PANCREATITIS, 5)),
    "普外科": ((APPENDICITIS, 12), (GALLSTONE, 14), (HERNIA, 10), (ILEUS, 6), (GASTRIC_CA, 3)),
    "骨科": ((FEMUR_NECK, 16), (FEMUR_TROCH, 10), (TIBIA, 6), (LUMBAR_FX, 5), (DISC, 12), (KNEE_OA, 8)),
    "神经外科": ((ICH, 8), (SDH, 8), (MENINGIOMA, 2)),
    "泌尿外科": ((KIDNEY_STONE, 10), (URETER_STONE, 10), (BPH, 12)),
    "妇产科": ((FIBROID, 1),),
    "儿科": ((PNEUMONIA, 10), (BRONCHITIS, 6), (GASTROENTERITIS, 5)),
    "急诊科": ((AMI, 6), (CI, 6), (CO_POISONING, 3), (GI_BLEED, 3)),
    "中医科": ((HTN, 4), (BACK_PAIN, 4), (COPD, 2)),
}

UP_DEPARTMENT_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("心血管内科", 22),
    ("神经内科", 18),
    ("呼吸内科", 14),
    ("内分泌科", 8),
    ("消化内科", 8),
    ("普外科", 8),
    ("骨科", 10),
    ("神经外科", 3),
    ("泌尿外科", 4),
    ("妇产科", 1),
    ("儿科", 3),
    ("中医科", 1),
)
"""Which county-hospital department an up-referral from primary care goes to."""

TCM_COUNTERPART = {
    "心血管内科": "心病科",
    "神经内科": "脑病科",
    "呼吸内科": "中医内科",
    "内分泌科": "中医内科",
    "消化内科": "中医内科",
    "普外科": "外科",
    "骨科": "中医骨伤科",
    "中医科": "中医内科",
    "妇产科": "中医妇科",
}
"""Where the TCM hospital (the sub-lead) takes the same patient; other departments stay at the county hospital."""

DOWN_DIAGNOSES: dict[str, Weighted] = {
    # Sending department of a lead or sub-lead hospital → what it sends down.
    "心血管内科": ((HTN, 20), (HHD, 8), (CHD, 14), (AMI, 4), (HF, 8), (AF, 4)),
    "神经内科": ((CI, 40), (ICH, 8), (CI_SEQ, 6), (TIA, 4), (PD, 2)),
    "呼吸内科": ((AECOPD, 24), (COPD, 12), (PNEUMONIA, 10), (BRONCHIECTASIS, 3)),
    "内分泌科": ((T2DM, 24), (T2DM_NEURO, 8), (DKA, 4)),
    "消化内科": ((CIRRHOSIS, 6), (GI_BLEED, 6), (PANCREATITIS, 3), (GASTRITIS, 2)),
    "普外科": ((GALLSTONE, 10), (APPENDICITIS, 8), (HERNIA, 6), (ILEUS, 4), (COLON_CA, 2)),
    "骨科": ((FEMUR_NECK, 18), (FEMUR_TROCH, 12), (TIBIA, 6), (LUMBAR_FX, 6), (DISC, 6)),
    "神经外科": ((ICH, 12), (SDH, 8)),
    "泌尿外科": ((BPH, 6), (KIDNEY_STONE, 4), (URETER_STONE, 3)),
    "妇产科": ((FIBROID, 3),),
    "儿科": ((PNEUMONIA, 4), (BRONCHITIS, 2)),
    "急诊科": ((CO_POISONING, 2), (CI, 3), (PNEUMONIA, 2)),
    "重症医学科": ((RESP_FAILURE, 4), (SEPSIS, 3), (ICH, 3), (AECOPD, 3)),
    "康复医学科": ((CI_SEQ, 24), (ICH_SEQ, 8), (FEMUR_NECK, 6), (CI, 6)),
    "中医科": ((HTN, 4), (COPD, 3), (BACK_PAIN, 3)),
    "中医内科": ((COPD, 8), (T2DM, 6), (HTN, 6), (CKD, 2)),
    "针灸推拿科": ((CI_SEQ, 6), (DISC, 6), (BACK_PAIN, 4)),
    "中医骨伤科": ((FEMUR_NECK, 6), (LUMBAR_FX, 4), (KNEE_OA, 6)),
    "中医妇科": ((FIBROID, 2),),
    "外科": ((GALLSTONE, 4), (HERNIA, 4), (APPENDICITIS, 3)),
    "脑病科": ((CI, 12), (CI_SEQ, 8), (TIA, 3)),
    "心病科": ((HTN, 8), (CHD, 6), (HF, 3)),
}

DOWN_RATE_PERCENT: dict[str, tuple[float, float]] = {
    # Range of a department's monthly down-referral rate (% of discharges), drawn once per department.
    "康复医学科": (9.0, 14.0),
    "神经内科": (6.0, 10.0),
    "骨科": (5.5, 10.0),
    "神经外科": (4.5, 8.5),
    "脑病科": (5.0, 9.0),
    "针灸推拿科": (4.0, 8.0),
    "中医骨伤科": (3.0, 7.0),
    "心血管内科": (3.0, 6.0),
    "呼吸内科": (3.0, 6.0),
    "内分泌科": (3.0, 6.0),
    "心病科": (2.5, 5.5),
    "中医内科": (2.0, 5.0),
    "重症医学科": (2.0, 5.0),
    "普外科": (1.2, 3.0),
    "消化内科": (1.2, 3.0),
    "中医科": (1.5, 3.5),
    "外科": (1.0, 3.0),
    "泌尿外科": (0.8, 2.0),
    "急诊科": (0.8, 2.0),
    "妇产科": (0.3, 1.0),
    "中医妇科": (0.3, 1.0),
    "儿科": (0.3, 1.0),
}

DISCHARGES_PER_BED = 3.4
"""Monthly discharges per bed: 90 % occupancy × 30 days ÷ an average stay of 8 days."""

LONG_STAY_DEPARTMENTS = {"康复医学科": 0.5, "重症医学科": 1.2, "骨科": 0.8, "神经外科": 0.8}
"""Departments whose stays are longer (or whose beds turn over faster): discharges-per-bed factor."""

SHORT_STAY_DEPARTMENTS = {"妇产科": 1.5, "儿科": 1.5, "急诊科": 1.6}

MONTH_FACTOR = {1: 1.08, 2: 0.86, 3: 1.0, 4: 0.98, 5: 0.97, 6: 0.95, 7: 0.98, 8: 1.0, 9: 0.98, 10: 0.93}
"""Seasonality of visits (Spring Festival in February, National Day in October, winter peaks)."""


def month_factor(month: int) -> float:
    """Visits relative to an average month."""
    return MONTH_FACTOR.get(month, 1.06)


def recovery_phase_for(dx: Dx, department: str) -> str:
    """Why an inpatient of ``department`` with ``dx`` may go down."""
    if department == "重症医学科":
        return R.STABILISED_CRITICAL
    if dx.group in ("femur", "surgery", "neurosurgery", "uro", "gyn") or (
        dx.group == "ortho" and dx.code.startswith("S")
    ):
        return R.POST_OPERATIVE
    if dx.group in ("htn", "dm", "copd", "medicine") or dx.code.startswith(("I25", "I69", "M")):
        return R.STABLE_CHRONIC
    return R.RECOVERY


# --- clinical texts --------------------------------------------------------------------------------


def _bp(r: random.Random, high: bool = False) -> str:
    if high:
        return f"{r.randint(178, 212)}/{r.randint(104, 126)} mmHg"
    return f"{r.randint(124, 146)}/{r.randint(74, 92)} mmHg"


def history(dx: Dx, r: random.Random, age: int) -> str:
    """病史（含外伤史）."""
    years = r.randint(2, 20)
    smoking = r.choice(["", "吸烟史 30 年，", "", "饮酒史 20 年，", ""])
    base = {
        "htn": f"高血压病史 {years} 年，最高血压 {_bp(r, True)}，{smoking}平素服药不规律。",
        "acs": f"高血压病史 {years} 年，{smoking}今日晨起活动后出现胸骨后压榨样疼痛 {r.randint(30, 180)} 分钟。",
        "heart": f"冠心病、高血压病史 {years} 年，近 {r.randint(3, 14)} 天活动后胸闷、气短加重。",
        "stroke": f"高血压病史 {years} 年，{smoking}{r.randint(1, 6)} 小时前突发右侧肢体无力、言语含糊。",
        "copd": f"反复咳嗽、咳痰 {years} 年，{smoking}近 {r.randint(3, 10)} 天咳嗽咳痰加重伴气喘。",
        "resp": f"{r.randint(2, 7)} 天前受凉后发热，最高体温 {r.randint(38, 40)}.{r.randint(0, 9)}℃，咳嗽、咳黄痰。",
        "dm": f"2 型糖尿病病史 {years} 年，口服二甲双胍，近 {r.randint(1, 6)} 个月空腹血糖波动在 9–14 mmol/L。",
        "gi": f"{r.randint(1, 5)} 天前出现上腹部不适，伴恶心、黑便 {r.randint(1, 3)} 次。",
        "surgery": f"{r.randint(6, 48)} 小时前出现右上腹/右下腹疼痛，进行性加重，伴恶心。",
        "femur": f"{r.randint(2, 30)} 小时前在家中滑倒，右髋部着地，伤后右髋疼痛、不能站立。",
        "ortho": f"腰腿痛 {r.randint(1, 10)} 年，近 {r.randint(1, 4)} 周加重，伴左下肢放射痛。",
        "neurosurgery": f"{r.randint(2, 48)} 小时前头部外伤，伤后头痛、呕吐 {r.randint(1, 4)} 次。",
        "uro": f"{r.randint(1, 7)} 天前突发左侧腰部绞痛，伴肉眼血尿；排尿困难 {r.randint(1, 5)} 年。",
        "gyn": f"月经量增多 {r.randint(1, 3)} 年，B 超提示子宫肌瘤。",
        "cancer": f"近 {r.randint(1, 6)} 个月消瘦 {r.randint(3, 10)} kg，乡镇卫生院 CT 提示占位性病变。",
        "icu": "急诊入院，经抢救后生命体征趋于平稳。",
        "medicine": f"慢性病史 {years} 年，近期症状加重。",
    }[dx.group]
    if age >= 70:
        base += "既往有高血压、糖尿病等慢性病史。" if dx.group not in ("htn", "dm") else ""
    return base


def exam_results(dx: Dx, r: random.Random) -> str:
    """检查检验结果."""
    return {
        "htn": f"血压 {_bp(r, True)}，心率 {r.randint(78, 110)} 次/分；尿蛋白（{r.choice('±+')}），"
        f"血肌酐 {r.randint(70, 130)} μmol/L。",
        "acs": f"血压 {_bp(r)}；心电图 V1–V4 导联 ST 段抬高 {r.randint(2, 5)} mm；肌钙蛋白 I 升高。",
        "heart": f"BNP {r.randint(600, 3200)} pg/mL；心脏超声 LVEF {r.randint(32, 48)}%；双下肢轻度水肿。",
        "stroke": f"血压 {_bp(r, True)}；NIHSS {r.randint(3, 14)} 分；随机血糖 {r.randint(6, 12)}.{r.randint(0, 9)} mmol/L。",
        "copd": f"SpO₂ {r.randint(84, 91)}%（未吸氧）；双肺哮鸣音；血常规白细胞 {r.randint(9, 16)}.{r.randint(0, 9)}×10⁹/L。",
        "resp": f"体温 {r.randint(38, 39)}.{r.randint(0, 9)}℃；右下肺湿啰音；胸片示右下肺片状影。",
        "dm": f"空腹血糖 {r.randint(11, 19)}.{r.randint(0, 9)} mmol/L；HbA1c {r.randint(9, 12)}.{r.randint(0, 9)}%；"
        f"尿酮体（{r.choice(['-', '+', '++'])}）。",
        "gi": f"血红蛋白 {r.randint(72, 110)} g/L；大便隐血阳性。",
        "surgery": f"右下腹/右上腹压痛、反跳痛；白细胞 {r.randint(11, 18)}.{r.randint(0, 9)}×10⁹/L；B 超提示异常。",
        "femur": "右下肢短缩、外旋畸形；X 线示右股骨颈/转子间骨折。",
        "ortho": "直腿抬高试验阳性；腰椎 CT 示 L4/5 椎间盘突出。",
        "neurosurgery": f"GCS {r.randint(10, 14)} 分；头颅 CT 示硬膜下血肿约 {r.randint(15, 40)} mL。",
        "uro": f"B 超示左输尿管上段结石约 {r.randint(6, 12)} mm 伴肾积水；前列腺体积增大。",
        "gyn": f"B 超示子宫肌瘤约 {r.randint(4, 8)} cm；血红蛋白 {r.randint(85, 110)} g/L。",
        "cancer": "CT 示占位性病变，需进一步病理检查。",
        "icu": f"血气分析 PaO₂ {r.randint(50, 62)} mmHg；乳酸 {r.randint(2, 5)}.{r.randint(0, 9)} mmol/L。",
        "medicine": "相关检查已完善，结果见附件。",
    }[dx.group]


def medications(dx: Dx, r: random.Random) -> str:
    """用药情况."""
    return {
        "htn": r.choice(
            ["氨氯地平 5 mg qd，缬沙坦 80 mg qd", "硝苯地平控释片 30 mg qd，氢氯噻嗪 12.5 mg qd"]
        ),
        "acs": "阿司匹林 300 mg 嚼服，替格瑞洛 180 mg 口服（首次医疗接触后已给予）",
        "heart": "呋塞米 20 mg qd，螺内酯 20 mg qd，美托洛尔缓释片 23.75 mg qd",
        "stroke": "未用抗血小板药物；已建立静脉通道",
        "copd": "噻托溴铵吸入 qd，沙丁胺醇气雾剂按需；头孢呋辛 1.5 g ivgtt q12h × 3 天",
        "resp": "头孢曲松 2 g ivgtt qd × 3 天，退热效果差",
        "dm": "二甲双胍 0.5 g tid，格列美脲 2 mg qd",
        "gi": "奥美拉唑 40 mg ivgtt q12h",
        "surgery": "头孢呋辛 1.5 g ivgtt，禁食补液",
        "femur": "曲马多 50 mg 止痛，患肢皮牵引制动",
        "ortho": "塞来昔布 0.2 g qd，甲钴胺 0.5 mg tid",
        "neurosurgery": "甘露醇 125 mL ivgtt q8h",
        "uro": "间苯三酚解痉，坦索罗辛 0.2 mg qn",
        "gyn": "多糖铁复合物 150 mg qd",
        "cancer": "对症支持治疗",
        "icu": "抗感染、呼吸支持、血管活性药物（详见出院小结）",
        "medicine": "按原方案服药",
    }[dx.group]


def treatment(dx: Dx, r: random.Random, *, down: bool) -> str:
    """治疗经过."""
    if down:
        return {
            "stroke": f"入院后行头颅 MRI，予抗血小板、调脂、改善循环治疗 {r.randint(10, 18)} 天，"
            f"NIHSS 由 {r.randint(6, 12)} 分降至 {r.randint(1, 5)} 分。",
            "femur": f"入院第 {r.randint(2, 4)} 天在腰硬联合麻醉下行人工股骨头置换术/股骨近端髓内钉内固定术，术后切口甲级愈合。",
            "htn": f"住院 {r.randint(5, 9)} 天，调整降压方案后血压控制在 {_bp(r)}，靶器官评估完成。",
            "copd": f"住院 {r.randint(7, 12)} 天，抗感染、解痉平喘、无创通气后症状缓解，SpO₂ 93%（鼻导管 2 L/min）。",
            "dm": f"住院 {r.randint(7, 10)} 天，胰岛素强化治疗后改为口服药＋基础胰岛素，空腹血糖 6–8 mmol/L。",
        }.get(dx.group, f"住院 {r.randint(6, 15)} 天，经规范治疗后病情稳定。")
    return {
        "htn": "本院予口服降压药调整 2 周，血压仍未达标。",
        "acs": "本院心电监护、吸氧，已与县医院胸痛中心电话联系。",
        "stroke": "本院测血糖、吸氧，已电话通知县医院卒中中心。",
        "copd": "本院抗感染、雾化治疗 3 天无明显改善。",
        "femur": "本院拍片后患肢制动，止痛处理。",
    }.get(dx.group, "本院对症处理后症状无明显缓解，超出本院诊疗能力。")


def procedures(dx: Dx, r: random.Random) -> str:
    """手术/操作 (ICD-9-CM-3 names), for surgical stays."""
    return {
        "femur": r.choice(["人工股骨头置换术（81.52）", "股骨近端髓内钉内固定术（79.35）"]),
        "surgery": r.choice(
            ["腹腔镜胆囊切除术（51.23）", "腹腔镜阑尾切除术（47.01）", "腹股沟疝无张力修补术（53.05）"]
        ),
        "neurosurgery": "钻孔引流术（01.31）",
        "uro": r.choice(["输尿管镜下钬激光碎石术（56.0）", "经尿道前列腺电切术（60.29）"]),
        "ortho": "椎间孔镜下髓核摘除术（80.51）",
        "gyn": "腹腔镜子宫肌瘤剔除术（68.29）",
        "acs": "急诊冠状动脉造影＋支架植入术（36.06）",
    }.get(dx.group, "无")


def plan(dx: Dx, r: random.Random, *, down: bool) -> str:
    """今后治疗方案."""
    if down:
        return {
            "stroke": "继续阿司匹林 100 mg qd、阿托伐他汀 20 mg qn；每日肢体功能及言语康复训练；1 个月后神经内科复诊。",
            "femur": "术后 2 周拆线；助行器辅助下逐步负重，髋关节功能训练；6 周后复查 X 线。",
            "htn": "氨氯地平 5 mg qd＋缬沙坦 80 mg qd；低盐饮食；乡镇卫生院每 2 周随访血压。",
            "copd": "布地格福吸入 bid；家庭氧疗；呼吸康复训练；如再次加重及时上转。",
            "dm": "二甲双胍 0.5 g tid＋甘精胰岛素 12 U qn；监测血糖；纳入慢病管理。",
        }.get(dx.group, "按出院医嘱继续治疗，基层定期随访，病情变化时及时上转。")
    return "请上级医院进一步明确诊断并制定治疗方案。"


def up_reason(dx: Dx, kind: str) -> str:
    """转诊原因 of an up-referral (≤ 100 characters)."""
    if kind == "exam":
        return f"需行 CT/MRI 等检查明确{dx.name}诊断"
    return {
        "htn": "血压控制不佳，需调整降压方案并评估靶器官损害",
        "acs": "急性胸痛，心电图 ST 段改变，疑似急性冠脉综合征",
        "heart": "心功能恶化，需住院治疗",
        "stroke": "疑似急性脑卒中，需溶栓/取栓评估",
        "copd": "慢阻肺急性加重，基层治疗后无改善",
        "resp": "肺部感染治疗效果不佳",
        "dm": "血糖控制不佳，需调整降糖方案",
        "gi": "疑似上消化道出血，需胃镜检查及治疗",
        "surgery": "急腹症，需外科手术评估",
        "femur": "髋部外伤后股骨骨折，需手术治疗",
        "ortho": "保守治疗效果不佳，需专科评估",
        "neurosurgery": "颅脑外伤，头颅 CT 示颅内出血",
        "uro": "泌尿系结石伴积水，需手术治疗",
        "gyn": "子宫肌瘤伴贫血，需手术评估",
        "cancer": "疑似恶性肿瘤，需明确诊断及治疗",
        "icu": "病情危重，需重症监护",
        "medicine": "病情复杂，超出本院诊疗能力",
    }[dx.group]


def down_reason(dx: Dx, phase: str) -> str:
    """转诊原因 of a down-referral."""
    return {
        R.POST_OPERATIVE: "术后恢复期，转回基层继续康复训练与伤口管理",
        R.STABILISED_CRITICAL: "危重症已稳定，转回基层继续治疗与康复",
        R.STABLE_CHRONIC: "病情稳定、治疗方案已确定，转回基层规范管理",
        R.RECOVERY: f"{dx.name}恢复期，转基层继续康复治疗",
    }[phase]


LATERAL_REASONS = ("本院无 DR/彩超设备，转中心卫生院检查", "患者就近至中心卫生院住院治疗")

DECLINE_REASONS = (
    "本科室床位已满，建议 3 天后重新预约或转至县中医医院",
    "病情可在基层继续处理，建议调整用药后两周复诊",
    "资料不全，缺少近期心电图和血常规，请补充后重新提交",
    "患者病情危急，请直接走急诊绿色通道并电话联系",
    "超出本院诊疗能力，建议转诊至省级医院",
)
REDIRECT_REASONS = ("经评估更适合由该科室接诊，已改派", "专科会诊后改派，对方科室已电话确认")
CANCEL_REASONS = (
    "患者及家属决定暂缓转诊",
    "患者已自行前往上级医院就诊",
    "病情好转，暂不需要转诊",
    "患者改为在本院继续治疗",
)
CANCEL_REQUEST_REASONS = ("患者家中有事，无法按预约日期前往，申请撤销", "患者决定在本院继续观察治疗")


def outcome_summary(dx: Dx, kind: str, r: random.Random, *, down: bool) -> str:
    """诊疗经过与结果, what the receiver sends back."""
    if down:
        if kind == "admission":
            return (
                f"转入本院康复病床 {r.randint(7, 21)} 天，完成{r.choice(['肢体功能', '呼吸功能', '关节功能'])}康复训练，"
                f"病情稳定，已纳入家庭医生签约管理。"
            )
        return "已接诊并建立慢病随访档案，用药方案与上级医院一致，病情稳定。"
    if kind == "exam":
        return f"检查已完成，结果支持{dx.name}诊断，报告已回传，建议基层按方案治疗。"
    if kind == "outpatient":
        return f"门诊明确诊断为{dx.name}，已调整治疗方案，建议返回基层随访。"
    return f"住院 {r.randint(4, 14)} 天，诊断{dx.name}，经治疗后病情好转出院。"


def discharge_summary(dx: Dx, r: random.Random) -> str:
    """出院小结 (admissions only)."""
    return f"入院诊断：{dx.name}。出院诊断：{dx.name}。出院情况：生命体征平稳，{_bp(r)}，症状明显缓解。"


def follow_up_plan(dx: Dx, *, down: bool) -> str:
    """随访与康复计划."""
    if down:
        return "每周入户随访 1 次，1 个月后评估康复效果，病情变化及时上转。"
    return {
        "htn": "两周后回乡镇卫生院随访血压，家庭医生每月随访。",
        "stroke": "出院后由乡镇卫生院康复科继续康复训练，3 个月后复诊。",
        "dm": "每周监测空腹及餐后血糖，1 个月后复查 HbA1c。",
        "copd": "坚持吸入治疗，乡镇卫生院每月随访肺功能与症状。",
        "femur": "术后康复训练，6 周后复查 X 线。",
    }.get(dx.group, "返回基层随访，按医嘱用药。")


def follow_up_note(dx: Dx, kind: str, r: random.Random) -> str:
    """What the primary institution records for a closed-loop duty."""
    if kind == "follow_up":
        return r.choice(
            [
                f"电话随访：患者已到家，按时服药，血压 {_bp(r)}，无不适。",
                f"入户随访：精神可，饮食睡眠正常，血压 {_bp(r)}，已预约下周复诊。",
                "入户随访：伤口干燥无渗出，疼痛可耐受，已指导家属协助康复训练。",
            ]
        )
    return r.choice(
        [
            f"首次康复评估：Barthel 指数 {r.randint(35, 75)} 分，制定每日肢体功能训练计划。",
            "首次康复记录：呼吸操及缩唇呼吸训练，6 分钟步行 260 m。",
            f"首次康复记录：助行器辅助行走 {r.randint(10, 40)} m，髋关节屈曲 {r.randint(60, 90)}°。",
        ]
    )


def pick(random_: random.Random, items: tuple[tuple[T, int], ...]) -> T:
    """One item of ``(item, weight)`` pairs, drawn by weight."""
    return random_.choices([item for item, _weight in items], weights=[weight for _item, weight in items])[0]
