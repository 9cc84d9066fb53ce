"""Writes of two-way referral. Adapters import from here."""

from yilian.referrals.services.configuration import (
    capacity_publish,
    criteria_load_scheme,
    criterion_create,
    criterion_update,
    referral_settings_update,
    subsidy_set,
)
from yilian.referrals.services.criteria import CriteriaCheck, Preview, referral_preview
from yilian.referrals.services.referrals import (
    follow_up_record,
    referral_act,
    referral_attach,
    referral_check,
    referral_create,
    referral_submit,
    referral_sweep_deadlines,
    referral_update,
)

__all__ = [
    "CriteriaCheck",
    "Preview",
    "capacity_publish",
    "criteria_load_scheme",
    "criterion_create",
    "criterion_update",
    "follow_up_record",
    "referral_act",
    "referral_attach",
    "referral_check",
    "referral_create",
    "referral_preview",
    "referral_settings_update",
    "referral_submit",
    "referral_sweep_deadlines",
    "referral_update",
    "subsidy_set",
]
