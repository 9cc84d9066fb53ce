"""End to end in Chromium: a township GP continues the county hospital's prescription as an extended
prescription (延伸处方) for a drug the township does not stock; the county pharmacist dispatches the
delivery from the worklist; the GP signs for it and hands it to the patient; the timeline shows every step.

Also in the browser: a long prescription (长处方) for more days than the consortium allows comes back with
the limit on the form and saves nothing.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import logged_in_tab
from yilian.prescriptions.models import Delivery, Prescription
from yilian.prescriptions.tests.factories import rx_world, source_rx

pytestmark = pytest.mark.django_db(transaction=True)


def test_extended_prescription_and_its_delivery(world, browser, live_server):
    rw = rx_world(world)
    source = source_rx(rw)
    gp = logged_in_tab(browser, live_server, rw.gp.username)
    base = live_server.url

    # A long prescription for 120 days: refused inline, nothing saved.
    gp.goto(f"{base}/prescriptions/new/?kind=long&person={rw.patient.public_id}")
    gp.fill("[name=items-0-drug]", f"{rw.amlodipine.code} {rw.amlodipine.name}")
    gp.fill("[name=items-0-dose]", "1")
    gp.select_option("[name=items-0-frequency]", "qd")
    gp.fill("[name=items-0-days]", "120")
    gp.fill("[name=diagnosis_code]", "I10")
    gp.fill("[name=diagnosis_name]", "原发性高血压")
    gp.click("[data-testid=rx-submit]")
    expect(gp.locator("[data-testid=rx-item-error]").first).to_contain_text("84")
    assert not Prescription.objects.filter(kind="long").exists()

    # The extended prescription: the source is chosen and its missing drug pre-filled.
    gp.goto(f"{base}/prescriptions/new/?kind=extended&person={rw.patient.public_id}")
    expect(gp.locator("[name=source]")).to_have_value(str(source.public_id))
    expect(gp.locator("[name=items-0-drug]")).to_have_value(
        f"{rw.clopidogrel.code} {rw.clopidogrel.name} {rw.clopidogrel.strength} {rw.clopidogrel.package_label}"
    )
    gp.fill("[name=items-0-days]", "56")
    gp.click("[data-testid=rx-submit]")
    expect(gp.locator("[data-testid=rx-kind]")).to_have_text("延伸处方")
    expect(gp.locator("[data-testid=rx-delivery]")).to_contain_text("待发药")
    delivery = Delivery.objects.get()

    # The county pharmacist dispatches from the worklist.
    pharmacy = logged_in_tab(browser, live_server, rw.pharmacist.username)
    pharmacy.goto(f"{base}/prescriptions/deliveries/?box=out")
    pharmacy.click("[data-testid=delivery-link]")
    pharmacy.fill("[data-testid=delivery-dispatch] input[name=note]", "随物流车配送")
    pharmacy.click("[data-testid=delivery-dispatch-submit]")
    expect(pharmacy.locator("[data-testid=delivery-status]")).to_have_text("已发出")

    # The GP signs for it and hands it over.
    gp.goto(f"{base}/prescriptions/deliveries/{delivery.public_id}/")
    gp.click("[data-testid=delivery-receive-submit]")
    expect(gp.locator("[data-testid=delivery-status]")).to_have_text("已签收")
    gp.click("[data-testid=delivery-hand_over-submit]")
    expect(gp.locator("[data-testid=delivery-status]")).to_have_text("已交付患者")
    expect(gp.locator("[data-testid=delivery-event]")).to_have_count(4)
    delivery.refresh_from_db()
    assert delivery.status == "handed"
