"""Screenshots of the capacity-building pages for docs/guide/capacity-building.md (run by scripts/screenshots.py).

Each entry is a keyword dict of ``screenshots.Shot``; targets that need a record find it through the API
as the shot's user (the demo county: ``doctor`` at 金寨县人民医院 organises, ``township_doctor`` and
``township_admin`` at 金寨县麻埠镇中心卫生院, ``engineer`` repairs, ``office`` confirms and reads figures)."""

from __future__ import annotations

from typing import Any


def _api(page: Any, base: str, path: str) -> dict:
    return page.request.get(f"{base}{path}").json()


def today_round(page: Any, base: str) -> str:
    """The teaching round the demo's ``doctor`` published today, with its sign-ins and the sign-in form."""
    rows = _api(page, base, "/api/v1/capacity/courses?box=organised&status=planned")["results"]
    rows.sort(key=lambda row: row["starts_on"])
    return f"/capacity/courses/{rows[0]['public_id']}/" if rows else "/capacity/"


def held_course(page: Any, base: str) -> str:
    """A held course with many sign-ins (the per-institution summary)."""
    rows = _api(page, base, "/api/v1/capacity/courses?status=held")["results"]
    rows.sort(key=lambda row: -row["attendance_count"])
    return f"/capacity/courses/{rows[0]['public_id']}/" if rows else "/capacity/"


def fellowship_in_progress(page: Any, base: str) -> str:
    """A fellowship in progress at the county hospital (the completion form for its administrator)."""
    rows = _api(page, base, "/api/v1/capacity/fellowships?status=in_progress")["results"]
    return f"/capacity/fellowships/{rows[0]['public_id']}/" if rows else "/capacity/fellowships/"


def completed_fellowship(page: Any, base: str) -> str:
    """A completed fellowship with its assessment, certificate and history."""
    rows = _api(page, base, "/api/v1/capacity/fellowships?status=completed")["results"]
    return f"/capacity/fellowships/{rows[0]['public_id']}/" if rows else "/capacity/fellowships/"


def pending_technique(page: Any, base: str) -> str:
    """A technique waiting for the office's confirmation (the review form)."""
    rows = _api(page, base, "/api/v1/capacity/techniques?status=recorded")["results"]
    return f"/capacity/techniques/{rows[0]['public_id']}/" if rows else "/capacity/techniques/"


def taken_request(page: Any, base: str) -> str:
    """A repair request the engineer has taken (the result form)."""
    rows = _api(page, base, "/api/v1/capacity/maintenance?box=worklist&status=assigned")["results"]
    return f"/capacity/maintenance/{rows[0]['public_id']}/" if rows else "/capacity/maintenance/"


def village_ecg(page: Any, base: str) -> str:
    """An electrocardiograph of a village clinic with its repair history."""
    rows = _api(page, base, "/api/v1/capacity/devices?device_type=ecg&q=村卫生室")["results"]
    return f"/capacity/devices/{rows[0]['public_id']}/" if rows else "/capacity/devices/"


def fill_course_without_title(page: Any) -> None:
    """Submit the course form without a title: it comes back with the message and nothing is saved."""
    page.fill("[name=trainers]", "程立新 主任医师")
    page.fill("[name=place]", "县人民医院学术报告厅")
    page.click("[data-testid=course-submit]")
    page.wait_for_load_state("networkidle")


def fill_fellowship(page: Any) -> None:
    """Fill the application form up to the department (not sent)."""
    page.fill("[name=planned_months]", "6")
    page.fill("[name=specialty_goal]", "心电图判读与胸痛早期识别")


SHOTS: list[dict[str, Any]] = [
    {"name": "capacity-building-courses", "user": "doctor", "target": "/capacity/?box=organised"},
    {"name": "capacity-building-course-sign-in", "user": "doctor", "target": today_round, "height": 1200},
    {"name": "capacity-building-course-held", "user": "office", "target": held_course, "height": 1300},
    {
        "name": "capacity-building-course-error",
        "user": "doctor",
        "target": "/capacity/courses/new/",
        "step": fill_course_without_title,
        "height": 1300,
    },
    {"name": "capacity-building-attended", "user": "township_doctor", "target": "/capacity/?box=attended"},
    {"name": "capacity-building-fellowships", "user": "hospital_admin", "target": "/capacity/fellowships/"},
    {
        "name": "capacity-building-fellowship-apply",
        "user": "township_admin",
        "target": "/capacity/fellowships/new/",
        "step": fill_fellowship,
        "height": 1000,
    },
    {
        "name": "capacity-building-fellowship-complete",
        "user": "hospital_admin",
        "target": fellowship_in_progress,
        "height": 1100,
    },
    {"name": "capacity-building-fellowship-done", "user": "township_admin", "target": completed_fellowship},
    {"name": "capacity-building-techniques", "user": "office", "target": "/capacity/techniques/"},
    {
        "name": "capacity-building-technique-review",
        "user": "office",
        "target": pending_technique,
        "height": 1000,
    },
    {"name": "capacity-building-devices", "user": "hospital_admin", "target": "/capacity/devices/"},
    {"name": "capacity-building-device", "user": "hospital_admin", "target": village_ecg, "height": 1000},
    {
        "name": "capacity-building-worklist",
        "user": "engineer",
        "target": "/capacity/maintenance/?box=worklist",
    },
    {"name": "capacity-building-repair", "user": "engineer", "target": taken_request, "height": 1200},
    {
        "name": "capacity-building-requests",
        "user": "township_doctor",
        "target": "/capacity/maintenance/?box=requests",
    },
    {
        "name": "capacity-building-statistics",
        "user": "office",
        "target": "/capacity/statistics/",
        "height": 1100,
    },
]
