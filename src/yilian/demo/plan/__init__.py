"""The demo as data: what ``seed-demo`` builds, computed from the seed without touching the database.

``build_plan(seed, scale)`` returns every region row, institution,
consortium, grid, account and person the seeder will create, with their
generated codes. The same seed always gives the same plan, and a larger
scale extends a smaller one; the seeder (``yilian.demo.seeding``) only turns
the plan into rows, skipping what already exists, so the two halves can be
tested apart.
"""

from __future__ import annotations

from yilian.demo.plan import consortia, institutions, people, places
from yilian.demo.plan.people import PERSONS_PER_STEP
from yilian.demo.plan.specs import (
    AccountPlan,
    AgreementPlan,
    BodyPlan,
    ConsortiumPlan,
    DemoPlan,
    GridPlan,
    InstitutionPlan,
    MemberPlan,
    PersonPlan,
    RegionRow,
    parse_region_rows,
    region_csv_text,
    region_rows_to_csv,
)

__all__ = [
    "DEFAULT_SEED",
    "MAX_SCALE",
    "AccountPlan",
    "AgreementPlan",
    "BodyPlan",
    "ConsortiumPlan",
    "DemoPlan",
    "GridPlan",
    "InstitutionPlan",
    "MemberPlan",
    "PersonPlan",
    "RegionRow",
    "build_plan",
    "parse_region_rows",
    "region_csv_text",
    "region_rows_to_csv",
]

DEFAULT_SEED = 2026
MAX_SCALE = 50
"""Village codes have three digits (201–999): 50 × the shipped villages still fit."""


def build_plan(
    seed: int = DEFAULT_SEED,
    scale: int = 1,
    *,
    persons: int | None = None,
    village_limit: int | None = None,
) -> DemoPlan:
    """Compute the whole demo for a seed and scale (no database access).

    ``scale`` multiplies the villages (and their clinics) and the persons;
    ``persons`` overrides the person count and ``village_limit`` caps the
    village clinics per township (both for fast tests). Raises ValueError
    for a scale outside 1–``MAX_SCALE``.
    """
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}")
    text = region_csv_text()
    base_rows = parse_region_rows(text)
    villages, steps = places.villages_by_township(seed, scale, base_rows)
    extra = [row for step in steps[1:] for row in step]
    populations = {row.code: row.population for row in [*base_rows, *extra]}
    streets = {row.code: row.name.removesuffix("镇").removesuffix("乡") for row in base_rows}
    codes = institutions.CreditCodes(seed)
    county_items, centres, clinics = institutions.county_institutions(
        seed, codes, streets, villages, village_limit
    )
    planned = [*institutions.city_institutions(seed, codes), *county_items]
    by_key = {item.key: item for item in planned}
    township_names = {row.code: row.name for row in base_rows if len(row.code) == 9}
    return DemoPlan(
        seed=seed,
        scale=scale,
        region_csv=text,
        extra_regions=extra,
        institutions=planned,
        consortia=consortia.consortia(by_key, centres, clinics),
        grids=places.grids(villages, populations, {row.code for row in base_rows}),
        accounts=people.accounts(by_key, clinics),
        persons=people.persons(
            seed, PERSONS_PER_STEP * scale if persons is None else persons, steps, township_names
        ),
        township_centres=centres,
        village_clinics=clinics,
    )
