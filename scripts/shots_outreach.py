"""Screenshots of the outreach pages for docs/guide/outreach.md (run by scripts/screenshots.py).

Each entry is a keyword dict of ``screenshots.Shot``; targets that need a record find it through the API
as the shot's user (the demo county: ``hospital_admin`` and ``doctor`` at 金寨县人民医院 send experts,
``township_admin`` and ``township_doctor`` at 金寨县麻埠镇中心卫生院 receive them, ``office`` reads the
figures)."""

from __future__ import annotations

import datetime
from typing import Any


def _api(page: Any, base: str, path: str) -> dict:
    return page.request.get(f"{base}{path}").json()


def waiting_batch(page: Any, base: str) -> str:
    """The batch ``doctor`` recorded and completed yesterday, waiting for the township's confirmation."""
    rows = _api(page, base, "/api/v1/outreach-batches?box=received&status=done")["results"]
    return f"/outreach/batches/{rows[0]['public_id']}/" if rows else "/outreach/?box=received"


def confirmed_batch(page: Any, base: str) -> str:
    """A confirmed batch with several experts' work and its timeline."""
    rows = _api(page, base, "/api/v1/outreach-batches?box=sent&status=confirmed")["results"]
    rows.sort(key=lambda row: -len(row["experts"]))
    return f"/outreach/batches/{rows[0]['public_id']}/" if rows else "/outreach/"


def planned_batch(page: Any, base: str) -> str:
    """A planned batch of the next fortnight (the form to add an expert's work)."""
    rows = _api(page, base, "/api/v1/outreach-batches?box=sent&status=planned")["results"]
    return f"/outreach/batches/{rows[0]['public_id']}/" if rows else "/outreach/"


def active_posting(page: Any, base: str) -> str:
    """A posting in progress (the end form for the administrators)."""
    rows = _api(page, base, "/api/v1/outreach-postings?status=active")["results"]
    return f"/outreach/postings/{rows[0]['public_id']}/" if rows else "/outreach/postings/"


def booked_session(page: Any, base: str) -> str:
    """The township's next expert clinic session with booked slots (the booking form, residents found)."""
    rows = _api(page, base, "/api/v1/expert-clinic-sessions?open=true")["results"]
    rows = [row for row in rows if row.get("booked_count")]
    return f"/outreach/sessions/{rows[0]['public_id']}/?q=a" if rows else "/outreach/sessions/"


def office_session(page: Any, base: str) -> str:
    """The same kind of session as the office reads it (residents masked)."""
    rows = _api(page, base, "/api/v1/expert-clinic-sessions?open=true")["results"]
    rows = [row for row in rows if row.get("booked_count")]
    return f"/outreach/sessions/{rows[0]['public_id']}/" if rows else "/outreach/sessions/"


def last_year_indicator(page: Any, base: str) -> str:
    """The posting indicator of last year (cross-year postings, exclusions in the drill-down)."""
    return f"/outreach/indicator/?year={datetime.date.today().year - 1}"


def fill_batch_form(page: Any) -> None:
    """A new batch to a township centre, filled in but not saved."""
    page.select_option("select[name=host_institution]", index=2)
    today = datetime.date.today().isoformat()
    page.fill("input[name=starts_on]", today)
    page.fill("input[name=ends_on]", today)
    page.fill("input[name=purpose]", "心内科专家坐诊、业务查房")


def fill_visit_with_error(page: Any) -> None:
    """An expert's work with more hazards fixed than found, submitted: the inline error."""
    form = page.locator("[data-testid=visit-form]")
    form.locator("select[name=expert]").select_option(index=1)
    form.locator("select[name=kind]").select_option("quality")
    form.locator("input[name=hazards_found]").fill("1")
    form.locator("input[name=hazards_fixed]").fill("3")
    form.locator("[data-testid=visit-submit]").click()
    page.wait_for_load_state("networkidle")


SHOTS: list[dict[str, Any]] = [
    {"name": "outreach-batches", "user": "hospital_admin", "target": "/outreach/?box=sent"},
    {
        "name": "outreach-batch-new",
        "user": "hospital_admin",
        "target": "/outreach/batches/new/",
        "step": fill_batch_form,
    },
    {"name": "outreach-batch-planned", "user": "hospital_admin", "target": planned_batch, "height": 1300},
    {
        "name": "outreach-visit-error",
        "user": "hospital_admin",
        "target": planned_batch,
        "step": fill_visit_with_error,
        "height": 1300,
    },
    {"name": "outreach-batch-confirm", "user": "township_admin", "target": waiting_batch, "height": 1200},
    {"name": "outreach-batch-confirmed", "user": "office", "target": confirmed_batch, "height": 1200},
    {"name": "outreach-postings", "user": "office", "target": "/outreach/postings/"},
    {"name": "outreach-posting", "user": "hospital_admin", "target": active_posting},
    {"name": "outreach-indicator", "user": "office", "target": last_year_indicator, "height": 1200},
    {"name": "outreach-sessions", "user": "township_doctor", "target": "/outreach/sessions/"},
    {"name": "outreach-session-booking", "user": "township_doctor", "target": booked_session, "height": 1300},
    {"name": "outreach-session-masked", "user": "office", "target": office_session, "height": 1100},
    {"name": "outreach-report", "user": "office", "target": "/outreach/report/", "height": 900},
    {"name": "outreach-statistics", "user": "office", "target": "/outreach/statistics/", "height": 1200},
]
