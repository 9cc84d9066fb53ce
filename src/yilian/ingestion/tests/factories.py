"""Builders of import files for tests and the benchmark: valid resident ids, encounter and claim rows."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from stdnum.cn import ric

from yilian.encounters.importing import COLUMNS as ENCOUNTER_COLUMNS
from yilian.insurance.importing import COLUMNS as CLAIM_COLUMNS


def resident_id(n: int, region: str = "342423", birth: str = "19800101") -> str:
    """A valid resident ID number, distinct for each ``n`` < 1000 (342423: 霍邱县 before 1999)."""
    body = f"{region}{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def encounter_row(institution: Any, n: int, **overrides: str) -> dict[str, str]:
    """One valid outpatient encounter row of ``institution`` (header → value)."""
    row = {
        "机构统一社会信用代码": institution.credit_code,
        "科室": "",
        "源系统记录号": f"MZ{n:08d}",
        "身份证号": resident_id(n % 50),
        "姓名": "张三",
        "类型": "门诊",
        "就诊/入院时间": "2024-03-01 08:30",
        "出院时间": "",
        "主要诊断编码": "I10",
        "主要诊断名称": "高血压",
        "中医": "否",
        "手术分级": "",
        "总费用": "100.00",
        "基金支付": "60.00",
        "个人支付": "40.00",
    }
    row.update(overrides)
    return row


def claim_row(n: int, **overrides: str) -> dict[str, str]:
    """One valid inpatient claim row of an insured person of 霍邱县 (header → value)."""
    row = {
        "结算流水号": f"JS{n:08d}",
        "身份证号": resident_id(n % 50),
        "姓名": "李四",
        "险种": "城乡居民",
        "参保地区划代码": "341522",
        "类别": "住院",
        "定点机构统一社会信用代码": "",
        "定点机构名称": "合肥某医院",
        "机构所在地区划代码": "341503",
        "就诊/入院日期": "2024-03-01",
        "出院/结束日期": "2024-03-05",
        "结算日期": "2024-03-05",
        "主要诊断编码": "I63.9",
        "总费用": "5000.00",
        "基金支付": "3500.00",
        "个人支付": "1500.00",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict[str, str]], kind: str = "encounters", *, encoding: str = "utf-8-sig") -> bytes:
    """The rows as a CSV file with the template's header."""
    columns = ENCOUNTER_COLUMNS if kind == "encounters" else CLAIM_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([row.get(c.header, "") for c in columns])
    return buffer.getvalue().encode(encoding)


def upload(content: bytes, name: str = "visits.csv") -> SimpleUploadedFile:
    """An uploaded file as Django hands it to a view."""
    return SimpleUploadedFile(name, content, content_type="text/csv")
