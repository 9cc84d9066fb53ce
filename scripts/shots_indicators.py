"""Screenshots of the indicator pages for docs/guide/indicators.md (run by scripts/screenshots.py).

Targets find their records through the API as the shot's user: the seeds' monthly up-referral rate
(``seed_up_referral_rate``) in the last complete month, the member with the most up-referrals, and the
county consortium. Steps only fill forms or submit invalid input, so the demo data is never changed.

The refresh-run list is empty in a fresh demo (the demo computes its figures directly, not as a run); its
shot shows runs once an import or a request has queued one (``python scripts/shots_assessment.py
--prepare`` does, on a copy of the demo).
"""

from __future__ import annotations

import datetime
from typing import Any

UP_RATE = "seed_up_referral_rate"


def _api(page: Any, base: str, path: str) -> Any:
    return page.request.get(f"{base}{path}").json()


def _indicator(page: Any, base: str, code: str = UP_RATE) -> str:
    rows = _api(page, base, f"/api/v1/indicators?q={code}")["results"]
    return next(row["public_id"] for row in rows if row["code"] == code)


def last_complete_month() -> str:
    """The first day of last month (this month's figures are still partial)."""
    return (datetime.date.today().replace(day=1) - datetime.timedelta(days=1)).replace(day=1).isoformat()


def _figures_query(page: Any, base: str, unit_kind: str) -> str:
    return (
        f"indicator={_indicator(page, base)}&unit_kind={unit_kind}"
        f"&period_type=month&period={last_complete_month()}"
    )


def detail(page: Any, base: str) -> str:
    """The up-referral rate: formulas with their data items, legend, versions."""
    return f"/indicators/{_indicator(page, base)}/"


def edit(page: Any, base: str) -> str:
    """The edit form of the up-referral rate (a shared indicator: regulators keep it)."""
    return f"/indicators/{_indicator(page, base)}/edit/"


def figures(page: Any, base: str) -> str:
    """Every member's up-referral rate in the last complete month, best first, with its band."""
    return f"/indicators/figures/?{_figures_query(page, base, 'institution')}&sort=numerator"


def _top_member(page: Any, base: str) -> str:
    query = _figures_query(page, base, "institution")
    rows = _api(page, base, f"/api/v1/indicator-values?{query}&sort=numerator")["results"]
    return rows[0]["unit"]["ref"]


def _consortium(page: Any, base: str) -> str:
    rows = _api(page, base, "/api/v1/consortia?q=金寨县人民医院县域医共体")["results"]
    return rows[0]["public_id"]


def parts(page: Any, base: str) -> str:
    """The county's figure and its townships' figures, with their sums and what no township holds."""
    return f"/indicators/figures/parts/?{_figures_query(page, base, 'region')}&unit=341524"


def show_sums(page: Any) -> None:
    """Scroll so that the last townships and the sums under them show."""
    page.eval_on_selector("[data-testid=parts] tfoot", "e => e.scrollIntoView({block: 'end'})")
    page.evaluate("window.scrollBy(0, 60)")
    page.wait_for_timeout(200)


def records(page: Any, base: str) -> str:
    """The up-referrals behind one member's figure, as the office sees them (names masked)."""
    return (
        f"/indicators/figures/records/?{_figures_query(page, base, 'institution')}"
        f"&unit={_top_member(page, base)}&item=referrals_up"
    )


def formula_error(page: Any) -> None:
    """Misspell a data item in the denominator and save: the error names the character, nothing is saved."""
    page.fill("textarea[name=denominator]", "volume_visits + volume_admision")
    page.click("[data-testid=indicator-save]")
    page.wait_for_load_state("networkidle")
    page.eval_on_selector("textarea[name=denominator]", "e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(200)


SHOTS: list[dict[str, Any]] = [
    {"name": "indicators-catalogue", "user": "office", "target": "/indicators/", "height": 1100},
    {"name": "indicators-detail", "user": "office", "target": detail, "height": 1500},
    {"name": "indicators-formula-error", "user": "regulator", "target": edit, "step": formula_error},
    {"name": "indicators-figures", "user": "office", "target": figures, "height": 1000},
    {"name": "indicators-parts", "user": "regulator", "target": parts, "height": 1100},
    {"name": "indicators-parts-sums", "user": "regulator", "target": parts, "step": show_sums},
    {"name": "indicators-records", "user": "office", "target": records},
    {"name": "indicators-refresh", "user": "office", "target": "/indicators/refresh/"},
]  # fmt: skip
