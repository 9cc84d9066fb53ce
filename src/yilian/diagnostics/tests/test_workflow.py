"""The order state machine table, exhaustively: every action from every state for every centre kind and side."""

from __future__ import annotations

import itertools

import pytest

from yilian.core.permissions import Role
from yilian.diagnostics import workflow
from yilian.diagnostics.choices import CentreKind, OrderSide, OrderStatus

DOCTOR = frozenset({Role.DOCTOR})
NURSE = frozenset({Role.NURSE})
EXPECTED = {
    "collect": ({"ordered"}, {"lab", "pathology", "sterilisation"}, "ordering", NURSE),
    "dispatch": ({"collected"}, {"lab", "pathology", "sterilisation"}, "ordering", NURSE),
    "receive": ({"collected", "in_transit"}, {"lab", "pathology", "sterilisation"}, "centre", NURSE),
    "upload": ({"ordered", "received"}, {"imaging", "ecg"}, "ordering", NURSE),
    "reject": ({"collected", "in_transit", "received"}, set(CentreKind.values), "centre", NURSE),
    "claim": ({"received"}, set(CentreKind.values), "centre", DOCTOR),
    "release": ({"reading", "preliminary"}, set(CentreKind.values), "centre", DOCTOR),
    "save_preliminary": ({"reading", "preliminary"}, set(CentreKind.values), "centre", DOCTOR),
    "sign": ({"reading", "preliminary"}, set(CentreKind.values), "centre", DOCTOR),
    "second_sign": ({"awaiting_second"}, set(CentreKind.values), "centre", DOCTOR),
    "amend": ({"final"}, set(CentreKind.values), "centre", DOCTOR),
    "cancel": ({"ordered", "collected"}, set(CentreKind.values), "ordering", DOCTOR),
}


def test_table_lists_exactly_the_expected_actions():
    assert set(workflow.BY_ACTION) == set(EXPECTED)


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    list(itertools.product(sorted(EXPECTED), OrderStatus.values, CentreKind.values)),
)
def test_every_action_from_every_state(action, status, kind):
    sources, kinds, side, roles = EXPECTED[action]
    allowed = workflow.available_actions(status, kind, {side: roles})
    assert (action in allowed) == (status in sources and kind in kinds)
    other = OrderSide.CENTRE if side == OrderSide.ORDERING else OrderSide.ORDERING
    assert action not in workflow.available_actions(status, kind, {other: roles | DOCTOR | NURSE})


def test_nurses_do_not_read_and_doctors_do_all_handling():
    assert workflow.available_actions("received", "lab", {"centre": NURSE}) == ["reject"]
    assert workflow.available_actions("received", "lab", {"centre": DOCTOR}) == ["reject", "claim"]


def test_holder_only_actions_hidden_from_others_and_second_sign_from_author():
    assert workflow.available_actions("reading", "imaging", {"centre": DOCTOR}, is_holder=False) == []
    assert (
        workflow.available_actions("awaiting_second", "pathology", {"centre": DOCTOR}, is_author=True) == []
    )


def test_sign_target_depends_on_second_reader():
    sign = workflow.BY_ACTION["sign"]
    assert workflow.target_of(sign, needs_second_reader=False) == OrderStatus.FINAL
    assert workflow.target_of(sign, needs_second_reader=True) == OrderStatus.AWAITING_SECOND


def test_required_fields():
    assert workflow.missing_fields(workflow.BY_ACTION["amend"], {"conclusion": "x", "reason": ""}) == [
        "reason"
    ]
    assert workflow.missing_fields(workflow.BY_ACTION["reject"], {"reason": "haemolysed"}) == []
