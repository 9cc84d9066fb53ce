"""Two imports of the same file at once create each encounter, claim and person once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from yilian.core.testing import race
from yilian.encounters.models import Encounter
from yilian.ingestion import services
from yilian.ingestion.models import ImportJob
from yilian.ingestion.tests.factories import csv_bytes, encounter_row, upload
from yilian.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_imports_of_the_same_file_at_once(world, media_root):
    rows = [encounter_row(world.hospital, n) for n in range(60)]
    content = csv_bytes(rows)
    jobs = [
        services.import_job_create(
            actor=world.hospital_admin, kind="encounters", upload=upload(content), institution=world.hospital
        )
        for _ in range(2)
    ]

    def run(job: ImportJob) -> Callable[[], Any]:
        return lambda: services.import_job_run(ImportJob.objects.get(pk=job.pk))

    results = race(run(jobs[0]), run(jobs[1]))
    assert all(isinstance(r, ImportJob) for r in results), results
    assert Encounter.objects.count() == 60
    assert Person.objects.count() == 50
    finished = list(ImportJob.objects.filter(pk__in=[j.pk for j in jobs]))
    assert all(j.status == "succeeded" for j in finished)
    assert sum(j.accepted_rows for j in finished) >= 60
    assert all(j.accepted_rows + j.duplicate_rows == 60 for j in finished)
