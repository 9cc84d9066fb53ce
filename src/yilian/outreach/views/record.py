"""The person page's section of expert clinic bookings (registered by ``OutreachConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from yilian.outreach import policies, selectors

RECORD_ROWS = 10


def booking_section(request: HttpRequest, person: Any) -> dict[str, Any] | None:
    """The resident's newest expert clinic bookings the viewer may see; None for viewers who book
    nowhere and hold no clinic (they get no section)."""
    actor = request.user
    if not (policies.booking_institutions(actor) or policies.expert_institutions(actor)):
        return None
    rows = list(selectors.person_bookings(actor, person)[:RECORD_ROWS])
    return {"bookings": rows, "person": person}
