"""Screenshots of the insurance pages for docs/guide/insurance.md and of data import for docs/guide/imports.md
(run by scripts/screenshots.py).

Targets that need a record find it through the API as the shot's user (``insurance``, the county's
insurance officer; ``hospital_admin`` for import jobs). The settlement shot shows the newest frozen version
when one exists, else the list of versions; the job shot the newest import job, else the job list.

The two reopening shots need a settlement in force and a reopened one, which the demo does not seed: when
missing, their targets freeze the budget under its first rule and reopen that version through the API as the
insurance officer. They change the demo's data (a new version, a reopened one) — take them on a private demo
database (``--only insurance-settlement-reopen``); run again, they reuse what they made."""

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


REOPEN_REASON = "参保人数录入有误：某乡镇卫生院签约参保人数少录 1200 人，需更正预算后重新冻结"


def _post(page: Any, base: str, path: str, data: dict[str, Any]) -> Any:
    """POST as the logged-in user (session and CSRF cookie, as the pages' forms do)."""
    token = next((c["value"] for c in page.context.cookies(base) if c["name"] == "csrftoken"), "")
    if not token:
        page.goto(f"{base}/insurance/budgets/")  # any page sets the CSRF cookie
        token = next(c["value"] for c in page.context.cookies(base) if c["name"] == "csrftoken")
    response = page.request.post(f"{base}{path}", data=data, headers={"X-CSRFToken": token, "Referer": base})
    if not response.ok:
        raise RuntimeError(f"POST {path}: {response.status} {response.text()[:500]}")
    return response.json()


def _versions(page: Any, base: str, found: str) -> list[dict[str, Any]]:
    return _rows(_api(page, base, f"/api/v1/budgets/{found}/settlements?page_size=100"))


def _in_force(page: Any, base: str, found: str) -> dict[str, Any]:
    """The budget's settlement in force; freezes one under the first rule when there is none (changes data)."""
    versions = _versions(page, base, found)
    current = next((row for row in versions if row["status"] == "in_force"), None)
    if current is not None:
        return current
    rule = _rows(_api(page, base, f"/api/v1/budgets/{found}/rules"))[0]["public_id"]
    latest = max((row["version"] for row in versions), default=0)
    return _post(
        page,
        base,
        f"/api/v1/budgets/{found}/settlements",
        {"rule": rule, "expected_latest_version": latest},
    )


def settlement_in_force(page: Any, base: str) -> str:
    """The settlement in force (frozen first when there is none), where the officer reopens it."""
    found = _budget(page, base)
    return (
        f"/insurance/settlements/{_in_force(page, base, found)['public_id']}/"
        if found
        else "/insurance/budgets/"
    )


def settlement_reopened(page: Any, base: str) -> str:
    """A reopened settlement; reopens the one in force with a reason when none is (changes data)."""
    found = _budget(page, base)
    if not found:
        return "/insurance/budgets/"
    reopened = next((row for row in _versions(page, base, found) if row["status"] == "reopened"), None)
    if reopened is None:
        current = _in_force(page, base, found)
        reopened = _post(
            page, base, f"/api/v1/settlements/{current['public_id']}/reopen", {"reason": REOPEN_REASON}
        )
    return f"/insurance/settlements/{reopened['public_id']}/"


def type_reopen_reason(page: Any) -> None:
    """Type the reason into the reopen form at the foot of the settlement page (not sent)."""
    page.fill("#id_reason", REOPEN_REASON)
    page.eval_on_selector("[data-testid=settlement-reopen]", "e => e.scrollIntoView({block: 'end'})")
    page.wait_for_timeout(200)


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
    {
        "name": "insurance-settlement-reopen",
        "user": "insurance",
        "target": settlement_in_force,
        "step": type_reopen_reason,
    },
    {"name": "insurance-settlement-reopened", "user": "insurance", "target": settlement_reopened},
    {"name": "insurance-claims", "user": "insurance", "target": "/insurance/claims/"},
    {"name": "insurance-claim-aggregates", "user": "office", "target": "/insurance/claims/aggregates/"},
    {"name": "insurance-cost-stories", "user": "office", "target": "/insurance/cost-stories/", "height": 1300},
    {"name": "imports-new", "user": "hospital_admin", "target": "/imports/new/"},
    {"name": "imports-job", "user": "hospital_admin", "target": import_job, "height": 1100},
    {"name": "imports-list", "user": "hospital_admin", "target": "/imports/"},
]  # fmt: skip
