"""Template filters of the indicator pages."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template

from yilian.indicators.drilldown import band_label as _band_label

register = template.Library()


@register.filter
def plain(value: Any) -> str:
    """A decimal without trailing zeros or exponent (100.000000 → 100, 0.500000 → 0.5); "—" for None."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


@register.filter
def band_label(label: Any) -> str:
    """A legend band's label in the reader's language (the shipped labels translated, others as stored)."""
    return _band_label(str(label or ""))


@register.filter
def amount(value: Any) -> str:
    """A numerator, denominator or data item's value to at most 2 decimals, without trailing zeros
    (0.666667 → 0.67, 141.000000 → 141): a stock averaged over months is a fraction nobody reads to
    six places. "—" for None."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    return format(number.normalize(), "f") if number else "0"
