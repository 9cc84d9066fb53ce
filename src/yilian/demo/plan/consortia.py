"""The four consortia of the demo, with members, management bodies and agreements."""

from __future__ import annotations

import datetime

from yilian.demo import content
from yilian.demo.plan.specs import AgreementPlan, BodyPlan, ConsortiumPlan, InstitutionPlan, MemberPlan
from yilian.institutions.choices import (
    AgreementKind,
    ConsortiumType,
    Integration,
    ManagementBodyKind,
    MemberRole,
)


def _charter_lines(name: str, parties: list[str], extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    lines = [
        "第一章 总则",
        f"第一条 为推进分级诊疗制度建设，依据《医疗联合体管理办法（试行）》，制定{name}章程。",
        "第二条 医联体坚持政府主导、统筹规划、公益为本、分工协作、以人民健康为中心。",
        "第二章 组织架构",
        "第三条 设立管理委员会，下设管理办公室，负责日常运行；设质量管理委员会及各管理中心。",
        "第四条 牵头单位承担技术辐射、人才培养、双向转诊和质量控制职责；成员单位按协议履行义务。",
        "第三章 各方权利与义务",
        "第五条 建立双向转诊绿色通道，检查检验结果互认，医学影像、心电、检验资源共享。",
        "第六条 牵头单位定期派出专家下沉坐诊、查房、带教，接收成员单位人员进修。",
        "第四章 附则",
        "第七条 本章程经管理委员会审议通过后施行，由管理办公室负责解释。",
        "",
        "签约各方：" + "、".join(parties),
    ]
    return (*lines, *extra)


def consortia(
    plan_institutions: dict[str, InstitutionPlan],
    centres: dict[str, str],
    clinics: dict[str, str],
) -> list[ConsortiumPlan]:
    """The county community, the city group, the specialty alliance and the telemedicine network."""
    d = datetime.date
    county_founded = d(2020, 7, 1)
    members: list[MemberPlan] = [
        MemberPlan("county_hospital", MemberRole.LEAD, joined_on=county_founded),
        MemberPlan(
            "county_tcm",
            MemberRole.SUB_LEAD,
            parent="county_hospital",
            joined_on=county_founded,
            notes="二级牵头单位，托管西南片区乡镇卫生院",
        ),
        MemberPlan("county_mch", parent="county_hospital", joined_on=county_founded),
        MemberPlan("county_cdc", parent="county_hospital", joined_on=d(2021, 1, 1), notes="医防融合"),
    ]
    for township in content.TOWNSHIPS:
        parent = "county_tcm" if township.under_tcm else "county_hospital"
        centre = centres[township.code]
        members.append(MemberPlan(centre, parent=parent, joined_on=county_founded))
    for village_code, clinic in clinics.items():
        township = next(t for t in content.TOWNSHIPS if t.code == village_code[:9])
        parent = "county_tcm" if township.under_tcm else "county_hospital"
        centre_name = plan_institutions[centres[township.code]].short_name
        members.append(
            MemberPlan(
                clinic, parent=parent, joined_on=d(2020, 9, 1), notes=f"由{centre_name}实行乡村一体化管理"
            )
        )
    township_names = [plan_institutions[centres[t.code]].name for t in content.TOWNSHIPS]
    county_name = "金寨县人民医院县域医共体"
    county_parties = ("county_hospital", "county_tcm", "county_mch", "county_cdc", *centres.values())
    county = ConsortiumPlan(
        key="county",
        name=county_name,
        type=ConsortiumType.COUNTY_COMMUNITY,
        integration=Integration.TIGHT,
        region_code=content.COUNTY_CODE,
        established_on=county_founded,
        description=(
            "紧密型县域医共体：县人民医院牵头，县中医医院为二级牵头单位，整合县、乡、村三级医疗卫生资源，"
            "医保基金按参保人头总额预算打包支付，结余按 6:3:1 在牵头医院、乡镇卫生院、村卫生室之间分配。"
        ),
        members=tuple(members),
        bodies=(
            BodyPlan(
                ManagementBodyKind.COMMITTEE,
                "金寨县医共体管理委员会",
                "方志远",
                "",
                "由县政府分管负责同志任主任，卫健、医保、财政、人社、编办等部门参加，统筹医共体规划、投入和考核。",
            ),
            BodyPlan(
                ManagementBodyKind.OFFICE,
                "医共体管理办公室",
                "汪海涛",
                "county_hospital",
                "设在县人民医院，负责成员单位日常协调、转诊管理、资料与协议归档。",
            ),
            BodyPlan(
                ManagementBodyKind.FINANCE_CENTRE,
                "医共体财务管理中心",
                "余丽娟",
                "county_hospital",
                "集中核算、统一预算与成本管理、医保基金结算与结余分配。",
            ),
            BodyPlan(
                ManagementBodyKind.HR_CENTRE,
                "医共体人力资源管理中心",
                "詹建华",
                "county_hospital",
                "统一招聘、岗位管理、编制周转池与人员派驻。",
            ),
            BodyPlan(
                ManagementBodyKind.IT_CENTRE,
                "医共体信息管理中心",
                "胡俊峰",
                "county_hospital",
                "区域信息平台、远程影像与心电诊断中心的运行维护。",
            ),
            BodyPlan(
                ManagementBodyKind.PUBLIC_HEALTH_CENTRE,
                "医共体公共卫生管理中心",
                "陈秀梅",
                "county_cdc",
                "基本公共卫生服务项目的统筹、督导和考核，医防融合。",
            ),
            BodyPlan(
                ManagementBodyKind.QUALITY_COMMITTEE,
                "医共体质量管理委员会",
                "刘德明",
                "county_hospital",
                "三级质控网络：质量管理委员会—职能科室—临床科室质控小组。",
            ),
        ),
        agreements=(
            AgreementPlan(
                AgreementKind.CHARTER,
                "金寨县人民医院县域医共体章程",
                "jinzhai-county-community-charter.pdf",
                d(2020, 6, 20),
                county_founded,
                None,
                county_parties,
                _charter_lines(
                    county_name,
                    ["金寨县人民医院", "金寨县中医医院", "金寨县妇幼保健院", *township_names[:3], "等"],
                ),
            ),
            AgreementPlan(
                AgreementKind.BENEFIT_SHARING,
                "医共体医保基金结余分配方案（6:3:1）",
                "jinzhai-benefit-sharing-2020.pdf",
                d(2020, 6, 20),
                county_founded,
                None,
                ("county_hospital", "county_tcm", *centres.values()),
                (
                    "一、城乡居民医保基金按当年筹集基金的 95% 交医共体牵头医院包干使用。",
                    "二、年度结余由牵头医院、乡镇卫生院、村卫生室按 6:3:1 分配。",
                    "三、合理超支由牵头医院承担，因政策调整造成的超支由管理委员会研究分担。",
                    "四、本方案自 2020 年 7 月 1 日起执行。",
                ),
            ),
            AgreementPlan(
                AgreementKind.COOPERATION,
                "县人民医院与县中医医院二级牵头合作协议",
                "jinzhai-hospital-tcm-cooperation.pdf",
                d(2020, 6, 25),
                county_founded,
                d(2026, 6, 30),
                ("county_hospital", "county_tcm"),
                (
                    "甲方：金寨县人民医院（牵头单位）；乙方：金寨县中医医院（二级牵头单位）。",
                    "一、乙方保持独立法人地位，对南溪、汤家汇、斑竹园、吴家店四个乡镇卫生院实行托管。",
                    "二、甲方向乙方开放影像、检验、病理共享中心，结果互认。",
                    "三、双方共建康复病区，乙方负责中医适宜技术在基层的推广。",
                ),
            ),
        ),
    )
    city_members = [
        MemberPlan("city_hospital", MemberRole.LEAD, joined_on=d(2019, 5, 20)),
        MemberPlan("community:341503003", parent="city_hospital", joined_on=d(2019, 5, 20)),
    ]
    for street in content.STREETS:
        if street.centre and street.code != "341503003":
            city_members.append(
                MemberPlan(f"community:{street.code}", parent="city_hospital", joined_on=d(2020, 1, 1))
            )
    city_members.append(
        MemberPlan("yuan_mch", parent="city_hospital", joined_on=d(2020, 7, 1), notes="结对帮扶单位")
    )
    city = ConsortiumPlan(
        key="city",
        name="六安市人民医院城市医疗集团",
        type=ConsortiumType.CITY_GROUP,
        integration=Integration.TIGHT,
        region_code=content.PREFECTURE_CODE,
        established_on=d(2019, 5, 20),
        description="紧密型城市医联体：城区街道社区卫生服务中心与市人民医院人财物统筹管理，资源共享、信息互通。",
        members=tuple(city_members),
        bodies=(
            BodyPlan(
                ManagementBodyKind.COMMITTEE,
                "城市医疗集团理事会",
                "王立新",
                "city_hospital",
                "审议集团发展规划、年度预算和绩效考核方案。",
            ),
            BodyPlan(
                ManagementBodyKind.OFFICE,
                "城市医疗集团办公室",
                "李晓燕",
                "city_hospital",
                "设在市人民医院医务部，负责双向转诊、专家下沉排班和协议管理。",
            ),
        ),
        agreements=(
            AgreementPlan(
                AgreementKind.COOPERATION,
                "小华山社区卫生服务中心城市医联体建设协议（2019—2022）",
                "xiaohuashan-agreement-2019.pdf",
                d(2019, 5, 20),
                d(2019, 5, 20),
                d(2022, 5, 19),
                ("city_hospital", "community:341503003"),
                (
                    "甲方：六安市人民医院；乙方：裕安区小华山街道社区卫生服务中心。",
                    "一、协议期三年，甲方派驻全科、慢病管理专家常驻乙方。",
                    "二、乙方上转患者由甲方优先接诊、优先检查、优先住院。",
                ),
                notes="已到期，2022 年续签。",
            ),
            AgreementPlan(
                AgreementKind.COOPERATION,
                "小华山社区卫生服务中心城市医联体建设协议（续签）",
                "xiaohuashan-agreement-2022.pdf",
                d(2022, 5, 10),
                d(2022, 5, 20),
                d(2027, 5, 19),
                ("city_hospital", "community:341503003"),
                (
                    "甲方：六安市人民医院；乙方：裕安区小华山街道社区卫生服务中心。",
                    "一、续签五年，在原协议基础上增加家庭医生团队联合签约。",
                    "二、甲方为乙方预留专家号源和住院床位。",
                ),
            ),
            AgreementPlan(
                AgreementKind.CHARTER,
                "六安市人民医院城市医疗集团章程",
                "luan-city-group-charter.pdf",
                d(2019, 12, 30),
                d(2020, 1, 1),
                None,
                tuple(member.institution for member in city_members),
                _charter_lines(
                    "六安市人民医院城市医疗集团",
                    ["六安市人民医院", "各街道社区卫生服务中心", "裕安区妇幼保健院"],
                ),
            ),
        ),
    )
    chest_pain_townships = [centres[t.code] for t in content.TOWNSHIPS if t.central][:3]
    alliance_members = (
        MemberPlan("city_hospital", MemberRole.LEAD, joined_on=d(2021, 3, 1)),
        MemberPlan("county_hospital", parent="city_hospital", joined_on=d(2021, 3, 1), notes="县级胸痛中心"),
        MemberPlan("county_tcm", parent="city_hospital", joined_on=d(2021, 3, 1)),
        MemberPlan(
            "private_hospital", parent="city_hospital", joined_on=d(2021, 6, 1), notes="社会办医自愿加入"
        ),
        *(
            MemberPlan(key, parent="city_hospital", joined_on=d(2022, 1, 1), notes="胸痛救治单元")
            for key in chest_pain_townships
        ),
    )
    alliance = ConsortiumPlan(
        key="alliance",
        name="六安市胸痛专科联盟",
        type=ConsortiumType.SPECIALTY_ALLIANCE,
        integration=Integration.LOOSE,
        region_code=content.PREFECTURE_CODE,
        established_on=d(2021, 3, 1),
        description="以市人民医院胸痛中心为核心，县级胸痛中心和乡镇胸痛救治单元参加，统一急性胸痛救治流程与质控。",
        members=alliance_members,
        bodies=(
            BodyPlan(
                ManagementBodyKind.OFFICE,
                "胸痛专科联盟秘书处",
                "周建军",
                "city_hospital",
                "设在市人民医院心血管内科，组织培训、病例讨论和质控数据上报。",
            ),
        ),
        agreements=(
            AgreementPlan(
                AgreementKind.ALLIANCE,
                "六安市胸痛专科联盟协议",
                "luan-chest-pain-alliance.pdf",
                d(2021, 2, 20),
                d(2021, 3, 1),
                d(2026, 2, 28),
                ("city_hospital", "county_hospital", "county_tcm"),
                (
                    "一、联盟成员执行统一的急性胸痛诊疗流程，首次医疗接触至球囊扩张时间纳入质控。",
                    "二、牵头单位提供远程心电诊断和介入绿色通道。",
                    "三、成员单位按月报送胸痛中心质控数据。",
                ),
            ),
        ),
    )
    network_townships = [centres[t.code] for t in content.TOWNSHIPS if t.central]
    network_members = (
        MemberPlan("city_hospital", MemberRole.LEAD, joined_on=d(2019, 9, 1)),
        MemberPlan(
            "county_hospital",
            MemberRole.SUB_LEAD,
            parent="city_hospital",
            joined_on=d(2019, 9, 1),
            notes="县级远程医疗分中心",
        ),
        MemberPlan("county_mch", parent="city_hospital", joined_on=d(2019, 9, 1)),
        MemberPlan(
            "private_hospital",
            parent="city_hospital",
            joined_on=d(2019, 9, 1),
            left_on=d(2023, 6, 30),
            leave_reason="合作协议到期未续签",
        ),
        *(MemberPlan(key, parent="county_hospital", joined_on=d(2020, 3, 1)) for key in network_townships),
    )
    network = ConsortiumPlan(
        key="network",
        name="六安市远程医疗协作网",
        type=ConsortiumType.TELEMEDICINE_NETWORK,
        integration=Integration.LOOSE,
        region_code=content.PREFECTURE_CODE,
        established_on=d(2019, 9, 1),
        description="市—县—乡三级远程医疗协作网：远程会诊、远程影像、远程心电和远程教学。",
        members=network_members,
        bodies=(
            BodyPlan(
                ManagementBodyKind.IT_CENTRE,
                "六安市远程医学中心",
                "黄文斌",
                "city_hospital",
                "远程会诊排班、远程影像与心电诊断、平台运维。",
            ),
        ),
        agreements=(
            AgreementPlan(
                AgreementKind.TELEMEDICINE,
                "六安市远程医疗合作协议",
                "luan-telemedicine-agreement.pdf",
                d(2019, 8, 26),
                d(2019, 9, 1),
                None,
                ("city_hospital", "county_hospital", "county_mch"),
                (
                    "一、邀请方提出远程会诊申请并提供病历资料，受邀方在约定时限内出具会诊意见。",
                    "二、远程会诊收费按省定价格执行，收入按协议比例分配。",
                    "三、各方遵守患者隐私和数据安全管理规定。",
                ),
            ),
        ),
    )
    return [county, city, alliance, network]
