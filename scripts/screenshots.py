"""Take the user-guide screenshots from a running demo (``make demo``, or ``make run`` after ``make seed``).

    .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:8000] [--out docs/guide/img] [--only NAME]

Logs in through the login page as the demo accounts and saves one PNG per
entry of SHOTS (viewport-sized, 1366 px wide). Steps only fill forms or
submit invalid / stale input, so the demo data is never changed and the
script can be run again — except the insurance reopening shots
(scripts/shots_insurance.py), which freeze and reopen a settlement when the
demo has none: take those on a private demo database. Needs Debian's
/usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from playwright.sync_api import Page, sync_playwright

PASSWORD = "Yilian@2026"
WIDTH = 1366
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

COUNTY_COMMUNITY = "金寨县人民医院县域医共体"
TELEMEDICINE_NETWORK = "六安市远程医疗协作网"
COUNTY_HOSPITAL = "金寨县人民医院"
OUTSIDE_HOSPITAL = "安徽省立医院"  # in no consortium the demo's township belongs to


# Steps: run after the page has loaded; none of them changes the demo data.


def open_first_catalogue(page: Page) -> None:
    """From the consortia list of the referral configuration, open the first catalogue."""
    page.click("main table a >> nth=0")
    page.wait_for_load_state("networkidle")


def _submit_main_form(page: Page) -> None:
    page.click("main form.panel button[type=submit]")
    page.wait_for_load_state("networkidle")


def _pick_institution(page: Page, search: str, select: str) -> None:
    """Type into the institution picker's search box and choose the first match."""
    page.fill("#picker-q", search)
    page.wait_for_timeout(800)  # the picker waits 300 ms before asking the server
    page.wait_for_load_state("networkidle")
    options = page.eval_on_selector_all(f"select[name={select}] option", "els => els.map(e => e.value)")
    page.select_option(f"select[name={select}]", next(value for value in options if value))


def _choose_parent(page: Page, name: str) -> None:
    labels = page.eval_on_selector_all(
        "select[name=parent] option", "els => els.map(e => [e.value, e.innerText])"
    )
    page.select_option("select[name=parent]", next(value for value, label in labels if name in label))


def fill_member_form(page: Page) -> None:
    """Search a private outpatient department by name and prepare it as a member under the lead."""
    _pick_institution(page, "康宁", "institution")
    page.select_option("select[name=role]", "member")
    _choose_parent(page, COUNTY_HOSPITAL)
    page.fill("input[name=notes]", "签约纳入医共体统一管理")


def stale_member_form(page: Page) -> None:
    """The member form as a second administrator sees it after someone else changed the consortium."""
    fill_member_form(page)
    page.eval_on_selector("input[name=expected_version]", "e => { e.value = String(Number(e.value) - 1); }")
    _submit_main_form(page)


def wrong_credit_code(page: Page) -> None:
    """Submit the profile with a wrong check character: the error shows inline, nothing is saved."""
    page.fill("input[name=credit_code]", "123415244727496424")
    _submit_main_form(page)


def reveal_purpose(page: Page) -> None:
    """Type a purpose into the reveal form (not sent)."""
    page.fill("[data-testid=reveal-purpose]", "开具转诊单")
    page.locator("[data-testid=reveal-form]").scroll_into_view_if_needed()


# Diagnostics and telemedicine steps (none of them saves anything).

# Records of the demo found through the API as the shot's user (the demo's ids change with each seed).


def _api(page: Page, base: str, path: str) -> dict:
    return page.request.get(f"{base}{path}").json()


def _centre(kind: str, suffix: str) -> Callable[[Page, str], str]:
    def find(page: Page, base: str) -> str:
        centre = _api(page, base, f"/api/v1/diagnostic-centres?kind={kind}")["results"][0]["public_id"]
        return f"/diagnostics/{suffix}/{centre}/"

    return find


def _amended_chest_order(page: Page, base: str) -> dict:
    """A final chest-imaging order with its image whose report was amended (else the first with an image)."""
    fallback: dict = {}
    for number in (1, 2, 3):
        listing = _api(
            page, base, f"/api/v1/diagnostic-orders?status=final&q=胸部&page_size=100&page={number}"
        )
        for row in listing["results"]:
            detail = _api(page, base, f"/api/v1/diagnostic-orders/{row['public_id']}")
            if detail["files"] and len(detail["reports"]) > 1:
                return detail
            fallback = fallback or (detail if detail["files"] else {})
        if not listing["next"]:
            break
    return fallback


def amended_order(page: Page, base: str) -> str:
    """The amended chest-imaging order's page."""
    return f"/diagnostics/orders/{_amended_chest_order(page, base)['public_id']}/"


def chest_file(page: Page, base: str) -> str:
    """The viewer of that order's image."""
    return f"/diagnostics/files/{_amended_chest_order(page, base)['files'][0]['public_id']}/"


def recognised_patient_order_form(page: Page, base: str) -> str:
    """The order form for the patient of the newest lumbar-spine DR (YX002, recognised region-wide)."""
    row = _api(page, base, "/api/v1/diagnostic-orders?status=final&q=腰椎DR")["results"][0]
    return f"/diagnostics/new/?person={row['patient']['public_id']}"


def recognised_patient_record(page: Page, base: str) -> str:
    """The person page of that patient, with the diagnostic results section."""
    row = _api(page, base, "/api/v1/diagnostic-orders?status=final&q=腰椎DR")["results"][0]
    return f"/people/{row['patient']['public_id']}/"


def referred_teleconsultation(page: Page, base: str) -> str:
    """A concluded teleconsultation whose decision was a referral."""
    rows = _api(page, base, "/api/v1/teleconsultations?status=concluded&page_size=100")["results"]
    chosen = next((row for row in rows if row["outcome"] == "referred"), rows[0])
    return f"/telemedicine/{chosen['public_id']}/"


def _pick_person(page: Page, name: str) -> None:
    """Find a resident with the resident picker (people:options) and choose them."""
    page.fill("[data-testid=patient-search]", name)
    page.wait_for_function(
        "name => [...document.querySelectorAll('select[name=person] option')].some(o => o.innerText.includes(name))",
        arg=name,
    )
    _select_option_containing(page, "select[name=person]", name)


def _select_option_containing(page: Page, select: str, text: str) -> None:
    labels = page.eval_on_selector_all(f"{select} option", "els => els.map(e => [e.value, e.innerText])")
    page.select_option(select, next(value for value, label in labels if text in label))


def order_recognised_item(page: Page) -> None:
    """Order an item the patient already has a recognised result of, without a reason: the form comes back
    with the prior result and nothing is saved."""
    _select_option_containing(page, "select[name=item]", "YX002")
    page.fill("input[name=diagnosis_code]", "M54.5")
    page.fill("input[name=diagnosis_name]", "腰痛")
    page.fill("textarea[name=clinical_info]", "腰痛两周，弯腰时加重")
    page.click("[data-testid=order-submit]")
    page.wait_for_load_state("networkidle")


def scan_unknown_barcode(page: Page) -> None:
    """Scan a barcode no order carries: the error shows and nothing is received."""
    page.fill("input[name=barcode]", "89999999999999")
    page.click("[data-testid=receive-submit]")
    page.wait_for_load_state("networkidle")


def _scroll_to(page: Page, selector: str) -> None:
    page.eval_on_selector(selector, "e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(200)


def show_recognition_catalogue(page: Page) -> None:
    """Scroll past the centres (whose served members fill a screen) to the recognition catalogue."""
    _scroll_to(page, "[data-testid=rule-list]")


def show_critical_and_recognition(page: Page) -> None:
    """Scroll to the critical-value and recognition figures at the end of the dashboard."""
    _scroll_to(page, "[data-testid=critical]")


def invite_county_hospital(page: Page) -> None:
    """Fill an invitation to the county hospital's internal medicine: the free times of qualified experts
    load into the select, and the consent section shows the consortium's fees (not sent)."""
    page.select_option("select[name=kind]", "consultation")
    _select_option_containing(page, "select[name=inviting_institution]", "麻埠镇中心卫生院")
    _select_option_containing(page, "select[name=inviting_department]", "全科医疗科")
    _pick_person(page, "丁长林")
    _select_option_containing(page, "select[name=invited_institution]", COUNTY_HOSPITAL)
    page.wait_for_timeout(800)
    page.select_option("select[name=required_specialty]", "03")
    page.wait_for_timeout(800)
    page.wait_for_load_state("networkidle")
    slots = page.eval_on_selector_all("select[name=proposed_slot] option", "els => els.map(e => e.value)")
    page.select_option("select[name=proposed_slot]", next(value for value in slots if value))
    page.fill("textarea[name=reason]", "反复头晕伴左侧肢体麻木两周，基层诊断不明确")
    page.fill("input[name=purpose]", "明确诊断并指导治疗")
    page.fill("textarea[name=case_summary]", "男，64 岁。高血压病史 10 年，近两周反复头晕，左侧肢体麻木。")
    page.fill("input[name=diagnosis_code]", "R42")
    page.fill("input[name=diagnosis_name]", "头晕")
    page.fill("input[name=consent_signer_name]", "丁长林")
    page.select_option("select[name=consent_relationship]", "patient")
    page.evaluate("window.scrollTo(0, 0)")


def invite_outside_consortium(page: Page) -> None:
    """Fill an invitation to the provincial hospital, which shares no consortium with the township: the fee
    notice says 医联体外会诊 and the agreed fee is typed (not sent)."""
    page.select_option("select[name=kind]", "consultation")
    _select_option_containing(page, "select[name=inviting_institution]", "麻埠镇中心卫生院")
    _select_option_containing(page, "select[name=inviting_department]", "全科医疗科")
    _pick_person(page, "丁长林")
    _select_option_containing(page, "select[name=invited_institution]", OUTSIDE_HOSPITAL)
    page.wait_for_selector("[data-testid=fee-applicable] [data-testid=outside-consortium]")
    page.wait_for_load_state("networkidle")
    page.fill("textarea[name=reason]", "反复胸痛伴心电图 ST 段改变，县域内无法明确诊断")
    page.fill("input[name=purpose]", "请省级专家明确诊断并指导治疗")
    page.fill("input[name=consent_signer_name]", "丁长林")
    page.select_option("select[name=consent_relationship]", "patient")
    page.fill("textarea[name=case_summary]", "男，64 岁。反复胸痛一月，心电图示 V1–V4 导联 ST 段压低。")
    page.fill("[data-testid=agreed-fee]", "280.00")
    # From the invited institution down to the fee notice and the agreed fee.
    page.eval_on_selector("select[name=invited_institution]", "e => e.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -60)")
    page.wait_for_timeout(200)


class Shot(NamedTuple):
    """One screenshot: file name, demo user ("" = logged out), page, language, optional step."""

    name: str
    user: str
    target: str | Callable[[Page, str], str]
    language: str = "zh-hans"
    step: Callable[[Page], None] | None = None
    height: int = 860


SHOTS: list[Shot] = [
    Shot("login", "", "/accounts/login/"),
    Shot("home", "hospital_admin", "/"),
    Shot("region-detail", "regulator", "/registry/regions/341524/"),
    Shot("institution-search", "doctor", "/registry/institutions/?q=jzxrmyy"),
    Shot("institution-detail", "hospital_admin", f"institution:{COUNTY_HOSPITAL}"),
    Shot(
        "institution-edit-error",
        "hospital_admin",
        f"institution-edit:{COUNTY_HOSPITAL}",
        step=wrong_credit_code,
    ),
    Shot("consortium-detail", "office", f"consortium:{COUNTY_COMMUNITY}"),
    Shot("member-add", "office", f"consortium-add:{COUNTY_COMMUNITY}", step=fill_member_form),
    Shot("consortium-conflict", "office", f"consortium-add:{COUNTY_COMMUNITY}", step=stale_member_form),
    Shot("consortium-history", "city_office", f"consortium:{TELEMEDICINE_NETWORK}?tab=history"),
    Shot("consortium-agreements", "office", f"consortium:{COUNTY_COMMUNITY}?tab=agreements"),
    Shot("grid-plan", "regulator", "/registry/grids/new/?region=341524"),
    Shot("grid-detail", "regulator", "grid:麻埠片区网格"),
    Shot("coverage", "regulator", "/registry/coverage/"),
    Shot("staff", "hospital_admin", "/accounts/my-staff/"),
    Shot("audit", "admin", "/accounts/audit/?action=consortium.member.add"),
    Shot("people", "township_doctor", "/people/"),
    Shot("person-detail", "township_doctor", "person:余山", step=reveal_purpose),
    Shot("consortium-list-en", "office", "/registry/consortia/", language="en"),
    Shot("referrals-worklist", "doctor", "/referrals/worklist/"),
    Shot("referrals-capacity", "coordinator", "/referrals/capacity/"),
    Shot("referrals-catalogue", "office", "/referrals/consortia/", step=open_first_catalogue),
    Shot("referrals-statistics", "office", "/referrals/statistics/", height=1400),
    Shot("diagnostics-orders", "township_doctor", "/diagnostics/"),
    Shot(
        "diagnostics-new-order",
        "township_doctor",
        recognised_patient_order_form,
        step=order_recognised_item,
        height=1350,
    ),
    Shot("diagnostics-reading-list", "radiologist", _centre("imaging", "reading")),
    Shot("diagnostics-order", "radiologist", amended_order, height=1850),
    Shot("diagnostics-file", "radiologist", chest_file),
    Shot(
        "diagnostics-receive",
        "lab_tech",
        _centre("lab", "receive"),
        step=scan_unknown_barcode,
    ),
    Shot("diagnostics-alerts", "township_doctor", "/diagnostics/alerts/"),
    Shot("diagnostics-record", "township_doctor", recognised_patient_record, height=1100),
    Shot(
        "diagnostics-manage", "office", "/diagnostics/manage/", step=show_recognition_catalogue, height=1000
    ),
    Shot("diagnostics-dashboard", "office", "/diagnostics/dashboard/", height=1000),
    Shot(
        "diagnostics-dashboard-critical",
        "office",
        "/diagnostics/dashboard/",
        step=show_critical_and_recognition,
    ),
    Shot("telemedicine-list", "coordinator", "/telemedicine/incoming/"),
    Shot(
        "telemedicine-new", "township_doctor", "/telemedicine/new/", step=invite_county_hospital, height=1900
    ),
    Shot(
        "telemedicine-outside-consortium",
        "township_doctor",
        "/telemedicine/new/",
        step=invite_outside_consortium,
        height=1450,
    ),
    Shot("telemedicine-detail", "township_doctor", referred_teleconsultation, height=1500),
    Shot("telemedicine-availability", "coordinator", "/telemedicine/availability/"),
    Shot("telemedicine-charges", "hospital_admin", "/telemedicine/charges/"),
    Shot("telemedicine-fees", "office", "/telemedicine/fees/"),
    Shot("telemedicine-statistics", "office", "/telemedicine/statistics/", height=1300),
    Shot("api-docs", "admin", "/api/docs/"),
]


def _more_shots() -> list[Shot]:
    """The shots each app keeps in ``scripts/shots_<app>.py`` (a list ``SHOTS`` of keyword dicts of Shot)."""
    shots: list[Shot] = []
    for path in sorted(Path(__file__).parent.glob("shots_*.py")):
        module = importlib.import_module(path.stem)
        shots.extend(Shot(**spec) for spec in module.SHOTS)
    return shots


SHOTS.extend(_more_shots())

LISTINGS = {
    "consortium": "/registry/consortia/",
    "consortium-add": "/registry/consortia/",
    "institution": "/registry/institutions/",
    "institution-edit": "/registry/institutions/",
    "grid": "/registry/grids/",
    "person": "/people/",
}
SUFFIXES = {"consortium-add": "members/add/", "institution-edit": "edit/"}


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")


def resolve(page: Page, base: str, target: str | Callable[[Page, str], str]) -> str:
    """Turn "KIND:NAME[?query]" into a detail URL by searching the list page for NAME; a function
    finds its record itself."""
    if callable(target):
        return target(page, base)
    kind, _, rest = target.partition(":")
    if kind not in LISTINGS:
        return target
    name, _, query = rest.partition("?")
    page.goto(f"{base}{LISTINGS[kind]}?q={name}")
    href = page.locator(f"table.list a:text-is('{name}')").first.get_attribute("href") or ""
    return href + SUFFIXES.get(kind, "") + (f"?{query}" if query else "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="docs/guide/img")
    parser.add_argument("--only", default="")
    options = parser.parse_args()
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        for shot in SHOTS:
            if options.only and not re.search(options.only, shot.name):
                continue
            context = browser.new_context(viewport={"width": WIDTH, "height": shot.height}, locale="zh-CN")
            page = context.new_page()
            if shot.language != "zh-hans":
                context.add_cookies(
                    [{"name": "django_language", "value": shot.language, "url": options.base}]
                )
            if shot.user:
                login(page, options.base, shot.user)
            path = resolve(page, options.base, shot.target)
            page.goto(path if path.startswith("http") else f"{options.base}{path}")
            page.wait_for_load_state("networkidle")
            if shot.step is not None:
                shot.step(page)
            page.screenshot(path=str(out / f"{shot.name}.png"), full_page=False)
            print(f"{shot.name}.png  {page.url}")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
