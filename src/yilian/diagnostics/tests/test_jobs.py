"""The critical-value escalation sweep runs as a real background job and re-enqueues itself once."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from yilian.diagnostics import services
from yilian.diagnostics.models import CriticalValueAlert
from yilian.diagnostics.tasks import schedule_next_sweep, sweep_critical_alerts
from yilian.diagnostics.tests.factories import diag_world, received_specimen

pytestmark = pytest.mark.django_db


def test_schedule_enqueues_one_waiting_sweep():
    assert schedule_next_sweep() is True
    assert schedule_next_sweep() is False
    waiting = DBTaskResult.objects.filter(
        task_path=sweep_critical_alerts.module_path, status=TaskResultStatus.READY
    )
    assert waiting.count() == 1


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_sweep_which_escalates_overdue_alerts(world):
    dw = diag_world(world)
    received = received_specimen(dw)
    services.order_act(actor=dw.hospital_doctor, order=received, action="claim")
    services.order_act(
        actor=dw.hospital_doctor, order=received, action="sign", conclusion="x", critical_value="K 7"
    )
    CriticalValueAlert.objects.update(
        raised_at=CriticalValueAlert.objects.get().raised_at - datetime.timedelta(hours=1)
    )
    sweep_critical_alerts.enqueue()
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert CriticalValueAlert.objects.get().escalation_level == 1
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).exists()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_schedule_command(capsys):
    call_command("diagnostics_sweep", "--schedule")
    assert "sweep scheduled" in capsys.readouterr().out
