"""Imports mark what they changed and queue the incremental refresh; the refresh then matches a full one."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from yilian.accounts.tests.factories import user_with_role
from yilian.core.permissions import Role
from yilian.indicators import evaluation
from yilian.indicators.catalogue import install_catalogues
from yilian.indicators.models import IndicatorValue, StaleMark, UnitValue
from yilian.indicators.tasks import refresh_stale_task
from yilian.ingestion import services as ingestion
from yilian.ingestion.tests.factories import claim_row, csv_bytes, encounter_row, upload

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2024, 3, 1)
APRIL = datetime.date(2024, 4, 1)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _tables() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "unit": sorted(
            UnitValue.objects.values_list(
                "item", "unit_kind", "unit_id", "period_type", "period_start", "value"
            )
        ),
        "indicator": sorted(
            IndicatorValue.objects.values_list(
                "indicator__code", "unit_kind", "unit_id", "period_type", "period_start", "numerator", "value"
            )
        ),
    }


def test_an_encounter_import_marks_its_months_and_the_queued_refresh_equals_a_full_one(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    install_catalogues()
    evaluation.refresh([MARCH, APRIL])
    rows = [encounter_row(world.hospital, n) for n in range(5)]
    rows.append(encounter_row(world.hospital, 9, 类型="住院", 出院时间="2024-04-02 10:00"))
    job = ingestion.import_job_create(
        actor=world.hospital_admin,
        kind="encounters",
        upload=upload(csv_bytes(rows), "visits.csv"),
        institution=world.hospital,
    )
    with django_capture_on_commit_callbacks(execute=True):
        ingestion.import_job_run(job)
    marks = set(StaleMark.objects.values_list("institution_id", "month", "model"))
    assert marks == {
        (world.hospital.pk, month, model)
        for month in (MARCH, APRIL)
        for model in ("encounters.Encounter", "encounters.ServiceVolume")
    }
    assert DBTaskResult.objects.filter(task_path__endswith="refresh_stale_task").count() == 1
    outcome = refresh_stale_task.call()
    assert outcome is not None and outcome["counts"]["indicator_values"] > 0
    # Only the sources counted over the imported models were recomputed.
    recomputed = {
        step.split(":", 1)[1] for step in outcome["counts"]["seconds"] if step.startswith("data_values:")
    }
    assert recomputed == {
        "encounters.started",
        "encounters.discharged",
        "encounters.admissions_chronic",
        "encounters.volumes",
        "encounters.department_volumes",
    }
    assert not StaleMark.objects.exists()
    visits = UnitValue.objects.get(
        item="encounters_visits",
        unit_kind="institution",
        unit_id=world.hospital.pk,
        period_type="month",
        period_start=MARCH,
    )
    assert visits.value == 5
    incremental = _tables()
    evaluation.refresh([MARCH, APRIL])
    full = _tables()
    for kind in full:
        assert sorted(set(full[kind]) ^ set(incremental[kind]))[:5] == [], kind


def test_a_claims_import_marks_a_regional_month_and_recomputes_the_regions(world: Any) -> None:
    install_catalogues()
    evaluation.refresh([MARCH])
    officer = user_with_role(Role.INSURANCE_OFFICER, username="officer", region=world.regions["county"])
    job = ingestion.import_job_create(
        actor=officer,
        kind="claims",
        upload=upload(csv_bytes([claim_row(1), claim_row(2)], "claims")),
        region=world.regions["county"],
    )
    ingestion.import_job_run(job)
    assert set(StaleMark.objects.values_list("institution_id", "month", "model")) == {
        (None, MARCH, "insurance.Claim")
    }
    outcome = refresh_stale_task.call()
    assert outcome is not None
    assert [step for step in outcome["counts"]["seconds"] if step.startswith("data_values:")] == [
        "data_values:insurance.claims"
    ]
    fund = UnitValue.objects.get(
        item="claims_fund_paid",
        unit_kind="region",
        unit_id=world.regions["county"].pk,
        period_type="month",
        period_start=MARCH,
    )
    assert fund.value == 7000
    incremental = _tables()
    evaluation.refresh([MARCH])
    full = _tables()
    for kind in full:
        assert sorted(set(full[kind]) ^ set(incremental[kind]))[:5] == [], kind


def test_a_failed_import_marks_nothing(world: Any) -> None:
    job = ingestion.import_job_create(
        actor=world.hospital_admin,
        kind="encounters",
        upload=upload(csv_bytes([encounter_row(world.hospital, 1, 身份证号="123")]), "visits.csv"),
        institution=world.hospital,
    )
    ingestion.import_job_run(job)
    assert not StaleMark.objects.exists()
