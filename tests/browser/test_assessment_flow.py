"""End to end in Chromium: performance assessment on a small consortium built with factories and services.

The consortium office writes an indicator (a bad formula first: the error names its position), reads the
up-referral rate of the consortium for March 2025, drills down to the members and to the referrals behind
the numerator (patients' names masked for the office, in full for a township doctor), runs the shipped
monthly up-referral ranking (compute, freeze, publish: 优/良/中/差, PDF and Excel), looks at the cockpit
and switches its period, and hides the members' values from each other; a township's administrator then
sees only its own figures and may not write indicators.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import logged_in_tab
from yilian.accounts.tests.factories import user_with_role
from yilian.assessment.models import AssessmentRound, AssessmentScheme
from yilian.assessment.schemes import install_schemes
from yilian.core.permissions import Role
from yilian.indicators import evaluation
from yilian.indicators.catalogue import install_catalogues
from yilian.indicators.models import Indicator, RankingPolicy
from yilian.indicators.tests.test_evaluation import County
from yilian.institutions.models import Institution, RegionBoundary
from yilian.institutions.tests.factories import ConsortiumMemberFactory, InstitutionFactory

pytestmark = pytest.mark.django_db(transaction=True)

FEB = datetime.date(2025, 2, 1)
MAR = datetime.date(2025, 3, 1)
RATE = "seed_up_referral_rate"
RANKING = "monthly-up-referral-ranking"


@dataclass
class Members:
    """The consortium's four townships (best up-referral rate first) and a township doctor."""

    townships: list[Institution]
    township_doctor: Any


def _square(lon: float, lat: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _build(world: Any) -> Members:
    """Four townships with 10 visits a month each; in March township n (1–4) refers n patients up, in February
    one each; the hospital's visits double from February to March. Volumes derived, catalogues installed,
    February–March refreshed, the shipped schemes installed, outlines for the map.

    Records are written with the engine tests' ``County`` helpers (one patient, 王五, throughout).
    """
    county = County(world)
    townships = [world.township]
    for name, town in (
        ("霍邱县周集镇卫生院", "town_a"),
        ("霍邱县冯井镇卫生院", "town_b"),
        ("霍邱县孟集镇卫生院", "town_b"),
    ):
        institution = InstitutionFactory(name=name, region=world.regions[town], category="C210")
        ConsortiumMemberFactory(consortium=world.consortium, institution=institution)
        townships.append(institution)
    for month in (FEB, MAR):
        for day in range(1, 11):
            for township in townships:
                county.encounter(township, "outpatient", month.replace(day=day))
            county.encounter(world.hospital, "outpatient", month.replace(day=day), department=county.medicine)
            if month == MAR:
                county.encounter(
                    world.hospital, "outpatient", month.replace(day=day), department=county.surgery
                )
    for number, township in enumerate(townships, start=1):
        county.referral("up", township, world.hospital, FEB.replace(day=20), inside=True)
        for _ in range(number):
            county.referral("up", township, world.hospital, MAR.replace(day=20), inside=True)
    county.derive_volumes()
    install_catalogues()
    evaluation.refresh(evaluation.months_between(FEB, MAR))
    install_schemes()
    for index, town in enumerate(("town_a", "town_b")):
        RegionBoundary.objects.create(region=world.regions[town], geometry=_square(116.1 + index / 10, 32.3))
    doctor = user_with_role(Role.DOCTOR, username="township_doctor", institution=world.township)
    return Members(townships, doctor)


def _submit(page: Any, selector: str) -> None:
    """Click a submit button and wait for the page that comes back."""
    with page.expect_navigation():
        page.click(selector)


def _cards(page: Any) -> dict[str, str]:
    return {
        card.get_attribute("data-code"): card.locator(".stat").inner_text().split()[0]
        for card in page.locator("[data-testid=cockpit-card]").all()
    }


def test_indicator_figures_assessment_and_cockpit(browser, live_server, world):
    members = _build(world)
    rate = Indicator.objects.get(code=RATE)
    base = live_server.url
    office = logged_in_tab(browser, live_server, world.office.username)

    # 1. 指标库: a formula with an unknown data item and an unbalanced bracket is refused with the positions.
    office.locator("nav.sidemenu").get_by_role("link", name="指标库", exact=True).click()
    office.wait_for_url(f"{base}/indicators/")
    office.click("[data-testid=indicator-new]")
    office.wait_for_url(f"{base}/indicators/new/")
    office.select_option("#id_consortium", str(world.consortium.public_id))
    office.fill("#id_code", "inside_up_share")
    office.fill("#id_name", "医联体内上转占比")
    office.fill("#id_numerator", "referrals_up_inside + nope")
    office.locator("#id_numerator").press("Tab")  # the live check answers on change
    expect(office.locator("[data-testid=live-numerator]")).to_contain_text("未知的数据项“nope”")
    office.fill("#id_denominator", "(referrals_up")
    office.fill("#id_factor", "100")
    office.fill("#id_unit", "%")
    _submit(office, "[data-testid=indicator-save]")
    expect(office.locator("[data-testid=error-numerator]")).to_have_text("第 23 个字符处：未知的数据项“nope”")
    expect(office.locator("[data-testid=error-denominator]")).to_have_text("第 14 个字符处：缺少右括号“)”")
    assert not Indicator.objects.filter(code="inside_up_share").exists()
    office.fill("#id_numerator", "referrals_up_inside")
    office.fill("#id_denominator", "(referrals_up)")
    _submit(office, "[data-testid=indicator-save]")
    expect(office.locator(".messages")).to_contain_text("指标已创建")
    created = Indicator.objects.get(code="inside_up_share")
    assert created.consortium == world.consortium and created.version == 1
    office.goto(f"{base}/indicators/?q=inside_up_share")
    row = office.locator("[data-testid=indicator-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("医联体内上转占比")
    expect(row).to_contain_text(world.consortium.name)

    # 2. 指标值: the consortium's March up-referral rate, its members, and the referrals behind the numerator.
    office.goto(f"{base}/indicators/figures/")
    office.select_option("#id_indicator", str(rate.public_id))
    office.select_option("#id_unit_kind", "consortium")
    office.select_option("#id_period_type", "month")
    _submit(office, "[data-testid=figures-filters] button[type=submit]")
    office.select_option("#id_period", MAR.isoformat())
    _submit(office, "[data-testid=figures-filters] button[type=submit]")
    figure = office.locator("[data-testid=figure-row]")
    expect(figure).to_have_count(1)
    expect(figure).to_contain_text(world.consortium.name)
    expect(figure.locator("td").nth(1)).to_have_text("10")  # 1 + 2 + 3 + 4 up-referrals
    figure.locator("[data-testid=drill]").click()
    office.wait_for_url(re.compile(r"/indicators/figures/parts/\?"))
    parts = office.locator("[data-testid=part-row]")
    expect(parts).to_have_count(5)  # the lead hospital and the four townships
    for township in members.townships:
        expect(office.locator("[data-testid=parts]")).to_contain_text(township.name)
    expect(office.locator("[data-testid=parts-numerator-sum]")).to_have_text("10")
    expect(office.locator("[data-testid=adds-up]")).to_be_visible()
    office.locator("[data-testid=items] tr", has_text="上转人次").locator(
        "[data-testid=records-link]"
    ).click()
    office.wait_for_url(re.compile(r"/indicators/figures/records/\?"))
    expect(office.locator("[data-testid=record-row]")).to_have_count(10)
    expect(office.locator("main")).to_contain_text("个人信息已脱敏显示")
    table = office.inner_text("[data-testid=records-table]")
    assert "王*" in table and "王五" not in table
    # The township doctor, who sees the township's patients, reads the same records of its own township in full.
    doctor = logged_in_tab(browser, live_server, members.township_doctor.username)
    doctor.goto(
        f"{base}/indicators/figures/records/?indicator={rate.public_id}&unit_kind=institution"
        f"&unit={world.township.public_id}&period_type=month&period={MAR.isoformat()}&item=referrals_up"
    )
    expect(doctor.locator("[data-testid=record-row]")).to_have_count(1)
    expect(doctor.locator("[data-testid=records-table]")).to_contain_text("王五")
    expect(doctor.locator("main")).not_to_contain_text("个人信息已脱敏显示")
    doctor.context.close()

    # 3. A monthly up-referral ranking of the consortium for March: computed, frozen, published, downloaded.
    scheme = AssessmentScheme.objects.get(code=RANKING, consortium=None)
    office.goto(f"{base}/assessment/")
    office.click("[data-testid=round-new]")
    office.wait_for_url(f"{base}/assessment/rounds/new/")
    office.select_option("select[name=scheme]", str(scheme.public_id))
    office.select_option("select[name=consortium]", str(world.consortium.public_id))
    office.select_option("select[name=kind]", "monthly_ranking")
    office.fill("input[name=period_start]", MAR.isoformat())
    _submit(office, "[data-testid=round-save]")
    expect(office.locator(".messages")).to_contain_text("考核轮次已创建")
    round_ = AssessmentRound.objects.get(scheme=scheme, consortium=world.consortium)
    _submit(office, "[data-testid=round-compute]")
    expect(office.locator("[data-testid=round-total]")).to_have_count(4)  # the members, not the lead
    _submit(office, "[data-testid=round-freeze]")
    expect(office.locator(".messages")).to_contain_text("已冻结为第 1 版")
    _submit(office, "[data-testid=round-publish]")
    expect(office.locator(".messages")).to_contain_text("考核结果已发布")
    expect(office.locator("[data-testid=round-status]")).to_contain_text("已发布第 1 版")
    totals = office.locator("[data-testid=round-total]")
    expect(totals).to_have_count(4)
    graded = {
        cells[1]: (cells[0], cells[4])
        for cells in ([cell.strip() for cell in row.locator("td").all_inner_texts()] for row in totals.all())
    }
    names = [township.name for township in members.townships]
    assert graded == dict(zip(names, (("1", "优"), ("2", "良"), ("3", "中"), ("4", "差")), strict=True))
    pdf = office.request.get(base + office.get_attribute("[data-testid=round-pdf]", "href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    xlsx = office.request.get(base + office.get_attribute("[data-testid=round-xlsx]", "href"))
    assert xlsx.ok
    workbook = load_workbook(io.BytesIO(xlsx.body()))
    cells = {str(value) for sheet in workbook for row in sheet.iter_rows(values_only=True) for value in row}
    assert set(names) <= cells
    assert AssessmentRound.objects.get(pk=round_.pk).published_version == 1

    # 4. The cockpit: KPI cards, the members' ranking and the map; another period shows other figures.
    office.goto(f"{base}/cockpit/")
    expect(office.locator("[data-testid=cockpit-card]").first).to_be_visible()
    assert _cards(office)[RATE] == "12.73"  # the year 2025 first: (4 + 10) up-referrals ÷ (50 + 60) visits
    expect(office.locator(f"[data-testid=cockpit-ranking][data-code={RATE}] tbody tr")).to_have_count(5)
    expect(office.locator("[data-cockpit-map] canvas").first).to_be_attached()
    filters = office.locator("[data-testid=cockpit-filters]")
    filters.locator("select[name=period_type]").select_option("month")
    _submit(office, "[data-testid=cockpit-filters] button[type=submit]")
    expect(filters.locator("select[name=period]")).to_have_value(MAR.isoformat())
    march = _cards(office)
    assert march[RATE] == "16.67"  # 10 up-referrals ÷ (40 + 20) visits
    filters.locator("select[name=period]").select_option(FEB.isoformat())
    _submit(office, "[data-testid=cockpit-filters] button[type=submit]")
    february = _cards(office)
    assert february.keys() == march.keys()
    assert february[RATE] == "8.00"  # 4 up-referrals ÷ (40 + 10) visits

    # 5. The office hides the members' values from each other; a township's administrator sees its own only.
    office.locator("nav.sidemenu").get_by_role("link", name="排名公开设置").click()
    office.uncheck("[data-testid=members-see-values]")
    _submit(office, "[data-testid=ranking-save]")
    policy = RankingPolicy.objects.get(consortium=world.consortium)
    assert not policy.members_see_others_values
    office.context.close()

    member = logged_in_tab(browser, live_server, world.township_admin.username)
    figures = (
        f"{base}/indicators/figures/?indicator={rate.public_id}&unit_kind=institution"
        f"&period_type=month&period={MAR.isoformat()}"
    )
    member.goto(figures)
    expect(member.locator("[data-testid=figure-row]")).to_have_count(1)
    expect(member.locator("[data-testid=figures-table]")).to_contain_text(world.township.name)
    other = members.townships[1]
    response = member.goto(
        f"{base}/indicators/figures/parts/?indicator={rate.public_id}&unit_kind=institution"
        f"&unit={other.public_id}&period_type=month&period={MAR.isoformat()}"
    )
    assert response is not None and response.status == 404
    member.goto(f"{base}/indicators/")
    expect(member.locator("[data-testid=indicator-row]").first).to_be_visible()
    expect(member.locator("[data-testid=indicator-new]")).to_have_count(0)
    response = member.goto(f"{base}/indicators/new/")
    assert response is not None and response.status == 403
    member.context.close()
