"""Search helpers shared by selectors: by name, pinyin, or pinyin initials."""

from __future__ import annotations

from django.db.models import Q


def name_search_q(query: str, *, prefix: str = "", extra_fields: tuple[str, ...] = ()) -> Q:
    """Return a Q matching ``query`` against a name, its pinyin keys and extra fields.

    ``prefix`` points at a related model ("institution__"). A query of Latin
    letters also matches the pinyin initials ("xrmyy" → 县人民医院) and the
    full pinyin ("renmin" → 人民医院).
    """
    query = query.strip()
    if not query:
        return Q()
    condition = Q(**{f"{prefix}name__icontains": query})
    lowered = query.lower().replace(" ", "")
    if lowered.isascii() and lowered.isalpha():
        condition |= Q(**{f"{prefix}name_initials__contains": lowered})
        condition |= Q(**{f"{prefix}name_pinyin__contains": lowered})
    for field in extra_fields:
        condition |= Q(**{f"{prefix}{field}__icontains": query})
    return condition
