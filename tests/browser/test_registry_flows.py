"""End to end in Chromium: what a consortium office, a regulator and a doctor do in the registry."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login
from yilian.accounts.tests.factories import PASSWORD
from yilian.institutions.models import Consortium, ConsortiumMember, Institution

pytestmark = pytest.mark.django_db(transaction=True)


def option_value(page, select: str, text: str) -> str:
    """The value of the first option of ``select`` whose label contains ``text``."""
    return page.locator(f"{select} option", has_text=text).first.get_attribute("value") or ""


def test_office_creates_a_consortium_adds_a_member_and_sees_the_audit_entry(page, world):
    login(page, "office", PASSWORD)
    assert page.locator("[data-testid=current-user]").is_visible()

    page.goto(f"{page.base_url}/registry/consortia/new/")
    page.fill("#id_name", "霍邱县胸痛专科联盟")
    page.select_option("#id_type", "specialty_alliance")
    page.select_option("#id_integration", "loose")
    page.select_option("#id_region", "341522")
    page.select_option("#id_lead_institution", option_value(page, "#id_lead_institution", "霍邱县人民医院"))
    page.click("[data-testid=consortium-form] [data-testid=submit]")
    page.wait_for_url(re.compile(r"/registry/consortia/[0-9a-f-]{36}/"))
    assert "霍邱县胸痛专科联盟" in page.inner_text("h1")
    consortium = Consortium.objects.get(name="霍邱县胸痛专科联盟")

    page.click("text=添加成员")
    page.wait_for_url(re.compile(r"/members/add/"))
    page.select_option("#id_institution", option_value(page, "#id_institution", "霍邱县河口镇卫生院"))
    page.click("[data-testid=member-add-form] [data-testid=submit]")
    page.wait_for_url(re.compile(r"/registry/consortia/[0-9a-f-]{36}/"))
    rows = page.locator("[data-testid=member-name]")
    assert "霍邱县河口镇卫生院" in rows.all_inner_texts()
    assert ConsortiumMember.objects.filter(
        consortium=consortium, institution=world.outsider, is_active=True
    ).exists()

    page.goto(f"{page.base_url}/accounts/audit/")
    added = page.locator("[data-testid=audit-row][data-action='consortium.member.add']").first
    assert "霍邱县河口镇卫生院" in added.inner_text()
    assert page.locator("[data-testid=audit-row][data-action='consortium.create']").count() >= 1


def test_second_administrator_with_a_stale_page_gets_a_conflict(browser, live_server, world):
    pages = []
    for username in ("office", "admin"):
        context = browser.new_context(locale="zh-CN")
        tab = context.new_page()
        tab.base_url = live_server.url
        login(tab, username if username != "admin" else world.admin.username, PASSWORD)
        tab.goto(f"{live_server.url}/registry/consortia/{world.consortium.public_id}/members/add/")
        pages.append(tab)
    first, second = pages
    first.select_option("#id_institution", option_value(first, "#id_institution", "霍邱县河口镇卫生院"))
    second.select_option("#id_institution", option_value(second, "#id_institution", "霍邱县河口镇卫生院"))
    first.click("[data-testid=member-add-form] [data-testid=submit]")
    first.wait_for_url(re.compile(r"/registry/consortia/[0-9a-f-]{36}/$"))
    second.click("[data-testid=member-add-form] [data-testid=submit]")
    second.wait_for_load_state("networkidle")
    assert "刷新" in second.inner_text("main")
    assert ConsortiumMember.objects.filter(institution=world.outsider, is_active=True).count() == 1
    for tab in pages:
        tab.context.close()


def test_bad_credit_code_shows_inline_error_and_saves_nothing(page, world):
    login(page, "regulator", PASSWORD)
    page.goto(f"{page.base_url}/registry/institutions/new/")
    page.fill("#id_name", "霍邱县康复医院")
    page.fill("#id_credit_code", "91350100M000100Y44")
    # The live check answers while the user is still typing, before any submit.
    page.locator("#id_credit_code").press("End")
    live = page.locator("#live-id_credit_code [data-testid=live-check-result]")
    live.wait_for()
    assert live.get_attribute("data-ok") == "0" and "校验位" in live.inner_text()
    page.select_option("#id_category", "A527")
    page.select_option("#id_ownership", "public")
    page.fill("#id_region", "341522")
    page.click("[data-testid=institution-form] [data-testid=submit]")
    error = page.locator("[data-testid=error-credit_code]")
    assert "校验位" in error.inner_text()
    assert not Institution.objects.filter(name="霍邱县康复医院").exists()


def test_doctor_finds_the_hospital_by_pinyin_initials(page, world):
    login(page, "hospital_doctor", PASSWORD)
    page.goto(f"{page.base_url}/registry/institutions/?q=hqxrmyy")
    assert "霍邱县人民医院" in page.inner_text("table.list")
    assert "霍邱县河口镇卫生院" not in page.inner_text("table.list")


def test_language_switch_to_english_and_back(page, world):
    login(page, "office", PASSWORD)
    assert page.get_attribute("html", "lang") == "zh-hans"
    chinese_menu = page.inner_text("nav.sidemenu")
    page.click("[data-testid=lang-en]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("nav.sidemenu") != chinese_menu
    page.click("[data-testid=lang-zh-hans]")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("nav.sidemenu") == chinese_menu
