"""Second-level subjects (专业) of departments: how a department's name shows one.

A department records its second-level subject in ``Department.subject``;
these rules only guess it from the name for departments that have not
recorded one (the 0003 migration's first fill, the referral suggestion's
fallback). Hospitals name such departments after the subject (心血管内科,
心内科), but not always (心内一病区, 胸痛中心), hence a guess, never a record.
"""

from __future__ import annotations

from dataclasses import dataclass

from yilian.institutions.choices import DepartmentSubject as Subject
from yilian.institutions.choices import subject_specialty


@dataclass(frozen=True)
class NameRule:
    """Words a department's name contains when it is of ``subject`` (unless it contains one of ``unless``)."""

    subject: str
    words: tuple[str, ...]
    unless: tuple[str, ...] = ()


# Checked in order, and only against subjects of the department's own first-level subject, so that
# "神经" cannot make 神经外科 (04) a 神经内科 (03.03). An undivided department (内科, 外科, 妇产科, 儿科)
# matches none: it has no second-level subject.
NAME_RULES: tuple[NameRule, ...] = (
    NameRule(Subject.RESPIRATORY, ("呼吸",)),
    NameRule(Subject.GASTROENTEROLOGY, ("消化",)),
    NameRule(Subject.NEUROLOGY, ("神经", "神内", "脑病")),
    NameRule(Subject.CARDIOLOGY, ("心血管", "心内", "心脏", "心病")),
    NameRule(Subject.HAEMATOLOGY, ("血液",)),
    NameRule(Subject.NEPHROLOGY, ("肾",)),
    NameRule(Subject.ENDOCRINOLOGY, ("内分泌", "糖尿病")),
    # Rheumatology departments (风湿免疫科) hold the 免疫学专业 subject.
    NameRule(Subject.IMMUNOLOGY, ("风湿", "免疫")),
    NameRule(Subject.ALLERGY, ("变态反应", "过敏")),
    NameRule(Subject.GERIATRICS, ("老年",)),
    NameRule(Subject.GENERAL_SURGERY, ("普外", "普通外科", "胃肠外", "肝胆")),
    NameRule(Subject.NEUROSURGERY, ("神经外", "神外", "脑外")),
    NameRule(Subject.ORTHOPAEDICS, ("骨科", "骨外", "脊柱", "关节外", "创伤骨")),
    NameRule(Subject.UROLOGY, ("泌尿",)),
    # 心胸外科 spans 胸外科 and 心脏大血管外科: which one is for the hospital to record.
    NameRule(Subject.THORACIC_SURGERY, ("胸外",), unless=("心胸",)),
    NameRule(Subject.CARDIOVASCULAR_SURGERY, ("心脏大血管", "心血管外", "心外"), unless=("心胸",)),
    NameRule(Subject.BURNS, ("烧伤",)),
    NameRule(Subject.PLASTIC_SURGERY, ("整形",)),
    NameRule(Subject.GYNAECOLOGY, ("妇科",)),
    # "产科" is inside "妇产科", the undivided department.
    NameRule(Subject.OBSTETRICS, ("产科",), unless=("妇产",)),
    NameRule(Subject.FAMILY_PLANNING, ("计划生育",)),
    NameRule(Subject.REPRODUCTIVE_HEALTH, ("生殖", "不孕")),
    NameRule(Subject.NEONATOLOGY, ("新生儿",)),
)


def subject_from_name(name: str, specialty: str) -> str:
    """The second-level subject a department's name shows within its first-level subject, or "".

    ("心血管内科", "03") → "03.04"; ("神经外科", "04") → "04.02", never
    03.03, as rules of other first-level subjects are not checked;
    ("内科", "03") → "". Reads no database.
    """
    for rule in NAME_RULES:
        if (
            subject_specialty(rule.subject) == specialty
            and any(word in name for word in rule.words)
            and not any(word in name for word in rule.unless)
        ):
            return str(rule.subject)
    return ""
