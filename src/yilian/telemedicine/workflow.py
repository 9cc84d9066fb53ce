"""The teleconsultation state machine as data: which action moves which state to which, by whom, with what.

Pure: no database, no Django models. ``telemedicine.services`` enforces it;
the UI and the API read ``available_actions`` to offer only what is allowed now.
The ``expert`` side is the assigned expert alone (a doctor of the invited
institution), not every doctor there.
"""

from __future__ import annotations

from dataclasses import dataclass

from yilian.core.permissions import Role
from yilian.telemedicine.choices import TeleconsultationSide
from yilian.telemedicine.choices import TeleconsultationStatus as S

INVITING_ROLES = frozenset({Role.DOCTOR, Role.REFERRAL_COORDINATOR})
"""Who may invite, cancel and record the decision at the inviting institution."""

ANSWERING_ROLES = frozenset({Role.REFERRAL_COORDINATOR, Role.INSTITUTION_ADMIN})
"""Who may answer, assign the expert and schedule at the invited institution."""

EXPERT_ROLES = frozenset({Role.DOCTOR})
"""What the assigned expert must hold at the invited institution."""


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


INVITING = TeleconsultationSide.INVITING
INVITED = TeleconsultationSide.INVITED
EXPERT = TeleconsultationSide.EXPERT

TRANSITIONS: tuple[Transition, ...] = (
    _t("accept", {S.REQUESTED}, S.ACCEPTED, INVITED, ANSWERING_ROLES, "expert"),
    _t("decline", {S.REQUESTED}, S.DECLINED, INVITED, ANSWERING_ROLES, "reason"),
    # A new expert needs a new session: re-assigning goes back to accepted and frees the booked time.
    _t("assign", {S.ACCEPTED, S.SCHEDULED}, S.ACCEPTED, INVITED, ANSWERING_ROLES, "expert"),
    _t("schedule", {S.ACCEPTED, S.SCHEDULED}, S.SCHEDULED, INVITED, ANSWERING_ROLES, "scheduled_at"),
    _t("sign_opinion", {S.SCHEDULED}, S.OPINION_SIGNED, EXPERT, EXPERT_ROLES, "opinion"),
    _t("conclude", {S.OPINION_SIGNED}, S.CONCLUDED, INVITING, INVITING_ROLES, "decision", "outcome"),
    _t("cancel", {S.REQUESTED, S.ACCEPTED, S.SCHEDULED}, S.CANCELLED, INVITING, INVITING_ROLES, "reason"),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}

ACTIONS = tuple(t.action for t in TRANSITIONS)


def transition_for(action: str) -> Transition | None:
    """The transition named ``action``, or None for an unknown action."""
    return BY_ACTION.get(action)


def allowed_from(status: str) -> list[Transition]:
    """Every transition whose sources include ``status``, in table order."""
    return [t for t in TRANSITIONS if status in t.sources]


def available_actions(status: str, sides_and_roles: dict[str, frozenset[str]]) -> list[str]:
    """Actions the actor may take now: allowed from ``status`` and held on the acting side.

    ``sides_and_roles`` maps a side (inviting / invited / expert) to the
    roles the actor holds there.
    """
    return [t.action for t in allowed_from(status) if t.roles & sides_and_roles.get(t.side, frozenset())]


def missing_fields(transition: Transition, values: dict[str, object]) -> list[str]:
    """Required fields of ``transition`` that ``values`` leaves empty."""
    return [name for name in transition.required if values.get(name) in (None, "", [], {})]
