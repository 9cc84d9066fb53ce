"""Writes of expert outreach. Adapters import from here."""

from yilian.outreach.services.batches import batch_act, batch_create, visit_add, visit_remove, visit_update
from yilian.outreach.services.clinics import booking_cancel, booking_create, session_cancel, session_publish
from yilian.outreach.services.postings import (
    posting_cancel,
    posting_create,
    posting_end,
    posting_problems,
    posting_start,
)

__all__ = [
    "batch_act",
    "batch_create",
    "booking_cancel",
    "booking_create",
    "posting_cancel",
    "posting_create",
    "posting_end",
    "posting_problems",
    "posting_start",
    "session_cancel",
    "session_publish",
    "visit_add",
    "visit_remove",
    "visit_update",
]
