"""The chronic-care section of the person page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from yilian.chronic_care import policies, selectors
from yilian.chronic_care.views.pages import trend_points

RECORD_VISITS = 4


def chronic_section(request: HttpRequest, person: Any) -> dict[str, Any] | None:
    """The person's cases the viewer reads, each with its last follow-ups and a blood-pressure trend;
    None for viewers who read no cases (no section)."""
    actor = request.user
    if not policies.can_see_cases(actor):
        return None
    cases = list(selectors.cases_of_person(actor, person))
    rows = []
    for case in cases:  # a person has one or two cases: a bounded loop, not a list page
        follow_ups = list(selectors.follow_ups_of(case, limit=12))
        rows.append({"case": case, "recent": follow_ups[:RECORD_VISITS], "trend": trend_points(follow_ups)})
    return {"cases": rows, "person": person, "may_enrol": policies.can_enrol(actor)}
