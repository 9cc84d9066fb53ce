"""Screenshots of the prescription pages for docs/guide/prescriptions.md (run by scripts/screenshots.py).

Each entry is a keyword dict of ``screenshots.Shot``; targets that need a record find it through the API
as the shot's user (``township_doctor`` at 金寨县麻埠镇中心卫生院, ``pharmacist`` at 金寨县人民医院)."""

from __future__ import annotations

from typing import Any


def _api(page: Any, base: str, path: str) -> dict:
    return page.request.get(f"{base}{path}").json()


def extended_prescription(page: Any, base: str) -> str:
    """The newest extended prescription of the township (kind mark, source, delivery)."""
    rows = _api(page, base, "/api/v1/prescriptions?kind=extended")["results"]
    return f"/prescriptions/{rows[0]['public_id']}" if rows else "/prescriptions/?kind=extended"


def long_prescription(page: Any, base: str) -> str:
    """The newest long prescription of the township."""
    rows = _api(page, base, "/api/v1/prescriptions?kind=long")["results"]
    return f"/prescriptions/{rows[0]['public_id']}" if rows else "/prescriptions/?kind=long"


def open_delivery(page: Any, base: str) -> str:
    """The oldest delivery still waiting in the pharmacy's worklist (the dispatch button)."""
    rows = _api(page, base, "/api/v1/deliveries?box=out&status=requested")["results"]
    rows = rows or _api(page, base, "/api/v1/deliveries?box=out&open=true")["results"]
    return (
        f"/prescriptions/deliveries/{rows[0]['public_id']}/" if rows else "/prescriptions/deliveries/?box=out"
    )


def township_stock(page: Any, base: str) -> str:
    """The township's stock list with the chronic-disease drugs it lacks."""
    me = _api(page, base, "/api/v1/me")
    for membership in me.get("memberships", []):
        institution = membership.get("institution")
        if institution:
            return f"/prescriptions/stock/{institution['public_id']}/"
    return "/prescriptions/formulary/"


def long_form(page: Any, base: str) -> str:
    """The form for a long prescription."""
    return "/prescriptions/new/?kind=long"


def fill_too_many_days(page: Any) -> None:
    """Pick the first patient and drug, ask for 120 days and submit: the limit comes back inline."""
    # The resident picker lists no one until searched: a common surname brings the doctor's residents.
    page.fill("[data-testid=patient-search]", "张")
    page.wait_for_function("document.querySelectorAll('select[name=person] option').length > 1")
    page.select_option("[name=person]", index=1)
    page.wait_for_url("**person=**")  # choosing the patient reloads the form with their drugs
    page.wait_for_load_state("networkidle")
    drug = page.locator("#drug-options option").first
    if drug.count():
        page.fill("[name=items-0-drug]", drug.get_attribute("value") or "")
    page.fill("[name=items-0-dose]", "1")
    page.select_option("[name=items-0-frequency]", "qd")
    page.fill("[name=items-0-days]", "120")
    page.fill("[name=diagnosis_code]", "I10")
    page.fill("[name=diagnosis_name]", "原发性高血压")
    page.click("[data-testid=rx-submit]")
    page.wait_for_load_state("networkidle")


SHOTS: list[dict[str, Any]] = [
    {"name": "prescriptions-list", "user": "township_doctor", "target": "/prescriptions/"},
    {"name": "prescriptions-long-form", "user": "township_doctor", "target": long_form, "step": fill_too_many_days,
     "height": 1100},
    {"name": "prescriptions-extended", "user": "township_doctor", "target": extended_prescription},
    {"name": "prescriptions-long", "user": "township_doctor", "target": long_prescription},
    {"name": "prescriptions-worklist", "user": "pharmacist", "target": "/prescriptions/deliveries/?box=out"},
    {"name": "prescriptions-delivery", "user": "pharmacist", "target": open_delivery},
    {"name": "prescriptions-receiving", "user": "township_doctor", "target": "/prescriptions/deliveries/?box=in"},
    {"name": "prescriptions-formulary", "user": "office", "target": "/prescriptions/formulary/", "height": 1200},
    {"name": "prescriptions-stock", "user": "township_admin", "target": township_stock, "height": 1200},
    {"name": "prescriptions-drugs", "user": "pharmacist", "target": "/prescriptions/drugs/?q=aspl"},
    {"name": "prescriptions-statistics", "user": "office", "target": "/prescriptions/statistics/", "height": 1100},
]  # fmt: skip
