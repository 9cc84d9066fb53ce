"""Encounter rows: the per-row check, the batch writer's duplicates and the monthly volumes derived from them."""

from __future__ import annotations

import datetime

import pytest
from stdnum.cn import ric

from yilian.encounters.importing import COLUMNS, EncounterRows, derive_service_volumes, parse_moment
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.institutions.models import Department
from yilian.people.models import PersonInstitutionLink

pytestmark = pytest.mark.django_db


def _row(world, n, **overrides):
    body = f"34242319800101{n % 1000:03d}"  # 霍邱县's address code before 1999
    row = {column.header: column.example for column in COLUMNS}
    row.update(
        {
            "机构统一社会信用代码": world.hospital.credit_code,
            "科室": "",
            "源系统记录号": f"MZ{n:08d}",
            "身份证号": body + ric.calc_check_digit(body + "0"),
            "类型": "门诊",
            "出院时间": "",
            "手术分级": "",
            "总费用": "100.00",
            "基金支付": "60.00",
            "个人支付": "40.00",
        }
    )
    row.update(overrides)
    return row


def test_template_has_every_column_once():
    headers = [c.header for c in COLUMNS]
    assert len(headers) == len(set(headers)) == 15
    assert {"源系统记录号", "身份证号", "主要诊断编码", "总费用", "基金支付", "个人支付"} <= set(headers)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", datetime.datetime(2024, 3, 1)),
        ("2024/3/1 8:05", datetime.datetime(2024, 3, 1, 8, 5)),
        ("2024-03-01 08:30:15", datetime.datetime(2024, 3, 1, 8, 30, 15)),
        ("2024-13-01", None),
        ("yesterday", None),
    ],
)
def test_parse_moment(text, expected):
    assert parse_moment(text) == expected


def test_validate_reports_each_bad_column(world):
    rows = EncounterRows(allowed_institution_ids={world.hospital.pk}, today=datetime.date(2025, 1, 1))
    values, errors = rows.validate(
        _row(
            world,
            1,
            类型="住院",
            出院时间="2024-02-01",
            手术分级="5",
            中医="也许",
            科室="不存在科",
            个人支付="abc",
        )
    )
    assert values is None
    columns = {column for column, _value, _reason in errors}
    assert columns == {"出院时间", "手术分级", "中医", "科室", "个人支付"}


def test_validate_types_a_good_row_and_matches_departments_by_name_or_code(world):
    Department.objects.create(institution=world.hospital, name="心血管内科", code="XNK")
    rows = EncounterRows(allowed_institution_ids={world.hospital.pk})
    values, errors = rows.validate(_row(world, 1, 科室="XNK", 中医="是", 手术分级="2"))
    assert errors == []
    assert values["department_id"] is not None and values["is_tcm"] is True and values["surgery_grade"] == 2
    assert str(values["total_cost"]) == "100.00"


def test_write_counts_duplicates_and_links_the_person(world):
    rows = EncounterRows(allowed_institution_ids={world.hospital.pk})
    batch = [rows.validate(_row(world, n))[0] for n in (1, 2, 2)]
    assert rows.write(batch) == (2, 1)
    assert rows.write(batch[:1]) == (0, 1)
    assert Encounter.objects.count() == 2
    assert PersonInstitutionLink.objects.filter(institution=world.hospital, reason="treated").count() == 2


def test_volumes_are_recounted_and_reported_ones_without_encounters_kept(world):
    cardiology = Department.objects.create(institution=world.hospital, name="心血管内科")
    surgery = Department.objects.create(institution=world.hospital, name="普外科")
    month = datetime.date(2024, 3, 1)
    ServiceVolume.objects.create(
        institution=world.hospital, department=surgery, month=month, outpatient_visits=77
    )
    rows = EncounterRows(allowed_institution_ids={world.hospital.pk})
    batch = [
        rows.validate(_row(world, 1, 科室="心血管内科"))[0],
        rows.validate(_row(world, 2, 科室="心血管内科", 类型="急诊"))[0],
        rows.validate(_row(world, 3, 科室="心血管内科", 类型="住院", 出院时间="2024-03-09 09:00"))[0],
    ]
    rows.write(batch)
    for values in batch:
        rows.remember(values)
    derive_service_volumes(rows.months)
    department = ServiceVolume.objects.get(institution=world.hospital, department=cardiology, month=month)
    assert (department.outpatient_visits, department.admissions, department.discharges) == (2, 1, 1)
    whole = ServiceVolume.objects.get(institution=world.hospital, department=None, month=month)
    assert (whole.outpatient_visits, whole.admissions, whole.discharges) == (2, 1, 1)
    assert ServiceVolume.objects.get(department=surgery, month=month).outpatient_visits == 77
