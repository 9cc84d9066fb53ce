"""The diagnostics side of ``seed-demo``: every list has content for its demo account, and the data agrees."""

from __future__ import annotations

import datetime
import io
import itertools
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from yilian.accounts.models import User
from yilian.core.models import AuditEvent
from yilian.demo import diagnostics_content as dc
from yilian.demo.seeding import count_rows
from yilian.diagnostics import selectors
from yilian.diagnostics.choices import ENDED_STATUSES, PENDING_STATUSES, SPECIMEN_KINDS, OrderStatus
from yilian.diagnostics.models import (
    CriticalValueAlert,
    DiagnosticOrder,
    RecognitionDecision,
    RecognitionRule,
    SharedCentre,
)
from yilian.diagnostics.services._common import barcode_for
from yilian.people.models import PersonInstitutionLink

pytestmark = pytest.mark.django_db

REDUCED = ("--persons", "40", "--village-limit", "2", "--referral-months", "2")
"""Two full months of history and the current one, two village clinics per township."""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded() -> str:
    out = io.StringIO()
    call_command("seed_demo", *REDUCED, stdout=out)
    return out.getvalue()


def user(username: str) -> User:
    return User.objects.get(username=username)


def centre(kind: str) -> SharedCentre:
    return SharedCentre.objects.get(kind=kind, hub_institution__name="金寨县人民医院")


def test_running_twice_changes_nothing(seeded):
    assert "检查检验申请 diagnostic orders" in seeded and "远程会诊 teleconsultations" in seeded
    before = count_rows()
    call_command("seed_demo", *REDUCED, stdout=io.StringIO())
    assert count_rows() == before


def check_configuration_by_the_office() -> None:
    office = user("office")
    centres = list(selectors.centre_list(office))
    assert {c.kind for c in centres} == {"imaging", "ecg", "lab", "pathology", "sterilisation"}
    for row in centres:
        served = {i.category for i in row.served_institutions.all()}
        assert {"C210", "C220"} <= served, row.name
        assert row.department is not None and row.department.institution_id == row.hub_institution_id
    assert "D600" in {i.category for i in centre("lab").served_institutions.all()}
    prices = {item.name: item.price for item in selectors.item_list(office)}
    assert prices["血常规"] == Decimal("20") and prices["胸部DR"] == Decimal("80")
    assert prices["头颅CT平扫"] == Decimal("180") and prices["活检组织病理"] == Decimal("260")
    assert selectors.rule_list(office).count() == len(dc.RULES)
    assert RecognitionRule.objects.get(item_code="YX001").scope == "region"
    created = Counter(
        AuditEvent.objects.filter(action__startswith="diagnostics.", actor__username="office").values_list(
            "action", flat=True
        )
    )
    assert created["diagnostics.centre_create"] == 5
    assert created["diagnostics.item_create"] == sum(len(items) for items in dc.CATALOGUE.values())


def check_every_list_has_content() -> None:
    township_doctor = user("township_doctor")
    sent = selectors.order_list(township_doctor, selectors.OrderFilters(box="ordering"))
    statuses = set(sent.values_list("status", flat=True))
    assert {"ordered", "collected", "in_transit", "received", "reading", "final", "rejected"} <= statuses
    assert {"awaiting_second"} <= statuses
    open_alerts = selectors.critical_alert_list(township_doctor, open_only=True)
    assert open_alerts.count() >= 2
    assert all(alert.recipient == township_doctor for alert in open_alerts)
    assert selectors.critical_alert_list(township_doctor).filter(acknowledged_at__isnull=False).exists()
    for username, kind in (
        ("radiologist", "imaging"),
        ("doctor", "ecg"),
        ("lab_doctor", "lab"),
        ("lab_tech", "lab"),
        ("pathology_chief", "pathology"),
    ):
        pending = selectors.reading_list(user(username), centre(kind))
        assert pending.exists(), (username, kind)
    imaging = selectors.reading_list(user("radiologist"), centre("imaging"))
    assert len({order.priority for order in imaging}) >= 2
    assert imaging.first().priority == "stat"
    awaiting = selectors.reading_list(user("pathology_chief"), centre("pathology"), status="awaiting_second")
    assert "second_sign" in selectors.available_actions(user("pathology_chief"), awaiting.first())
    assert DiagnosticOrder.objects.filter(status="in_transit").exists()
    chest = DiagnosticOrder.objects.filter(files__isnull=False).first()
    assert chest is not None and selectors.order_files(chest).exists()
    for username in ("office", "regulator"):
        assert selectors.order_list(user(username)).exists()


def check_the_dashboard_is_plausible() -> None:
    figures = selectors.dashboard(user("office"))
    total = sum(row["total"] for row in figures.per_centre)
    rejected = sum(row["rejected"] for row in figures.per_centre)
    assert total > 300
    assert rejected / total < 0.04
    for row in figures.per_centre:
        if row["final"] >= 20:
            assert row["on_target_rate"] >= 75, row
    kinds = Counter({row["kind"]: row["total"] for row in figures.per_centre})
    assert kinds["lab"] > kinds["imaging"] > kinds["pathology"] and kinds["lab"] > kinds["ecg"]
    assert len(figures.per_member) >= 10
    critical = figures.critical
    assert critical["total"] >= 2 and critical["unacknowledged"] >= 2
    assert critical["total"] / total < 0.02
    assert critical["ack_p50_minutes"] is not None and critical["ack_p50_minutes"] < 30
    recognition = figures.recognition
    assert recognition["used"] >= 1 and recognition["repeated"] >= 1
    assert Decimal(recognition["money_saved"]) > 0


def check_live_orders_are_in_the_audit_log() -> None:
    actions = Counter(
        AuditEvent.objects.filter(action__startswith="diagnostics.", actor__isnull=False).values_list(
            "actor__username", "action"
        )
    )
    assert actions[("township_doctor", "diagnostics.create")] >= 12
    assert actions[("township_doctor", "diagnostics.upload")] >= 4
    assert actions[("lab_tech", "diagnostics.receive")] >= 3
    assert actions[("radiologist", "diagnostics.claim")] == 1
    assert actions[("township_doctor", "diagnostics.critical_ack")] == 1
    assert actions[("admin", "diagnostics.bulk_create")] == 1


def test_the_lists_have_content(seeded):
    """One seeding, read as the configuration, order lists, reading lists and dashboard read it."""
    check_configuration_by_the_office()
    check_every_list_has_content()
    check_the_dashboard_is_plausible()
    check_live_orders_are_in_the_audit_log()


def _in_chinese(render):
    with translation.override("zh-hans"):
        return str(render())


def test_orders_reports_and_timelines_agree(seeded):
    now = timezone.now()
    numbers = set()
    orders = DiagnosticOrder.objects.select_related("centre", "item").prefetch_related(
        "events", "reports", "files"
    )
    assert orders.count() > 300
    for order in orders:
        events = sorted(order.events.all(), key=lambda e: (e.occurred_at, e.id))
        assert events and events[0].action == "create", order.number
        assert events[-1].to_status == order.status, order.number
        assert all(e.occurred_at <= now for e in events), order.number
        # Status changes chain up (the service notes a critical value just before the signature it
        # comes with, so steps that change nothing are left out of the chain).
        changes = [e for e in events if e.from_status != e.to_status]
        for before, after in itertools.pairwise(changes):
            assert after.from_status == before.to_status, (order.number, before.action, after.action)
        # A step that says files were uploaded has them: "上传 N 个文件" promises N StudyFile rows.
        promised = [
            int(m)
            for e in events
            if e.action == "upload"
            # The note renders in the active language; another test may have left English active.
            for m in re.findall(r"上传 (\d+) 个文件", _in_chinese(lambda e=e: e.display_note))
        ]
        assert len(order.files.all()) == sum(promised), order.number
        assert all(order.received_at is None or f.created_at >= order.ordered_at for f in order.files.all())
        assert re.fullmatch(r"JC\d{13}", order.number) and order.number not in numbers
        numbers.add(order.number)
        if order.centre.kind in SPECIMEN_KINDS:
            assert order.barcode == barcode_for(order.number)
        moments = [order.ordered_at, order.collected_at, order.dispatched_at, order.received_at, order.claimed_at,
                   order.reported_at, order.final_at]  # fmt: skip
        present = [m for m in moments if m is not None]
        assert present == sorted(present), order.number
        reports = sorted(order.reports.all(), key=lambda r: r.version)
        statuses = [r.status for r in reports]
        if order.status == OrderStatus.FINAL:
            assert statuses[-1] == "final" and reports[-1].conclusion, order.number
            assert order.final_at is not None and order.received_at is not None
            assert statuses.count("superseded") == sum(1 for e in events if e.action == "amend")
        elif order.status == OrderStatus.AWAITING_SECOND:
            assert statuses == ["awaiting_second"] and order.needs_second_reader
        elif order.status in (OrderStatus.ORDERED, OrderStatus.COLLECTED, OrderStatus.IN_TRANSIT):
            assert not reports and order.received_at is None
        if order.status == OrderStatus.REJECTED:
            assert order.rejection_reason and order.rejected_at
        if order.status in PENDING_STATUSES or order.status == OrderStatus.FINAL:
            assert order.due_at == order.received_at + datetime.timedelta(hours=order.item.turnaround_hours)
        if order.status in ENDED_STATUSES - {OrderStatus.FINAL}:
            assert order.final_at is None
        assert PersonInstitutionLink.objects.filter(
            person_id=order.person_id, institution_id=order.centre.hub_institution_id
        ).exists()
    for alert in CriticalValueAlert.objects.select_related("order"):
        actions = [e.action for e in alert.order.events.all()]
        assert "critical_value" in actions
        assert (alert.acknowledged_at is not None) == ("critical_ack" in actions), alert.order.number
        if alert.acknowledged_at:
            assert alert.acknowledged_at >= alert.raised_at
        assert actions.count("critical_escalate") == alert.escalation_level, alert.order.number
    for decision in RecognitionDecision.objects.select_related("prior_order", "new_order", "rule"):
        prior = decision.prior_order
        assert prior.status == OrderStatus.FINAL and prior.final_at <= decision.created_at
        assert decision.created_at <= prior.final_at + datetime.timedelta(days=decision.rule.validity_days)
        if decision.outcome == "used":
            assert decision.saved_amount == prior.price and decision.new_order is None
        else:
            assert decision.new_order.recognised_prior == prior and decision.reason
