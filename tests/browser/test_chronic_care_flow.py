"""End to end in Chromium: a township GP enrols a hypertensive resident (建档), records a follow-up with an
impossible blood pressure (refused field by field, nothing saved), then two uncontrolled follow-ups; the
follow-up rule suggests a referral; the GP opens the prefilled confirm page and sends it in one action to
the lead hospital's cardiology. The case then shows in the overdue list once its check date passes, and the
consortium office sees the rates without names.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import login
from yilian.accounts.tests.factories import PASSWORD
from yilian.chronic_care.models import ChronicCase, FollowUp
from yilian.chronic_care.tests.factories import care_world

pytestmark = pytest.mark.django_db(transaction=True)


def _day(days: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def _follow_up(page: Any, days: int, sbp: str, dbp: str) -> None:
    page.fill("[name=visited_on]", _day(days))
    page.fill("[name=systolic]", sbp)
    page.fill("[name=diastolic]", dbp)
    page.click("[data-testid=follow-up-submit]")
    page.wait_for_load_state("networkidle")


def test_enrol_follow_up_and_send_suggested_referral(page: Any, world: Any) -> None:
    cw = care_world(world)
    login(page, "gp", PASSWORD)
    page.goto(f"{page.base_url}/chronic-care/enrol/?person={cw.patient.public_id}")
    page.select_option("[name=registry]", "hypertension")
    page.fill("[name=diagnosis_code]", "I10.x00")
    page.select_option("[name=care_team]", str(cw.team.public_id))
    page.fill("[name=enrolled_on]", _day(90))
    page.click("[data-testid=enrol-submit]")
    page.wait_for_load_state("networkidle")
    expect(page.locator("[data-testid=follow-up-form]")).to_be_visible()
    case = ChronicCase.objects.get()

    _follow_up(page, 40, "400", "90")
    expect(page.locator("[data-testid=error-systolic]")).to_contain_text("60–300")
    assert not FollowUp.objects.exists()

    _follow_up(page, 40, "162", "98")
    expect(page.locator("[data-testid=control]").first).to_contain_text("控制不满意")
    page.goto(f"{page.base_url}/chronic-care/cases/{case.public_id}/follow-up/")
    _follow_up(page, 3, "168", "100")
    expect(page.locator("[data-testid=suggestion]")).to_contain_text("连续两次随访控制不满意")

    page.click("[data-testid=refer-open]")
    page.wait_for_load_state("networkidle")
    form = page.locator("[data-testid=refer-form]")
    expect(form.locator("[name=to_department] option:checked")).to_contain_text("心血管内科")
    assert "168/100" in form.locator("[name=exam_results]").input_value()
    form.locator("[name=patient_consented]").check()
    form.locator("[name=acknowledge_missing]").check()
    page.click("[data-testid=refer-submit]")
    page.wait_for_load_state("networkidle")
    assert "/referrals/" in page.url
    follow_up = FollowUp.objects.order_by("-visited_on").first()
    assert follow_up.referral is not None and follow_up.referral.status == "submitted"
    assert follow_up.referral.to_department == cw.cardiology

    page.goto(f"{page.base_url}/chronic-care/follow-ups/{follow_up.public_id}/")
    expect(page.locator("[data-testid=linked-referral]")).to_contain_text(follow_up.referral.number)
    page.goto(f"{page.base_url}/chronic-care/overdue/?within=30")
    expect(page.locator("[data-testid=overdue-row]")).to_have_count(1)


def test_office_reads_rates_without_names(page: Any, world: Any) -> None:
    from yilian.chronic_care.tests.factories import enrol, visit

    cw = care_world(world)
    case = enrol(cw)
    visit(cw, case, days=2)
    login(page, "office", PASSWORD)
    page.goto(f"{page.base_url}/chronic-care/rates/?group=team")
    expect(page.locator("[data-testid=rate-row]")).to_have_count(1)
    expect(page.locator("[data-testid=definitions]")).to_contain_text("工作定义")
    assert "王老汉" not in page.content()
    response = page.goto(f"{page.base_url}/chronic-care/cases/{case.public_id}/")
    assert response is not None and response.status == 404
