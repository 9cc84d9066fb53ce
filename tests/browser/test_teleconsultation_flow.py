"""End to end in Chromium: a township doctor records the patient's consent and invites the county
hospital to a teleconsultation (远程会诊); the hospital's coordinator accepts it, assigning a qualified
expert, and schedules the session; the expert signs the opinion; the township doctor records the
decision (the patient stays local) and the loop is closed, with both billing records written.

Also in the browser: the invitation without the consent is refused field by field and saves nothing,
and a doctor of the invited institution who is not the expert gets 404 on the teleconsultation.

Set ``YILIAN_SCREENSHOTS`` to a folder (e.g. docs/guide/img) to save screenshots of the invitation
form, the incoming list and the concluded teleconsultation with its timeline.
"""

from __future__ import annotations

import datetime
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import logged_in_tab
from yilian.telemedicine.choices import ChargeDirection, TeleconsultationStatus
from yilian.telemedicine.models import Teleconsultation, TeleconsultationCharge, TeleconsultationEvent
from yilian.telemedicine.tests.factories import TeleWorld, later, session_started, slot, tele_world

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("YILIAN_SCREENSHOTS", "")
MEETING_LINK = "https://meet.example.cn/r/hq-2026"
OPINION = "考虑高血压 3 级，建议加用 ARB 类降压药，两周后复查血压与肾功能。"


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(Path(SCREENSHOTS) / f"telemedicine-{name}.png"), full_page=name != "incoming"
        )


def _local(moment: datetime.datetime) -> str:
    """A moment as a datetime-local input takes it (the server's local time)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _offered(page: Any) -> list[str]:
    """The action forms the page offers, in order."""
    return page.locator("form[data-testid^=action-]").evaluate_all(
        "forms => forms.map(f => f.dataset.testid)"
    )


def _status(page: Any) -> str:
    return page.get_attribute("h1 [data-testid=teleconsultation-status]", "data-status")


def _act(page: Any, action: str, **fields: str) -> None:
    """Fill an action form of the teleconsultation page and send it; wait for the page to come back.

    A select is chosen by its option's label, any other field is typed into.
    """
    form = page.locator(f"[data-testid=action-{action}]")
    for name, value in fields.items():
        field = form.locator(f"[name={action}-{name}]")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    form.locator(f"[data-testid=action-{action}-submit]").click()
    page.wait_for_load_state("networkidle")
    # The message names what happened to which 会诊单.
    assert re.search(r"会诊单 \S+", page.inner_text(".messages")), page.inner_text("main")


def _open_from_list(page: Any, box: str, number: str) -> Any:
    """Open the list tab ``box`` and find the teleconsultation's row (exactly one)."""
    page.goto(f"{page.base_url}/telemedicine/{box}/")
    row = page.locator("[data-testid=teleconsultation-row]", has_text=number)
    expect(row).to_have_count(1)
    return row


def _fill_invitation(page: Any, tw: TeleWorld, *, consent: bool) -> None:
    """The invitation as the township doctor types it; the free times follow the chosen requirements."""
    page.select_option("#id_kind", label="会诊")
    page.select_option("#id_inviting_institution", str(tw.world.township.public_id))
    page.select_option("#id_inviting_department", str(tw.township_clinic.public_id))
    # The patient is found with the resident picker (its search answers from people:options).
    with page.expect_response(lambda response: "/people/options/" in response.url):
        page.fill("[data-testid=patient-search]", "李四")
    page.select_option("#id_person", str(tw.patient.public_id))
    # Choosing the invited institution, specialty and title reloads the experts' free times (htmx).
    for selector, value in (
        ("#id_invited_institution", str(tw.world.hospital.public_id)),
        ("#id_required_specialty", "03"),
        ("#id_required_title", "associate_chief_physician"),
    ):
        with page.expect_response(lambda response: "/telemedicine/new/free-times/" in response.url):
            page.select_option(selector, value)
    page.fill("#id_proposed_at", _local(later(48)))
    page.fill("#id_reason", "规范治疗后血压控制不佳，近一周反复胸闷")
    page.fill("#id_purpose", "明确诊断，调整降压方案")
    page.fill("#id_case_summary", "高血压病史 10 年，服用氨氯地平 5 mg/日，血压 170/105 mmHg。")
    page.fill("#id_exam_results", "心电图：左室高电压。")
    page.fill("#id_diagnosis_code", "I10")
    page.fill("#id_diagnosis_name", "原发性高血压")
    if consent:
        page.fill("#id_consent_signer_name", "李四")
        page.select_option("#id_consent_relationship", label="患者本人")
        page.fill("#id_consent_signed_at", _local(timezone.now() - datetime.timedelta(minutes=10)))


def test_teleconsultation_from_invitation_to_decision(browser, live_server, world):
    tw = tele_world(world)
    cardiology_time = slot(tw, hours=30)
    surgery_time = slot(tw, expert=tw.surgeon, hours=32)

    # The township doctor records the consent and sends the invitation.
    inviting = logged_in_tab(browser, live_server, "township_doctor")
    inviting.goto(f"{live_server.url}/telemedicine/")
    inviting.click("[data-testid=teleconsultation-new]")
    inviting.wait_for_url(re.compile(r"/telemedicine/new/$"))
    # The consent section tells the fee of the consortium's agreement.
    assert "会诊 300.00 元" in inviting.inner_text("[data-testid=fee-notice]")
    options = inviting.locator("[data-testid=free-times] option")
    surgery_option = inviting.locator(f"[data-testid=free-times] option[value='{surgery_time.public_id}']")
    expect(surgery_option).to_have_count(1)
    _fill_invitation(inviting, tw, consent=True)
    # Once the invited institution is chosen, the notice names the shared consortium and this fee.
    expect(inviting.locator("[data-testid=fee-applicable]")).to_contain_text(
        f"按{tw.world.consortium.name}协议收费标准，本次会诊收费 300.00 元"
    )
    # Once cardiology is required, only the free times of experts who qualify are offered.
    expect(surgery_option).to_have_count(0)
    expect(options).to_have_count(2)
    assert options.evaluate_all("options => options.map(o => o.value)") == [
        "",
        str(cardiology_time.public_id),
    ]
    _shot(inviting, "new")
    inviting.click("[data-testid=teleconsultation-submit]")
    inviting.wait_for_url(re.compile(r"/telemedicine/[0-9a-f-]{36}/$"))
    assert "已发出远程会诊邀请" in inviting.inner_text(".messages")
    tc = Teleconsultation.objects.get()
    number = tc.number
    assert inviting.inner_text("[data-testid=teleconsultation-number]") == number
    assert _status(inviting) == TeleconsultationStatus.REQUESTED
    assert inviting.inner_text("h1 [data-testid=teleconsultation-status]") == "待受邀方响应"
    assert inviting.inner_text("[data-testid=fee-amount]") == "300.00 元"
    assert "李四（患者本人）" in inviting.inner_text("[data-testid=consent]")
    assert inviting.locator("[data-testid=timeline-step]").evaluate_all(
        "items => items.map(i => i.dataset.action)"
    ) == ["create"]
    assert _offered(inviting) == ["action-cancel"]
    assert tc.diagnosis_code == "I10" and tc.required_title == "associate_chief_physician"
    assert tc.consent_signer_name == "李四" and tc.consent_relationship == "patient"

    # The hospital's coordinator is notified, finds it among the incoming, accepts it with an expert
    # and schedules the session.
    invited = logged_in_tab(browser, live_server, "coordinator")
    assert invited.inner_text("[data-testid=notification-count]") == "1"
    row = _open_from_list(invited, "incoming", number)
    assert "李四" in row.inner_text() and "待受邀方响应" in row.inner_text()
    _shot(invited, "incoming")
    row.locator("[data-testid=teleconsultation-link]").click()
    invited.wait_for_url(re.compile(rf"/telemedicine/{tc.public_id}/$"))
    assert _offered(invited) == ["action-accept", "action-decline"]
    # Only doctors whose title and specialty qualify are offered as the expert.
    experts = invited.locator("[name=accept-expert] option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    assert experts == ["", str(tw.expert.public_id)]
    _act(invited, "accept", expert="王主任（主任医师）", note="由心血管内科王主任会诊")
    assert _status(invited) == TeleconsultationStatus.ACCEPTED
    assert "王主任" in invited.inner_text("[data-testid=expert]")
    assert _offered(invited) == ["action-assign", "action-schedule"]
    session = later(50)
    _act(invited, "schedule", scheduled_at=_local(session), meeting_link=MEETING_LINK)
    assert _status(invited) == TeleconsultationStatus.SCHEDULED
    assert invited.inner_text("[data-testid=scheduled-at]") == _local(session).replace("T", " ")
    assert invited.inner_text("[data-testid=meeting-link]") == MEETING_LINK

    # A doctor of the hospital who is not the expert (same department) cannot open it.
    bystander = logged_in_tab(browser, live_server, "junior")
    response = bystander.goto(f"{live_server.url}/telemedicine/{tc.public_id}/")
    assert response is not None and response.status == 404
    bystander.goto(f"{live_server.url}/telemedicine/assigned/")
    expect(bystander.locator("[data-testid=teleconsultation-empty]")).to_be_visible()

    # The session begins (an opinion is signed only once it has), and the expert finds it among the
    # assigned and writes and signs the opinion.
    session_started(tc)
    expert = logged_in_tab(browser, live_server, "expert")
    row = _open_from_list(expert, "assigned", number)
    assert "已排期" in row.inner_text()
    row.locator("[data-testid=teleconsultation-link]").click()
    expert.wait_for_url(re.compile(rf"/telemedicine/{tc.public_id}/$"))
    assert expert.inner_text("[data-testid=meeting-link]") == MEETING_LINK
    assert "高血压病史 10 年" in expert.inner_text("[data-testid=case-summary]")
    assert _offered(expert) == ["action-sign_opinion"]
    _act(expert, "sign_opinion", opinion=OPINION)
    assert _status(expert) == TeleconsultationStatus.OPINION_SIGNED
    assert expert.inner_text("[data-testid=opinion]") == OPINION

    # The township doctor reads the opinion and records the decision: the patient stays local.
    inviting.goto(f"{live_server.url}/telemedicine/{tc.public_id}/")
    assert inviting.inner_text("[data-testid=opinion]") == OPINION
    assert _offered(inviting) == ["action-conclude"]
    _act(inviting, "conclude", decision="按会诊意见加用缬沙坦，社区随访血压", outcome="留在本地治疗")
    assert _status(inviting) == TeleconsultationStatus.CONCLUDED
    assert inviting.inner_text("h1 [data-testid=teleconsultation-status]") == "已完成"
    assert inviting.inner_text("[data-testid=outcome]") == "留在本地治疗"
    expect(inviting.locator("[data-testid=action-panel]")).to_have_count(0)
    steps = inviting.locator("[data-testid=timeline-step]").evaluate_all(
        "items => items.map(i => i.dataset.action)"
    )
    assert steps == ["create", "accept", "schedule", "sign_opinion", "conclude"]
    assert "由心血管内科王主任会诊" in inviting.inner_text("[data-testid=timeline]")
    _shot(inviting, "detail")

    # The record, as the pages left it.
    tc.refresh_from_db()
    assert tc.status == TeleconsultationStatus.CONCLUDED and tc.outcome == "stayed_local"
    assert tc.expert == tw.expert and tc.meeting_link == MEETING_LINK and tc.referral is None
    events = TeleconsultationEvent.objects.filter(teleconsultation=tc).order_by("occurred_at", "id")
    assert list(events.values_list("action", flat=True)) == steps
    charges = {c.direction: c for c in TeleconsultationCharge.objects.filter(teleconsultation=tc)}
    assert set(charges) == {ChargeDirection.PAYABLE, ChargeDirection.RECEIVABLE}
    assert TeleconsultationCharge.objects.filter(teleconsultation=tc).count() == 2
    payable, receivable = charges[ChargeDirection.PAYABLE], charges[ChargeDirection.RECEIVABLE]
    assert (payable.institution, payable.counterpart) == (tw.world.township, tw.world.hospital)
    assert (receivable.institution, receivable.counterpart) == (tw.world.hospital, tw.world.township)
    assert payable.amount == receivable.amount == Decimal("300")
    for tab in (inviting, invited, bystander, expert):
        tab.context.close()


def test_invitation_without_consent_is_refused_and_saves_nothing(browser, live_server, world):
    tw = tele_world(world)
    inviting = logged_in_tab(browser, live_server, "township_doctor")
    inviting.goto(f"{live_server.url}/telemedicine/new/")
    _fill_invitation(inviting, tw, consent=False)
    inviting.click("[data-testid=teleconsultation-submit]")
    inviting.wait_for_load_state("networkidle")
    expect(inviting.locator("[data-testid=error-consent_signer_name]")).to_be_visible()
    assert re.search(r"/telemedicine/new/$", inviting.url)
    # Each part of the consent is asked for; nothing else in the invitation is faulted.
    errors = inviting.locator("small.error").evaluate_all("items => items.map(i => i.dataset.testid)")
    assert errors == ["error-consent_signer_name", "error-consent_relationship", "error-consent_signed_at"]
    assert "书面知情同意" in inviting.inner_text("[data-testid=error-consent_signer_name]")
    # What was typed is kept for the doctor to complete.
    assert inviting.input_value("#id_case_summary").startswith("高血压病史 10 年")
    assert not Teleconsultation.objects.exists()
    assert not TeleconsultationEvent.objects.exists()
    inviting.context.close()
