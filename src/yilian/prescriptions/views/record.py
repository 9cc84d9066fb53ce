"""The prescriptions section of a person's record: the person's current prescriptions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from yilian.prescriptions import policies, selectors


def current_prescriptions_section(request: HttpRequest, person: Any) -> dict[str, Any] | None:
    """Active prescriptions still within their validity that the viewer reads in full; None for viewers
    who read no prescriptions with patients (no section)."""
    actor = request.user
    if not (policies.reading_institutions(actor) or policies.is_platform_admin(actor)):
        return None
    rows = selectors.person_current_prescriptions(actor, person, today=timezone.localdate())
    return {"prescriptions": rows, "person": person, "may_prescribe": policies.can_prescribe(actor)}
