"""The referral state machine as data: which action moves which state to which, by whom, with what.

Pure: no database, no Django models. ``referrals.services`` enforces it
(one place, unlike CARE, whose server lets any permitted status follow any
other); the UI and the API read ``available_actions`` to offer only what is
allowed now.
"""

from __future__ import annotations

from dataclasses import dataclass

from yilian.core.permissions import Role
from yilian.referrals.choices import ReferralSide
from yilian.referrals.choices import ReferralStatus as S

SENDING_ROLES = frozenset({Role.DOCTOR, Role.REFERRAL_COORDINATOR})
"""Who may write and send referrals at the sending institution."""

RECEIVING_ROLES = frozenset({Role.DOCTOR, Role.REFERRAL_COORDINATOR})
"""Who may answer, schedule and complete at the receiving institution."""

ARRIVAL_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.REFERRAL_COORDINATOR})
"""Who may mark the patient arrived (the ward nurse often does)."""

RESUME = "resume"
"""Target of declining a cancel request: back to scheduled when a date was set, else accepted."""


@dataclass(frozen=True)
class Transition:
    """One allowed move. ``required`` names the fields the action must carry (non-empty)."""

    action: str
    sources: frozenset[str]
    target: str
    side: str
    roles: frozenset[str]
    required: tuple[str, ...] = ()


def _t(
    action: str, sources: set[str], target: str, side: str, roles: frozenset[str], *required: str
) -> Transition:
    return Transition(action, frozenset(sources), target, side, roles, tuple(required))


SENDER, RECEIVER, SYSTEM = ReferralSide.SENDER, ReferralSide.RECEIVER, ReferralSide.SYSTEM
NOBODY: frozenset[str] = frozenset()

TRANSITIONS: tuple[Transition, ...] = (
    _t("submit", {S.DRAFT}, S.SUBMITTED, SENDER, SENDING_ROLES),
    _t("cancel", {S.DRAFT, S.SUBMITTED}, S.CANCELLED, SENDER, SENDING_ROLES, "reason"),
    _t("accept", {S.SUBMITTED}, S.ACCEPTED, RECEIVER, RECEIVING_ROLES),
    _t("decline", {S.SUBMITTED}, S.DECLINED, RECEIVER, RECEIVING_ROLES, "reason"),
    _t("redirect", {S.SUBMITTED}, S.REDIRECTED, RECEIVER, RECEIVING_ROLES, "to_department", "reason"),
    _t("schedule", {S.ACCEPTED, S.SCHEDULED}, S.SCHEDULED, RECEIVER, RECEIVING_ROLES, "scheduled_for"),
    _t("arrive", {S.ACCEPTED, S.SCHEDULED}, S.ARRIVED, RECEIVER, ARRIVAL_ROLES),
    _t("no_show", {S.SCHEDULED}, S.NO_SHOW, RECEIVER, RECEIVING_ROLES),
    _t("complete", {S.ARRIVED}, S.COMPLETED, RECEIVER, RECEIVING_ROLES, "outcome_summary"),
    _t("close", {S.COMPLETED}, S.CLOSED, SENDER, SENDING_ROLES),
    _t("request_cancel", {S.ACCEPTED, S.SCHEDULED}, S.CANCEL_REQUESTED, SENDER, SENDING_ROLES, "reason"),
    _t("confirm_cancel", {S.CANCEL_REQUESTED}, S.CANCELLED, RECEIVER, RECEIVING_ROLES),
    _t("decline_cancel", {S.CANCEL_REQUESTED}, RESUME, RECEIVER, RECEIVING_ROLES, "reason"),
    _t("expire", {S.SUBMITTED, S.SCHEDULED}, S.EXPIRED, SYSTEM, NOBODY),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}

USER_ACTIONS = tuple(t.action for t in TRANSITIONS if t.side != SYSTEM)
"""Actions a person can take (``expire`` is the deadline job's)."""


def transition_for(action: str) -> Transition | None:
    """The transition named ``action``, or None for an unknown action."""
    return BY_ACTION.get(action)


def allowed_from(status: str) -> list[Transition]:
    """Every transition whose sources include ``status``, in table order."""
    return [t for t in TRANSITIONS if status in t.sources]


def target_of(transition: Transition, status: str, *, has_schedule: bool) -> str:
    """The state an action leads to from ``status`` (resolves ``RESUME``)."""
    if transition.target != RESUME:
        return transition.target
    return S.SCHEDULED if has_schedule else S.ACCEPTED


def available_actions(status: str, sides_and_roles: dict[str, frozenset[str]]) -> list[str]:
    """Actions the actor may take now: allowed from ``status`` and held on the acting side.

    ``sides_and_roles`` maps a side (sender / receiver) to the roles the
    actor holds at that side's institution.
    """
    actions = []
    for transition in allowed_from(status):
        roles = sides_and_roles.get(transition.side, frozenset())
        if transition.roles & roles:
            actions.append(transition.action)
    return actions


def missing_fields(transition: Transition, values: dict[str, object]) -> list[str]:
    """Required fields of ``transition`` that ``values`` leaves empty."""
    return [name for name in transition.required if values.get(name) in (None, "", [], {})]
