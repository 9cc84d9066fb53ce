"""End to end in Chromium: the county hospital's data officer uploads a HIS file with bad rows; the real
background worker imports it; the job page shows the progress and every rejected row, and a second upload
of the same file creates no duplicates. The insurance officer compares 6:3:1 with 4:3:3 on the what-if page,
freezes a settlement and opens its page, whose shares add up to the consortium's amount to the cent.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import logged_in_tab
from yilian.encounters.models import Encounter
from yilian.ingestion.models import ImportJob
from yilian.ingestion.tests.factories import csv_bytes, encounter_row
from yilian.insurance.models import Settlement
from yilian.insurance.tests.factories import InsuranceWorld

pytestmark = pytest.mark.django_db(transaction=True)


def _run_worker() -> None:
    """The real database worker, once over everything queued."""
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def test_upload_with_bad_rows_then_the_same_file_again(world, browser, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    rows = [encounter_row(world.hospital, n) for n in range(9)]
    rows.append(encounter_row(world.hospital, 9, 主要诊断编码="X99.999"))
    path = tmp_path / "his-2024-03.csv"
    path.write_bytes(csv_bytes(rows))
    officer = logged_in_tab(browser, live_server, world.hospital_admin.username)
    base = live_server.url

    for attempt in (1, 2):
        officer.goto(f"{base}/imports/new/")
        officer.select_option("[name=kind]", "encounters")
        officer.select_option("[name=institution]", str(world.hospital.public_id))
        officer.set_input_files("[name=file]", str(path))
        officer.click("[data-testid=import-submit]")
        officer.wait_for_load_state("networkidle")
        _run_worker()
        officer.reload()
        expect(officer.locator("main")).to_contain_text("已完成")
        errors = officer.locator("[data-testid=import-error-row]")
        expect(errors).to_have_count(1)
        expect(errors.first).to_contain_text("X99.999")
        job = ImportJob.objects.order_by("-created_at").first()
        assert job is not None
        assert (job.accepted_rows, job.duplicate_rows, job.rejected_rows) == (
            (9, 0, 1) if attempt == 1 else (0, 9, 1)
        )
    assert Encounter.objects.filter(institution=world.hospital).count() == 9


def test_what_if_then_freeze_a_settlement(world, browser, live_server):
    iw = InsuranceWorld(world)
    officer = logged_in_tab(browser, live_server, iw.officer.username)
    base = live_server.url

    officer.goto(f"{base}/insurance/budgets/{iw.budget.public_id}/whatif/")
    results = officer.locator("[data-testid=whatif-results]")
    expect(results).to_contain_text("6:3:1")
    expect(results).to_contain_text("4:3:3")
    expect(officer.locator("[data-testid=whatif-member]").first).to_be_visible()

    officer.goto(f"{base}/insurance/budgets/{iw.budget.public_id}/rules/")
    form = officer.locator("[data-testid=freeze-form]")
    form.locator("[name=confirm]").check()
    form.locator("button[type=submit]").click()
    officer.wait_for_load_state("networkidle")
    settlement = Settlement.objects.get(budget=iw.budget)
    assert settlement.version == 1
    officer.goto(f"{base}/insurance/settlements/{settlement.public_id}/")
    expect(officer.locator("[data-testid=settlement-pool]")).to_have_text(str(settlement.pool))
    shares = sum((share.amount for share in settlement.shares.all()), Decimal("0"))
    assert shares == settlement.consortium_amount
    expect(officer.locator("[data-testid=settlement-share]")).to_have_count(settlement.shares.count())
