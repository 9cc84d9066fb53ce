"""The institutions of the demo: the city's, the county's, every township centre and village clinic."""

from __future__ import annotations

from yilian.demo import content, generators
from yilian.demo.plan.specs import InstitutionPlan, RegionRow
from yilian.institutions.choices import (
    HospitalClass,
    HospitalGrade,
    InstitutionCategory,
    Ownership,
    ProfitStatus,
)


class CreditCodes:
    """Hands out credit codes, unique within the plan, each from its own seeded generator."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.used: set[str] = set()

    def __call__(self, key: str, region_code: str, kind: str = "public") -> str:
        random_ = generators.rng(self.seed, "credit", key)
        while True:
            code = generators.credit_code(random_, region_code, kind)
            if code not in self.used:
                self.used.add(code)
                return code


def _phone(seed: int, key: str, first_digit: str) -> str:
    digits = generators.landline(generators.rng(seed, "phone", key), first_digit)
    return f"{digits[:4]}-{digits[4:]}"


def county_institutions(
    seed: int,
    codes: CreditCodes,
    names: dict[str, str],
    villages: dict[str, list[RegionRow]],
    village_limit: int | None,
) -> tuple[list[InstitutionPlan], dict[str, str], dict[str, str]]:
    """The county's hospitals, public-health bodies, private providers, township centres and village clinics.

    Returns (institutions, township code → centre key, village code → clinic key);
    ``village_limit`` caps the clinics per township.
    """
    county = content.COUNTY_CODE
    road = content.COUNTY_ROADS
    items = [
        InstitutionPlan(
            key="county_hospital",
            name="金寨县人民医院",
            short_name="县医院",
            credit_code=codes("county_hospital", county),
            category=InstitutionCategory.GENERAL_HOSPITAL,
            region_code=county,
            grade=HospitalGrade.SECONDARY,
            grade_class=HospitalClass.A,
            beds=800,
            address=f"安徽省六安市金寨县梅山镇{road[0]}88号",
            phone=_phone(seed, "county_hospital", "7"),
            description="二级甲等综合医院，县域医共体牵头医院，县级胸痛中心、卒中中心所在地。",
            departments=content.COUNTY_HOSPITAL_DEPARTMENTS,
        ),
        InstitutionPlan(
            key="county_tcm",
            name="金寨县中医医院",
            short_name="县中医院",
            credit_code=codes("county_tcm", county),
            category=InstitutionCategory.TCM_HOSPITAL,
            region_code=county,
            grade=HospitalGrade.SECONDARY,
            grade_class=HospitalClass.A,
            is_tcm=True,
            beds=320,
            address=f"安徽省六安市金寨县梅山镇{road[1]}16号",
            phone=_phone(seed, "county_tcm", "7"),
            description="二级甲等中医医院，保留独立法人地位，作为二级牵头单位托管西南片区乡镇卫生院。",
            departments=content.TCM_HOSPITAL_DEPARTMENTS,
        ),
        InstitutionPlan(
            key="county_mch",
            name="金寨县妇幼保健院",
            short_name="县妇幼保健院",
            credit_code=codes("county_mch", county),
            category=InstitutionCategory.MATERNAL_CHILD_HOSPITAL,
            region_code=county,
            grade=HospitalGrade.SECONDARY,
            grade_class=HospitalClass.A,
            beds=150,
            address=f"安徽省六安市金寨县梅山镇{road[2]}9号",
            phone=_phone(seed, "county_mch", "7"),
            description="二级甲等妇幼保健院，负责全县孕产妇和儿童保健，可跨网格服务。",
            departments=content.MCH_DEPARTMENTS,
        ),
        InstitutionPlan(
            key="county_cdc",
            name="金寨县疾病预防控制中心",
            short_name="县疾控中心",
            credit_code=codes("county_cdc", county),
            category=InstitutionCategory.CDC,
            region_code=county,
            address=f"安徽省六安市金寨县梅山镇{road[3]}27号",
            phone=_phone(seed, "county_cdc", "7"),
            description="县级疾病预防控制机构，以医防融合方式加入县域医共体。",
        ),
        InstitutionPlan(
            key="private_hospital",
            name="金寨同康医院",
            short_name="同康医院",
            credit_code=codes("private_hospital", county, "company"),
            category=InstitutionCategory.GENERAL_HOSPITAL,
            region_code=county,
            ownership=Ownership.PRIVATE,
            profit_status=ProfitStatus.FOR_PROFIT,
            grade=HospitalGrade.SECONDARY,
            beds=150,
            address=f"安徽省六安市金寨县梅山镇{road[4]}201号",
            phone=_phone(seed, "private_hospital", "6"),
            description="社会办营利性综合医院，自愿加入市胸痛专科联盟。",
            departments=content.PRIVATE_HOSPITAL_DEPARTMENTS,
        ),
        InstitutionPlan(
            key="private_clinic",
            name="金寨县梅山镇济民诊所",
            short_name="济民诊所",
            credit_code=codes("private_clinic", county, "individual"),
            category=InstitutionCategory.CLINIC,
            region_code="341524100",
            ownership=Ownership.PRIVATE,
            profit_status=ProfitStatus.FOR_PROFIT,
            address=f"安徽省六安市金寨县梅山镇{road[5]}35号",
            phone=_phone(seed, "private_clinic", "6"),
            description="个体诊所，未加入任何医联体。",
        ),
        InstitutionPlan(
            key="private_outpatient",
            name="金寨康宁综合门诊部",
            short_name="康宁门诊部",
            credit_code=codes("private_outpatient", county, "company"),
            category=InstitutionCategory.OUTPATIENT_DEPARTMENT,
            region_code="341524100",
            ownership=Ownership.PRIVATE,
            profit_status=ProfitStatus.FOR_PROFIT,
            address=f"安徽省六安市金寨县梅山镇{road[6]}112号",
            phone=_phone(seed, "private_outpatient", "6"),
            description="社会办门诊部，未加入任何医联体。",
        ),
    ]
    centres: dict[str, str] = {}
    clinics: dict[str, str] = {}
    for township in content.TOWNSHIPS:
        key = f"township:{township.code}"
        centres[township.code] = key
        title = "中心卫生院" if township.central else "卫生院"
        items.append(
            InstitutionPlan(
                key=key,
                name=f"金寨县{township.name}{title}",
                short_name=f"{township.name}{title}",
                credit_code=codes(key, county),
                category=InstitutionCategory.CENTRAL_TOWNSHIP_HEALTH_CENTRE
                if township.central
                else InstitutionCategory.TOWNSHIP_HEALTH_CENTRE,
                region_code=township.code,
                grade=HospitalGrade.PRIMARY,
                grade_class=HospitalClass.A if township.central else HospitalClass.UNRATED,
                beds=generators.rng(seed, "beds", key).randrange(60, 100, 5)
                if township.central
                else generators.rng(seed, "beds", key).randrange(20, 50, 5),
                address=f"安徽省六安市金寨县{township.name}{names[township.code]}街{1 + int(township.code[-2:]) * 3}号",
                phone=_phone(seed, key, "7"),
                description=(
                    f"{township.name}的基层医疗卫生机构，承担基本医疗、基本公共卫生服务，"
                    "对本乡镇村卫生室实行乡村一体化管理。"
                ),
                departments=content.CENTRAL_TOWNSHIP_DEPARTMENTS
                if township.central
                else content.TOWNSHIP_DEPARTMENTS,
            )
        )
        for village in villages[township.code][: village_limit if village_limit is not None else None]:
            clinic_key = f"village:{village.code}"
            clinics[village.code] = clinic_key
            items.append(
                InstitutionPlan(
                    key=clinic_key,
                    name=f"金寨县{township.name}{village.name}卫生室",
                    short_name=f"{village.name}卫生室",
                    credit_code=codes(clinic_key, county, "non_profit"),
                    category=InstitutionCategory.VILLAGE_CLINIC,
                    region_code=village.code,
                    address=f"安徽省六安市金寨县{township.name}{village.name}村部",
                    phone=generators.mobile_phone(generators.rng(seed, "phone", clinic_key)),
                    description=f"{village.name}村卫生室，由{township.name}{title}实行乡村一体化管理。",
                )
            )
    return items, centres, clinics


def city_institutions(seed: int, codes: CreditCodes) -> list[InstitutionPlan]:
    """The municipal tertiary hospital, a district maternal-child hospital and the community centres."""
    road = content.CITY_ROADS
    items = [
        InstitutionPlan(
            key="city_hospital",
            name="六安市人民医院",
            short_name="市人民医院",
            credit_code=codes("city_hospital", content.PREFECTURE_CODE),
            category=InstitutionCategory.GENERAL_HOSPITAL,
            region_code=content.JINAN_CODE,
            grade=HospitalGrade.TERTIARY,
            grade_class=HospitalClass.A,
            beds=2200,
            address=f"安徽省六安市金安区{road[0]}21号",
            phone=_phone(seed, "city_hospital", "3"),
            description="三级甲等综合医院，城市医疗集团牵头医院，市胸痛专科联盟和远程医疗协作网牵头单位。",
            departments=content.CITY_HOSPITAL_DEPARTMENTS,
        ),
        InstitutionPlan(
            key="yuan_mch",
            name="裕安区妇幼保健院",
            short_name="裕安区妇幼",
            credit_code=codes("yuan_mch", content.YUAN_CODE),
            category=InstitutionCategory.MATERNAL_CHILD_HOSPITAL,
            region_code=content.YUAN_CODE,
            grade=HospitalGrade.SECONDARY,
            grade_class=HospitalClass.B,
            beds=100,
            address=f"安徽省六安市裕安区{road[1]}66号",
            phone=_phone(seed, "yuan_mch", "3"),
            description="与市人民医院结对帮扶，加入城市医疗集团。",
            departments=content.MCH_DEPARTMENTS,
        ),
    ]
    for number, street in enumerate(content.STREETS):
        if not street.centre:
            continue
        key = f"community:{street.code}"
        items.append(
            InstitutionPlan(
                key=key,
                name=f"{street.district}{street.name}社区卫生服务中心",
                short_name=f"{street.name.removesuffix('街道')}社区卫生服务中心",
                credit_code=codes(key, street.code[:6]),
                category=InstitutionCategory.COMMUNITY_HEALTH_CENTRE,
                region_code=street.code,
                grade=HospitalGrade.PRIMARY,
                beds=generators.rng(seed, "beds", key).randrange(20, 50, 5),
                address=f"安徽省六安市{street.district}{road[2 + number % 6]}{10 + number * 7}号",
                phone=_phone(seed, key, "3"),
                description=f"{street.name}的社区卫生服务中心，城市医疗集团成员单位。",
                departments=content.COMMUNITY_CENTRE_DEPARTMENTS,
            )
        )
    return items
