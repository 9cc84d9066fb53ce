"""End to end in Chromium: capacity building (能力建设).

A county-hospital cardiologist publishes a teaching round open to every member and signs in two
township staff; a township doctor finds it under "我参加的". The township doctor reports a fault of a
donated electrocardiograph; the hospital's engineer takes it from the worklist and records the repair
(free of charge); the township sees it repaired. A second engineer who opens the request after it was
taken is offered no "接单" any more. Bad input (a course without a title) is refused and saves nothing.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import logged_in_tab
from yilian.capacity_building.models import MaintenanceRequest, TrainingCourse
from yilian.capacity_building.tests.factories import cap_world, device

pytestmark = pytest.mark.django_db(transaction=True)


def test_teaching_round_and_repair(browser, live_server, world):
    cw = cap_world(world)
    ecg = device(cw)
    today = timezone.localdate().isoformat()

    teacher = logged_in_tab(browser, live_server, "teacher")
    teacher.goto(f"{live_server.url}/capacity/")
    teacher.click("[data-testid=course-new]")
    teacher.select_option("[name=kind]", "teaching_round")
    teacher.fill("[name=trainers]", "王主任")
    teacher.fill("[name=place]", "心内科示教室")
    teacher.fill("[name=starts_on]", today)
    teacher.click("[data-testid=course-submit]")
    expect(teacher.locator("[data-testid=error-title]")).to_be_visible()
    assert not TrainingCourse.objects.exists()

    teacher.fill("[name=title]", "急性胸痛识别教学查房")
    teacher.click("[data-testid=course-submit]")
    expect(teacher.locator("[data-testid=course-title]")).to_have_text("急性胸痛识别教学查房")
    teacher.select_option(
        "[name=sign_in-users]", [str(cw.township_doctor.public_id), str(cw.township_nurse.public_id)]
    )
    teacher.click("[data-testid=action-sign_in-submit]")
    expect(teacher.locator("[data-testid=attendance-row]")).to_have_count(2)
    expect(teacher.locator("[data-testid=attendance-summary]")).to_contain_text(world.township.name)

    doctor = logged_in_tab(browser, live_server, "township_doctor")
    doctor.goto(f"{live_server.url}/capacity/?box=attended")
    expect(doctor.locator("[data-testid=course-row]")).to_have_count(1)

    doctor.goto(f"{live_server.url}/capacity/devices/{ecg.public_id}/")
    doctor.fill("[name=report-fault_description]", "导联线接触不良，胸导联干扰大")
    doctor.click("[data-testid=action-report-submit]")
    expect(doctor.locator("[data-testid=repair-row]")).to_have_count(1)
    request = MaintenanceRequest.objects.get()

    engineer = logged_in_tab(browser, live_server, "engineer")
    engineer.goto(f"{live_server.url}/capacity/maintenance/?box=worklist")
    engineer.click("[data-testid=maintenance-link]")
    engineer.click("[data-testid=action-take-submit]")
    expect(engineer.locator("[data-testid=engineer]")).to_contain_text(cw.engineer.full_name or "")
    engineer.fill("[name=complete-work_done]", "更换导联线并校准")
    engineer.fill("[name=complete-parts]", "导联线")
    engineer.click("[data-testid=action-complete-submit]")
    expect(engineer.locator("h1 [data-testid=status]")).to_have_attribute("data-status", "repaired")

    late = logged_in_tab(browser, live_server, "engineer2")
    late.goto(f"{live_server.url}/capacity/maintenance/{request.public_id}/")
    expect(late.locator("[data-testid=action-take]")).to_have_count(0)

    doctor.goto(f"{live_server.url}/capacity/maintenance/?box=requests")
    expect(doctor.locator("[data-testid=maintenance-row] [data-testid=status]")).to_have_attribute(
        "data-status", "repaired"
    )
