"""``yilian import-regions``: success, every row error, exit codes, the acting user."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from yilian.accounts.tests.factories import platform_admin, user_with_role
from yilian.core.models import AuditEvent
from yilian.core.permissions import Role
from yilian.institutions.models import Region
from yilian.institutions.tests.factories import InstitutionFactory
from yilian.manage import command_argv

pytestmark = pytest.mark.django_db

GOOD = "code,name,population\n340000,安徽省,\n341500,六安市,4393000\n341524,金寨县,498000\n341524100,梅山镇,125000\n"
BAD = "code,name\n340000,安徽省\n341524999,坏乡\n999999,无此省\n341524100,梅山镇\n341524100,梅山镇\n"


@pytest.fixture
def good_csv(tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text(GOOD, encoding="utf-8")
    return path


@pytest.fixture
def bad_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_regions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_creates_then_reports_unchanged(good_csv):
    admin = platform_admin()
    out, _err = run(str(good_csv))
    assert "created 4, updated 0, unchanged 0" in out
    assert Region.objects.get(code="341524100").parent.code == "341524"
    assert AuditEvent.objects.filter(action="region.create", actor=admin).count() == 4
    out, _err = run(str(good_csv))
    assert "created 0, updated 0, unchanged 4" in out


def test_import_updates_changed_rows(good_csv, tmp_path):
    platform_admin()
    run(str(good_csv))
    changed = tmp_path / "changed.csv"
    changed.write_text(GOOD.replace("498000", "500000"), encoding="utf-8")
    out, _err = run(str(changed))
    assert "created 0, updated 1, unchanged 3" in out
    assert Region.objects.get(code="341524").population == 500_000


def test_every_row_error_is_printed_and_nothing_is_saved(bad_csv):
    platform_admin()
    with pytest.raises(CommandError) as error:
        run(str(bad_csv))
    assert error.value.returncode == 1
    assert not Region.objects.exists()
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_regions", str(bad_csv), stderr=err)
    messages = err.getvalue()
    assert "第 3 行" in messages and "第 4 行" in messages and "第 6 行" in messages


def test_exit_status_through_the_console_entry_point(good_csv, bad_csv, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends, which would end the test's transaction.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    platform_admin()
    execute_from_command_line(command_argv(["yilian", "import-regions", str(good_csv)]))
    assert "created 4" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(command_argv(["yilian", "import-regions", str(bad_csv)]))
    assert exit_.value.code == 1
    assert "第 3 行" in capsys.readouterr().err


def test_acts_as_the_named_platform_admin(good_csv):
    platform_admin("first")
    second = platform_admin("second")
    run(str(good_csv), "--as", "second")
    assert set(AuditEvent.objects.filter(action="region.create").values_list("actor", flat=True)) == {
        second.pk
    }


def test_refuses_a_user_who_is_not_a_platform_admin(good_csv):
    platform_admin()
    user_with_role(Role.DOCTOR, username="clerk", institution=InstitutionFactory())
    with pytest.raises(CommandError):
        run(str(good_csv), "--as", "clerk")
    assert not Region.objects.filter(code="341500").exists()


def test_refuses_unknown_user_missing_file_and_no_admin(good_csv, tmp_path):
    with pytest.raises(CommandError, match="no platform administrator"):
        run(str(good_csv))
    platform_admin()
    with pytest.raises(CommandError, match="no active user"):
        run(str(good_csv), "--as", "nobody")
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "missing.csv"))


def test_the_shipped_demo_region_list_imports_cleanly():
    platform_admin()
    path = Path(__file__).parents[1] / "data" / "demo_regions.csv"
    out, _err = run(str(path))
    assert "created 284" in out
    assert Region.objects.filter(level="village").count() == 250
