"""The set-based import (ADR 0017) gives exactly what the row-by-row Python rules give.

Every kind of bad row, and valid rows written loosely (slashes in dates,
spaces around values, lower-case codes, thousands separators), go through a
job; the row errors and the stored encounters must equal what
``EncounterRows.validate`` says of the same rows one by one.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from yilian.core import messages
from yilian.encounters.importing import LOCAL, EncounterRows
from yilian.encounters.models import Encounter
from yilian.ingestion import services
from yilian.ingestion.choices import ImportKind, ImportStatus
from yilian.ingestion.models import ImportRowError
from yilian.ingestion.tests.factories import csv_bytes, encounter_row, resident_id, upload
from yilian.institutions.models import Department
from yilian.people.importing import ResidentIdChecker
from yilian.people.models import Person, PersonInstitutionLink

pytestmark = pytest.mark.django_db

START = "就诊/入院时间"
END = "出院时间"


def _rows(world):
    hospital = world.hospital
    Department.objects.create(institution=hospital, name="心内科", code="XNK")
    bad = [
        {"机构统一社会信用代码": ""},
        {"机构统一社会信用代码": "123456789012345678"},
        {"机构统一社会信用代码": world.township.credit_code},
        {"科室": "不存在科"},
        {"源系统记录号": ""},
        {"源系统记录号": "X" * 65},
        {"身份证号": "342423198001011230"},
        {"身份证号": "34242319800101123"},
        {"身份证号": "999999198001011231"},
        {"身份证号": "34242319801301123X"},
        {"姓名": ""},
        {"姓名": "张" * 51},
        {"类型": "会诊"},
        {START: "2024-13-01"},
        {START: "2024-02-30 08:00"},
        {START: "1999-12-31"},
        {START: "2099-01-01"},
        {START: "2024-03-01 25:00"},
        {START: "yesterday"},
        {END: "2024-02-28 10:00"},
        {END: "2024-03-01 08:29"},
        {END: "not a date"},
        {"主要诊断编码": "A00.7"},
        {"主要诊断编码": "I1"},
        {"主要诊断编码": ""},
        {"主要诊断名称": " "},
        {"中医": "maybe"},
        {"手术分级": "5"},
        {"总费用": "-1", "基金支付": "0", "个人支付": "0"},
        {"总费用": "abc"},
        {"基金支付": "70.00"},
        {"总费用": "99999999999.00", "基金支付": "0", "个人支付": "99999999999.00"},
        {"总费用": "", "基金支付": "", "个人支付": ""},
        {"类型": "住院", START: "2024-03-05 08:00", END: "2024-03-04 08:00", "手术分级": "x"},
    ]
    loose = [
        {START: "2024/3/1 8:30"},
        {START: "2024-03-01T08:30:15"},
        {START: " 2024-03-01 08:30 ", END: "2024/03/02"},
        {"身份证号": " " + resident_id(7).lower() + " "},
        {"机构统一社会信用代码": " " + hospital.credit_code.lower()},
        {"科室": " XNK "},
        {"科室": "心内科"},
        {"主要诊断编码": " i63.900 "},
        {"主要诊断编码": "I63．9"},
        {"总费用": "1,000.00", "基金支付": "600", "个人支付": "400.0"},
        {"总费用": " 100 ", "基金支付": "60.005", "个人支付": "40"},
        {"总费用": "100.001", "基金支付": "60", "个人支付": "40"},
        {"姓名": "\u3000李四\t", "主要诊断名称": " 高血压 "},
        {"中医": "Y", "手术分级": " 2 "},
        {"类型": " 急诊 "},
        {"类型": "住院", START: "2024-03-01", END: "2024-03-01"},
    ]
    plain = [{"类型": "住院", START: "2024-03-01 08:30:00", END: "2024-03-09 10:00", "手术分级": "4"}]
    rows = []
    for n, overrides in enumerate([*bad, *loose, *plain, {}, {}]):
        rows.append(encounter_row(hospital, n, **overrides))
    return rows, len(bad)


@pytest.mark.parametrize("all_or_nothing", [False, True])
def test_sql_checks_match_the_python_rules(world, all_or_nothing):
    rows, bad = _rows(world)
    job = services.import_job_create(
        actor=world.hospital_admin,
        kind=ImportKind.ENCOUNTERS,
        upload=upload(csv_bytes(rows)),
        institution=world.hospital,
        all_or_nothing=all_or_nothing,
    )
    job = services.import_job_run(job)
    python = EncounterRows(allowed_institution_ids={world.hospital.pk})
    expected_errors = set()
    expected = {}
    for number, row in enumerate(rows, start=2):
        values, errors = python.validate(row)
        if values is None:
            expected_errors.update((number, c, v[:100], messages.stored(r)[0]) for c, v, r in errors)
        else:
            expected[values["source_record_id"]] = values
    got = set(ImportRowError.objects.filter(job=job).values_list("row_number", "column", "value", "reason"))
    assert got == expected_errors
    assert job.rejected_rows == bad
    if all_or_nothing:
        assert job.status == ImportStatus.REJECTED and not Encounter.objects.exists()
        return
    assert (job.accepted_rows, job.duplicate_rows) == (len(rows) - bad, 0)
    stored = {e.source_record_id: e for e in Encounter.objects.all()}
    assert set(stored) == set(expected)
    for source, values in expected.items():
        encounter = stored[source]
        assert encounter.person.id_number_hash == python.persons.hash_of(values["identity"][0])
        assert encounter.institution_id == values["institution_id"]
        assert encounter.department_id == values["department_id"], source
        assert encounter.kind == values["kind"]
        assert encounter.started_at == values["started_at"], source
        assert encounter.ended_at == values["ended_at"], source
        assert encounter.diagnosis_code == values["diagnosis_code"], source
        assert encounter.diagnosis_name == values["diagnosis_name"]
        assert encounter.is_tcm is values["is_tcm"]
        assert encounter.surgery_grade == values["surgery_grade"]
        assert (encounter.total_cost, encounter.fund_paid, encounter.self_paid) == (
            values["total_cost"],
            values["fund_paid"],
            values["self_paid"],
        ), source
    stay = stored[f"MZ{len(rows) - 3:08d}"]
    assert stay.started_at == datetime.datetime(2024, 3, 1, 8, 30, tzinfo=LOCAL)
    assert stay.total_cost == Decimal("100.00")
    assert PersonInstitutionLink.objects.filter(institution=world.hospital).count() == Person.objects.count()


def test_duplicates_inside_one_file_and_blank_lines(world):
    rows = [encounter_row(world.hospital, n % 5) for n in range(12)]
    content = csv_bytes(rows).replace(b"\r\n", b"\r\n\r\n", 3)
    job = services.import_job_run(
        services.import_job_create(
            actor=world.hospital_admin,
            kind=ImportKind.ENCOUNTERS,
            upload=upload(content),
            institution=world.hospital,
        )
    )
    assert (job.accepted_rows, job.duplicate_rows, job.rejected_rows, job.rows_committed) == (5, 7, 0, 12)
    assert Encounter.objects.count() == 5
    bad = [encounter_row(world.hospital, n, **({"类型": "x"} if n == 3 else {})) for n in range(6)]
    content = csv_bytes(bad).replace(b"\r\n", b"\r\n,,\r\n", 2)
    job = services.import_job_run(
        services.import_job_create(
            actor=world.hospital_admin,
            kind=ImportKind.ENCOUNTERS,
            upload=upload(content),
            institution=world.hospital,
        )
    )
    # Two blank rows after the header: the bad 4th data row is line 7 of the file.
    assert list(ImportRowError.objects.filter(job=job).values_list("row_number", "column")) == [(7, "类型")]


def test_resident_id_checker_agrees_with_stdnum():
    checker = ResidentIdChecker()
    from yilian.encounters.importing import IdentityCache

    cases = [
        resident_id(1),
        resident_id(2, birth="20991231"),
        resident_id(3, region="999999"),
        resident_id(4, region="110101", birth="19500101"),
        "342423198001011230",
        "341524198503129441",  # an address code first used after the birth (1999)
        "34252220050312944X",  # an address code retired before the birth (2000)
        "3424231980010112",
        "34242319800101123Ｘ",
        "",
        "abc",
    ]
    from yilian.core.exceptions import Invalid
    from yilian.people.identifiers import parse_resident_id

    for raw in cases:
        try:
            parsed = parse_resident_id(raw)
            want = (parsed.number, parsed.birth_date, parsed.gender)
        except Invalid as error:
            want = str(next(iter(error.errors.values()))[0])
        assert checker.parse(raw) == want, raw
        assert IdentityCache().parse(raw) == want, raw
