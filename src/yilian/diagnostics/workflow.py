"""The diagnostic order state machine as data: which action moves which state to which, by whom.

Pure: no database. ``diagnostics.services`` enforces it; the UI and the API
read ``available_actions`` to offer only what is allowed now. ``kinds``
limits an action to the centre kinds it makes sense for (specimens travel
for lab and pathology; studies are uploaded for imaging and ECG).
"""

from __future__ import annotations

from dataclasses import dataclass

from yilian.core.permissions import Role
from yilian.diagnostics.choices import SPECIMEN_KINDS, STUDY_KINDS, CentreKind, OrderSide
from yilian.diagnostics.choices import OrderStatus as S

ORDERING_ROLES = frozenset({Role.DOCTOR})
"""Who may order, cancel and acknowledge at the ordering institution."""

HANDLING_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.TECHNICIAN})
"""Who collects, dispatches, uploads (ordering side) and receives or rejects (centre side)."""

READING_ROLES = frozenset({Role.DOCTOR})
"""Who reads and signs reports at the centre."""

SIGNED = "signed"
"""Target of ``sign``: final, or awaiting a second reader when the item or the order requires one."""

ALL_KINDS = frozenset(CentreKind.values)


@dataclass(frozen=True)
class Transition:
    """One allowed move. ``required`` names the fields the action must carry (non-empty)."""

    action: str
    sources: frozenset[str]
    target: str
    side: str
    roles: frozenset[str]
    kinds: frozenset[str]
    required: tuple[str, ...] = ()


def _t(
    action: str,
    sources: set[str],
    target: str,
    side: str,
    roles: frozenset[str],
    kinds: frozenset[str],
    *required: str,
) -> Transition:
    return Transition(action, frozenset(sources), target, side, roles, kinds, tuple(required))


ORDERING, CENTRE, SYSTEM = OrderSide.ORDERING, OrderSide.CENTRE, OrderSide.SYSTEM

TRANSITIONS: tuple[Transition, ...] = (
    _t("collect", {S.ORDERED}, S.COLLECTED, ORDERING, HANDLING_ROLES, SPECIMEN_KINDS),
    _t("dispatch", {S.COLLECTED}, S.IN_TRANSIT, ORDERING, HANDLING_ROLES, SPECIMEN_KINDS),
    _t("receive", {S.COLLECTED, S.IN_TRANSIT}, S.RECEIVED, CENTRE, HANDLING_ROLES, SPECIMEN_KINDS),
    _t("upload", {S.ORDERED, S.RECEIVED}, S.RECEIVED, ORDERING, HANDLING_ROLES, STUDY_KINDS),
    _t(
        "reject",
        {S.COLLECTED, S.IN_TRANSIT, S.RECEIVED},
        S.REJECTED,
        CENTRE,
        HANDLING_ROLES,
        ALL_KINDS,
        "reason",
    ),
    _t("claim", {S.RECEIVED}, S.READING, CENTRE, READING_ROLES, ALL_KINDS),
    _t("release", {S.READING, S.PRELIMINARY}, S.RECEIVED, CENTRE, READING_ROLES, ALL_KINDS),
    _t(
        "save_preliminary",
        {S.READING, S.PRELIMINARY},
        S.PRELIMINARY,
        CENTRE,
        READING_ROLES,
        ALL_KINDS,
        "conclusion",
    ),
    _t("sign", {S.READING, S.PRELIMINARY}, SIGNED, CENTRE, READING_ROLES, ALL_KINDS, "conclusion"),
    _t("second_sign", {S.AWAITING_SECOND}, S.FINAL, CENTRE, READING_ROLES, ALL_KINDS),
    _t("amend", {S.FINAL}, S.FINAL, CENTRE, READING_ROLES, ALL_KINDS, "conclusion", "reason"),
    _t("cancel", {S.ORDERED, S.COLLECTED}, S.CANCELLED, ORDERING, ORDERING_ROLES, ALL_KINDS, "reason"),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}

HOLDER_ACTIONS = frozenset({"release", "save_preliminary", "sign"})
"""Actions only the doctor who claimed the order may take."""


def transition_for(action: str) -> Transition | None:
    """The transition named ``action``, or None for an unknown action."""
    return BY_ACTION.get(action)


def allowed_from(status: str, kind: str) -> list[Transition]:
    """Every transition whose sources include ``status`` and that applies to the centre ``kind``."""
    return [t for t in TRANSITIONS if status in t.sources and kind in t.kinds]


def target_of(transition: Transition, *, needs_second_reader: bool) -> str:
    """The state an action leads to (resolves ``SIGNED``)."""
    if transition.target != SIGNED:
        return transition.target
    return S.AWAITING_SECOND if needs_second_reader else S.FINAL


def available_actions(
    status: str,
    kind: str,
    sides_and_roles: dict[str, frozenset[str]],
    *,
    is_holder: bool = True,
    is_author: bool = False,
) -> list[str]:
    """Actions the actor may take now: allowed from ``status`` for the centre ``kind``, held on the acting side.

    ``is_holder`` says whether the actor claimed the order (holder-only
    actions are offered to the holder alone); ``is_author`` hides
    ``second_sign`` from the first signer.
    """
    actions = []
    for transition in allowed_from(status, kind):
        roles = sides_and_roles.get(transition.side, frozenset())
        if not transition.roles & roles:
            continue
        if transition.action in HOLDER_ACTIONS and not is_holder:
            continue
        if transition.action == "second_sign" and is_author:
            continue
        actions.append(transition.action)
    return actions


def missing_fields(transition: Transition, values: dict[str, object]) -> list[str]:
    """Required fields of ``transition`` that ``values`` leaves empty."""
    return [name for name in transition.required if values.get(name) in (None, "", [], {})]
