"""The cockpit's cache: computed page content as plain data, keyed on who may see what and on generations.

The cockpit only reads figures that change when a refresh runs (or when an
indicator, a consortium's members or the regions change), so its content is
computed once and served from the ``figures`` cache (``settings.CACHES``) until
then (ADR 0020). An entry's key holds:

* the generations (``core.generations``) of the figures and of the registry,
  read *before* the content is computed, so an entry is never filed under a
  generation newer than its figures;
* the reach signature of the reader — a digest of the units whose figures
  they see, not their user id — so readers with the same reach share entries
  and readers with different reach never do;
* everything else the content depends on: the page, its filters, the
  language, today's date (the default period is the latest *complete* one)
  and the configured key indicators.

The policy checks run on every request before the cache is asked (the
selectors); content entries hold plain data — lists, dicts, strings,
numbers, decimals and dates — never model instances. The views also keep
the rendered page *body* (filters, cards, rankings, map: no CSRF token,
nothing of the user), rendered without the request under ``page_key``,
which adds to the content key what the body shows from the live checks.
"""

from __future__ import annotations

import hashlib
import logging
from array import array
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches

logger = logging.getLogger(__name__)

CACHE_ALIAS = "figures"
CONTENT_VERSION = 4
"""Part of every key: raise it when the shape of the cached content changes, so a deployment never reads
entries an older release wrote (3: units in the reader's language; 4: the charts' labels in the page)."""


def figures_cache() -> BaseCache:
    """The cache the computed figures pages live in."""
    return caches[CACHE_ALIAS]


def reach_signature(
    everything: bool, ids: dict[str, set[int]], kinds: Iterable[str], region_prefixes: Iterable[str] = ()
) -> str:
    """A digest of the units of ``kinds`` the reader sees (``everything``: every unit); no user id in it.

    ``region_prefixes`` stand for the regions under them: with the registry's
    generation in the same key, the same prefixes are the same regions. Two
    readers with the same signature see the same units of those kinds, so a
    page built for one is the page the other would get.
    """
    digest = hashlib.blake2b(digest_size=20)
    digest.update(b"everything" if everything else b"some")
    if not everything:
        for kind in sorted(kinds):
            digest.update(f"|{kind}:".encode())
            digest.update(array("q", sorted(ids.get(kind, ()))).tobytes())
        digest.update(("|regions under:" + ",".join(sorted(region_prefixes))).encode())
    return digest.hexdigest()


def content_key(page: str, parts: dict[str, Any]) -> str:
    """The cache key of one page's content: the page and a digest of ``parts`` (strings, numbers, tuples)."""
    digest = hashlib.blake2b(repr(sorted(parts.items())).encode(), digest_size=20).hexdigest()
    return f"{page}:v{CONTENT_VERSION}:{digest}"


def get_or_compute(key: str, compute: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """The content under ``key``, or ``compute()`` stored under it; and whether it came from the cache.

    The cache only saves time: when it cannot be read or written (Redis
    down, a table missing) the content is computed as if it were empty.
    """
    return _get_or_compute(key, compute, dict)


def get_or_render(key: str, render: Callable[[], str]) -> str:
    """The page body under ``key``, or ``render()`` stored under it (the same forgiveness as ``get_or_compute``).

    For bodies rendered without the request (no CSRF token, nothing of the
    session or the user) from content that ``key`` identifies completely.
    """
    return _get_or_compute(key, render, str)[0]


def _get_or_compute(key: str, compute: Callable[[], Any], kind: type) -> tuple[Any, bool]:
    cache = figures_cache()
    try:
        found = cache.get(key)
    except Exception:  # an unreachable cache must not take the page down with it
        logger.warning("figures cache unreadable; computing %s", key, exc_info=True)
        found = None
    if isinstance(found, kind):
        return found, True
    value = compute()
    try:
        cache.set(key, value, timeout=settings.FIGURES_CACHE_SECONDS)
    except Exception:  # the same: the page is right without the entry, only slower next time
        logger.warning("figures cache unwritable; %s not stored", key, exc_info=True)
    return value, False
