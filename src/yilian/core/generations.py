"""Generations: tokens that change whenever a kind of data changes, for caches to key on.

A page computed from slow-changing data (the cockpit reads figures that
change only when a refresh runs) is cached under a key that holds the
generations of everything it was computed from. Every write of such data
calls ``bump(name)`` inside its transaction: the new token commits with the
change, so a reader that reads the generation *before* the data sees either
the old token (and may store new data under it: harmless, that key is never
asked for again) or the new token with the new data — never new token, old
data. Entries of old generations are simply not read any more; the cache's
own expiry and culling remove them.

Tokens are random rather than counters so that a flushed or restored
database cannot make an old key current again.
"""

from __future__ import annotations

import uuid

from django.utils import timezone

from yilian.core.models import Generation

INITIAL = "0"
"""The token of a kind of data that was never bumped."""


def bump(*names: str) -> None:
    """Give each named kind of data a new generation token (one or two statements a name).

    Call inside the transaction that changes the data. The row stays locked
    until that transaction ends, so concurrent writers of one kind queue
    briefly (registry edits and refreshes are rare).
    """
    now = timezone.now()
    for name in names:
        token = uuid.uuid4().hex
        if not Generation.objects.filter(name=name).update(token=token, changed_at=now):
            # First bump of this name: create the row; a concurrent first bump may have just done so.
            Generation.objects.bulk_create([Generation(name=name, token=token)], ignore_conflicts=True)
            Generation.objects.filter(name=name).update(token=token, changed_at=now)


def current(*names: str) -> str:
    """The generation of the named kinds of data together, as one string (one query).

    Changes whenever any of them is bumped; ``INITIAL`` stands for a name never bumped.
    """
    tokens = dict(Generation.objects.filter(name__in=names).values_list("name", "token"))
    return ".".join(tokens.get(name, INITIAL) for name in names)
