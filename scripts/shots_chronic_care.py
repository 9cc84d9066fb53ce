"""Screenshots of the chronic-care pages for docs/guide/chronic-care.md (run by scripts/screenshots.py).

Each entry is a keyword dict of ``screenshots.Shot``; targets that need a record find it through the API
as the shot's user (the demo's ``township_doctor`` at 金寨县麻埠镇中心卫生院)."""

from __future__ import annotations

from typing import Any


def _api(page: Any, base: str, path: str) -> dict:
    return page.request.get(f"{base}{path}").json()


def _first_case(page: Any, base: str) -> str:
    """A hypertension case of the township with several follow-ups (the case page with its trend)."""
    rows = _api(page, base, "/api/v1/chronic-cases?registry=hypertension&control=uncontrolled")["results"]
    rows = rows or _api(page, base, "/api/v1/chronic-cases?registry=hypertension")["results"]
    rows.sort(key=lambda row: -row["follow_up_count"])
    return rows[0]["public_id"]


def case_page(page: Any, base: str) -> str:
    """The case page: follow-ups, control, blood-pressure trend."""
    return f"/chronic-care/cases/{_first_case(page, base)}/"


def follow_up_form(page: Any, base: str) -> str:
    """The follow-up form of that case."""
    return f"/chronic-care/cases/{_first_case(page, base)}/follow-up/"


def fill_impossible_values(page: Any) -> None:
    """Type an impossible blood pressure and submit: the form comes back with the field's range."""
    page.fill("[name=systolic]", "400")
    page.fill("[name=diastolic]", "90")
    page.click("[data-testid=follow-up-submit]")
    page.wait_for_load_state("networkidle")


def referred_follow_up(page: Any, base: str) -> str:
    """The follow-up whose suggested referral the demo sent (linked referral, outcome check)."""
    rows = _api(page, base, "/api/v1/chronic-cases?registry=hypertension&control=uncontrolled")["results"]
    for row in rows:
        follow_ups = _api(page, base, f"/api/v1/chronic-cases/{row['public_id']}/follow-ups")["results"]
        for follow_up in follow_ups:
            if follow_up["referral"]:
                return f"/chronic-care/follow-ups/{follow_up['public_id']}/"
    return "/chronic-care/suggestions/"


def refer_confirm(page: Any, base: str) -> str:
    """The prefilled confirm page of an open suggestion (the suggestion list when none is open)."""
    rows = _api(page, base, "/api/v1/chronic-follow-ups/suggestions")["results"]
    if rows:
        return f"/chronic-care/follow-ups/{rows[0]['public_id']}/refer/"
    return "/chronic-care/suggestions/"


SHOTS: list[dict[str, Any]] = [
    {"name": "chronic-care-list", "user": "township_doctor", "target": "/chronic-care/"},
    {"name": "chronic-care-enrol", "user": "township_doctor", "target": "/chronic-care/enrol/"},
    {"name": "chronic-care-case", "user": "township_doctor", "target": case_page, "height": 1100},
    {
        "name": "chronic-care-follow-up-error",
        "user": "township_doctor",
        "target": follow_up_form,
        "step": fill_impossible_values,
        "height": 1200,
    },
    {"name": "chronic-care-suggestion", "user": "township_doctor", "target": referred_follow_up},
    {"name": "chronic-care-refer", "user": "township_doctor", "target": refer_confirm, "height": 1100},
    {"name": "chronic-care-suggestions", "user": "township_doctor", "target": "/chronic-care/suggestions/"},
    {"name": "chronic-care-overdue", "user": "township_doctor", "target": "/chronic-care/overdue/"},
    {"name": "chronic-care-rates", "user": "office", "target": "/chronic-care/rates/?group=team"},
    {"name": "chronic-care-registries", "user": "office", "target": "/chronic-care/registries/"},
]
