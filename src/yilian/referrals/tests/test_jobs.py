"""The deadline sweep runs as a real background job and re-enqueues itself once."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from yilian.referrals.choices import ReferralStatus
from yilian.referrals.models import Referral
from yilian.referrals.tasks import schedule_next_sweep, sweep_referral_deadlines
from yilian.referrals.tests.factories import referral_world, submitted

pytestmark = pytest.mark.django_db


def test_schedule_enqueues_one_waiting_sweep():
    assert schedule_next_sweep() is True
    assert schedule_next_sweep() is False
    waiting = DBTaskResult.objects.filter(
        task_path=sweep_referral_deadlines.module_path, status=TaskResultStatus.READY
    )
    assert waiting.count() == 1


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_sweep_which_expires_overdue_referrals(world):
    rw = referral_world(world)
    referral = submitted(rw)
    Referral.objects.filter(pk=referral.pk).update(
        answer_due_at=referral.answer_due_at - datetime.timedelta(days=10)
    )
    sweep_referral_deadlines.enqueue()
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.EXPIRED
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).exists()
    # the finished sweep scheduled its successor
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_command_runs_the_sweep_now(world, capsys):
    call_command("referrals_sweep")
    assert "expired_unanswered=0" in capsys.readouterr().out
