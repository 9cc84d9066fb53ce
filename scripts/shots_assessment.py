"""Screenshots of the assessment pages for docs/guide/assessment.md (run by scripts/screenshots.py).

Targets find their rounds through the API as the shot's user. The demo seeds a published monthly
up-referral ranking and a draft half-year round; it has no round with qualitative items and no published
round a year before another, so three shots fall back to what there is (the self-assessment scheme, the
published ranking) unless those rounds exist. To make them, run this module against a *copy* of the demo
served on another port, never against the shared demo:

    .venv/bin/python scripts/shots_assessment.py --prepare http://127.0.0.1:8766

It acts through the API as ``office``: a self-assessment of last year with evidence files and judgements
of the qualitative items of three members (left as a draft, so the forms show); the demo's half-year
round frozen and published; the monthly ranking of this month and of the same month a year ago (the
demo's first month of referrals), both published, for the year-on-year comparison; and a full refresh of
last month, queued. ``yilian db_worker --batch`` on the copy runs it; an encounter import on the copy
adds an incremental run (docs/guide/img/indicators-refresh.png shows both).
"""

from __future__ import annotations

import argparse
import datetime
from typing import Any

RANKING = "monthly-up-referral-ranking"
SELF = "self-assessment"


def _api(page: Any, base: str, path: str) -> Any:
    return page.request.get(f"{base}{path}").json()


def _rounds(page: Any, base: str) -> list[dict[str, Any]]:
    return _api(page, base, "/api/v1/assessment/rounds?page_size=100")["results"]


def _scheme(page: Any, base: str, code: str) -> dict[str, Any]:
    rows = _api(page, base, "/api/v1/assessment/schemes?page_size=100")["results"]
    return next(row for row in rows if row["code"] == code)


def published(page: Any, base: str) -> str:
    """The published half-year target round (all four grades), else the newest published round (the demo's
    monthly up-referral ranking)."""
    rows = [row for row in _rounds(page, base) if row["published_version"]]
    half = [row for row in rows if row["kind"] == "half_year_target"]
    return f"/assessment/rounds/{(half or rows)[0]['public_id']}/" if rows else "/assessment/"


def compared(page: Any, base: str) -> str:
    """A published round with a published round of the same scheme a year earlier, else the newest published."""
    for row in _rounds(page, base):
        if row["published_version"]:
            found = _api(page, base, f"/api/v1/assessment/rounds/{row['public_id']}/compare")
            if found.get("earlier_round"):
                return f"/assessment/rounds/{row['public_id']}/"
    return published(page, base)


def qualitative(page: Any, base: str) -> str:
    """A round with qualitative items (their evidence and judgement forms), else the self-assessment scheme."""
    for row in _rounds(page, base):
        if row["status"] == "published":
            continue
        results = _api(
            page, base, f"/api/v1/assessment/rounds/{row['public_id']}/results?version=0&page_size=100"
        )
        if any(result["is_qualitative"] for result in results.get("results", [])):
            return f"/assessment/rounds/{row['public_id']}/?v=0"
    return f"/assessment/schemes/{_scheme(page, base, SELF)['public_id']}/"


def half_year_scheme(page: Any, base: str) -> str:
    """The half-year target scheme: items, weights and scoring rules, grade bands and rewards."""
    return f"/assessment/schemes/{_scheme(page, base, 'half-year-member-targets')['public_id']}/"


def show_qualitative(page: Any) -> None:
    """Scroll to the qualitative items (pending count, filters, evidence files, upload and judgement forms)."""
    if page.locator("[data-testid=qualitative-pending]").count():
        page.eval_on_selector("[data-testid=qualitative-pending]", "e => e.scrollIntoView({block: 'start'})")
        page.evaluate("window.scrollBy(0, -70)")
        page.wait_for_timeout(300)


def show_changes(page: Any) -> None:
    """Scroll to the end of the totals, where members that referred patients up differ from last year."""
    page.wait_for_timeout(800)
    page.eval_on_selector(
        "[data-testid=round-totals] tbody tr:last-child", "e => e.scrollIntoView({block: 'end'})"
    )
    page.evaluate("window.scrollBy(0, 40)")
    page.wait_for_timeout(300)


def wait_for_chart(page: Any) -> None:
    """Let ECharts draw the bar chart of the totals."""
    page.wait_for_timeout(800)


SHOTS: list[dict[str, Any]] = [
    {"name": "assessment-rounds", "user": "office", "target": "/assessment/"},
    {"name": "assessment-scheme", "user": "office", "target": half_year_scheme, "height": 1000},
    {"name": "assessment-published", "user": "office", "target": published, "step": wait_for_chart, "height": 1300},
    {"name": "assessment-qualitative", "user": "office", "target": qualitative, "step": show_qualitative},
    {"name": "assessment-compare", "user": "office", "target": compared, "step": show_changes, "height": 1000},
]  # fmt: skip


# --- preparing a copy of the demo --------------------------------------------------------------------------

COUNTY_COMMUNITY = "金寨县人民医院县域医共体"
EVIDENCE = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JUDGEMENTS = [("met", "制度健全，已落实"), ("partly", "制度已建立，部分落实"), ("not_met", "未见佐证材料")]


def _month_before(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


class _Client:  # pragma: no cover - used by hand against a copy of the demo
    """The API of ``base`` as a logged-in demo user (session cookie and CSRF header)."""

    def __init__(self, browser: Any, base: str, user: str, password: str) -> None:
        self.base = base
        context = browser.new_context()
        self.page = context.new_page()
        self.page.goto(f"{base}/accounts/login/")
        self.page.fill("input[name=username]", user)
        self.page.fill("input[name=password]", password)
        self.page.click("[data-testid=login-submit]")
        self.page.wait_for_load_state("networkidle")
        token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
        self.headers = {"X-CSRFToken": token, "Referer": f"{base}/"}

    def get(self, path: str) -> Any:
        return _api(self.page, self.base, path)

    def post(self, path: str, data: Any = None, multipart: Any = None) -> Any:
        response = self.page.request.post(
            f"{self.base}{path}", headers=self.headers, data=data, multipart=multipart
        )
        if not response.ok:
            raise SystemExit(f"{path}: {response.status} {response.text()}")
        print(path, response.status)
        return response.json()

    def publish(self, round_id: str) -> None:
        """Freeze the round (recomputing it) and publish that version."""
        frozen = self.post(f"/api/v1/assessment/rounds/{round_id}/freeze")
        self.post(
            f"/api/v1/assessment/rounds/{round_id}/publish", data={"expected_version": frozen["version"]}
        )


def _self_assessment(client: _Client, consortium: str, year: datetime.date) -> None:  # pragma: no cover
    """A self-assessment of ``year`` with evidence and judgements for three members, left as a draft."""
    scheme = _scheme(client.page, client.base, SELF)["public_id"]
    data = {"scheme": scheme, "consortium": consortium, "kind": "self", "period_start": year.isoformat()}
    round_id = client.post("/api/v1/assessment/rounds", data=data)["public_id"]
    client.post(f"/api/v1/assessment/rounds/{round_id}/compute")
    results = client.get(f"/api/v1/assessment/rounds/{round_id}/results?version=0&page_size=500")["results"]
    names = {row["subject"]: row["subject_name"] for row in results if row["is_qualitative"]}
    subjects = sorted(names, key=names.__getitem__)[: len(JUDGEMENTS)]
    for subject, (verdict, comment) in zip(subjects, JUDGEMENTS, strict=False):
        for code in ("ncm2024_01", "ncm2024_03"):
            upload = {"name": f"{code}-会议纪要.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE}
            client.post(
                f"/api/v1/assessment/rounds/{round_id}/evidence",
                multipart={"indicator": code, "subject": subject, "file": upload},
            )
            judgement = {"indicator": code, "subject": subject, "verdict": verdict, "comment": comment}
            client.post(f"/api/v1/assessment/rounds/{round_id}/judgements", data=judgement)
    client.post(f"/api/v1/assessment/rounds/{round_id}/compute")


def _prepare(base: str) -> None:  # pragma: no cover - a helper run by hand against a copy of the demo
    from playwright.sync_api import sync_playwright
    from screenshots import ARGS, PASSWORD

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        client = _Client(browser, base, "office", PASSWORD)
        consortium = client.get(f"/api/v1/consortia?q={COUNTY_COMMUNITY}")["results"][0]["public_id"]
        this_month = datetime.date.today().replace(day=1)
        _self_assessment(client, consortium, datetime.date(this_month.year - 1, 1, 1))

        # The demo's half-year round, frozen and published.
        for row in _rounds(client.page, base):
            if row["kind"] == "half_year_target" and not row["published_version"]:
                client.publish(row["public_id"])

        # The monthly ranking of this month and of the same month a year ago, both published.
        ranking = _scheme(client.page, base, RANKING)["public_id"]
        rounds = {(row["scheme"], row["period_start"]): row for row in _rounds(client.page, base)}
        for start in (_month_before(this_month, 12), this_month):
            data = {
                "scheme": ranking,
                "consortium": consortium,
                "kind": "monthly_ranking",
                "period_start": start.isoformat(),
            }
            row = rounds.get((ranking, start.isoformat())) or client.post(
                "/api/v1/assessment/rounds", data=data
            )
            if not row["published_version"]:
                client.publish(row["public_id"])

        # A full refresh of last month, requested by the office (queued for the copy's worker).
        last = _month_before(this_month, 1).isoformat()
        client.post("/api/v1/indicator-refreshes", data={"first_month": last, "last_month": last})
        browser.close()


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", metavar="BASE", required=True, help="base URL of a COPY of the demo")
    _prepare(parser.parse_args().prepare)
