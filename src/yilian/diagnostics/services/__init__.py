"""Writes of the shared diagnostic centres. Adapters import from here."""

from yilian.diagnostics.services.configuration import (
    centre_create,
    centre_update,
    item_create,
    item_update,
    rule_create,
    rule_update,
)
from yilian.diagnostics.services.orders import (
    RecognisedResultExists,
    critical_alert_acknowledge,
    critical_alerts_escalate,
    critical_value_raise,
    order_act,
    order_create,
    order_receive_barcode,
    recognition_use,
    study_upload,
)

__all__ = [
    "RecognisedResultExists",
    "centre_create",
    "centre_update",
    "critical_alert_acknowledge",
    "critical_alerts_escalate",
    "critical_value_raise",
    "item_create",
    "item_update",
    "order_act",
    "order_create",
    "order_receive_barcode",
    "recognition_use",
    "rule_create",
    "rule_update",
    "study_upload",
]
