"""Fixed content of the demo's shared diagnostic centres: centres, catalogues, recognition rules, report texts.

Prices follow the order of magnitude of Anhui's public-hospital price list
(血常规 20 元、胸部 DR 80 元、头颅 CT 平扫 180 元…); turnaround targets are
counted from the moment the specimen or study reaches the centre, as the
dashboard counts them. The report texts are short, plausible wordings per
item: one normal and a few abnormal variants, some with a critical value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from yilian.diagnostics.choices import CentreKind, RecognitionScope, RejectionReason
from yilian.institutions.choices import DepartmentSpecialty as S


@dataclass(frozen=True)
class CentrePlan:
    """A shared centre of the county consortium, run by a county-hospital department."""

    kind: str
    name: str
    department: str
    critical_ack_minutes: int
    serves_villages: bool
    """Village clinics order here too (blood drawn and ECGs recorded at the clinic)."""
    serves_hospitals: bool
    """The county TCM and maternal-child hospitals order here too."""


CENTRES: tuple[CentrePlan, ...] = (
    CentrePlan(CentreKind.IMAGING, "县域医学影像中心（放射科）", "医学影像科", 30, False, True),
    # The ECG centre's reports are signed by the cardiologists (the demo's "doctor"): only the centre's
    # department may sign, so it is run by 心血管内科 rather than the ECG room that records.
    CentrePlan(CentreKind.ECG, "县域远程心电诊断中心", "心血管内科", 15, True, False),
    CentrePlan(CentreKind.LAB, "县域临床检验中心", "检验科", 20, True, False),
    CentrePlan(CentreKind.PATHOLOGY, "县域病理诊断中心", "病理科", 60, False, True),
    CentrePlan(CentreKind.STERILISATION, "县域消毒供应中心", "消毒供应中心", 60, False, False),
)

EXTRA_DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    # (name, specialty, code): 心电诊断 is a subject of 医学影像科 (32.05) in the 诊疗科目 list.
    ("心电图室", S.IMAGING, "3205"),
    ("消毒供应中心", S.OTHER, "6901"),
)
"""County-hospital departments the centres need that the registry plan does not list."""


@dataclass(frozen=True)
class ItemPlan:
    """A catalogue item and how often it is ordered within its centre."""

    code: str
    name: str
    price: str
    turnaround_hours: int
    specimen: str = ""
    second_reader: bool = False
    weight: int = 10


CATALOGUE: dict[str, tuple[ItemPlan, ...]] = {
    CentreKind.LAB: (
        ItemPlan("JY001", "血常规", "20.00", 4, "EDTA 抗凝管（紫帽）", weight=26),
        ItemPlan("JY002", "空腹血糖", "8.00", 4, "含氟化钠管（灰帽）", weight=14),
        ItemPlan("JY003", "肝功能", "60.00", 8, "促凝管（黄帽）", weight=12),
        ItemPlan("JY004", "肾功能", "45.00", 8, "促凝管（黄帽）", weight=11),
        ItemPlan("JY005", "血脂四项", "40.00", 8, "促凝管（黄帽）", weight=9),
        ItemPlan("JY006", "糖化血红蛋白", "70.00", 24, "EDTA 抗凝管（紫帽）", weight=8),
        ItemPlan("JY007", "电解质", "30.00", 4, "肝素锂管（绿帽）", weight=6),
        ItemPlan("JY008", "尿常规", "10.00", 4, "尿杯（中段尿）", weight=8),
        ItemPlan("JY009", "凝血四项", "80.00", 6, "枸橼酸钠管（蓝帽）", weight=3),
        ItemPlan("JY010", "心肌肌钙蛋白I", "90.00", 2, "肝素锂管（绿帽）", weight=2),
        ItemPlan("JY011", "乙肝两对半", "60.00", 24, "促凝管（黄帽）", weight=3),
        ItemPlan("JY012", "甲状腺功能三项", "120.00", 48, "促凝管（黄帽）", weight=2),
    ),
    CentreKind.IMAGING: (
        ItemPlan("YX001", "胸部DR", "80.00", 24, weight=34),
        ItemPlan("YX002", "腰椎DR正侧位", "120.00", 24, weight=10),
        ItemPlan("YX003", "头颅CT平扫", "180.00", 12, weight=14),
        ItemPlan("YX004", "胸部CT平扫", "220.00", 24, weight=14),
        ItemPlan("YX005", "上腹部CT平扫", "260.00", 24, weight=5),
        ItemPlan("YX006", "腹部彩超", "120.00", 24, weight=15),
        ItemPlan("YX007", "甲状腺彩超", "100.00", 24, weight=4),
        ItemPlan("YX008", "颈部血管彩超", "150.00", 24, weight=4),
    ),
    CentreKind.ECG: (
        ItemPlan("XD001", "常规心电图", "25.00", 1, weight=80),
        ItemPlan("XD002", "动态心电图", "180.00", 48, weight=12),
        ItemPlan("XD003", "动态血压监测", "150.00", 48, weight=8),
    ),
    CentreKind.PATHOLOGY: (
        ItemPlan("BL001", "活检组织病理", "260.00", 120, "10% 中性福尔马林固定", True, weight=45),
        ItemPlan("BL002", "宫颈液基薄层细胞学检查（TCT）", "150.00", 72, "液基细胞保存液", weight=40),
        ItemPlan("BL003", "手术切除标本病理", "380.00", 168, "10% 中性福尔马林固定", True, weight=15),
    ),
    CentreKind.STERILISATION: (
        ItemPlan("XG001", "基础器械包灭菌", "35.00", 24, "器械包（双层棉布包装）"),
        ItemPlan("XG002", "清创缝合包灭菌", "25.00", 24, "器械包"),
        ItemPlan("XG003", "换药包灭菌", "15.00", 24, "器械包"),
        ItemPlan("XG004", "产包灭菌", "60.00", 24, "器械包"),
    ),
}
"""Catalogue of every centre, keyed by centre kind."""


@dataclass(frozen=True)
class RulePlan:
    """A mutual-recognition entry of the county consortium."""

    item_code: str
    name: str
    validity_days: int
    scope: str = RecognitionScope.CONSORTIUM


RULES: tuple[RulePlan, ...] = (
    RulePlan("JY001", "血常规", 7),
    RulePlan("JY003", "肝功能", 14),
    RulePlan("JY004", "肾功能", 14),
    RulePlan("JY005", "血脂四项", 30),
    RulePlan("JY006", "糖化血红蛋白", 60),
    RulePlan("JY011", "乙肝两对半", 180, RecognitionScope.REGION),
    RulePlan("JY012", "甲状腺功能三项", 30),
    RulePlan("YX001", "胸部DR", 30, RecognitionScope.REGION),
    RulePlan("YX002", "腰椎DR正侧位", 90, RecognitionScope.REGION),
    RulePlan("YX003", "头颅CT平扫", 90, RecognitionScope.REGION),
    RulePlan("YX004", "胸部CT平扫", 90, RecognitionScope.REGION),
    RulePlan("YX006", "腹部彩超", 30),
    RulePlan("XD001", "常规心电图", 7),
)

KIND_SHARE: tuple[tuple[str, int], ...] = (
    (CentreKind.LAB, 70),
    (CentreKind.IMAGING, 15),
    (CentreKind.ECG, 10),
    (CentreKind.PATHOLOGY, 5),
)
"""Share of orders by centre (the sterilisation centre's packages are not patient orders)."""


@dataclass(frozen=True)
class Indication:
    """A clinical diagnosis an item is ordered for, and a line of clinical information."""

    code: str
    name: str
    info: str


_HTN = Indication("I10", "原发性高血压", "高血压病史多年，规律服药，复查靶器官")
_DM = Indication("E11.9", "2型糖尿病", "糖尿病慢病随访，评估血糖控制")
_CHD = Indication("I25.1", "冠状动脉粥样硬化性心脏病", "活动后胸闷，既往冠心病")
_CHEST = Indication("R07.4", "胸痛", "胸痛半天，性质待查")
_PNEU = Indication("J18.9", "肺炎", "咳嗽咳痰伴发热 3 天")
_COPD = Indication("J44.1", "慢性阻塞性肺病伴急性加重", "慢支病史，近期气喘加重")
_CHECK = Indication("Z00.0", "一般医学检查", "65 岁以上老年人年度健康体检")
_ANAEMIA = Indication("D64.9", "贫血", "乏力、面色苍白 1 月")
_UTI = Indication("N39.0", "泌尿道感染", "尿频尿急尿痛 2 天")
_LIVER = Indication("K76.0", "脂肪肝", "体检发现转氨酶升高")
_LIPID = Indication("E78.5", "高脂血症", "血脂异常，他汀治疗后复查")
_HEAD = Indication("R51", "头痛", "头痛头晕，查颅内情况")
_STROKE = Indication("I63.9", "脑梗死", "突发一侧肢体乏力，言语含糊")
_BACK = Indication("M54.5", "下背痛", "腰痛伴左下肢放射痛")
_ABDO = Indication("R10.4", "腹痛", "上腹部隐痛反复发作")
_GALL = Indication("K80.2", "胆囊结石", "右上腹痛，既往胆囊结石")
_THYROID = Indication("E04.9", "非毒性甲状腺肿", "颈前肿物，查甲状腺")
_PALP = Indication("R00.2", "心悸", "阵发性心悸，查心律失常")
_GASTRIC = Indication("K29.7", "胃炎", "胃镜下见胃窦黏膜粗糙，取活检")
_POLYP = Indication("K63.5", "结肠息肉", "肠镜下息肉摘除，送检")
_CERVIX = Indication("Z12.4", "宫颈恶性肿瘤的特殊筛查", "两癌筛查，宫颈细胞学检查")
_SKIN = Indication("D23.9", "皮肤良性肿瘤", "皮下肿物切除送检")

INDICATIONS: dict[str, tuple[Indication, ...]] = {
    "JY001": (_PNEU, _ANAEMIA, _CHECK, _UTI, _COPD, _HTN),
    "JY002": (_DM, _CHECK, _HTN),
    "JY003": (_LIVER, _CHECK, _LIPID, _DM),
    "JY004": (_HTN, _DM, _CHECK),
    "JY005": (_LIPID, _HTN, _CHD, _CHECK),
    "JY006": (_DM,),
    "JY007": (_HTN, _COPD, _PNEU),
    "JY008": (_UTI, _DM, _CHECK),
    "JY009": (_STROKE, _CHD),
    "JY010": (_CHEST, _CHD),
    "JY011": (_LIVER, _CHECK),
    "JY012": (_THYROID, _PALP),
    "YX001": (_PNEU, _COPD, _CHECK, _CHEST),
    "YX002": (_BACK,),
    "YX003": (_HEAD, _STROKE),
    "YX004": (_PNEU, _COPD, _CHEST),
    "YX005": (_ABDO, _GALL),
    "YX006": (_ABDO, _GALL, _LIVER, _CHECK),
    "YX007": (_THYROID,),
    "YX008": (_STROKE, _HTN, _LIPID),
    "XD001": (_HTN, _CHD, _CHEST, _PALP, _CHECK),
    "XD002": (_PALP, _CHD),
    "XD003": (_HTN,),
    "BL001": (_GASTRIC, _POLYP, _SKIN),
    "BL002": (_CERVIX,),
    "BL003": (_POLYP, _GALL, _SKIN),
}


@dataclass(frozen=True)
class Finding:
    """One report wording: findings, conclusion, abnormal, and a critical value (if it is one)."""

    findings: str
    conclusion: str
    abnormal: bool = False
    critical: str = ""


def _f(findings: str, conclusion: str, abnormal: bool = False, critical: str = "") -> Finding:
    return Finding(findings, conclusion, abnormal, critical)


REPORTS: dict[str, tuple[tuple[Finding, float], ...]] = {
    "JY001": (
        (_f("WBC 6.2×10⁹/L，NEUT% 58%，Hb 136 g/L，PLT 215×10⁹/L。", "血常规未见明显异常。"), 70),
        (
            _f(
                "WBC 13.8×10⁹/L↑，NEUT% 86%↑，Hb 128 g/L，PLT 246×10⁹/L。",
                "白细胞及中性粒细胞比例升高，提示细菌感染可能。",
                True,
            ),
            18,
        ),
        (
            _f(
                "WBC 5.1×10⁹/L，Hb 92 g/L↓，MCV 74 fL↓，PLT 301×10⁹/L。",
                "小细胞低色素性贫血，建议查铁代谢。",
                True,
            ),
            11,
        ),
        (
            _f(
                "WBC 4.6×10⁹/L，Hb 56 g/L↓↓，PLT 188×10⁹/L。",
                "重度贫血。",
                True,
                "血红蛋白 56 g/L（危急值 <60 g/L）",
            ),
            0.4,
        ),
    ),
    "JY002": (
        (_f("空腹血糖 5.4 mmol/L。", "空腹血糖正常。"), 55),
        (_f("空腹血糖 8.9 mmol/L↑。", "空腹血糖升高，血糖控制欠佳。", True), 43),
        (
            _f(
                "空腹血糖 26.3 mmol/L↑↑。",
                "血糖显著升高，警惕高血糖危象。",
                True,
                "血糖 26.3 mmol/L（危急值 >22.2 mmol/L）",
            ),
            0.8,
        ),
    ),
    "JY003": (
        (_f("ALT 28 U/L，AST 24 U/L，TBIL 12.6 μmol/L，ALB 42 g/L。", "肝功能未见明显异常。"), 72),
        (
            _f(
                "ALT 86 U/L↑，AST 58 U/L↑，GGT 92 U/L↑，TBIL 15.1 μmol/L。",
                "转氨酶轻度升高，结合临床。",
                True,
            ),
            28,
        ),
    ),
    "JY004": (
        (_f("Cr 78 μmol/L，BUN 5.6 mmol/L，UA 356 μmol/L。", "肾功能未见明显异常。"), 76),
        (
            _f(
                "Cr 142 μmol/L↑，BUN 9.8 mmol/L↑，UA 498 μmol/L↑，eGFR 42 mL/min。",
                "肾功能轻中度受损，高尿酸血症。",
                True,
            ),
            23,
        ),
        (
            _f(
                "Cr 612 μmol/L↑↑，BUN 31.2 mmol/L↑↑。",
                "肌酐显著升高。",
                True,
                "肌酐 612 μmol/L（危急值 >530 μmol/L）",
            ),
            0.4,
        ),
    ),
    "JY005": (
        (
            _f("TC 4.6 mmol/L，TG 1.3 mmol/L，LDL-C 2.5 mmol/L，HDL-C 1.2 mmol/L。", "血脂四项在正常范围。"),
            55,
        ),
        (
            _f(
                "TC 6.8 mmol/L↑，TG 2.9 mmol/L↑，LDL-C 4.3 mmol/L↑，HDL-C 0.9 mmol/L。",
                "混合型高脂血症。",
                True,
            ),
            45,
        ),
    ),
    "JY006": (
        (_f("HbA1c 6.4%。", "糖化血红蛋白达标（<7%）。"), 52),
        (_f("HbA1c 8.7%↑。", "糖化血红蛋白升高，近 3 个月血糖控制不佳。", True), 48),
    ),
    "JY007": (
        (_f("K⁺ 4.1 mmol/L，Na⁺ 139 mmol/L，Cl⁻ 102 mmol/L。", "电解质未见异常。"), 80),
        (_f("K⁺ 3.2 mmol/L↓，Na⁺ 134 mmol/L↓。", "轻度低钾、低钠血症。", True), 17),
        (
            _f(
                "K⁺ 6.7 mmol/L↑↑，Na⁺ 136 mmol/L。",
                "高钾血症。",
                True,
                "血钾 6.7 mmol/L（危急值 >6.2 mmol/L）",
            ),
            1.2,
        ),
    ),
    "JY008": (
        (_f("尿蛋白（-），尿糖（-），白细胞 2/HP，红细胞 0/HP。", "尿常规未见异常。"), 70),
        (_f("尿蛋白（±），白细胞 35/HP↑，亚硝酸盐（+）。", "尿路感染可能。", True), 22),
        (_f("尿糖（3+），尿酮体（+）。", "尿糖阳性伴酮体，结合血糖。", True), 8),
    ),
    "JY009": (
        (_f("PT 12.1 s，INR 1.02，APTT 31.5 s，FIB 3.0 g/L。", "凝血功能未见异常。"), 75),
        (_f("PT 24.6 s↑，INR 2.3↑，APTT 38.2 s。", "INR 在华法林治疗目标范围内。", True), 23),
        (_f("PT 46.2 s↑↑，INR 4.8↑↑。", "INR 显著升高，出血风险高。", True, "INR 4.8（危急值 >4.0）"), 1),
    ),
    "JY010": (
        (_f("cTnI 0.01 ng/mL。", "心肌肌钙蛋白 I 阴性。"), 78),
        (_f("cTnI 0.12 ng/mL↑。", "肌钙蛋白轻度升高，建议动态复查。", True), 16),
        (
            _f(
                "cTnI 3.86 ng/mL↑↑。",
                "肌钙蛋白显著升高，提示急性心肌损伤。",
                True,
                "肌钙蛋白 I 3.86 ng/mL，提示急性心肌梗死可能",
            ),
            4,
        ),
    ),
    "JY011": (
        (
            _f(
                "HBsAg（-），抗-HBs（+），HBeAg（-），抗-HBe（-），抗-HBc（-）。",
                "乙肝表面抗体阳性（既往接种有效）。",
            ),
            86,
        ),
        (
            _f(
                "HBsAg（+），抗-HBs（-），HBeAg（-），抗-HBe（+），抗-HBc（+）。",
                "乙肝“小三阳”，建议查 HBV-DNA。",
                True,
            ),
            14,
        ),
    ),
    "JY012": (
        (_f("FT3 4.8 pmol/L，FT4 15.2 pmol/L，TSH 2.1 mIU/L。", "甲状腺功能正常。"), 70),
        (
            _f(
                "FT3 3.1 pmol/L，FT4 9.8 pmol/L↓，TSH 9.6 mIU/L↑。", "亚临床/原发性甲状腺功能减退可能。", True
            ),
            30,
        ),
    ),
    "YX001": (
        (
            _f(
                "两肺纹理清晰，未见实变影；心影大小形态正常；双膈面光整，肋膈角锐利。", "心肺膈未见明显异常。"
            ),
            64,
        ),
        (_f("右下肺野见斑片状模糊影，边缘不清；心影不大。", "右下肺炎症，建议治疗后复查。", True), 22),
        (_f("两肺纹理增多紊乱，肺野透亮度增高，膈肌低平。", "慢性支气管炎、肺气肿表现。", True), 13),
        (
            _f(
                "右侧胸腔见无肺纹理透亮区，肺组织压缩约 40%。",
                "右侧气胸。",
                True,
                "右侧气胸，肺组织压缩约 40%",
            ),
            0.5,
        ),
    ),
    "YX002": (
        (_f("腰椎生理曲度存在，椎体排列整齐，椎间隙未见狭窄。", "腰椎未见明显异常。"), 35),
        (
            _f(
                "腰椎生理曲度变直，L4/5 椎间隙变窄，椎体边缘骨质增生。",
                "腰椎退行性变，L4/5 椎间盘病变可能。",
                True,
            ),
            65,
        ),
    ),
    "YX003": (
        (_f("脑实质内未见异常密度影，脑室系统不大，中线结构居中。", "颅脑 CT 平扫未见明显异常。"), 58),
        (_f("双侧基底节区见多发斑点状低密度影，边界清。", "双侧基底节区腔隙性脑梗死。", True), 34),
        (_f("左侧额顶叶见片状低密度影，边界模糊。", "左侧额顶叶急性脑梗死可能，建议 MRI。", True), 6),
        (
            _f(
                "右侧基底节区见团块状高密度影，约 3.2 cm×2.5 cm，周围水肿。",
                "右侧基底节区脑出血。",
                True,
                "右侧基底节区脑出血，出血量约 15 mL",
            ),
            1,
        ),
    ),
    "YX004": (
        (_f("两肺野清晰，未见结节及实变；纵隔淋巴结不大。", "胸部 CT 平扫未见明显异常。"), 52),
        (_f("右肺上叶见一枚磨玻璃结节，直径约 6 mm。", "右肺上叶磨玻璃结节，建议 6–12 个月随访。", True), 28),
        (_f("两肺下叶见斑片状实变影及磨玻璃影。", "两肺下叶感染性病变。", True), 19),
        (
            _f("左侧胸腔大量积液，纵隔向右移位。", "左侧大量胸腔积液。", True, "左侧大量胸腔积液伴纵隔移位"),
            0.5,
        ),
    ),
    "YX005": (
        (_f("肝脏形态大小正常，胆囊不大，胰腺及脾脏未见异常。", "上腹部 CT 平扫未见明显异常。"), 45),
        (_f("胆囊内见多发高密度结节影，最大约 1.2 cm。", "胆囊多发结石。", True), 40),
        (_f("肝脏密度弥漫性减低，CT 值低于脾脏。", "脂肪肝。", True), 15),
    ),
    "YX006": (
        (
            _f(
                "肝脏大小形态正常，实质回声均匀；胆囊壁光滑；胰、脾、双肾未见异常。",
                "肝胆胰脾双肾未见明显异常。",
            ),
            45,
        ),
        (_f("肝实质回声增强、细密，后方回声衰减。", "脂肪肝（轻—中度）。", True), 32),
        (_f("胆囊内见强回声团伴声影，随体位移动。", "胆囊结石。", True), 23),
    ),
    "YX007": (
        (_f("甲状腺大小正常，实质回声均匀，未见明显结节。", "甲状腺未见明显异常。"), 45),
        (
            _f(
                "甲状腺右叶见一枚低回声结节，约 8 mm×6 mm，边界清，纵横比 <1。",
                "甲状腺右叶结节，C-TIRADS 3 类。",
                True,
            ),
            55,
        ),
    ),
    "YX008": (
        (_f("双侧颈动脉内中膜不厚，管腔通畅，血流充盈好。", "双侧颈部血管未见明显异常。"), 40),
        (
            _f(
                "双侧颈动脉内中膜增厚，左侧颈动脉分叉处见低回声斑块，约 12 mm×2.4 mm。",
                "双侧颈动脉粥样硬化伴斑块形成。",
                True,
            ),
            60,
        ),
    ),
    "XD001": (
        (_f("窦性心律，心率 72 次/分，PR 0.16 s，QRS 0.09 s，ST-T 未见异常。", "窦性心律，正常心电图。"), 62),
        (_f("窦性心律，心率 68 次/分，Ⅱ、Ⅲ、aVF 导联 T 波低平。", "窦性心律，ST-T 改变。", True), 22),
        (_f("心房颤动，平均心室率 96 次/分。", "心房颤动。", True), 10),
        (_f("窦性心律，左室高电压，V5 R 波 3.2 mV。", "左心室高电压。", True), 4),
        (
            _f(
                "窦性心律，Ⅱ、Ⅲ、aVF 导联 ST 段弓背向上抬高 0.3 mV。",
                "急性下壁心肌梗死。",
                True,
                "急性下壁 ST 段抬高型心肌梗死，请立即启动胸痛中心流程",
            ),
            0.8,
        ),
    ),
    "XD002": (
        (_f("总心搏 98 562 次，平均心率 71 次/分，偶发房早 12 次。", "窦性心律，偶发房性早搏。"), 55),
        (_f("总心搏 104 215 次，室早 2 816 次，部分成对。", "频发室性早搏，部分成对出现。", True), 40),
        (
            _f(
                "夜间见 R-R 长间歇，最长 4.2 s。",
                "窦性停搏，最长 R-R 间期 4.2 s。",
                True,
                "窦性停搏，最长 R-R 间期 4.2 s",
            ),
            1.5,
        ),
    ),
    "XD003": (
        (_f("24 h 平均血压 124/78 mmHg，夜间下降率 12%。", "24 小时血压在正常范围，杓型。"), 40),
        (_f("24 h 平均血压 146/92 mmHg，夜间下降率 4%。", "高血压，非杓型血压。", True), 60),
    ),
    "BL001": (
        (
            _f("（胃窦）送检黏膜组织，腺体排列规则，固有层少量淋巴细胞浸润。", "（胃窦）慢性非萎缩性胃炎。"),
            55,
        ),
        (_f("（胃窦）黏膜腺体减少，可见肠上皮化生。", "（胃窦）慢性萎缩性胃炎伴轻度肠上皮化生。", True), 35),
        (
            _f(
                "（胃窦）见异型腺体浸润性生长，细胞核大深染。",
                "（胃窦）腺癌，建议免疫组化进一步分型。",
                True,
                "病理诊断恶性肿瘤（胃窦腺癌）",
            ),
            3,
        ),
    ),
    "BL002": (
        (_f("涂片满意，可见化生细胞。", "未见上皮内病变或恶性病变（NILM）。"), 88),
        (
            _f(
                "涂片满意，见少量非典型鳞状细胞。",
                "意义不明的非典型鳞状细胞（ASC-US），建议 HPV 检测。",
                True,
            ),
            10,
        ),
        (_f("涂片满意，见挖空细胞及核异质细胞。", "低级别鳞状上皮内病变（LSIL）。", True), 2),
    ),
    "BL003": (
        (_f("送检组织，腺体呈管状排列，轻度异型。", "管状腺瘤，切缘未见病变。", True), 60),
        (_f("送检胆囊一枚，黏膜皱襞变平，壁增厚纤维化。", "慢性胆囊炎伴胆囊结石。", True), 30),
        (_f("送检皮下组织，见成熟脂肪细胞，包膜完整。", "脂肪瘤。"), 10),
    ),
}
"""Report wordings per item with their weights (critical ones at 0.4–4 %, about 0.5 % of all orders)."""

REJECTIONS: dict[str, tuple[tuple[str, str, int], ...]] = {
    CentreKind.LAB: (
        (RejectionReason.HAEMOLYSED, "标本溶血，钾离子结果不可靠，请重新采集", 40),
        (RejectionReason.CLOTTED, "抗凝管内见凝块", 20),
        (RejectionReason.INSUFFICIENT, "采血量不足 1 mL", 15),
        (RejectionReason.WRONG_TUBE, "应使用灰帽管", 10),
        (RejectionReason.DELAYED, "采集至送达超过 4 小时", 10),
        (RejectionReason.UNLABELLED, "条码脱落", 5),
    ),
    CentreKind.PATHOLOGY: (
        (RejectionReason.LEAKED, "标本瓶破损，固定液渗漏", 40),
        (RejectionReason.INSUFFICIENT, "组织过少，无法制片", 40),
        (RejectionReason.UNLABELLED, "标本瓶标签与申请单不符", 20),
    ),
    CentreKind.IMAGING: (
        (RejectionReason.IMAGE_QUALITY, "图像运动伪影明显，无法诊断，请重新摄片", 60),
        (RejectionReason.INCOMPLETE, "上传序列不完整，缺少矢状位重建", 40),
    ),
    CentreKind.ECG: (
        (RejectionReason.IMAGE_QUALITY, "基线漂移及肌电干扰严重，请重新描记", 70),
        (RejectionReason.OTHER, "导联接反（左右手反接），请重新描记", 30),
    ),
}
"""Why a centre refuses a specimen or study, per centre kind (reason, note, weight)."""

CANCEL_REASONS = (
    "患者拒绝采血，改日再查",
    "患者已自行前往县医院检查",
    "医嘱重复开立",
    "患者病情变化转上级医院",
)

REPEAT_REASONS = (
    ("病情变化，需复查对比", 45),
    ("治疗后疗效评估", 30),
    ("既往结果与临床表现不符", 15),
    ("术前评估需最新结果", 10),
)

AMEND_REASONS = (
    "补充测量数据",
    "更正左右侧别描述",
    "复核后修正诊断意见",
    "补充与既往片对比意见",
)

ACK_NOTES = (
    "已电话通知患者及家属，立即处置",
    "已通知值班医生，患者已转县医院急诊",
    "已复查并调整治疗方案",
    "已启动胸痛中心/卒中中心绿色通道",
)


@dataclass
class Staffing:
    """Who works at a centre in the demo: usernames of the receivers, first readers and second readers."""

    receivers: list[str] = field(default_factory=list)
    readers: list[str] = field(default_factory=list)
    second: list[str] = field(default_factory=list)


STAFF: dict[str, Staffing] = {
    CentreKind.LAB: Staffing(["lab_tech"], ["lab_doctor"]),
    CentreKind.IMAGING: Staffing([], ["radiologist"]),
    CentreKind.ECG: Staffing([], ["doctor"]),
    CentreKind.PATHOLOGY: Staffing([], ["pathologist"], ["pathology_chief"]),
}
"""Demo accounts that act at each centre (history rows are theirs, so reports have a real author)."""


def pick_weighted(random_: random.Random, items: tuple[tuple[Any, float], ...]) -> Any:
    """One item of (value, weight) pairs."""
    return random_.choices([item[0] for item in items], weights=[item[1] for item in items])[0]
