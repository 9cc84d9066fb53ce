"""The demo's accounts (one per role and then some) and its sample of residents."""

from __future__ import annotations

import random

from yilian.core.permissions import Role
from yilian.demo import content, generators
from yilian.demo.plan.specs import AccountPlan, InstitutionPlan, PersonPlan, RegionRow
from yilian.people.choices import InsuranceScheme

PERSONS_PER_STEP = 500
"""Residents per scale step (scale 1 = 500 persons)."""


def accounts(plan_institutions: dict[str, InstitutionPlan], clinics: dict[str, str]) -> list[AccountPlan]:
    """One demo account per role (two regulators, two offices, doctors of every end, the centres' staff and
    teleconsultation experts), with ASCII usernames."""
    county_hospital = plan_institutions["county_hospital"].name
    township_key = "township:341524101"
    township = plan_institutions[township_key].name
    village_key = next(key for code, key in clinics.items() if code.startswith("341524101"))
    village = plan_institutions[village_key].name
    city_hospital = plan_institutions["city_hospital"].name
    county_label = f"{content.COUNTY_NAME}（{content.COUNTY_CODE}）"
    return [
        AccountPlan("admin", "平台管理员", Role.PLATFORM_ADMIN, "全平台 / platform"),
        AccountPlan(
            "regulator",
            "王建国",
            Role.REGULATOR,
            county_label,
            region_code=content.COUNTY_CODE,
            phone="13956410021",
        ),
        AccountPlan(
            "city_regulator",
            "孙丽华",
            Role.REGULATOR,
            f"{content.PREFECTURE_NAME}（{content.PREFECTURE_CODE}）",
            region_code=content.PREFECTURE_CODE,
            phone="13956410022",
        ),
        AccountPlan(
            "office",
            "汪海涛",
            Role.CONSORTIUM_OFFICE,
            "金寨县人民医院县域医共体",
            consortium="county",
            phone="13956410031",
        ),
        AccountPlan(
            "city_office",
            "李晓燕",
            Role.CONSORTIUM_OFFICE,
            "六安市人民医院城市医疗集团",
            consortium="city",
            phone="13956410032",
        ),
        AccountPlan(
            "hospital_admin",
            "詹国华",
            Role.INSTITUTION_ADMIN,
            county_hospital,
            institution="county_hospital",
            phone="13956410041",
        ),
        AccountPlan(
            "township_admin",
            "余长林",
            Role.INSTITUTION_ADMIN,
            township,
            institution=township_key,
            phone="13956410042",
        ),
        AccountPlan(
            "doctor",
            "刘志强",
            Role.DOCTOR,
            f"{county_hospital} · 心血管内科",
            institution="county_hospital",
            department="心血管内科",
            professional_title="associate_chief_physician",
            phone="13956410051",
        ),
        AccountPlan(
            "city_doctor",
            "周建军",
            Role.DOCTOR,
            f"{city_hospital} · 心血管内科",
            institution="city_hospital",
            department="心血管内科",
            professional_title="chief_physician",
            phone="13956410052",
        ),
        AccountPlan(
            "township_doctor",
            "何俊",
            Role.DOCTOR,
            f"{township} · 全科医疗科",
            institution=township_key,
            department="全科医疗科",
            professional_title="attending_physician",
            phone="13956410053",
        ),
        AccountPlan(
            "village_doctor",
            "葛有才",
            Role.DOCTOR,
            f"{village}（乡村医生）",
            institution=village_key,
            professional_title="village_doctor",
            phone="13956410054",
        ),
        AccountPlan(
            "nurse",
            "陈雪梅",
            Role.NURSE,
            f"{county_hospital} · 心血管内科",
            institution="county_hospital",
            department="心血管内科",
            professional_title="supervising_nurse",
            phone="13956410061",
        ),
        AccountPlan(
            "technician",
            "吴涛",
            Role.TECHNICIAN,
            f"{county_hospital} · 医学影像科",
            institution="county_hospital",
            department="医学影像科",
            professional_title="supervising_technician",
            phone="13956410071",
        ),
        AccountPlan(
            "coordinator",
            "杨静",
            Role.REFERRAL_COORDINATOR,
            f"{county_hospital}（转诊服务中心）",
            institution="county_hospital",
            phone="13956410081",
        ),
        AccountPlan(
            "insurance",
            "程敏",
            Role.INSURANCE_OFFICER,
            f"{county_label} 医保局",
            region_code=content.COUNTY_CODE,
            phone="13956410091",
        ),
        AccountPlan(
            "quality",
            "刘德明",
            Role.QUALITY_OFFICER,
            "金寨县人民医院县域医共体",
            consortium="county",
            phone="13956410101",
        ),
        # Added with the shared diagnostic centres and teleconsultation (appended, the ones above unchanged):
        # the centres' readers and receivers, a second pathologist, and experts of both hospitals.
        AccountPlan(
            "radiologist",
            "储建平",
            Role.DOCTOR,
            f"{county_hospital} · 医学影像科（放射科）",
            institution="county_hospital",
            department="医学影像科",
            professional_title="associate_chief_physician",
            phone="13956410072",
        ),
        AccountPlan(
            "lab_tech",
            "詹丽",
            Role.TECHNICIAN,
            f"{county_hospital} · 检验科",
            institution="county_hospital",
            department="检验科",
            professional_title="supervising_technician",
            phone="13956410073",
        ),
        AccountPlan(
            "lab_doctor",
            "何文斌",
            Role.DOCTOR,
            f"{county_hospital} · 检验科（检验医师）",
            institution="county_hospital",
            department="检验科",
            professional_title="attending_physician",
            phone="13956410074",
        ),
        AccountPlan(
            "pathologist",
            "余晓东",
            Role.DOCTOR,
            f"{county_hospital} · 病理科",
            institution="county_hospital",
            department="病理科",
            professional_title="attending_physician",
            phone="13956410075",
        ),
        AccountPlan(
            "pathology_chief",
            "胡立新",
            Role.DOCTOR,
            f"{county_hospital} · 病理科（复核）",
            institution="county_hospital",
            department="病理科",
            professional_title="chief_physician",
            phone="13956410076",
        ),
        AccountPlan(
            "neurologist",
            "程建华",
            Role.DOCTOR,
            f"{county_hospital} · 神经内科",
            institution="county_hospital",
            department="神经内科",
            professional_title="chief_physician",
            phone="13956410055",
        ),
        AccountPlan(
            "city_neurologist",
            "王卫东",
            Role.DOCTOR,
            f"{city_hospital} · 神经内科",
            institution="city_hospital",
            department="神经内科",
            professional_title="chief_physician",
            phone="13956410056",
        ),
        AccountPlan(
            "city_coordinator",
            "徐芳",
            Role.REFERRAL_COORDINATOR,
            f"{city_hospital}（远程医学中心）",
            institution="city_hospital",
            phone="13956410082",
        ),
        # Added with family doctors, chronic care, prescriptions and outreach (appended likewise): the
        # township team's nurse and public-health doctor, the lead hospital's endocrinologist (a team
        # specialist and outreach expert), its equipment engineer and its pharmacist.
        AccountPlan(
            "township_nurse",
            "汪秀兰",
            Role.NURSE,
            f"{township} · 全科医疗科",
            institution=township_key,
            department="全科医疗科",
            professional_title="nurse",
            phone="13956410057",
        ),
        AccountPlan(
            "public_health",
            "詹玉梅",
            Role.DOCTOR,
            f"{township} · 预防保健科（公共卫生）",
            institution=township_key,
            department="预防保健科",
            professional_title="resident_physician",
            phone="13956410058",
        ),
        AccountPlan(
            "endocrinologist",
            "胡志明",
            Role.DOCTOR,
            f"{county_hospital} · 内分泌科",
            institution="county_hospital",
            department="内分泌科",
            professional_title="associate_chief_physician",
            phone="13956410059",
        ),
        AccountPlan(
            "engineer",
            "鲍志刚",
            Role.TECHNICIAN,
            f"{county_hospital}（设备维修工程师）",
            institution="county_hospital",
            phone="13956410077",
        ),
        AccountPlan(
            "pharmacist",
            "叶晓红",
            Role.TECHNICIAN,
            f"{county_hospital}（药剂科）",
            institution="county_hospital",
            professional_title="supervising_technician",
            phone="13956410078",
        ),
    ]


def persons(
    seed: int,
    count: int,
    village_steps: list[list[RegionRow]],
    township_names: dict[str, str],
) -> list[PersonPlan]:
    """``count`` residents, ``PERSONS_PER_STEP`` per scale step, living in the villages of steps so far.

    Each step draws from its own seeded generator, so a larger scale (or a
    larger count) extends a smaller one instead of replacing it.
    """
    used: set[str] = set()
    result: list[PersonPlan] = []
    villages: list[RegionRow] = []
    step = 0
    while len(result) < count:
        if step < len(village_steps):
            villages = villages + village_steps[step]
        weights = [row.population or 1000 for row in villages]
        random_ = generators.rng(seed, "persons", step)
        target = min(count, len(result) + PERSONS_PER_STEP)
        while len(result) < target:
            person = _person(random_, villages, weights, township_names)
            if person.id_number not in used:
                used.add(person.id_number)
                result.append(person)
        step += 1
    return result


def _person(
    random_: random.Random, villages: list[RegionRow], weights: list[int], township_names: dict[str, str]
) -> PersonPlan:
    village = random_.choices(villages, weights=weights)[0]
    gender = random_.choice("12")
    born = generators.birth_date(random_)
    number = generators.resident_id(random_, born, gender)
    age = content.REFERENCE_DATE.year - born.year
    if age >= 80 and random_.random() < 0.3:
        phone = generators.landline(random_)
    else:
        phone = generators.mobile_phone(random_)  # a parent's number for children
    roll = random_.random()
    if 22 <= age <= 60 and roll < 0.12:
        scheme = InsuranceScheme.EMPLOYEE
    elif roll > 0.98:
        scheme = InsuranceScheme.NONE
    else:
        scheme = InsuranceScheme.RESIDENT
    township_code = village.code[:9]
    return PersonPlan(
        name=generators.person_name(random_, gender, born),
        id_number=number,
        gender=gender,
        birth_date=born,
        phone=phone,
        address=(
            f"安徽省六安市金寨县{township_names[township_code]}{village.name}"
            f"{generators.group_address(random_)}{random_.randint(1, 60)}号"
        ),
        village_code=village.code,
        township_code=township_code,
        insurance_scheme=scheme,
    )
