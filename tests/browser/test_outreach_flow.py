"""End to end in Chromium: the county hospital's administrator records a dispatch batch (派出批次) to the
township centre and adds the expert's clinic session with its workload; bad input is refused field by
field and saves nothing; the batch is marked done; the township's administrator confirms it and the
timeline shows each step. Then the expert publishes an expert clinic session (专家门诊) at the township,
the township doctor finds a resident and books a slot, and the office sees the booking masked.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import logged_in_tab
from yilian.outreach.models import ClinicBooking, ExpertClinicSession, OutreachBatch, OutreachVisit
from yilian.outreach.tests.factories import outreach_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_batch_recorded_done_and_confirmed(browser, live_server, world):
    ow = outreach_world(world)
    admin = logged_in_tab(browser, live_server, "hospital_admin")
    admin.goto(f"{live_server.url}/outreach/batches/new/")
    day = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    admin.select_option("select[name=host_institution]", str(world.township.public_id))
    admin.fill("input[name=starts_on]", day)
    admin.fill("input[name=ends_on]", day)
    admin.click("[data-testid=batch-submit]")
    expect(admin.locator("[data-testid=error-purpose]")).to_be_visible()
    assert not OutreachBatch.objects.exists()
    admin.fill("input[name=purpose]", "心内科专家坐诊")
    admin.click("[data-testid=batch-submit]")
    expect(admin.locator("[data-testid=batch-number]")).to_be_visible()

    form = admin.locator("[data-testid=visit-form]")
    form.locator("select[name=expert]").select_option(str(ow.expert.public_id))
    form.locator("select[name=kind]").select_option("clinic")
    form.locator("input[name=patients_seen]").fill("28")
    form.locator("input[name=hazards_found]").fill("1")
    form.locator("input[name=hazards_fixed]").fill("2")
    form.locator("[data-testid=visit-submit]").click()
    expect(admin.locator("[data-testid=error-hazards_fixed]")).to_be_visible()
    assert not OutreachVisit.objects.exists()
    form = admin.locator("[data-testid=visit-form]")
    form.locator("input[name=hazards_fixed]").fill("1")
    form.locator("textarea[name=findings]").fill("高血压患者 5 例调整用药。")
    form.locator("[data-testid=visit-submit]").click()
    expect(admin.locator("[data-testid=visit-row]")).to_have_count(1)
    admin.click("[data-testid=action-complete-submit]")
    expect(admin.locator("[data-testid=outreach-status]").first).to_have_attribute("data-status", "done")

    township = logged_in_tab(browser, live_server, "township_admin")
    batch = OutreachBatch.objects.get()
    township.goto(f"{live_server.url}/outreach/?box=received")
    township.click("[data-testid=batch-link]")
    expect(township.locator("[data-testid=batch-person-times]")).to_have_text("1")
    township.click("[data-testid=action-confirm-submit]")
    expect(township.locator("[data-testid=outreach-status]").first).to_have_attribute(
        "data-status", "confirmed"
    )
    expect(township.locator("[data-testid=timeline-step]")).to_have_count(4)
    batch.refresh_from_db()
    assert batch.status == "confirmed" and batch.confirmed_by == world.township_admin


def test_expert_clinic_published_and_booked(browser, live_server, world):
    ow = outreach_world(world)
    expert = logged_in_tab(browser, live_server, "expert")
    expert.goto(f"{live_server.url}/outreach/sessions/new/")
    day = timezone.localdate() + datetime.timedelta(days=2)
    expert.select_option("select[name=host_institution]", str(world.township.public_id))
    expert.fill("input[name=starts_at]", f"{day.isoformat()}T08:30")
    expert.fill("input[name=ends_at]", f"{day.isoformat()}T09:30")
    expert.select_option("select[name=slot_minutes]", "15")
    expert.click("[data-testid=session-submit]")
    expect(expert.locator("[data-testid=slot-row]")).to_have_count(4)
    session = ExpertClinicSession.objects.get()

    doctor = logged_in_tab(browser, live_server, "township_doctor")
    doctor.goto(f"{live_server.url}/outreach/sessions/?week={day.isoformat()}")
    doctor.click("[data-testid=session-link]")
    doctor.fill("[data-testid=person-q]", "张")
    doctor.press("[data-testid=person-q]", "Enter")
    form = doctor.locator("[data-testid=booking-form]")
    form.locator("select[name=slot]").select_option(index=1)
    form.locator("select[name=person]").select_option(str(ow.resident.public_id))
    form.locator("[data-testid=booking-submit]").click()
    expect(doctor.locator("[data-testid=slot-row][data-booked='1'] [data-testid=slot-person]")).to_have_text(
        "张三"
    )
    assert ClinicBooking.objects.filter(session=session, status="booked").count() == 1

    office = logged_in_tab(browser, live_server, "office")
    office.goto(f"{live_server.url}/outreach/sessions/{session.public_id}/")
    expect(office.locator("[data-testid=slot-row][data-booked='1'] [data-testid=slot-person]")).to_have_text(
        "张*"
    )
    expect(office.locator("[data-testid=patients-masked]")).to_be_visible()
