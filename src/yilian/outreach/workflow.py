"""The dispatch batch workflow: which side may take which action in which state.

planned → done (the sender records the work) → confirmed (the member's
administrator); the member may return a done batch to planned with a
reason; the sender may cancel a planned batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from yilian.outreach.choices import BatchSide, BatchStatus


@dataclass(frozen=True)
class Transition:
    """One action: from which states, to which state, by which side."""

    action: str
    sources: frozenset[str]
    target: str
    side: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition("complete", frozenset({BatchStatus.PLANNED}), BatchStatus.DONE, BatchSide.SENDING),
    Transition("confirm", frozenset({BatchStatus.DONE}), BatchStatus.CONFIRMED, BatchSide.HOST),
    Transition("return", frozenset({BatchStatus.DONE}), BatchStatus.PLANNED, BatchSide.HOST),
    Transition("cancel", frozenset({BatchStatus.PLANNED}), BatchStatus.CANCELLED, BatchSide.SENDING),
)

EDITABLE_STATUSES = frozenset({BatchStatus.PLANNED, BatchStatus.DONE})
"""States in which the sender may still add, change or remove visits (done: before confirmation)."""


def transition_for(action: str) -> Transition | None:
    """The transition of an action name, or None."""
    return next((t for t in TRANSITIONS if t.action == action), None)


def available_actions(status: str, sides: dict[str, bool]) -> list[str]:
    """The actions open from ``status`` to an actor acting on the given sides."""
    return [t.action for t in TRANSITIONS if status in t.sources and sides.get(t.side)]
