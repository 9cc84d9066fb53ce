"""``yilian import``: creates the job, runs it here, prints the counters and the first rejected rows."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yilian.encounters.models import Encounter
from yilian.ingestion.tests.factories import claim_row, csv_bytes, encounter_row

pytestmark = pytest.mark.django_db


def test_import_encounters_from_the_command_line(world, tmp_path, capsys):
    path = tmp_path / "visits.csv"
    rows = [encounter_row(world.hospital, n) for n in range(5)]
    rows.append(encounter_row(world.hospital, 7, 主要诊断编码="XYZ"))
    path.write_bytes(csv_bytes(rows))
    call_command("import", "encounters", str(path), "--institution", world.hospital.credit_code)
    out = capsys.readouterr().out
    assert "accepted 5" in out and "rejected 1" in out and "row 7 [主要诊断编码]" in out
    call_command("import", "encounters", str(path), "--institution", world.hospital.credit_code)
    assert "duplicates 5" in capsys.readouterr().out
    assert Encounter.objects.count() == 5


def test_actor_is_checked(world, tmp_path):
    path = tmp_path / "visits.csv"
    path.write_bytes(csv_bytes([encounter_row(world.hospital, 1)]))
    with pytest.raises(CommandError):
        call_command(
            "import",
            "encounters",
            str(path),
            "--institution",
            world.hospital.credit_code,
            "--actor",
            "hospital_doctor",
        )
    call_command(
        "import",
        "encounters",
        str(path),
        "--institution",
        world.hospital.credit_code,
        "--actor",
        "hospital_admin",
    )
    assert Encounter.objects.count() == 1


def test_import_claims_all_or_nothing(world, tmp_path, capsys):
    path = tmp_path / "claims.csv"
    path.write_bytes(csv_bytes([claim_row(1), claim_row(2, 类别="其他")], "claims"))
    call_command("import", "claims", str(path), "--region", "341522", "--all-or-nothing")
    assert "rejected: accepted 0" in capsys.readouterr().out
