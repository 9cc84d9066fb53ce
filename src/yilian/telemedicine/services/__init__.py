"""Writes of teleconsultation. Adapters import from here."""

from yilian.telemedicine.services.availability import availability_publish, availability_withdraw, fee_set
from yilian.telemedicine.services.teleconsultations import (
    teleconsultation_act,
    teleconsultation_attach,
    teleconsultation_create,
)

__all__ = [
    "availability_publish",
    "availability_withdraw",
    "fee_set",
    "teleconsultation_act",
    "teleconsultation_attach",
    "teleconsultation_create",
]
