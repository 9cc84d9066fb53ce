"""The diagnostics section of a person's record: the patient's orders and reports the viewer may read."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from yilian.diagnostics import policies, selectors
from yilian.diagnostics.choices import OrderStatus

RECORD_ROWS = 10
"""Newest results shown on the record; the order list filtered by the patient has the rest."""


def patient_results_section(request: HttpRequest, person: Any) -> dict[str, Any] | None:
    """The newest orders of the patient the viewer reads as an ordering or centre clinician; None for
    viewers who see no patients' results (they get no section)."""
    actor = request.user
    if not policies.patient_institutions(actor):
        return None
    orders = list(selectors.patient_results(actor, person)[: RECORD_ROWS + 1])
    return {
        "orders": [
            {"order": order, "has_report": order.status == OrderStatus.FINAL}
            for order in orders[:RECORD_ROWS]
        ],
        "more": len(orders) > RECORD_ROWS,
        "person": person,
    }
