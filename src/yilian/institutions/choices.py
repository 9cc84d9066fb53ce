"""Code lists of the registry: GB/T 2260 levels, WS 218 categories, hospital level, 诊疗科目, consortium forms."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    """Level of a GB/T 2260 code (6 digits) or its statistical extension (9 / 12 digits)."""

    PROVINCE = "province", _("省级")
    PREFECTURE = "prefecture", _("地级")
    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡级")
    VILLAGE = "village", _("村级")


class InstitutionCategory(models.TextChoices):
    """WS 218-2002 third-level category codes (the consortium-relevant subset)."""

    GENERAL_HOSPITAL = "A100", _("综合医院")
    TCM_HOSPITAL = "A210", _("中医（综合）医院")
    TCM_SPECIALTY_HOSPITAL = "A220", _("中医专科医院")
    INTEGRATED_HOSPITAL = "A300", _("中西医结合医院")
    ETHNIC_HOSPITAL = "A419", _("民族医院")
    STOMATOLOGY_HOSPITAL = "A511", _("口腔医院")
    EYE_HOSPITAL = "A512", _("眼科医院")
    CANCER_HOSPITAL = "A514", _("肿瘤医院")
    OBSTETRIC_HOSPITAL = "A518", _("妇产（科）医院")
    CHILDREN_HOSPITAL = "A519", _("儿童医院")
    PSYCHIATRIC_HOSPITAL = "A520", _("精神病医院")
    INFECTIOUS_HOSPITAL = "A521", _("传染病医院")
    REHABILITATION_HOSPITAL = "A527", _("康复医院")
    OTHER_SPECIALTY_HOSPITAL = "A539", _("其他专科医院")
    SANATORIUM = "A600", _("疗养院")
    NURSING_HOME = "A710", _("护理院")
    NURSING_STATION = "A720", _("护理站")
    COMMUNITY_HEALTH_CENTRE = "B100", _("社区卫生服务中心")
    COMMUNITY_HEALTH_STATION = "B200", _("社区卫生服务站")
    STREET_HEALTH_CENTRE = "C100", _("街道卫生院")
    CENTRAL_TOWNSHIP_HEALTH_CENTRE = "C210", _("中心卫生院")
    TOWNSHIP_HEALTH_CENTRE = "C220", _("乡卫生院")
    OUTPATIENT_DEPARTMENT = "D110", _("综合门诊部")
    CLINIC = "D211", _("普通诊所")
    TCM_CLINIC = "D212", _("中医诊所")
    HEALTH_ROOM = "D300", _("卫生所（室）")
    VILLAGE_CLINIC = "D600", _("村卫生室")
    EMERGENCY_CENTRE = "E100", _("急救中心")
    BLOOD_CENTRE = "F110", _("血液中心")
    MATERNAL_CHILD_HOSPITAL = "G100", _("妇幼保健院")
    MATERNAL_CHILD_INSTITUTE = "G200", _("妇幼保健所")
    DISEASE_PREVENTION_INSTITUTE = "H111", _("专科疾病防治院")
    CDC = "J100", _("疾病预防控制中心")
    HEALTH_SUPERVISION = "K100", _("卫生监督所（局）")


PRIMARY_CATEGORY_PREFIXES = ("B", "C", "D")
"""WS 218 categories of primary institutions (基层医疗卫生机构)."""

PUBLIC_HEALTH_CATEGORY_PREFIXES = ("E", "F", "G", "H", "J", "K", "L")
"""WS 218 categories of public-health institutions."""

CROSS_GRID_CATEGORIES = frozenset(
    {
        InstitutionCategory.REHABILITATION_HOSPITAL,
        InstitutionCategory.NURSING_HOME,
        InstitutionCategory.NURSING_STATION,
        InstitutionCategory.SANATORIUM,
        InstitutionCategory.MATERNAL_CHILD_HOSPITAL,
        InstitutionCategory.MATERNAL_CHILD_INSTITUTE,
        InstitutionCategory.CDC,
        InstitutionCategory.DISEASE_PREVENTION_INSTITUTE,
        InstitutionCategory.EMERGENCY_CENTRE,
        InstitutionCategory.BLOOD_CENTRE,
        InstitutionCategory.HEALTH_SUPERVISION,
    }
)
"""Categories that may serve across grids (Art. 10), besides every tertiary hospital."""


class HospitalGrade(models.TextChoices):
    """级 of the hospital level (stored apart from 等, mapped to local lists as needed)."""

    TERTIARY = "3", _("三级")
    SECONDARY = "2", _("二级")
    PRIMARY = "1", _("一级")
    UNGRADED = "0", _("未定级")


class HospitalClass(models.TextChoices):
    """等 of the hospital level."""

    SPECIAL = "special", _("特等")
    A = "a", _("甲等")
    B = "b", _("乙等")
    C = "c", _("丙等")
    UNRATED = "unrated", _("未评")


class Ownership(models.TextChoices):
    """Who runs the institution."""

    PUBLIC = "public", _("公立")
    PRIVATE = "private", _("社会办")


class ProfitStatus(models.TextChoices):
    """机构分类管理代码 (WS 218 附录B)."""

    NON_PROFIT = "1", _("非营利性")
    FOR_PROFIT = "2", _("营利性")
    OTHER = "9", _("其他")


class InstitutionStatus(models.TextChoices):
    """Operating status."""

    ACTIVE = "active", _("运营中")
    SUSPENDED = "suspended", _("暂停执业")
    CLOSED = "closed", _("已注销")


class DepartmentSpecialty(models.TextChoices):
    """First-level subjects of 《医疗机构诊疗科目名录》 used to group departments (working list)."""

    PREVENTIVE = "01", _("预防保健科")
    GENERAL_PRACTICE = "02", _("全科医疗科")
    INTERNAL_MEDICINE = "03", _("内科")
    SURGERY = "04", _("外科")
    OBSTETRICS_GYNAECOLOGY = "05", _("妇产科")
    WOMEN_HEALTH = "06", _("妇女保健科")
    PAEDIATRICS = "07", _("儿科")
    PAEDIATRIC_SURGERY = "08", _("小儿外科")
    CHILD_HEALTH = "09", _("儿童保健科")
    OPHTHALMOLOGY = "10", _("眼科")
    ENT = "11", _("耳鼻咽喉科")
    STOMATOLOGY = "12", _("口腔科")
    DERMATOLOGY = "13", _("皮肤科")
    PSYCHIATRY = "15", _("精神科")
    INFECTIOUS_DISEASES = "16", _("传染科")
    ONCOLOGY = "19", _("肿瘤科")
    EMERGENCY = "20", _("急诊医学科")
    REHABILITATION = "21", _("康复医学科")
    ANAESTHESIOLOGY = "26", _("麻醉科")
    CRITICAL_CARE = "28", _("重症医学科")
    LABORATORY = "30", _("医学检验科")
    PATHOLOGY = "31", _("病理科")
    IMAGING = "32", _("医学影像科")
    TCM = "50", _("中医科")
    INTEGRATED_MEDICINE = "52", _("中西医结合科")
    OTHER = "69", _("其他业务科室")


class DepartmentSubject(models.TextChoices):
    """Second-level subjects (专业) of 《医疗机构诊疗科目名录》 (卫医发〔1994〕27号) under the first-level
    subjects of ``DepartmentSpecialty`` that the referral suggestion tells apart (working list).

    A code's first two digits are its first-level subject ("03.04" belongs to "03" 内科); see
    ``subject_specialty``. Third-level items (transplant projects such as 04.01.01) are not listed.
    """

    RESPIRATORY = "03.01", _("呼吸内科专业")
    GASTROENTEROLOGY = "03.02", _("消化内科专业")
    NEUROLOGY = "03.03", _("神经内科专业")
    CARDIOLOGY = "03.04", _("心血管内科专业")
    HAEMATOLOGY = "03.05", _("血液内科专业")
    NEPHROLOGY = "03.06", _("肾病学专业")
    ENDOCRINOLOGY = "03.07", _("内分泌专业")
    IMMUNOLOGY = "03.08", _("免疫学专业")
    ALLERGY = "03.09", _("变态反应专业")
    GERIATRICS = "03.10", _("老年病专业")
    INTERNAL_MEDICINE_OTHER = "03.11", _("内科其他")
    GENERAL_SURGERY = "04.01", _("普通外科专业")
    NEUROSURGERY = "04.02", _("神经外科专业")
    ORTHOPAEDICS = "04.03", _("骨科专业")
    UROLOGY = "04.04", _("泌尿外科专业")
    THORACIC_SURGERY = "04.05", _("胸外科专业")
    CARDIOVASCULAR_SURGERY = "04.06", _("心脏大血管外科专业")
    BURNS = "04.07", _("烧伤科专业")
    PLASTIC_SURGERY = "04.08", _("整形外科专业")
    SURGERY_OTHER = "04.09", _("外科其他")
    GYNAECOLOGY = "05.01", _("妇科专业")
    OBSTETRICS = "05.02", _("产科专业")
    FAMILY_PLANNING = "05.03", _("计划生育专业")
    EUGENICS = "05.04", _("优生学专业")
    REPRODUCTIVE_HEALTH = "05.05", _("生殖健康与不孕症专业")
    OBSTETRICS_GYNAECOLOGY_OTHER = "05.06", _("妇产科其他")
    ADOLESCENT_HEALTH = "06.01", _("青春期保健专业")
    PERINATAL_HEALTH = "06.02", _("围产期保健专业")
    MENOPAUSE_HEALTH = "06.03", _("更年期保健专业")
    WOMEN_MENTAL_HEALTH = "06.04", _("妇女心理卫生专业")
    WOMEN_NUTRITION = "06.05", _("妇女营养专业")
    WOMEN_HEALTH_OTHER = "06.06", _("妇女保健科其他")
    NEONATOLOGY = "07.01", _("新生儿专业")
    PAEDIATRIC_INFECTIOUS_DISEASES = "07.02", _("小儿传染病专业")
    PAEDIATRIC_GASTROENTEROLOGY = "07.03", _("小儿消化专业")
    PAEDIATRIC_RESPIRATORY = "07.04", _("小儿呼吸专业")
    PAEDIATRIC_CARDIOLOGY = "07.05", _("小儿心脏病专业")
    PAEDIATRIC_NEPHROLOGY = "07.06", _("小儿肾病专业")
    PAEDIATRIC_HAEMATOLOGY = "07.07", _("小儿血液病专业")
    PAEDIATRIC_NEUROLOGY = "07.08", _("小儿神经病学专业")
    PAEDIATRIC_ENDOCRINOLOGY = "07.09", _("小儿内分泌专业")
    PAEDIATRIC_GENETICS = "07.10", _("小儿遗传病专业")
    PAEDIATRIC_IMMUNOLOGY = "07.11", _("小儿免疫专业")
    PAEDIATRICS_OTHER = "07.12", _("儿科其他")
    PAEDIATRIC_GENERAL_SURGERY = "08.01", _("小儿普通外科专业")
    PAEDIATRIC_ORTHOPAEDICS = "08.02", _("小儿骨科专业")
    PAEDIATRIC_UROLOGY = "08.03", _("小儿泌尿外科专业")
    PAEDIATRIC_CARDIOTHORACIC_SURGERY = "08.04", _("小儿胸心外科专业")
    PAEDIATRIC_NEUROSURGERY = "08.05", _("小儿神经外科专业")
    PAEDIATRIC_SURGERY_OTHER = "08.06", _("小儿外科其他")


def subject_specialty(subject: str) -> str:
    """The first-level subject a second-level one belongs to ("03.04" → "03"; "" → "")."""
    return subject.split(".")[0] if subject else ""


class ConsortiumType(models.TextChoices):
    """The four forms of a medical consortium (Art. 2)."""

    CITY_GROUP = "city_group", _("城市医疗集团")
    COUNTY_COMMUNITY = "county_community", _("县域医共体")
    SPECIALTY_ALLIANCE = "specialty_alliance", _("专科联盟")
    TELEMEDICINE_NETWORK = "telemedicine_network", _("远程医疗协作网")


GRID_CONSORTIUM_TYPES = frozenset({ConsortiumType.CITY_GROUP, ConsortiumType.COUNTY_COMMUNITY})
"""Forms that serve grids; an institution belongs to at most one of these at a time."""


class Integration(models.TextChoices):
    """Tight (people, money, goods managed as one) or loose (contract only)."""

    TIGHT = "tight", _("紧密型")
    LOOSE = "loose", _("松散型")


class ConsortiumStatus(models.TextChoices):
    """Lifecycle of a consortium."""

    ACTIVE = "active", _("运行中")
    DISSOLVED = "dissolved", _("已解散")


class MemberRole(models.TextChoices):
    """Role of an institution inside a consortium."""

    LEAD = "lead", _("牵头单位")
    SUB_LEAD = "sub_lead", _("二级牵头单位")
    MEMBER = "member", _("成员单位")


class AgreementKind(models.TextChoices):
    """Kinds of consortium documents."""

    CHARTER = "charter", _("章程")
    COOPERATION = "cooperation", _("合作协议")
    ALLIANCE = "alliance", _("专科联盟协议")
    TELEMEDICINE = "telemedicine", _("远程医疗合作协议")
    BENEFIT_SHARING = "benefit_sharing", _("利益分配方案")
    OTHER = "other", _("其他")


class ManagementBodyKind(models.TextChoices):
    """Bodies that govern a consortium (Art. 11, 13)."""

    COMMITTEE = "committee", _("管理委员会")
    OFFICE = "office", _("管理办公室")
    PUBLIC_HEALTH_CENTRE = "public_health", _("公共卫生管理中心")
    FINANCE_CENTRE = "finance", _("财务管理中心")
    HR_CENTRE = "human_resources", _("人力资源管理中心")
    IT_CENTRE = "information", _("信息管理中心")
    LOGISTICS_CENTRE = "logistics", _("后勤管理中心")
    QUALITY_COMMITTEE = "quality", _("质量管理委员会")
