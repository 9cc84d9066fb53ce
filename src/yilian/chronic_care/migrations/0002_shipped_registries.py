"""Ship the two registries of the issue: hypertension and type 2 diabetes (data, editable afterwards)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import migrations

SOURCE_HYPERTENSION = (
    "随访评估与转诊规则：国家基本公共卫生服务规范（第三版，2017）高血压患者健康管理服务规范（二手来源转引，待核实）；"
    "紧急转诊标准：县域高血压分级诊疗技术方案（国卫办医函〔2022〕34号）。"
    "控制目标 <140/90 mmHg、65 岁及以上 <150/90 mmHg 为工作定义。"
)
SOURCE_DIABETES = (
    "国家基本公共卫生服务规范（第三版，2017）2 型糖尿病患者健康管理服务规范（未核对原文）。"
    "控制目标空腹血糖 <7.0 mmol/L 为工作定义。"
)

REGISTRIES: list[dict[str, Any]] = [
    {
        "code": "hypertension",
        "name": "高血压",
        "icd10_ranges": [["I10", "I15"]],
        "measures": ["blood_pressure"],
        "follow_ups_per_year": 4,
        "systolic_below": 140,
        "diastolic_below": 90,
        "elderly_age": 65,
        "elderly_systolic_below": 150,
        "elderly_diastolic_below": 90,
        "fasting_glucose_below": None,
        "referral_department_names": "心血管内科,心内科,心血管科,内科",
        "threshold_source": SOURCE_HYPERTENSION,
        "thresholds_confirmed": False,
    },
    {
        "code": "diabetes_t2",
        "name": "2型糖尿病",
        "icd10_ranges": [["E11", "E11"]],
        "measures": ["glucose", "blood_pressure"],
        "follow_ups_per_year": 4,
        "systolic_below": None,
        "diastolic_below": None,
        "elderly_age": None,
        "elderly_systolic_below": None,
        "elderly_diastolic_below": None,
        "fasting_glucose_below": Decimal("7.0"),
        "referral_department_names": "内分泌科,内分泌代谢科,内科",
        "threshold_source": SOURCE_DIABETES,
        "thresholds_confirmed": False,
    },
]


def ship(apps: Any, schema_editor: Any) -> None:
    registry_model = apps.get_model("chronic_care", "ChronicRegistry")
    for row in REGISTRIES:
        values = dict(row)
        registry_model.objects.get_or_create(code=values.pop("code"), defaults=values)


def unship(apps: Any, schema_editor: Any) -> None:
    registry_model = apps.get_model("chronic_care", "ChronicRegistry")
    registry_model.objects.filter(code__in=[row["code"] for row in REGISTRIES], cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("chronic_care", "0001_initial")]

    operations = [migrations.RunPython(ship, unship)]
