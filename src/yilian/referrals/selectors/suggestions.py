"""Which receiving departments fit a diagnosis: ICD-10 blocks and chapters → subjects of the 诊疗科目 list.

A suggestion only, never a rule: the sender may pick any department.
A department records its first-level subject (``Department.specialty``,
e.g. 03 内科) and, optionally, its second-level one (``Department.subject``,
e.g. 03.04 心血管内科专业). Where the second-level one is blank, it is
guessed from the department's name (心血管内科, 心内科: see
``institutions.subjects``); a recorded subject always wins over the name.
A block maps to a second-level subject, its chapter to first-level ones: a
department of the second-level subject is the most specific match; where an
institution has none, its departments of the block's first-level subject
(or the chapter's) are the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _

from yilian.core.icd10 import in_range
from yilian.institutions.models import Department
from yilian.institutions.subjects import subject_from_name


class ReceiverMatch(models.TextChoices):
    """How well a receiving department fits the referral's diagnosis."""

    SUBJECT = "subject", _("与诊断相符的专业")
    SPECIALTY = "specialty", _("同一诊疗科目（该机构未设相应专业）")
    NONE = "none", _("不推荐")


# ICD-10 blocks whose usual receiver is a second-level subject; checked before the chapters.
_BLOCK_SUBJECTS: tuple[tuple[str, str, str], ...] = (
    ("D50", "D89", "03.05"),  # diseases of the blood and blood-forming organs
    ("E00", "E90", "03.07"),  # endocrine, nutritional and metabolic diseases
    ("G00", "G99", "03.03"),  # diseases of the nervous system
    ("I05", "I09", "03.04"),  # chronic rheumatic heart diseases
    ("I10", "I15", "03.04"),  # hypertensive diseases
    ("I20", "I25", "03.04"),  # ischaemic heart diseases
    ("I26", "I28", "03.04"),  # pulmonary heart disease
    ("I30", "I52", "03.04"),  # other forms of heart disease
    ("I60", "I69", "03.03"),  # cerebrovascular diseases
    ("J00", "J99", "03.01"),  # diseases of the respiratory system
    ("K20", "K31", "03.02"),  # oesophagus, stomach and duodenum
    ("K35", "K38", "04.01"),  # diseases of appendix
    ("K40", "K46", "04.01"),  # hernia
    ("K50", "K52", "03.02"),  # noninfective enteritis and colitis
    ("K70", "K77", "03.02"),  # diseases of liver
    ("M05", "M14", "03.08"),  # inflammatory polyarthropathies (rheumatoid arthritis, gout…): 风湿免疫
    ("M30", "M36", "03.08"),  # systemic connective tissue disorders (lupus, Sjögren…): 风湿免疫
    ("N00", "N19", "03.06"),  # glomerular and renal tubulo-interstitial diseases, renal failure
    ("N70", "N98", "05.01"),  # diseases of the female genital organs
    ("O00", "O99", "05.02"),  # pregnancy, childbirth and the puerperium
)

# ICD-10 chapters → first-level subjects, for blocks without a second-level subject.
_CHAPTER_SPECIALTIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("C00", "D48", ("19",)),
    ("D50", "D89", ("03",)),
    ("E00", "E90", ("03",)),
    ("F00", "F99", ("15",)),
    ("G00", "G99", ("03",)),
    ("H00", "H59", ("10",)),
    ("H60", "H95", ("11",)),
    ("I00", "I99", ("03",)),
    ("J00", "J99", ("03",)),
    ("K00", "K14", ("12",)),
    ("K20", "K93", ("03", "04")),
    ("M00", "M99", ("04", "21")),
    ("N00", "N99", ("03", "04")),
    ("O00", "O99", ("05",)),
    ("S00", "T98", ("04", "20")),
    ("Z50", "Z50", ("21",)),
)


def subject_for(diagnosis_code: str) -> str:
    """The second-level subject ("03.04") that usually receives a diagnosis, or "" when its block has none."""
    if not diagnosis_code:
        return ""
    for first, last, subject in _BLOCK_SUBJECTS:
        if in_range(diagnosis_code, first, last):
            return subject
    return ""


def specialties_for(diagnosis_code: str) -> set[str]:
    """First-level subjects that usually receive a diagnosis: the block's subject's, else the chapter's."""
    subject = subject_for(diagnosis_code)
    if subject:
        return {subject.split(".")[0]}
    if not diagnosis_code:
        return set()
    for first, last, subjects in _CHAPTER_SPECIALTIES:
        if in_range(diagnosis_code, first, last):
            return set(subjects)
    return set()


def department_subject(department: Department) -> str:
    """A department's second-level subject: the recorded one, else the one its name shows, else "".

    A recorded subject wins over the name (a 心内一病区 or 胸痛中心 recorded as
    03.04 is a 心血管内科; a 心血管内科 recorded as 03.10 老年病 is not).
    """
    return department.subject or subject_from_name(department.name, department.specialty)


def diagnosis_matches(departments: Iterable[Department], diagnosis_code: str) -> dict[int, ReceiverMatch]:
    """How each department (by primary key) fits the diagnosis.

    SUBJECT: the department is of the block's second-level subject.
    SPECIALTY: it is of the usual first-level subject, its institution has
    no department of the second-level one, and its name shows no other
    second-level subject (the broader fallback, e.g. an undivided 内科);
    when the block has no second-level subject, any department of the
    chapter's subjects.
    NONE: everything else, including the other 内科 departments of an
    institution that has the specific one. Reads no database.
    """
    departments = list(departments)
    subject = subject_for(diagnosis_code)
    wanted = specialties_for(diagnosis_code)
    specific = {d.pk for d in departments if subject and department_subject(d) == subject}
    covered = {d.institution_id for d in departments if d.pk in specific}
    matches: dict[int, ReceiverMatch] = {}
    for department in departments:
        if department.pk in specific:
            matches[department.pk] = ReceiverMatch.SUBJECT
        elif (
            department.specialty in wanted
            and department.institution_id not in covered
            # 呼吸内科 is no fallback for angina: only an undivided department (内科, 大内科) stands in
            and not (subject and department_subject(department))
        ):
            matches[department.pk] = ReceiverMatch.SPECIALTY
        else:
            matches[department.pk] = ReceiverMatch.NONE
    return matches


def suggested_departments(departments: Iterable[Department], diagnosis_code: str) -> set[int]:
    """Primary keys of the departments to recommend for the diagnosis (specific, or the fallback)."""
    return {
        pk
        for pk, match in diagnosis_matches(departments, diagnosis_code).items()
        if match != ReceiverMatch.NONE
    }
