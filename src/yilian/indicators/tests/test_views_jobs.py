"""Refresh jobs: a requested refresh runs in the worker, the stale-marks task, the indicators_refresh command."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from yilian.indicators import services
from yilian.indicators.choices import RefreshKind, RefreshStatus
from yilian.indicators.models import IndicatorValue, RefreshRun, StaleMark
from yilian.indicators.tasks import enqueue_refresh, refresh_stale_task, run_refresh
from yilian.indicators.tests.test_views import MARCH, _encounter, make_figures
from yilian.people.tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_requested_refresh(world: Any) -> None:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    fw = make_figures(world)
    IndicatorValue.objects.all().delete()
    run = services.refresh_request(actor=world.office, first_month=MARCH, last_month=MARCH)
    enqueue_refresh(run)  # outside a transaction: enqueued at once
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    run.refresh_from_db()
    assert run.status == RefreshStatus.DONE, run.error
    assert run.months == ["2025-03-01"]
    assert IndicatorValue.objects.filter(
        indicator=fw.share, unit_kind="institution", unit_id=world.hospital.pk
    ).exists()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 1


def test_stale_task_refreshes_only_marked_months(world: Any) -> None:
    fw = make_figures(world)
    _encounter(world.township, person("新病人"), "outpatient", datetime.date(2025, 3, 20))
    services.mark_stale([world.township.pk], [datetime.date(2025, 3, 20)])
    result = refresh_stale_task.call()
    assert result is not None and result["status"] == RefreshStatus.DONE
    value = IndicatorValue.objects.get(
        indicator=fw.visits,
        unit_kind="institution",
        unit_id=world.township.pk,
        period_type="month",
        period_start=MARCH,
    )
    assert value.numerator == 3
    assert not StaleMark.objects.exists()
    assert RefreshRun.objects.get().kind == RefreshKind.INCREMENTAL
    assert refresh_stale_task.call() is None  # nothing marked any more


def test_run_refresh_task_function(world: Any) -> None:
    make_figures(world)
    run = services.refresh_request(actor=world.regulator)
    outcome = run_refresh.call(run.pk)
    assert outcome["status"] == RefreshStatus.DONE


def test_command_full_and_incremental(world: Any, capsys: Any) -> None:
    make_figures(world)
    call_command("indicators_refresh", "--first", "2025-03", "--last", "2025-03")
    assert "full done" in capsys.readouterr().out
    call_command("indicators_refresh", "--incremental")
    assert "nothing marked stale" in capsys.readouterr().out
    services.mark_stale([world.hospital.pk], [MARCH])
    call_command("indicators_refresh", "--incremental")
    assert "incremental done" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("indicators_refresh", "--first", "March")
    with pytest.raises(CommandError):
        call_command("indicators_refresh", "--first", "2025-04", "--last", "2025-03")


def test_a_second_request_for_the_same_queued_months_is_refused(world: Any) -> None:
    from django.test import Client

    from yilian.core.api.testing import api_client
    from yilian.core.exceptions import Conflict

    make_figures(world)
    services.refresh_request(actor=world.office, first_month=MARCH, last_month=MARCH)
    with pytest.raises(Conflict):
        services.refresh_request(actor=world.regulator, first_month=MARCH, last_month=MARCH)
    services.refresh_request(actor=world.office)  # other months: queued beside it
    assert RefreshRun.objects.count() == 2
    browser = Client()
    browser.force_login(world.office)
    page = browser.post(
        "/indicators/refresh/",
        {"first_month": "2025-03", "last_month": "2025-03"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "A refresh of the same months is already queued" in page.content.decode()
    assert RefreshRun.objects.count() == 2
    response = api_client(world.regulator).post("/api/v1/indicator-refreshes", {}, format="json")
    assert response.status_code == 409 and RefreshRun.objects.count() == 2
