"""The family-doctor section of a person's record: the resident's contract in force and its team."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from yilian.family_doctors import selectors


def contract_section(request: HttpRequest, person: Any) -> dict[str, Any] | None:
    """The contract in force (team, institution, term, leader) for anyone who already sees the person;
    the contracts the viewer may open (their teams, their institution) link to the contract page."""
    actor = request.user
    active = selectors.person_contract_summary(actor, person)
    visible = selectors.person_contracts(actor, person)
    if active is None and not visible:
        return {"active": None, "contracts": [], "person": person}
    openable = {contract.pk for contract in visible}
    return {
        "active": active,
        "active_openable": active is not None and active.pk in openable,
        "contracts": visible,
        "person": person,
    }
