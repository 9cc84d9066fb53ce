"""Scoped reads of chronic-disease management (see ``cases`` and ``rates``)."""

from yilian.chronic_care.selectors.cases import (
    OVERDUE_ORDERINGS,
    active_case_counts,
    active_case_counts_by_grid,
    case_get_for,
    case_list,
    case_visible_to,
    cases_of_person,
    follow_up_get_for,
    follow_up_visible_to,
    follow_ups_of,
    overdue_list,
    registered_counts_by_grid,
    registry_get,
    registry_list,
    stable_case_for,
    suggestion_list,
)
from yilian.chronic_care.selectors.proposals import Proposal, lead_hospital_of, referral_proposal
from yilian.chronic_care.selectors.rates import GROUPS, RateRow, period_of, rates, total

__all__ = [
    "GROUPS",
    "OVERDUE_ORDERINGS",
    "Proposal",
    "RateRow",
    "active_case_counts",
    "active_case_counts_by_grid",
    "case_get_for",
    "case_list",
    "case_visible_to",
    "cases_of_person",
    "follow_up_get_for",
    "follow_up_visible_to",
    "follow_ups_of",
    "lead_hospital_of",
    "overdue_list",
    "period_of",
    "rates",
    "referral_proposal",
    "registered_counts_by_grid",
    "registry_get",
    "registry_list",
    "stable_case_for",
    "suggestion_list",
    "total",
]
