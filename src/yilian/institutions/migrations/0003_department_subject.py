"""Departments record their second-level 诊疗科目 (``Department.subject``).

Existing departments get the subject their name clearly shows within their
first-level subject (心血管内科 of 03 → 03.04), by the rules the referral
suggestion used until now (``institutions.subjects``); every other one stays
blank (内科, 胸痛中心, 心内一病区) for its institution to record.
"""

from __future__ import annotations

from typing import Any

import django.db.models.functions.text
from django.db import migrations, models

from yilian.institutions.subjects import subject_from_name


def fill_subjects(apps: Any, schema_editor: Any) -> int:
    """Set the name's subject on departments without one; return how many were set.

    The rules are imported, not copied: a fresh database has no departments
    when this runs, so later changes to the rules cannot change its outcome.
    """
    department_model = apps.get_model("institutions", "Department")
    changed = []
    for department in department_model.objects.filter(subject="").only("pk", "name", "specialty"):
        subject = subject_from_name(department.name, department.specialty)
        if subject:
            department.subject = subject
            changed.append(department)
    department_model.objects.bulk_update(changed, ["subject"], batch_size=500)
    return len(changed)


def forwards(apps: Any, schema_editor: Any) -> None:
    fill_subjects(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("institutions", "0002_region_boundary"),
    ]

    operations = [
        migrations.AddField(
            model_name="department",
            name="subject",
            field=models.CharField(
                blank=True,
                choices=[
                    ("03.01", "呼吸内科专业"),
                    ("03.02", "消化内科专业"),
                    ("03.03", "神经内科专业"),
                    ("03.04", "心血管内科专业"),
                    ("03.05", "血液内科专业"),
                    ("03.06", "肾病学专业"),
                    ("03.07", "内分泌专业"),
                    ("03.08", "免疫学专业"),
                    ("03.09", "变态反应专业"),
                    ("03.10", "老年病专业"),
                    ("03.11", "内科其他"),
                    ("04.01", "普通外科专业"),
                    ("04.02", "神经外科专业"),
                    ("04.03", "骨科专业"),
                    ("04.04", "泌尿外科专业"),
                    ("04.05", "胸外科专业"),
                    ("04.06", "心脏大血管外科专业"),
                    ("04.07", "烧伤科专业"),
                    ("04.08", "整形外科专业"),
                    ("04.09", "外科其他"),
                    ("05.01", "妇科专业"),
                    ("05.02", "产科专业"),
                    ("05.03", "计划生育专业"),
                    ("05.04", "优生学专业"),
                    ("05.05", "生殖健康与不孕症专业"),
                    ("05.06", "妇产科其他"),
                    ("06.01", "青春期保健专业"),
                    ("06.02", "围产期保健专业"),
                    ("06.03", "更年期保健专业"),
                    ("06.04", "妇女心理卫生专业"),
                    ("06.05", "妇女营养专业"),
                    ("06.06", "妇女保健科其他"),
                    ("07.01", "新生儿专业"),
                    ("07.02", "小儿传染病专业"),
                    ("07.03", "小儿消化专业"),
                    ("07.04", "小儿呼吸专业"),
                    ("07.05", "小儿心脏病专业"),
                    ("07.06", "小儿肾病专业"),
                    ("07.07", "小儿血液病专业"),
                    ("07.08", "小儿神经病学专业"),
                    ("07.09", "小儿内分泌专业"),
                    ("07.10", "小儿遗传病专业"),
                    ("07.11", "小儿免疫专业"),
                    ("07.12", "儿科其他"),
                    ("08.01", "小儿普通外科专业"),
                    ("08.02", "小儿骨科专业"),
                    ("08.03", "小儿泌尿外科专业"),
                    ("08.04", "小儿胸心外科专业"),
                    ("08.05", "小儿神经外科专业"),
                    ("08.06", "小儿外科其他"),
                ],
                default="",
                help_text="《医疗机构诊疗科目名录》的专业，如 03.04 心血管内科专业；须属于所选诊疗科目，未细分的科室留空。",
                max_length=5,
                verbose_name="二级诊疗科目",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="department",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("subject", ""),
                    (
                        "subject__startswith",
                        django.db.models.functions.text.Concat("specialty", models.Value(".")),
                    ),
                    _connector="OR",
                ),
                name="department_subject_within_specialty",
                violation_error_message="二级诊疗科目须属于所选诊疗科目。",
            ),
        ),
    ]
