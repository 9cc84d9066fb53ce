"""End to end in Chromium: a township doctor refers a patient up; the county hospital accepts,
schedules, receives and answers with the outcome; the township doctor closes the loop.

Set ``YILIAN_SCREENSHOTS`` to a folder (e.g. docs/guide/img) to save the user-guide screenshots
of the inbox, the new-referral form with its criteria check, and a referral with its timeline.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import logged_in_tab
from yilian.people.models import Person
from yilian.referrals.choices import ReferralStatus
from yilian.referrals.models import Referral, ReferralCriterion
from yilian.referrals.tests.factories import SUMMARY, referral_world

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("YILIAN_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"referrals-{name}.png"), full_page=name == "detail")


def _act(page: Any, action: str, **fields: str) -> None:
    """Fill an action form of the referral page and send it; wait for the page to come back."""
    form = page.locator(f"[data-testid=action-{action}]")
    for name, value in fields.items():
        form.locator(f"[name={action}-{name}]").fill(value)
    form.locator(f"[data-testid=action-{action}-submit]").click()
    page.wait_for_load_state("networkidle")
    # The message names what happened to which 转诊单.
    assert re.search(r"转诊单 \S+", page.inner_text(".messages")), page.inner_text("main")


def test_up_referral_from_township_to_county_hospital_and_back(browser, live_server, world):
    rw = referral_world(world)
    Person.objects.filter(pk=rw.patient.pk).update(name_initials="ls", name_pinyin="lisi")
    ReferralCriterion.objects.create(
        consortium=world.consortium,
        name="高血压控制不佳上转",
        category="consult_then_up",
        icd_from="I10",
        icd_to="I15",
        triggers=["规范治疗后血压仍 ≥ 160/100 mmHg", "出现靶器官损害"],
        required_materials=["history", "exam_results", "medications", "ecg"],
        completeness_threshold=75,
        missing_action="warn",
    )

    # The township doctor writes and sends the referral.
    sender = logged_in_tab(browser, live_server, "township_doctor")
    sender.goto(f"{live_server.url}/referrals/new/")
    with sender.expect_response(lambda response: "/people/options/" in response.url):
        sender.fill("[data-testid=patient-search]", "李四")
    sender.select_option("#id_person", str(rw.patient.public_id))
    # Typing the diagnosis reloads the receiving departments (suggested specialties first).
    with sender.expect_response(lambda response: "/referrals/new/departments/" in response.url):
        sender.fill("#id_diagnosis_code", "I10")
    sender.select_option("#id_to_department", str(rw.cardiology.public_id))
    sender.fill("#id_diagnosis_name", "原发性高血压")
    sender.fill("#id_reason", "规范治疗后血压控制不佳")
    for name in ("history", "exam_results", "medications"):
        sender.fill(f"#id_{name}", SUMMARY[name])
    sender.check("#id_patient_consented")
    # The check answers while the doctor types; wait for the answer to the last keystroke.
    expect(sender.locator("[data-testid=criteria-completeness]")).to_have_text("75%")
    assert "高血压控制不佳上转" in sender.inner_text("[data-testid=criteria-rule]")
    assert "心电图" in sender.inner_text("[data-testid=criteria-missing]")
    assert sender.inner_text("[data-testid=criteria-direction]") == "上转"
    sender.evaluate("window.scrollTo(0, 0)")
    _shot(sender, "new")
    sender.check("#id_acknowledge_missing")
    sender.click("[data-testid=submit-referral]")
    sender.wait_for_url(re.compile(r"/referrals/[0-9a-f-]{36}/$"))
    assert sender.get_attribute("[data-testid=referral-status]", "data-status") == "submitted"
    referral = Referral.objects.get()
    assert referral.criteria_met is True and referral.missing_materials == ["ecg"]

    # The hospital doctor sees it in the inbox with the badge and answers it.
    receiver = logged_in_tab(browser, live_server, "hospital_doctor")
    assert receiver.inner_text("[data-testid=notification-count]") == "1"
    receiver.goto(f"{live_server.url}/referrals/inbox/")
    row = receiver.locator("[data-testid=referral-row]", has_text=referral.number)
    assert "李四" in row.inner_text() and "待接收" in row.inner_text()
    _shot(receiver, "inbox")
    row.locator("[data-testid=referral-link]").click()
    receiver.wait_for_url(re.compile(rf"/referrals/{referral.public_id}/$"))
    offered = receiver.locator("form[data-testid^=action-]").evaluate_all(
        "forms => forms.map(f => f.dataset.testid)"
    )
    assert offered == ["action-accept", "action-decline", "action-redirect"]
    _act(receiver, "accept", note="请患者明日上午就诊")
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    _act(receiver, "schedule", scheduled_for=tomorrow)
    assert receiver.inner_text("[data-testid=scheduled-for]").startswith(tomorrow)
    _act(receiver, "arrive")
    _act(
        receiver,
        "complete",
        outcome_diagnosis_code="I10.x00",
        outcome_diagnosis_name="高血压 3 级（高危）",
        outcome_summary="调整为联合降压方案，血压降至 138/86 mmHg",
        follow_up_plan="回社区每两周随访血压",
    )
    assert receiver.get_attribute("[data-testid=referral-status]", "data-status") == "completed"

    # The township doctor reads the outcome (notified) and closes the loop.
    sender.goto(f"{live_server.url}/notifications/")
    assert sender.locator("[data-testid=notification-row][data-unread='1']").count() >= 1
    sender.locator("[data-testid=notification-row]", has_text="转诊结果已回传").locator(
        "[data-testid=notification-open]"
    ).click()
    sender.wait_for_url(re.compile(rf"/referrals/{referral.public_id}/$"))
    assert "138/86" in sender.inner_text("[data-testid=outcome-summary]")
    _act(sender, "close")
    assert sender.get_attribute("[data-testid=referral-status]", "data-status") == "closed"
    steps = sender.locator("[data-testid=timeline-step]").evaluate_all(
        "items => items.map(i => i.dataset.action)"
    )
    assert steps == ["create", "submit", "accept", "schedule", "arrive", "complete", "close"]
    assert "请患者明日上午就诊" in sender.inner_text("[data-testid=timeline]")
    assert Referral.objects.get().status == ReferralStatus.CLOSED
    _shot(sender, "detail")
    for tab in (sender, receiver):
        tab.context.close()
