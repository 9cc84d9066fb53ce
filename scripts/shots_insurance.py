"""Screenshots of the insurance pages for docs/guide/insurance.md and of data import for docs/guide/imports.md
(run by scripts/screenshots.py).

Targets that need a record find it through the API as the shot's user (``insurance``, the county's
insurance officer; ``hospital_admin`` for import jobs). The settlement shot shows the newest frozen version
when one exists, else the list of versions; the job shot the newest import job, else the job list."""

from __future__ import annotations

from typing import Any


def _api(page: Any, base: str, path: str) -> Any:
    return page.request.get(f"{base}{path}").json()


def _rows(payload: Any) -> list[dict[str, Any]]:
    return payload["results"] if isinstance(payload, dict) else payload


def _budget(page: Any, base: str) -> str:
    rows = _rows(_api(page, base, "/api/v1/budgets"))
    return rows[0]["public_id"] if rows else ""


def budget(page: Any, base: str) -> str:
    """The demo consortium's budget page."""
    found = _budget(page, base)
    return f"/insurance/budgets/{found}/" if found else "/insurance/budgets/"


def budget_form(page: Any, base: str) -> str:
    """The budget's edit form (headcounts, deductions, switches)."""
    found = _budget(page, base)
    return f"/insurance/budgets/{found}/edit/" if found else "/insurance/budgets/new/"


def whatif(page: Any, base: str) -> str:
    """The what-if page prefilled with 6:3:1 and 4:3:3."""
    found = _budget(page, base)
    return f"/insurance/budgets/{found}/whatif/" if found else "/insurance/budgets/"


def member_tiers(page: Any, base: str) -> str:
    """Each member's settlement tier: its default and the officer's choice."""
    found = _budget(page, base)
    return f"/insurance/budgets/{found}/tiers/" if found else "/insurance/budgets/"


def settlement(page: Any, base: str) -> str:
    """The newest frozen settlement, else the versions list."""
    found = _budget(page, base)
    if not found:
        return "/insurance/budgets/"
    rows = _rows(_api(page, base, f"/api/v1/budgets/{found}/settlements"))
    return (
        f"/insurance/settlements/{rows[0]['public_id']}/"
        if rows
        else f"/insurance/budgets/{found}/settlements/"
    )


def import_job(page: Any, base: str) -> str:
    """The newest import job (with its rejected rows), else the job list."""
    rows = _rows(_api(page, base, "/api/v1/imports"))
    return f"/imports/{rows[0]['public_id']}/" if rows else "/imports/"


SHOTS: list[dict[str, Any]] = [
    {"name": "insurance-budget", "user": "insurance", "target": budget, "height": 1500},
    {"name": "insurance-budget-form", "user": "insurance", "target": budget_form, "height": 1100},
    {"name": "insurance-whatif", "user": "insurance", "target": whatif, "height": 1300},
    {"name": "insurance-settlement", "user": "insurance", "target": settlement, "height": 1200},
    {"name": "insurance-member-tiers", "user": "insurance", "target": member_tiers, "height": 1300},
    {"name": "insurance-claims", "user": "insurance", "target": "/insurance/claims/"},
    {"name": "insurance-claim-aggregates", "user": "office", "target": "/insurance/claims/aggregates/"},
    {"name": "insurance-cost-stories", "user": "office", "target": "/insurance/cost-stories/", "height": 1300},
    {"name": "imports-new", "user": "hospital_admin", "target": "/imports/new/"},
    {"name": "imports-job", "user": "hospital_admin", "target": import_job, "height": 1100},
    {"name": "imports-list", "user": "hospital_admin", "target": "/imports/"},
]  # fmt: skip
