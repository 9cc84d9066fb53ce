"""Fixed content of the demo's teleconsultations: fees, experts' hours, cases, opinions and decisions.

Fees follow the range the Anhui price list and the consortium agreements
give for remote consultation (250–360 元 per session; teaching is free).
Every case is a short, plausible invitation of a township or county doctor
with the expert's opinion and the inviting doctor's decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from yilian.institutions.choices import DepartmentSpecialty as S
from yilian.telemedicine.choices import TeleconsultationKind as K

FEES: dict[str, str] = {
    K.CONSULTATION: "300.00",
    K.MULTIDISCIPLINARY: "360.00",
    K.WARD_ROUND: "280.00",
    K.READING: "250.00",
    K.TEACHING: "0.00",
}
"""Fee per kind of remote service, per the consortium's telemedicine agreement."""


@dataclass(frozen=True)
class Hours:
    """When an expert is free for teleconsultations: weekdays (0 = Monday), start hour, length in hours."""

    username: str
    weekdays: tuple[int, ...]
    start: float
    length: float


EXPERT_HOURS: tuple[Hours, ...] = (
    Hours("doctor", (1, 3), 14.5, 2),
    Hours("neurologist", (0, 2), 15, 2),
    Hours("radiologist", (0, 1, 2, 3, 4), 10, 1.5),
    Hours("pathology_chief", (4,), 15, 1.5),
    Hours("city_doctor", (2, 4), 14, 2),
    Hours("city_neurologist", (1,), 9, 2),
    Hours("city_neurologist", (3,), 14.5, 2),
)
"""Weekly hours the experts (and their coordinators) publish for the next two weeks."""


@dataclass(frozen=True)
class Case:
    """A teleconsultation case: what the inviting doctor writes and what the expert answers."""

    code: str
    name: str
    reason: str
    purpose: str
    summary: str
    exam: str
    opinion: str
    decision: str
    referral_reason: str = "会诊建议上级医院进一步诊治"


@dataclass(frozen=True)
class Field:
    """An expert field: the invited department and specialty, the expert accounts, the cases."""

    department: str
    specialty: str
    experts: tuple[str, ...]
    cases: tuple[Case, ...]


CARDIOLOGY = (
    Case(
        "I10",
        "原发性高血压",
        "三联降压药物治疗后血压仍控制不佳",
        "调整降压方案",
        "男，68 岁。高血压病史 12 年，服用氨氯地平、缬沙坦、氢氯噻嗪，家庭自测血压 160–170/95–100 mmHg。",
        "血肌酐 96 μmol/L，血钾 3.6 mmol/L；心电图：左室高电压。",
        "考虑难治性高血压，建议排查继发因素（醛固酮/肾素比值、肾动脉超声），加用螺内酯 20 mg qd，"
        "两周后复查血钾、肌酐，限盐 <5 g/d。",
        "按会诊意见加用螺内酯，两周后在本院复查血钾、肌酐，纳入高血压重点随访。",
    ),
    Case(
        "I25.1",
        "冠状动脉粥样硬化性心脏病",
        "活动后胸闷加重 2 周",
        "明确是否需要冠脉造影",
        "女，71 岁。冠心病史 5 年，规律服用阿司匹林、阿托伐他汀，近 2 周快走后胸闷，休息 3–5 分钟缓解。",
        "心电图：V4–V6 ST 段压低 0.05 mV；cTnI 阴性；LDL-C 2.9 mmol/L。",
        "考虑稳定型心绞痛，目前无急性冠脉综合征证据。加用单硝酸异山梨酯缓释片，阿托伐他汀加量至 40 mg，"
        "LDL-C 目标 <1.8 mmol/L；如症状加重或静息发作，立即转县医院胸痛中心。",
        "调整用药，留本院观察一周，症状未缓解则转县医院心内科门诊。",
        "会诊建议行冠脉造影评估",
    ),
    Case(
        "I48.9",
        "心房颤动",
        "新发房颤，抗凝方案咨询",
        "评估抗凝与心率控制",
        "男，75 岁。体检发现心律不齐，心电图示心房颤动，心室率 102 次/分，无明显心悸。既往高血压。",
        "CHA₂DS₂-VASc 评分 3 分，HAS-BLED 1 分；肾功能正常。",
        "建议口服抗凝（利伐沙班 15 mg qd，按肌酐清除率调整），美托洛尔缓释片控制心室率至 <110 次/分，"
        "1 个月后复查心电图和肾功能。",
        "按会诊意见启动抗凝，村医每周随访心率，一个月后复诊。",
    ),
    Case(
        "I50.9",
        "心力衰竭",
        "下肢水肿、夜间阵发性呼吸困难",
        "评估心衰治疗方案",
        "女，79 岁。高血压心脏病，近 1 周双下肢水肿、夜间憋醒，体重增加 3 kg。",
        "BNP 860 pg/mL；胸片：心影增大，少量胸腔积液。",
        "考虑慢性心衰急性加重（NYHA Ⅲ 级），呋塞米 20 mg bid 利尿，加用沙库巴曲缬沙坦小剂量起始，"
        "每日称重，出入量管理；如血氧 <93% 或利尿效果差，及时转诊。",
        "本院住院利尿治疗，按会诊意见调整药物。",
        "会诊建议转县医院心内科住院",
    ),
)

NEUROLOGY = (
    Case(
        "G45.9",
        "短暂性脑缺血发作",
        "反复发作一过性左手无力",
        "评估卒中风险与二级预防",
        "男，66 岁。3 天内 2 次左手无力，各持续约 10 分钟自行缓解。高血压、吸烟史。",
        "头颅 CT 未见出血及梗死；ABCD² 评分 5 分。",
        "ABCD² 5 分属高危，建议双抗（阿司匹林＋氯吡格雷）21 天后改单抗，强化他汀，尽快完善颈部血管超声；"
        "再次发作或症状持续，立即拨打 120 至县卒中中心。",
        "按会诊意见启动双抗和强化他汀，本院完成颈部血管超声。",
        "会诊建议转县医院卒中中心评估",
    ),
    Case(
        "I69.3",
        "脑梗死后遗症",
        "脑梗死后 3 个月康复方案咨询",
        "制定基层康复计划",
        "女，70 岁。右侧基底节区脑梗死后 3 个月，右侧肢体肌力 4 级，行走需拐杖。",
        "血压 138/84 mmHg，LDL-C 1.9 mmol/L。",
        "建议继续阿司匹林、阿托伐他汀二级预防，本院康复科每周 5 次肢体功能训练，配合针灸；"
        "3 个月后复评 Barthel 指数。",
        "留本院康复治疗，家庭医生团队每月随访。",
    ),
    Case(
        "R42",
        "头晕和眩晕",
        "反复眩晕伴恶心",
        "鉴别周围性与中枢性眩晕",
        "女，58 岁。反复发作性眩晕 1 月，与体位变化相关，每次持续不到 1 分钟，无肢体麻木无力。",
        "Dix-Hallpike 试验右侧阳性；头颅 CT 未见异常。",
        "考虑右后半规管良性阵发性位置性眩晕（BPPV），可在基层行 Epley 手法复位，指导患者居家练习；"
        "若出现言语不清、肢体无力等中枢体征须立即转诊。",
        "本院行手法复位，一周后电话随访。",
    ),
    Case(
        "G40.9",
        "癫痫",
        "抗癫痫药物调整",
        "评估发作控制与用药",
        "男，34 岁。癫痫病史 8 年，服用丙戊酸钠，近 2 月发作 3 次，均为全面强直阵挛发作。",
        "丙戊酸血药浓度 42 μg/mL（偏低）；肝功能正常。",
        "血药浓度偏低，结合近期漏服，建议丙戊酸钠缓释片加量至 0.5 g bid，记录发作日记，1 个月后复查血药浓度。",
        "按会诊意见调整剂量，加强用药依从性宣教。",
    ),
)

READING = (
    Case(
        "R91",
        "肺部结节",
        "体检胸部 CT 发现肺结节",
        "判读结节性质与随访策略",
        "女，62 岁。体检胸部 CT 示右肺上叶结节，无咳嗽咯血，不吸烟。",
        "右肺上叶磨玻璃结节，直径约 7 mm，边界清。",
        "右肺上叶纯磨玻璃结节 7 mm，低危，建议 6–12 个月复查薄层 CT，无需抗感染治疗。",
        "告知患者随访计划，6 个月后复查胸部 CT。",
    ),
    Case(
        "M51.2",
        "腰椎间盘突出",
        "腰腿痛，腰椎片阅片",
        "明确是否需要 MRI 与手术评估",
        "男，55 岁。腰痛伴左下肢放射痛 1 月，直腿抬高试验左侧阳性。",
        "腰椎 DR：L4/5 椎间隙变窄，骨质增生。",
        "DR 示腰椎退变，L4/5 椎间盘突出可能，建议行腰椎 MRI；目前无马尾综合征表现，可先保守治疗 4–6 周。",
        "本院保守治疗（理疗、非甾体抗炎药），预约县医院 MRI。",
    ),
    Case(
        "S42.2",
        "肱骨近端骨折",
        "外伤后肩部 DR 阅片",
        "判断骨折类型与处理方式",
        "女，73 岁。跌倒致右肩疼痛活动受限 4 小时。",
        "右肩 DR：肱骨外科颈骨折，轻度成角。",
        "右肱骨外科颈骨折，无明显移位，可悬吊保守治疗，1、2、4 周复查 DR；如移位加重，转骨科评估手术。",
        "本院悬吊制动，按期复查。",
        "会诊建议转县医院骨科手术评估",
    ),
)

MULTIDISCIPLINARY = (
    Case(
        "E11.2",
        "2型糖尿病伴肾并发症",
        "糖尿病肾病合并心衰，多学科会诊",
        "制定综合治疗方案",
        "男，72 岁。糖尿病 15 年，近半年肌酐升高，合并心衰、贫血，在县医院住院。",
        "Cr 186 μmol/L，eGFR 31 mL/min，HbA1c 8.2%，BNP 620 pg/mL，Hb 96 g/L。",
        "内分泌、肾内、心内科会诊意见：停用二甲双胍，改用 DPP-4 抑制剂＋基础胰岛素；加用 SGLT2 抑制剂；"
        "控制血压 <130/80 mmHg；纠正肾性贫血；3 个月后复评肾功能。",
        "按会诊意见调整治疗，出院后下转乡镇卫生院随访。",
        "会诊建议转市人民医院肾内科进一步诊治",
    ),
    Case(
        "C34.1",
        "肺上叶恶性肿瘤",
        "肺癌术后辅助治疗多学科讨论",
        "确定后续治疗方案",
        "女，64 岁。右肺上叶腺癌根治术后 1 月，病理 pT2aN1M0，EGFR 19 外显子缺失。",
        "术后胸部 CT 未见复发；肿瘤标志物正常。",
        "胸外、肿瘤、影像科讨论：Ⅱ期 EGFR 突变阳性，建议辅助奥希替尼治疗 3 年，每 3 个月复查胸部 CT。",
        "患者同意在县医院肿瘤门诊随访用药。",
        "会诊建议转市人民医院肿瘤科",
    ),
)

WARD_ROUND = (
    Case(
        "I63.9",
        "脑梗死",
        "重症脑梗死远程查房",
        "指导治疗与并发症防治",
        "男，76 岁。左侧大面积脑梗死第 3 天，意识嗜睡，右侧偏瘫。",
        "头颅 CT：左侧大脑中动脉供血区大片低密度影，中线轻度移位。",
        "注意脑水肿高峰期，甘露醇脱水，床头抬高 30°，吞咽评估后鼻饲，预防肺部感染和深静脉血栓；"
        "如意识障碍加重、中线移位 >5 mm，考虑去骨瓣减压，及时联系上级医院。",
        "按查房意见调整治疗，密切观察意识和瞳孔。",
        "查房建议转市人民医院神经外科评估减压手术",
    ),
    Case(
        "I21.9",
        "急性心肌梗死",
        "急性心梗 PCI 术后远程查房",
        "术后用药与康复指导",
        "女，69 岁。急性前壁心梗行急诊 PCI 术后第 4 天，无胸痛，偶有气短。",
        "心脏彩超：EF 45%，前壁运动减弱。",
        "继续双抗 12 个月、他汀、β 受体阻滞剂，加用 ARNI；启动Ⅰ期心脏康复，出院后 1 个月复查心脏彩超。",
        "按查房意见调整用药，安排心脏康复。",
    ),
)

TEACHING_TOPICS = (
    "基层高血压规范化诊疗与随访",
    "急性胸痛的识别、心电图判读与转运",
    "卒中早期识别（BE FAST）与溶栓绿色通道",
    "2型糖尿病胰岛素起始与剂量调整",
    "慢阻肺稳定期管理与吸入装置使用",
    "基层心电图常见异常判读",
    "胸部 X 线片阅片基础",
)
"""Remote teaching sessions (no patient)."""

COUNTY_FIELDS: tuple[tuple[Field, int], ...] = (
    (Field("心血管内科", S.INTERNAL_MEDICINE, ("doctor",), CARDIOLOGY), 45),
    (Field("神经内科", S.INTERNAL_MEDICINE, ("neurologist",), NEUROLOGY), 30),
    (Field("医学影像科", S.IMAGING, ("radiologist",), READING), 25),
)
"""What townships ask the county hospital for (with weights)."""

CITY_FIELDS: tuple[tuple[Field, int], ...] = (
    (Field("心血管内科", S.INTERNAL_MEDICINE, ("city_doctor",), CARDIOLOGY), 50),
    (Field("神经内科", S.INTERNAL_MEDICINE, ("city_neurologist",), NEUROLOGY), 50),
)
"""What the county hospital asks the city hospital for."""

DECLINE_REASONS = (
    "拟会诊时间专家有手术安排，请改约其他时间",
    "病历资料不全，缺少近期检查结果，请补充后重新申请",
    "病情危重，建议直接转诊至我院急诊",
    "该病种不在本科室诊疗范围，建议邀请其他专科",
)

CANCEL_REASONS = (
    "患者病情好转，家属要求取消",
    "患者已自行前往上级医院就诊",
    "患者病情变化已转诊",
    "家属不同意远程会诊",
)

MEETING_HOST = "https://meeting.yilian-demo.cn/room/"
"""Demo video-meeting links (a reserved-looking host, never a real meeting)."""
