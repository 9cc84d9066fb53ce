"""Screenshots of the family-doctor pages for docs/guide/family-doctors.md (run by scripts/screenshots.py).

Each entry is a keyword dict of ``screenshots.Shot``; targets that need a record find it through the API
as the shot's user (the demo county: ``township_admin`` manages the team of township 341524101,
``township_doctor`` leads it and signs, ``endocrinologist`` is its hospital specialist, ``office`` and
``regulator`` read aggregates, ``coordinator`` publishes the slots kept for signed residents)."""

from __future__ import annotations

from typing import Any


def _api(page: Any, base: str, path: str) -> dict:
    return page.request.get(f"{base}{path}").json()


def _first_team(page: Any, base: str) -> dict:
    rows = _api(page, base, "/api/v1/care-teams")["results"]
    rows.sort(key=lambda row: -row["member_count"])
    return rows[0] if rows else {}


def team_page(page: Any, base: str) -> str:
    """The demo accounts' team: members (with history) and its coverage."""
    team = _first_team(page, base)
    return f"/family-doctors/teams/{team['public_id']}/" if team else "/family-doctors/"


def panel_page(page: Any, base: str) -> str:
    """The team's panel."""
    team = _first_team(page, base)
    return f"/family-doctors/teams/{team['public_id']}/panel/" if team else "/family-doctors/contracts/"


def expiring_panel(page: Any, base: str) -> str:
    """The panel filtered to elderly residents whose contract ends within 30 days."""
    return panel_page(page, base) + "?group=elderly&expiring=on"


def renewed_contract(page: Any, base: str) -> str:
    """A renewed contract (two terms) ending within 90 days: the renew and terminate forms."""
    rows = _api(page, base, "/api/v1/contracts?status=renewed&expiring=true")["results"]
    if not rows:
        rows = _api(page, base, "/api/v1/contracts?status=renewed")["results"]
    return f"/family-doctors/contracts/{rows[0]['public_id']}/" if rows else "/family-doctors/contracts/"


def sign_search(page: Any, base: str) -> str:
    """The signing page with the resident finder's results."""
    return "/family-doctors/contracts/new/?q=%E7%8E%8B"


def pick_first_resident(page: Any) -> None:
    """Choose the first not-yet-signed resident of the finder (the form fills with suggested groups)."""
    link = page.locator('[data-testid="resident-pick"]').first
    if link.count():
        link.click()
        page.wait_for_load_state()


def fill_termination(page: Any) -> None:
    """Fill the termination form without sending it."""
    form = page.locator('[data-testid="terminate-form"]')
    if form.count():
        form.locator("select[name=reason]").select_option("moved_away")
        form.locator("input[name=note]").fill("迁往合肥")


def person_record(page: Any, base: str) -> str:
    """A signed resident's person page with the family-doctor section."""
    rows = _api(page, base, "/api/v1/contracts?group=elderly")["results"]
    return f"/people/{rows[0]['person']['public_id']}/" if rows else "/people/"


def green_channel_inbox(page: Any, base: str) -> str:
    """The county hospital's referral inbox: signed residents' referrals carry the green-channel badge."""
    return "/referrals/inbox/"


SHOTS: list[dict[str, Any]] = [
    {"name": "family-doctors-teams", "user": "township_admin", "target": "/family-doctors/"},
    {"name": "family-doctors-team", "user": "township_admin", "target": team_page, "height": 1100},
    {"name": "family-doctors-panel", "user": "township_doctor", "target": panel_page, "height": 1100},
    {"name": "family-doctors-panel-expiring", "user": "township_doctor", "target": expiring_panel},
    {"name": "family-doctors-specialist-panel", "user": "endocrinologist", "target": panel_page},
    {
        "name": "family-doctors-sign",
        "user": "township_doctor",
        "target": sign_search,
        "step": pick_first_resident,
        "height": 1100,
    },
    {
        "name": "family-doctors-contract",
        "user": "township_doctor",
        "target": renewed_contract,
        "step": fill_termination,
        "height": 1200,
    },
    {
        "name": "family-doctors-packages",
        "user": "office",
        "target": "/family-doctors/packages/",
        "height": 1000,
    },
    {"name": "family-doctors-coverage", "user": "office", "target": "/family-doctors/coverage/?by=team"},
    {
        "name": "family-doctors-coverage-regulator",
        "user": "regulator",
        "target": "/family-doctors/coverage/?by=consortium",
    },
    {"name": "family-doctors-record", "user": "township_doctor", "target": person_record},
    {"name": "family-doctors-green-channel", "user": "coordinator", "target": green_channel_inbox},
    {"name": "family-doctors-reserved-slots", "user": "coordinator", "target": "/referrals/capacity/"},
]
