"""Import jobs end to end through the services: bad files, bad rows, duplicates, resume, all-or-nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.encounters.models import Encounter, ServiceVolume
from yilian.ingestion import services
from yilian.ingestion.choices import ImportKind, ImportStatus
from yilian.ingestion.models import ImportJob, ImportRowError
from yilian.ingestion.tests.factories import claim_row, csv_bytes, encounter_row, upload
from yilian.insurance.choices import ProviderPlace
from yilian.insurance.models import Claim
from yilian.people.models import Person

pytestmark = pytest.mark.django_db


def _job(world, rows, *, all_or_nothing=False, name="visits.csv", content=None):
    return services.import_job_create(
        actor=world.hospital_admin,
        kind=ImportKind.ENCOUNTERS,
        upload=upload(content if content is not None else csv_bytes(rows), name),
        institution=world.hospital,
        all_or_nothing=all_or_nothing,
    )


def test_valid_file_imports_every_row_and_derives_volumes(world):
    rows = [encounter_row(world.hospital, n) for n in range(30)]
    rows.append(encounter_row(world.hospital, 99, 类型="住院", 出院时间="2024-03-05 10:00", 手术分级="3"))
    job = services.import_job_run(_job(world, rows))
    assert job.status == ImportStatus.SUCCEEDED
    assert (job.accepted_rows, job.duplicate_rows, job.rejected_rows) == (31, 0, 0)
    assert job.total_rows == 31 and job.rows_committed == 31
    assert Encounter.objects.filter(institution=world.hospital).count() == 31
    assert Person.objects.count() == 31
    volume = ServiceVolume.objects.get(institution=world.hospital, department=None)
    assert (volume.outpatient_visits, volume.admissions, volume.discharges) == (30, 1, 1)


def test_bad_rows_are_rejected_with_row_and_column_and_the_good_ones_imported(world):
    rows = [encounter_row(world.hospital, n) for n in range(18)]
    rows[2] = encounter_row(world.hospital, 2, 身份证号="342423198001011230")
    rows[5] = encounter_row(world.hospital, 5, 主要诊断编码="A00.7")
    rows[7] = encounter_row(world.hospital, 7, 总费用="-1", 基金支付="0", 个人支付="0")
    rows[9] = encounter_row(world.hospital, 9, **{"就诊/入院时间": "1999-01-01"})
    rows[11] = encounter_row(world.hospital, 11, 机构统一社会信用代码="123456789012345678")
    rows[13] = encounter_row(world.hospital, 13, 机构统一社会信用代码=world.township.credit_code)
    rows[15] = encounter_row(world.hospital, 15, **{"就诊/入院时间": "2099-01-01"})
    rows[16] = encounter_row(world.hospital, 16, 基金支付="70.00")
    job = services.import_job_run(_job(world, rows))
    assert job.status == ImportStatus.SUCCEEDED
    errors = {(e.row_number, e.column): e.reason for e in ImportRowError.objects.filter(job=job)}
    assert (job.accepted_rows, job.rejected_rows) == (10, 8), errors
    assert "校验位" in errors[(4, "身份证号")]
    assert (7, "主要诊断编码") in errors
    assert "负数" in errors[(9, "总费用")]
    assert "2000" in errors[(11, "就诊/入院时间")]
    assert "未登记" in errors[(13, "机构统一社会信用代码")]
    assert "无权" in errors[(15, "机构统一社会信用代码")]
    assert "晚于今天" in errors[(17, "就诊/入院时间")]
    assert "不符" in errors[(18, "总费用")]
    assert not ImportRowError.objects.filter(value__contains="341522198001011230").exists()


def test_ten_percent_bad_rows_import_the_good_ninety(world):
    rows = [encounter_row(world.hospital, n, **({"类型": "会诊"} if n % 10 == 0 else {})) for n in range(100)]
    job = services.import_job_run(_job(world, rows))
    assert (job.accepted_rows, job.rejected_rows) == (90, 10)


def test_all_or_nothing_imports_none_when_a_row_is_bad(world):
    rows = [encounter_row(world.hospital, n, **({"类型": "会诊"} if n == 3 else {})) for n in range(20)]
    job = services.import_job_run(_job(world, rows, all_or_nothing=True))
    assert job.status == ImportStatus.REJECTED
    assert job.rejected_rows == 1 and job.accepted_rows == 0
    assert not Encounter.objects.exists()
    ok = services.import_job_run(
        _job(world, [encounter_row(world.hospital, n) for n in range(20)], all_or_nothing=True)
    )
    assert ok.status == ImportStatus.SUCCEEDED and ok.accepted_rows == 20


def test_reupload_creates_no_duplicates(world):
    rows = [encounter_row(world.hospital, n) for n in range(20)]
    services.import_job_run(_job(world, rows))
    again = services.import_job_run(_job(world, [*rows, encounter_row(world.hospital, 20)]))
    assert (again.accepted_rows, again.duplicate_rows) == (1, 20)
    assert Encounter.objects.count() == 21


def test_resume_after_a_failure_does_not_double_count(world, monkeypatch):
    monkeypatch.setattr(services, "BATCH_ROWS", 10)
    rows = [encounter_row(world.hospital, n) for n in range(35)]
    job = _job(world, rows)
    calls = {"n": 0}

    def crash(job):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError):
        services.import_job_run(job, progress=crash)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and job.rows_committed == 20 and job.accepted_rows == 20
    with pytest.raises(Conflict):
        services.import_job_run(job)
    services.import_job_resume(actor=world.hospital_admin, job=job)
    job = services.import_job_run(job)
    assert job.status == ImportStatus.SUCCEEDED
    assert (job.accepted_rows, job.duplicate_rows, job.rows_committed) == (35, 0, 35)
    assert Encounter.objects.count() == 35


def test_wrong_file_type_and_wrong_columns_are_refused(world):
    with pytest.raises(Invalid) as wrong_type:
        _job(world, [], name="visits.pdf", content=b"%PDF")
    assert "csv" in str(wrong_type.value.errors)
    bad_header = "机构统一社会信用代码,身份证号,颜色\n".encode()
    with pytest.raises(Invalid) as wrong_columns:
        _job(world, [], content=bad_header)
    message = str(wrong_columns.value.errors)
    assert "缺少列" in message and "源系统记录号" in message and "颜色" in message


def test_gb18030_csv_and_xlsx_are_read(world):
    rows = [encounter_row(world.hospital, n) for n in range(3)]
    job = services.import_job_run(_job(world, rows, content=csv_bytes(rows, encoding="gb18030")))
    assert job.accepted_rows == 3
    workbook = Workbook()
    sheet = workbook.active
    header = list(rows[0])
    sheet.append(header)
    for n in range(3, 6):
        sheet.append(list(encounter_row(world.hospital, n).values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = services.import_job_run(_job(world, [], name="visits.xlsx", content=buffer.getvalue()))
    assert job.status == ImportStatus.SUCCEEDED and job.accepted_rows == 3


def test_who_may_upload_which_kind(world):
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role

    content = csv_bytes([encounter_row(world.hospital, 1)])
    for actor in (world.hospital_doctor, world.township_admin, world.regulator, world.stranger):
        with pytest.raises(NotAllowed):
            services.import_job_create(
                actor=actor, kind="encounters", upload=upload(content), institution=world.hospital
            )
    office_job = services.import_job_create(
        actor=world.office, kind="encounters", upload=upload(content), institution=world.township
    )
    assert office_job.institution == world.township
    officer = user_with_role(Role.INSURANCE_OFFICER, username="officer", region=world.regions["county"])
    claims = csv_bytes([claim_row(1)], "claims")
    with pytest.raises(NotAllowed):
        services.import_job_create(
            actor=world.hospital_admin, kind="claims", upload=upload(claims), region=world.regions["county"]
        )
    with pytest.raises(NotAllowed):
        services.import_job_create(
            actor=officer, kind="claims", upload=upload(claims), region=world.regions["district"]
        )
    job = services.import_job_create(
        actor=officer, kind="claims", upload=upload(claims), region=world.regions["county"]
    )
    assert job.kind == "claims"


def test_claims_import_derives_provider_place(world):
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role

    officer = user_with_role(Role.INSURANCE_OFFICER, username="officer", region=world.regions["county"])
    rows = [
        claim_row(1),
        claim_row(2, 定点机构统一社会信用代码=world.township.credit_code, 机构所在地区划代码="341522100"),
        claim_row(3, 定点机构统一社会信用代码=world.outsider.credit_code, 机构所在地区划代码="341522101"),
        claim_row(4, 类别="药店", 定点机构名称="某大药房", 机构所在地区划代码="341522"),
        claim_row(5, 参保地区划代码="341503"),
        claim_row(6, 险种="商业"),
        claim_row(1),
    ]
    job = services.import_job_create(
        actor=officer, kind="claims", upload=upload(csv_bytes(rows, "claims")), region=world.regions["county"]
    )
    job = services.import_job_run(job)
    assert (job.accepted_rows, job.duplicate_rows, job.rejected_rows) == (4, 1, 2)
    places = dict(Claim.objects.values_list("source_record_id", "provider_place"))
    assert places == {
        "JS00000001": ProviderPlace.OUT_OF_COUNTY,
        "JS00000002": ProviderPlace.MEMBER,
        "JS00000003": ProviderPlace.IN_COUNTY,
        "JS00000004": ProviderPlace.PHARMACY,
    }


def test_job_is_audited(world):
    from yilian.core.models import AuditEvent

    job = services.import_job_run(_job(world, [encounter_row(world.hospital, 1)]))
    actions = set(AuditEvent.objects.filter(object_id=str(job.public_id)).values_list("action", flat=True))
    assert actions == {"import.create", "import.finish"}
    assert ImportJob.objects.get(pk=job.pk).file_sha256


def test_the_background_task_runs_the_job(world):
    from yilian.ingestion.tasks import run_import_job

    job = _job(world, [encounter_row(world.hospital, n) for n in range(3)])
    assert run_import_job.call(job.pk) == {
        "status": "succeeded",
        "accepted": 3,
        "duplicates": 0,
        "rejected": 0,
    }


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_a_non_finite_amount_is_a_rejected_row_not_a_failed_job(world, amount):
    """A "NaN" amount quantized to itself and comparing it raised: the whole job failed."""
    from yilian.accounts.tests.factories import user_with_role
    from yilian.core.permissions import Role

    rows = [encounter_row(world.hospital, 1), encounter_row(world.hospital, 2, 总费用=amount)]
    job = services.import_job_run(_job(world, rows))
    assert (job.status, job.accepted_rows, job.rejected_rows) == (ImportStatus.SUCCEEDED, 1, 1)
    assert ImportRowError.objects.get(job=job).reason == "金额格式不正确。"
    officer = user_with_role(Role.INSURANCE_OFFICER, username="officer", region=world.regions["county"])
    claims = [claim_row(1), claim_row(2, 基金支付=amount)]
    job = services.import_job_create(
        actor=officer,
        kind="claims",
        upload=upload(csv_bytes(claims, "claims")),
        region=world.regions["county"],
    )
    job = services.import_job_run(job)
    assert (job.status, job.accepted_rows, job.rejected_rows) == (ImportStatus.SUCCEEDED, 1, 1)
