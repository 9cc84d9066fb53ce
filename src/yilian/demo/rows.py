"""Rows the demo writes in bulk, built with the same invariants as the services keep."""

from __future__ import annotations

from yilian.core.text import pinyin_full, pinyin_initials
from yilian.demo.plan import PersonPlan
from yilian.institutions.models import Region
from yilian.people.identifiers import encrypt_id_number, hash_id_number, mask_id_number
from yilian.people.models import Person


def person_row(person: PersonPlan, region: Region, grid_id: int | None) -> Person:
    """An unsaved Person for a planned resident: pinyin keys, keyed hash, ciphertext and masked ID number."""
    return Person(
        name=person.name,
        name_initials=pinyin_initials(person.name),
        name_pinyin=pinyin_full(person.name),
        id_number_hash=hash_id_number(person.id_number),
        id_number_encrypted=encrypt_id_number(person.id_number),
        id_number_masked=mask_id_number(person.id_number),
        gender=person.gender,
        birth_date=person.birth_date,
        phone=person.phone,
        address=person.address,
        address_region=region,
        insurance_scheme=person.insurance_scheme,
        home_grid_id=grid_id,
    )
