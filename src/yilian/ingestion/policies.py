"""Who may import which files and who sees import jobs.

Encounter files: an institution's administrator for his own institution, or
a consortium office for the consortium's members. Claim files: insurance
officers, for a region their scope covers (region-level only). A job is seen
by its uploader and by the peers who could have uploaded it.
"""

from __future__ import annotations

from typing import Any

from yilian.accounts.selectors import scope_for
from yilian.core.permissions import Role

ENCOUNTER_UPLOADERS = frozenset({Role.INSTITUTION_ADMIN})
"""Institution roles that upload their own institution's encounter files."""

CLAIM_UPLOADERS = frozenset({Role.INSURANCE_OFFICER})
"""Region roles that upload claim files for their region."""


def encounter_institutions(actor: Any) -> set[int]:
    """Institutions whose encounter files the actor uploads as their administrator."""
    return scope_for(actor).institutions_with(*ENCOUNTER_UPLOADERS)


def encounter_consortia(actor: Any) -> set[int]:
    """Consortia whose members' encounter files the actor uploads as the office."""
    return scope_for(actor).consortia_with(Role.CONSORTIUM_OFFICE)


def claim_region_prefixes(actor: Any) -> set[str]:
    """Region prefixes for which the actor uploads claim files."""
    return scope_for(actor).region_prefixes_with(*CLAIM_UPLOADERS)


def can_import_encounters(actor: Any) -> bool:
    """Administrators of an institution and consortium offices."""
    return bool(encounter_institutions(actor) or encounter_consortia(actor))


def can_import_claims(actor: Any) -> bool:
    """Insurance officers with a region."""
    return bool(claim_region_prefixes(actor))


def can_use_imports(actor: Any) -> bool:
    """Anyone who may upload some kind of file (the menu entry and the job list)."""
    return can_import_encounters(actor) or can_import_claims(actor)


def can_import_encounters_for(actor: Any, institution_id: int, consortium_ids: set[int]) -> bool:
    """The institution's administrator, or the office of a consortium it is an active member of."""
    if scope_for(actor).holds_at_institution(institution_id, *ENCOUNTER_UPLOADERS):
        return True
    return bool(encounter_consortia(actor) & consortium_ids)


def can_import_claims_for(actor: Any, region_code: str) -> bool:
    """Insurance officers whose region covers ``region_code``."""
    return scope_for(actor).covers_region(region_code, *CLAIM_UPLOADERS)
