"""Pure scoring arithmetic of assessments: item scores, ranks with ties, grades by bands or quartiles.

No database access: services feed it figures and store what it returns.
All arithmetic is Decimal; scores are rounded to two places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

from yilian.assessment.choices import Grade, Verdict

CENT = Decimal("0.01")
ONE = Decimal(1)
HALF = Decimal("0.5")
LEGEND_SHARE = {"green": ONE, "yellow": HALF, "red": Decimal(0)}
"""Share of the weight a banded item earns from the indicator legend's colour."""
VERDICT_SHARE = {Verdict.MET: ONE, Verdict.PARTLY: HALF, Verdict.NOT_MET: Decimal(0)}
"""Share of the weight a qualitative item earns from its judgement."""
GRADE_ORDER = [Grade.EXCELLENT, Grade.GOOD, Grade.FAIR, Grade.POOR]

K = TypeVar("K")


def points(weight: Decimal, share: Decimal) -> Decimal:
    """``weight × share`` rounded to cents, share clamped to 0–1."""
    share = max(Decimal(0), min(ONE, share))
    return (weight * share).quantize(CENT, rounding=ROUND_HALF_UP)


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def target_share(value: Decimal | None, target: Decimal | None, direction: str) -> Decimal:
    """Attainment against a target, capped at 1: higher-is-better ``value ÷ target``, lower ``target ÷ value``.

    No value scores nothing; no target (or a neutral direction) scores full
    for any value. A lower-is-better value of zero attains the target.
    """
    if value is None:
        return Decimal(0)
    if target is None or direction == "neutral":
        return ONE
    if direction == "lower":
        if value <= target:
            return ONE
        return target / value if value else ONE
    if target <= 0:
        return ONE
    return min(ONE, max(Decimal(0), value / target))


def band_share(
    value: Decimal | None, bands: Sequence[Mapping[str, Any]], legend: Sequence[Mapping[str, Any]]
) -> Decimal:
    """The share of the band ``value`` falls in (``from`` ≤ value < ``to``, open ends allowed).

    Explicit ``bands`` carry a ``share``; otherwise the indicator's legend
    colour decides (green full, yellow half, red zero). No value or no
    matching band scores nothing.
    """
    if value is None:
        return Decimal(0)
    for band in bands or legend:
        low, high = _number(band.get("from")), _number(band.get("to"))
        if (low is None or value >= low) and (high is None or value < high):
            if bands:
                return _number(band.get("share")) or Decimal(0)
            return LEGEND_SHARE.get(str(band.get("color", "")), Decimal(0))
    return Decimal(0)


def ranks(values: Mapping[K, Decimal | None], direction: str = "higher") -> dict[K, int | None]:
    """Competition ranks (1, 2, 2, 4): best first by ``direction``; no value gets no rank."""
    present = [(key, value) for key, value in values.items() if value is not None]
    ordered = sorted(present, key=lambda pair: pair[1], reverse=direction != "lower")
    found: dict[K, int | None] = dict.fromkeys(values)
    previous: Decimal | None = None
    rank = 0
    for position, (key, value) in enumerate(ordered, start=1):
        if previous is None or value != previous:
            rank = position
            previous = value
        found[key] = rank
    return found


def rank_share(rank: int | None, count: int) -> Decimal:
    """Share of the weight for a rank among ``count`` ranked subjects: first full, last ``1 / count``."""
    if rank is None or count <= 0:
        return Decimal(0)
    return Decimal(count - rank + 1) / Decimal(count)


def grade_by_bands(score: Decimal, bands: Mapping[str, Any]) -> str:
    """The best grade whose minimum score ``score`` reaches; 差 below every threshold."""
    for grade in GRADE_ORDER[:-1]:
        minimum = _number(bands.get(grade.value))
        if minimum is not None and score >= minimum:
            return grade.value
    return Grade.POOR.value


def grade_by_quartile(rank: int | None, count: int) -> str:
    """优 for the top quarter of the ranking, then 良, 中, 差; tied subjects share their rank's grade."""
    if rank is None or count <= 0:
        return Grade.POOR.value
    # Share of subjects ranked strictly ahead: the first of any ranking is 优.
    position = Decimal(rank - 1) / Decimal(count)
    for grade, limit in zip(GRADE_ORDER, (Decimal("0.25"), HALF, Decimal("0.75")), strict=False):
        if position < limit:
            return grade.value
    return Grade.POOR.value
