"""Screenshots of the cockpit for docs/guide/cockpit.md (run by scripts/screenshots.py).

The pages open with their defaults (the latest complete period); steps wait for ECharts to draw and scroll
to a block. The demo's township outlines are synthetic (``yilian.demo.geometry``), not real boundaries.
"""

from __future__ import annotations

from typing import Any


def _drawn(page: Any) -> None:
    page.wait_for_selector("[_echarts_instance_]", timeout=10_000)
    page.wait_for_timeout(1200)  # ECharts animates its first draw


def charts(page: Any) -> None:
    """The cards and the first trends, once drawn."""
    _drawn(page)


def _scroll(page: Any, selector: str) -> None:
    _drawn(page)
    page.eval_on_selector(selector, "e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(600)


def township_map(page: Any) -> None:
    """The township map of the chosen indicator."""
    _scroll(page, "[data-cockpit-map]")
    page.evaluate("window.scrollBy(0, -80)")
    page.wait_for_timeout(300)


def rankings(page: Any) -> None:
    """The members' rankings (a member sees its own row highlighted)."""
    _scroll(page, "[data-testid=cockpit-rankings]")


def county_community(page: Any, base: str) -> str:
    """The county health community's cockpit (a township centre belongs to more than one consortium)."""
    rows = page.request.get(f"{base}/api/v1/consortia?q=金寨县人民医院县域医共体").json()["results"]
    return f"/cockpit/?consortium={rows[0]['public_id']}"


SHOTS: list[dict[str, Any]] = [
    {"name": "cockpit-office", "user": "office", "target": "/cockpit/", "step": charts, "height": 1100},
    {"name": "cockpit-map", "user": "office", "target": "/cockpit/?map=ncm2024_12", "step": township_map, "height": 900},
    {"name": "cockpit-rankings", "user": "township_admin", "target": county_community, "step": rankings, "height": 1000},
    {"name": "cockpit-regulator", "user": "city_regulator", "target": "/cockpit/regulator/", "step": charts, "height": 1300},
]  # fmt: skip
