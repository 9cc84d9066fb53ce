"""End to end in Chromium: a township's administrator adds a hospital specialist to the care team; the
team's GP finds a resident of the grid, signs them with the basic package (the elderly group preselected
from the birth date) and opens the agreement; the specialist sees the resident on the team's panel; a
second signing of the same resident by another team is refused with the first team's name; the GP
terminates the contract with a reason.

Also in the browser: a specialist cannot sign, and the consortium office sees coverage without names.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import logged_in_tab
from yilian.family_doctors.models import CareTeamMember, FamilyDoctorContract
from yilian.family_doctors.tests.factories import family_world, resident, second_team

pytestmark = pytest.mark.django_db(transaction=True)


def test_team_signing_panel_and_termination(world: Any, browser: Any, live_server: Any) -> None:
    fw = family_world(world)
    elder = resident("孙德胜", fw.grid, birth=datetime.date(1948, 4, 4))
    base = live_server.url

    # The administrator adds a second hospital doctor as specialist.
    admin = logged_in_tab(browser, live_server, "township_admin")
    admin.goto(f"{base}/family-doctors/teams/{fw.team.public_id}/")
    form = admin.locator("[data-testid=member-form]")
    form.locator("select[name=user]").select_option(str(fw.hospital_other_doctor.public_id))
    form.locator("select[name=role]").select_option("specialist")
    form.locator("[data-testid=member-submit]").click()
    expect(admin.locator("[data-testid=member-row]")).to_have_count(5)
    assert CareTeamMember.objects.filter(team=fw.team, user=fw.hospital_other_doctor).exists()

    # The GP finds the resident and signs them.
    gp = logged_in_tab(browser, live_server, "gp")
    gp.goto(f"{base}/family-doctors/contracts/new/?team={fw.team.public_id}")
    gp.fill("input[name=q]", "孙德")
    gp.click("[data-testid=resident-search-submit]")
    gp.locator("[data-testid=resident-pick]").first.click()
    expect(gp.locator("[data-testid=sign-person-name]")).to_have_text("孙德胜")
    expect(gp.locator("input[name=priority_groups][value=elderly]")).to_be_checked()
    gp.locator("input[name=priority_groups][value=hypertension]").check()
    gp.click("[data-testid=sign-submit]")
    expect(gp.locator("[data-testid=contract-number]")).to_contain_text("QY")
    expect(gp.locator("[data-testid=contract-groups]")).to_contain_text("高血压")
    contract = FamilyDoctorContract.objects.get(person=elder)
    assert contract.status == "signed"

    # The specialist reads the panel.
    specialist = logged_in_tab(browser, live_server, "hospital_doctor")
    specialist.goto(f"{base}/family-doctors/teams/{fw.team.public_id}/panel/")
    expect(specialist.locator("[data-testid=panel-name]")).to_contain_text(["孙德胜"])
    specialist.goto(f"{base}/family-doctors/contracts/new/")
    expect(specialist.locator("[data-testid=error-403]")).to_be_visible()

    # Another team cannot sign the same resident.
    other = second_team(fw)
    admin.goto(f"{base}/family-doctors/contracts/new/?team={other.public_id}&person={elder.public_id}")
    expect(admin.locator("[data-testid=sign-existing]")).to_contain_text(fw.team.name)
    expect(admin.locator("[data-testid=sign-form]")).to_have_count(0)

    # The GP terminates the contract.
    gp.goto(f"{base}/family-doctors/contracts/{contract.public_id}/")
    terminate = gp.locator("[data-testid=terminate-form]")
    terminate.locator("select[name=reason]").select_option("other")
    terminate.locator("[data-testid=terminate-submit]").click()
    expect(gp.locator("[data-testid=error-note]")).to_be_visible()
    terminate = gp.locator("[data-testid=terminate-form]")
    terminate.locator("select[name=reason]").select_option("other")
    terminate.locator("input[name=note]").fill("外出务工")
    terminate.locator("[data-testid=terminate-submit]").click()
    expect(gp.locator("[data-testid=contract-status]")).to_have_text("已解约")

    # The office reads coverage without names.
    office = logged_in_tab(browser, live_server, "office")
    office.goto(f"{base}/family-doctors/coverage/")
    expect(office.locator("[data-testid=coverage-row]")).to_have_count(2)
    expect(office.locator("body")).not_to_contain_text("孙德胜")
