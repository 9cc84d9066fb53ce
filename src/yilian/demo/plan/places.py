"""Places of the demo beyond the shipped list: extra villages for larger scales, and the grids."""

from __future__ import annotations

from yilian.demo import content, generators
from yilian.demo.plan.specs import GridPlan, RegionRow


def villages_by_township(
    seed: int, scale: int, base: list[RegionRow]
) -> tuple[dict[str, list[RegionRow]], list[list[RegionRow]]]:
    """Villages per township, and the generated villages of each extra scale step.

    Scale step 0 is the shipped list; each further step adds as many villages
    per township again, generated from the seed. Step ``n`` depends only on
    the steps before it, so a larger scale extends a smaller one.
    """
    by_township: dict[str, list[RegionRow]] = {township.code: [] for township in content.TOWNSHIPS}
    for row in base:
        if len(row.code) == 12 and row.code[:9] in by_township:
            by_township[row.code[:9]].append(row)
    shipped = {code: len(rows) for code, rows in by_township.items()}
    next_number = {
        code: max((int(row.code[9:]) for row in rows), default=200) + 1 for code, rows in by_township.items()
    }
    taken = {row.name for rows in by_township.values() for row in rows}
    steps: list[list[RegionRow]] = [[row for rows in by_township.values() for row in rows]]
    for step in range(1, scale):
        added: list[RegionRow] = []
        for code in by_township:
            random_ = generators.rng(seed, "villages", step, code)
            for _index in range(shipped[code]):
                name = generators.village_name(random_, taken)
                taken.add(name)
                row = RegionRow(
                    f"{code}{next_number[code]:03d}", name, generators.village_population(random_)
                )
                next_number[code] += 1
                added.append(row)
                by_township[code].append(row)
        steps.append(added)
    return by_township, steps


def grids(
    villages: dict[str, list[RegionRow]], populations: dict[str, int | None], shipped: set[str]
) -> list[GridPlan]:
    """The grids with the areas they cover, leaving 桃岭乡 and two villages of 沙河乡 out on purpose."""
    areas: dict[str, list[str]] = {grid.code: [] for grid in content.GRIDS}
    for township in content.TOWNSHIPS:
        if not township.grid:
            continue
        if township.grid_villages_only:
            # Every village but the last two shipped ones (the deliberate gap); generated ones join.
            left_out = {row.code for row in villages[township.code] if row.code in shipped}
            left_out = set(sorted(left_out)[-2:])
            areas[township.grid] += [row.code for row in villages[township.code] if row.code not in left_out]
        else:
            areas[township.grid].append(township.code)
    for street in content.STREETS:
        areas[street.grid].append(street.code)
    grids = []
    for grid in content.GRIDS:
        codes = tuple(sorted(areas[grid.code]))
        population = sum(populations.get(code) or 0 for code in codes) or None
        grids.append(
            GridPlan(
                grid.code, grid.name, grid.region_code, codes, grid.consortium, grid.description, population
            )
        )
    return grids
