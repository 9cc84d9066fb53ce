"""Fixed content of the demo: the places, institutions, departments and people's name stock.

The demo is set in 安徽省六安市 (GB/T 2260 341500): the city districts 金安区
(341502) and 裕安区 (341503), and 金寨县 (341524), a mountain county of about
500 000 residents. Township names are the county's real towns and townships;
village names and every code below the county level are realistic but made
up. The region list itself (with populations) ships as
``yilian/institutions/data/demo_regions.csv`` and is imported through the
registry's CSV import; this module only says what to build on top of it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from yilian.institutions.choices import DepartmentSpecialty as S
from yilian.institutions.choices import DepartmentSubject as Subject

PROVINCE_CODE = "340000"
PREFECTURE_CODE = "341500"
PREFECTURE_NAME = "六安市"
COUNTY_CODE = "341524"
COUNTY_NAME = "金寨县"
COUNTY_OLD_CODE = "342426"
"""金寨县 under the former 六安地区 (until 1999): the address code of residents born before 1999."""
COUNTY_CODE_SINCE = 1999
JINAN_CODE = "341502"
YUAN_CODE = "341503"

REGIONS_CSV = "demo_regions.csv"
"""File name of the region list under ``yilian/institutions/data/``."""

REFERENCE_DATE = datetime.date(2025, 12, 31)
"""Ages and dates are computed from this day, not from today, so a seed always gives the same data."""

PASSWORD = "Yilian@2026"
"""The one password of every demo account (passes Django's password validators)."""


@dataclass(frozen=True)
class Township:
    """A township (镇/乡) of the county and how the demo treats it."""

    code: str
    name: str
    central: bool
    """Its health centre is a 中心卫生院 (C210) rather than a 乡镇卫生院 (C220)."""
    under_tcm: bool
    """Its health centre sits under the county TCM hospital (the sub-lead) in the county community."""
    grid: str
    """Code of the grid that covers it; "" = not in any grid (a deliberate gap)."""
    grid_villages_only: bool = False
    """The grid covers the township's villages one by one, leaving the last two out (a deliberate gap)."""


TOWNSHIPS: tuple[Township, ...] = (
    Township("341524100", "梅山镇", False, False, "341524-G01"),
    Township("341524101", "麻埠镇", True, False, "341524-G02"),
    Township("341524102", "青山镇", True, False, "341524-G02"),
    Township("341524103", "燕子河镇", True, False, "341524-G03"),
    Township("341524104", "天堂寨镇", False, False, "341524-G03"),
    Township("341524105", "古碑镇", True, False, "341524-G05"),
    Township("341524106", "吴家店镇", False, True, "341524-G04"),
    Township("341524107", "斑竹园镇", False, True, "341524-G04"),
    Township("341524108", "汤家汇镇", True, True, "341524-G04"),
    Township("341524109", "南溪镇", True, True, "341524-G04"),
    Township("341524110", "双河镇", True, False, "341524-G05"),
    Township("341524111", "白塔畈镇", False, False, "341524-G01"),
    Township("341524200", "全军乡", False, False, "341524-G03"),
    Township("341524201", "油坊店乡", False, False, "341524-G02"),
    Township("341524202", "槐树湾乡", False, False, "341524-G02"),
    Township("341524203", "花石乡", False, False, "341524-G01"),
    Township("341524204", "沙河乡", False, False, "341524-G05", grid_villages_only=True),
    Township("341524205", "桃岭乡", False, False, ""),
)


@dataclass(frozen=True)
class Street:
    """A city street (街道) with its community health centre, if the demo builds one."""

    code: str
    name: str
    district: str
    grid: str
    centre: bool


STREETS: tuple[Street, ...] = (
    Street("341502001", "中市街道", "金安区", "341500-G01", True),
    Street("341502002", "东市街道", "金安区", "341500-G01", True),
    Street("341502003", "三里桥街道", "金安区", "341500-G01", True),
    Street("341502004", "清水河街道", "金安区", "341500-G01", True),
    Street("341503001", "鼓楼街道", "裕安区", "341500-G03", False),
    Street("341503002", "西市街道", "裕安区", "341500-G03", False),
    Street("341503003", "小华山街道", "裕安区", "341500-G02", True),
)


@dataclass(frozen=True)
class GridPlan:
    """A grid of the demo and the consortium that serves it ("" = planned but not yet assigned)."""

    code: str
    name: str
    region_code: str
    consortium: str
    description: str


GRIDS: tuple[GridPlan, ...] = (
    GridPlan("341524-G01", "梅山片区网格", COUNTY_CODE, "county", "县城及周边乡镇，依托县人民医院本部。"),
    GridPlan(
        "341524-G02",
        "麻埠片区网格",
        COUNTY_CODE,
        "county",
        "北部库区乡镇，麻埠、青山两个中心卫生院为片区枢纽。",
    ),
    GridPlan(
        "341524-G03", "燕子河片区网格", COUNTY_CODE, "county", "南部山区乡镇，燕子河中心卫生院为片区枢纽。"
    ),
    GridPlan(
        "341524-G04",
        "南溪片区网格",
        COUNTY_CODE,
        "county",
        "西南部乡镇，由县中医医院（二级牵头单位）对片区卫生院实行托管。",
    ),
    GridPlan(
        "341524-G05",
        "古碑片区网格",
        COUNTY_CODE,
        "county",
        "西部乡镇；沙河乡按村划入，两个行政村待调整后再划入。",
    ),
    GridPlan("341500-G01", "金安城区网格", PREFECTURE_CODE, "city", "金安区四个街道，由城市医疗集团负责。"),
    GridPlan("341500-G02", "裕安城区一网格", PREFECTURE_CODE, "city", "小华山街道，由城市医疗集团负责。"),
    GridPlan(
        "341500-G03",
        "裕安城区二网格",
        PREFECTURE_CODE,
        "",
        "鼓楼、西市两个街道，拟由另一城市医疗集团负责，尚未分配。",
    ),
)

GRID_ASSIGNED_FROM = datetime.date(2021, 1, 1)


@dataclass(frozen=True)
class Dept:
    """A department: name, first- and (where it has one) second-level subject of the 诊疗科目 list,
    clinical or not, beds."""

    name: str
    specialty: str
    clinical: bool = True
    beds: int = 0
    subject: str = ""


CITY_HOSPITAL_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("心血管内科", S.INTERNAL_MEDICINE, beds=120, subject=Subject.CARDIOLOGY),
    Dept("呼吸与危重症医学科", S.INTERNAL_MEDICINE, beds=90, subject=Subject.RESPIRATORY),
    Dept("消化内科", S.INTERNAL_MEDICINE, beds=80, subject=Subject.GASTROENTEROLOGY),
    Dept("神经内科", S.INTERNAL_MEDICINE, beds=100, subject=Subject.NEUROLOGY),
    Dept("肾内科", S.INTERNAL_MEDICINE, beds=50, subject=Subject.NEPHROLOGY),
    Dept("内分泌科", S.INTERNAL_MEDICINE, beds=50, subject=Subject.ENDOCRINOLOGY),
    Dept("普外科", S.SURGERY, beds=110, subject=Subject.GENERAL_SURGERY),
    Dept("骨科", S.SURGERY, beds=100, subject=Subject.ORTHOPAEDICS),
    Dept("神经外科", S.SURGERY, beds=70, subject=Subject.NEUROSURGERY),
    Dept("心胸外科", S.SURGERY, beds=50),
    Dept("泌尿外科", S.SURGERY, beds=60, subject=Subject.UROLOGY),
    Dept("妇产科", S.OBSTETRICS_GYNAECOLOGY, beds=90),
    Dept("儿科", S.PAEDIATRICS, beds=80),
    Dept("眼科", S.OPHTHALMOLOGY, beds=30),
    Dept("耳鼻咽喉科", S.ENT, beds=30),
    Dept("口腔科", S.STOMATOLOGY),
    Dept("肿瘤科", S.ONCOLOGY, beds=60),
    Dept("急诊科", S.EMERGENCY, beds=30),
    Dept("重症医学科", S.CRITICAL_CARE, beds=40),
    Dept("康复医学科", S.REHABILITATION, beds=50),
    Dept("麻醉科", S.ANAESTHESIOLOGY),
    Dept("中医科", S.TCM, beds=30),
    Dept("医学影像科", S.IMAGING, clinical=False),
    Dept("检验科", S.LABORATORY, clinical=False),
    Dept("病理科", S.PATHOLOGY, clinical=False),
)

COUNTY_HOSPITAL_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("心血管内科", S.INTERNAL_MEDICINE, beds=60, subject=Subject.CARDIOLOGY),
    Dept("呼吸内科", S.INTERNAL_MEDICINE, beds=50, subject=Subject.RESPIRATORY),
    Dept("消化内科", S.INTERNAL_MEDICINE, beds=45, subject=Subject.GASTROENTEROLOGY),
    Dept("神经内科", S.INTERNAL_MEDICINE, beds=60, subject=Subject.NEUROLOGY),
    Dept("普外科", S.SURGERY, beds=60, subject=Subject.GENERAL_SURGERY),
    Dept("骨科", S.SURGERY, beds=60, subject=Subject.ORTHOPAEDICS),
    Dept("泌尿外科", S.SURGERY, beds=35, subject=Subject.UROLOGY),
    Dept("妇产科", S.OBSTETRICS_GYNAECOLOGY, beds=50),
    Dept("儿科", S.PAEDIATRICS, beds=45),
    Dept("急诊科", S.EMERGENCY, beds=20),
    Dept("重症医学科", S.CRITICAL_CARE, beds=16),
    Dept("康复医学科", S.REHABILITATION, beds=40),
    Dept("麻醉科", S.ANAESTHESIOLOGY),
    Dept("中医科", S.TCM, beds=20),
    Dept("医学影像科", S.IMAGING, clinical=False),
    Dept("检验科", S.LABORATORY, clinical=False),
    Dept("病理科", S.PATHOLOGY, clinical=False),
    # Added with two-way referral (appended so the earlier departments keep their codes):
    Dept("内分泌科", S.INTERNAL_MEDICINE, beds=30, subject=Subject.ENDOCRINOLOGY),
    Dept("神经外科", S.SURGERY, beds=40, subject=Subject.NEUROSURGERY),
)

TCM_HOSPITAL_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("中医内科", S.TCM, beds=60),
    Dept("针灸推拿科", S.TCM, beds=30),
    Dept("中医骨伤科", S.TCM, beds=40),
    Dept("中医妇科", S.TCM, beds=20),
    Dept("治未病科", S.TCM),
    Dept("康复医学科", S.REHABILITATION, beds=40),
    Dept("外科", S.SURGERY, beds=40),
    Dept("急诊科", S.EMERGENCY, beds=10),
    Dept("医学影像科", S.IMAGING, clinical=False),
    Dept("检验科", S.LABORATORY, clinical=False),
    Dept("脑病科", S.TCM, beds=40),
    Dept("心病科", S.TCM, beds=30),
)

MCH_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("妇产科", S.OBSTETRICS_GYNAECOLOGY, beds=60),
    Dept("儿科", S.PAEDIATRICS, beds=40),
    Dept("妇女保健科", S.WOMEN_HEALTH),
    Dept("儿童保健科", S.CHILD_HEALTH),
    Dept("医学影像科", S.IMAGING, clinical=False),
    Dept("检验科", S.LABORATORY, clinical=False),
)

PRIVATE_HOSPITAL_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("心血管内科", S.INTERNAL_MEDICINE, beds=30, subject=Subject.CARDIOLOGY),
    Dept("普外科", S.SURGERY, beds=30, subject=Subject.GENERAL_SURGERY),
    Dept("骨科", S.SURGERY, beds=30, subject=Subject.ORTHOPAEDICS),
    Dept("妇产科", S.OBSTETRICS_GYNAECOLOGY, beds=20),
    Dept("医学影像科", S.IMAGING, clinical=False),
    Dept("检验科", S.LABORATORY, clinical=False),
)

CENTRAL_TOWNSHIP_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("全科医疗科", S.GENERAL_PRACTICE, beds=20),
    Dept("内科", S.INTERNAL_MEDICINE, beds=25),
    Dept("外科", S.SURGERY, beds=15),
    Dept("中医科", S.TCM, beds=10),
    Dept("预防保健科", S.PREVENTIVE),
    Dept("医学影像科", S.IMAGING, clinical=False),
    Dept("检验科", S.LABORATORY, clinical=False),
    Dept("康复医学科", S.REHABILITATION, beds=10),
)

TOWNSHIP_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("全科医疗科", S.GENERAL_PRACTICE, beds=20),
    Dept("中医科", S.TCM, beds=5),
    Dept("预防保健科", S.PREVENTIVE),
    Dept("检验科", S.LABORATORY, clinical=False),
    Dept("康复医学科", S.REHABILITATION, beds=6),
)

COMMUNITY_CENTRE_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("全科医疗科", S.GENERAL_PRACTICE, beds=10),
    Dept("中医科", S.TCM),
    Dept("康复医学科", S.REHABILITATION, beds=10),
    Dept("预防保健科", S.PREVENTIVE),
)

COUNTY_ROADS = ("红军路", "梅山南路", "史河路", "金梧桐大道", "迎宾大道", "江店路", "城关路", "将军路")
CITY_ROADS = ("人民路", "皖西路", "梅山路", "解放路", "佛子岭路", "紫竹林路", "长安路", "淠河路")

# Village names: built from the stock below (mountain-county place names: 冲, 畈, 岭, 湾 …).
VILLAGE_SURNAMES = "汪余詹漆洪储胡徐王张陈李刘杨周吴何汤程葛江叶鲍廖项朱黄孙郑方彭邓桂夏"
VILLAGE_TERRAIN = "冲湾畈岭岗河店坪园山沟庄铺塘桥埠寨洼坳"
VILLAGE_NATURE_TERRAIN = "冲湾畈岭岗河店坪山桥寨"
VILLAGE_DIRECTION_TERRAIN = "湾畈岭岗河冲山店"
VILLAGE_NATURE = (
    "桃花", "松林", "竹林", "枫香", "石门", "龙潭", "板栗", "茶园", "白果", "黄柏", "桂花", "杨树",
    "柳林", "梅花", "杉木", "金星", "银山", "凤凰", "白云", "青龙", "黄龙", "响水", "双河", "三合",
    "四方", "五里", "七里", "九龙", "十里", "高峰", "长岭", "关口", "燕窝", "龙井", "马鞍", "狮子",
    "莲花", "荷花", "红石", "青石", "新安", "永安", "太平", "长安", "花园", "仙桃", "泉水", "银杏",
)  # fmt: skip
VILLAGE_CIVIC = (
    "红旗", "团结", "光明", "胜利", "新建", "联合", "民主", "和平", "前进", "先锋", "红星", "幸福",
    "新华", "东风", "建设", "友谊", "红岭", "丰收", "兴隆", "向阳",
)  # fmt: skip
VILLAGE_DIRECTION = "大小上下东西南北前后"
VILLAGE_FIXED = {"341524203": ("大湾村",)}
"""Villages that start a township's list whatever the generator says (花石乡大湾村 is a real one)."""

# People's names.
SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 70), ("张", 65), ("李", 60), ("陈", 55), ("刘", 50), ("汪", 45), ("余", 40), ("杨", 35),
    ("周", 35), ("吴", 30), ("徐", 30), ("胡", 30), ("何", 25), ("詹", 20), ("程", 20), ("葛", 15),
    ("江", 15), ("叶", 15), ("汤", 15), ("储", 12), ("漆", 10), ("洪", 10), ("朱", 20), ("黄", 20),
    ("孙", 15), ("郑", 12), ("方", 12), ("鲍", 8), ("廖", 8), ("项", 8), ("彭", 8), ("邓", 8),
    ("桂", 6), ("夏", 10), ("马", 12), ("高", 12), ("罗", 10), ("梁", 8), ("宋", 8), ("唐", 8),
    ("许", 10), ("韩", 6), ("冯", 6), ("曹", 8), ("袁", 6), ("蔡", 6), ("潘", 6), ("丁", 8),
)  # fmt: skip

GIVEN_NAMES: dict[tuple[str, str], tuple[str, str]] = {
    # (gender, era): (first-character stock, second-character stock)
    ("1", "old"): ("德国建家有长光世传永成福少立开守", "明华国富才林友福贵山发成胜荣金和"),
    ("1", "mid"): ("伟志海建文小俊明军红立家春", "强军勇杰涛斌磊波峰辉刚平东亮华"),
    ("1", "young"): ("浩子宇梓睿博泽俊一晨嘉铭逸", "宇轩涵睿博然航辰逸杰阳霖轩泽"),
    ("2", "old"): ("秀桂玉凤兰金翠春淑素", "英兰珍芳梅花华荣琴莲"),
    ("2", "mid"): ("丽小红海春晓雪文慧玲", "娟敏静艳燕霞萍玲芳琴丽"),
    ("2", "young"): ("欣雨梓子诗佳思可若语紫一", "怡涵萱琪悦馨彤妍琳婷瑶宁"),
}

AGE_BUCKETS: tuple[tuple[int, int, int], ...] = (
    # (youngest, oldest, weight): a mountain county with many older residents
    (0, 14, 14),
    (15, 29, 11),
    (30, 44, 14),
    (45, 59, 25),
    (60, 74, 25),
    (75, 95, 11),
)

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "173", "177", "180", "181", "182", "183", "186", "187", "188", "189", "199",
)  # fmt: skip
LANDLINE_AREA = "0564"

GROUP_NUMERALS = "一二三四五六七八九十"
