"""Paginators for lists that may grow large.

``CappedCountPaginator`` is for work queues and record lists: it counts at
most ``cap`` rows. Counting every row of a queue of 100 000 pending items
costs a scan on each page view; a queue is worked from its top, so "more
than 1 000" is all a reader needs. Pages past the cap stay reachable: beyond
it, whether there is a next page is learnt by reading one row more than a
page.

``KeysFirstPaginator`` (and ``CappedKeysFirstPaginator``, both at once) is
for lists of wide rows shown with their related rows: it reads the page's
primary keys first, then those rows alone (``rows_by_keys``). A list that is
the union of many narrow lists (the records of a consortium's institutions)
can say so (``Split``); on PostgreSQL its pages' keys are then read as each
narrow list's first keys, merged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.utils.functional import cached_property

COUNT_CAP = 1000
"""Rows counted at most by ``CappedCountPaginator`` unless told otherwise."""


SPLIT_MAX_STOP = 2000
"""The deepest row a split list reads its keys from part by part (page 40 at 50 rows a page): each part
reads up to this many keys, so far past it one sort of every matching row is cheaper."""

_SPLIT_MARK = -7_310_468_429
"""A value no key column holds: it marks where a part's SQL names the value it is narrowed to."""


@dataclass(frozen=True)
class Split:
    """The keys of a list are the union of ``keys.filter(<field>=value)`` over each of ``values``.

    ``values`` is a ``values_list(flat=True)`` queryset (the institutions of a consortium). The
    caller vouches that an index begins with ``field`` followed by the list's order, so each part
    is an index walk that stops after the page: the records of a county consortium's year are
    then read 50 at a time from 280 short walks instead of sorting millions of rows.
    """

    field: str
    values: QuerySet[Any]


@dataclass(frozen=True)
class KeyedRows:
    """A list whose page keys come from a lean queryset and whose rows come from a richer one.

    ``keys`` filters and orders the records (no joined tables); ``rows`` is the same selection with
    what a page shows (``values()`` over related paths, which joins). The keys-first paginators
    count and slice ``keys`` and read ``rows`` for the page's keys only; iterating or indexing reads
    ``rows`` as a plain queryset would.
    """

    keys: QuerySet[Any]
    rows: QuerySet[Any]
    split: Split | None = None
    """When the keys are the union of many narrow lists (see ``Split``)."""

    def count(self) -> int:
        """How many records there are (over ``keys``)."""
        return self.keys.count()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __getitem__(self, index: Any) -> Any:
        return self.rows[index]


def rows_by_keys(rows: Any, start: int, stop: int) -> list[Any]:
    """Rows ``start:stop`` of ``rows``; for a queryset, its primary keys first, then those rows alone.

    One query orders and slices the keys (no wide columns; with ``KeyedRows``, no joined tables
    either), a second reads the page's rows by key with everything the queryset selects. The
    database no longer joins and sorts every matching wide row before the limit; with an index on
    the order, the first query is an index walk that stops after the page. A row deleted (or no
    longer matching) between the two reads is left out of the page. A ``values()`` queryset must
    select ``"pk"``.
    """
    if isinstance(rows, KeyedRows):
        keyed, shown = rows.keys, rows.rows
    elif isinstance(rows, QuerySet):
        keyed, shown = rows, rows
    else:
        return list(rows[start:stop])
    if stop <= start:
        return []
    keys = _split_keys(rows, start, stop) if isinstance(rows, KeyedRows) else None
    if keys is None:
        keys = list(keyed.values_list("pk", flat=True)[start:stop])
    unordered = shown.order_by()
    if issubclass(shown._iterable_class, ModelIterable):
        found = unordered.in_bulk(keys)
    else:  # values(): in_bulk refuses it; its rows are dicts keyed by the selected names
        found = {row["pk"]: row for row in unordered.filter(pk__in=keys)}
    return [found[key] for key in keys if key in found]


def _split_keys(rows: KeyedRows, start: int, stop: int) -> list[Any] | None:
    """Keys ``start:stop`` of a split list, or None when it must be read as one list.

    PostgreSQL only (``LATERAL``): one statement takes each value of the split, walks that part
    for its first ``stop`` keys in the list's order, and merges the parts in that order. The part's
    SQL is Django's own for ``keys.filter(<field>=value)``, compiled once with a mark in place of
    the value, which then names the lateral value; any doubt about where the mark sits (it must
    be exactly one parameter) falls back to the single list.
    """
    split, keys = rows.split, rows.keys
    if split is None or stop > SPLIT_MAX_STOP or connections[keys.db].vendor != "postgresql":
        return None
    order = list(keys.query.order_by)
    if not order or not all(isinstance(term, str) for term in order):
        return None
    names = [term.lstrip("-") for term in order]
    directions = ["DESC" if term.startswith("-") else "ASC" for term in order]
    if "pk" not in names:
        names.append("pk")
        directions.append("ASC")
    part = keys.filter(**{split.field: _SPLIT_MARK}).values_list(*names)[:stop]
    sql, params = part.query.sql_with_params()
    marks = [index for index, param in enumerate(params) if type(param) is int and param == _SPLIT_MARK]
    pieces = sql.split("%s")
    if len(marks) != 1 or len(pieces) != len(params) + 1:
        return None
    at = marks[0]
    sql = "%s".join(pieces[: at + 1]) + "yl_split.yl_value" + "%s".join(pieces[at + 1 :])
    values_sql, values_params = split.values.query.sql_with_params()
    order_sql = ", ".join(f"{position} {direction}" for position, direction in enumerate(directions, start=1))
    statement = (
        f"SELECT yl_page.* FROM (SELECT DISTINCT yl_values.yl_value FROM ({values_sql}) AS yl_values(yl_value)) "
        f"AS yl_split CROSS JOIN LATERAL ({sql}) AS yl_page "
        f"ORDER BY {order_sql} LIMIT {int(stop - start)} OFFSET {int(start)}"
    )
    with connections[keys.db].cursor() as cursor:
        cursor.execute(statement, [*values_params, *params[:at], *params[at + 1 :]])
        position = names.index("pk")
        return [row[position] for row in cursor.fetchall()]


class KeysFirstPaginator(Paginator):
    """Django's paginator whose pages are read keys first (``rows_by_keys``): one query more a page,
    and a page's time no longer grows with the rows that match."""

    keys_first = True

    def rows(self, bottom: int, top: int) -> list[Any]:
        """Rows ``bottom:top`` of the list, keys first unless the class says otherwise."""
        if self.keys_first:
            return rows_by_keys(self.object_list, bottom, top)
        return list(self.object_list[bottom:top])

    def page(self, number: Any) -> Page:
        """The page, as ``Paginator.page`` bounds it."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.rows(bottom, top), number, self)


class CappedPage(Page):
    """A page that knows from its own read whether another page follows."""

    def __init__(self, object_list: Any, number: int, paginator: Paginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        """True when a row follows this page."""
        return self.more


class CappedCountPaginator(KeysFirstPaginator):
    """A paginator whose ``count`` stops at ``cap`` + 1 (``capped`` then says so).

    Below the cap it behaves as Django's paginator. Above it, any page number
    is accepted and ``has_next`` comes from reading one row past the page.
    Pages are plain slices; ``CappedKeysFirstPaginator`` reads them keys first.
    """

    keys_first = False

    def __init__(
        self, object_list: Any, per_page: int, *args: Any, cap: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        """Rows, counted up to ``cap`` + 1 (one ``COUNT`` over a ``LIMIT``, without the order, so the
        database stops at the cap instead of sorting every row first)."""
        counted = self.object_list.keys if isinstance(self.object_list, KeyedRows) else self.object_list
        if isinstance(counted, QuerySet):
            return int(counted.order_by()[: self.cap + 1].count())
        return len(counted[: self.cap + 1])

    @property
    def capped(self) -> bool:
        """True when there are more than ``cap`` rows (``count`` is then not the total)."""
        return self.count > self.cap

    def validate_number(self, number: Any) -> int:
        """A page number; past the counted pages only when the count was capped."""
        if not self.capped:
            return super().validate_number(number)
        try:
            value = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(str(error)) from error
        if value < 1:
            raise EmptyPage("That page number is less than 1")
        return value

    def page(self, number: Any) -> Page:
        """The page; above the cap, read one row more to learn whether another follows."""
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = self.rows(bottom, bottom + self.per_page + 1)
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class CappedKeysFirstPaginator(CappedCountPaginator):
    """A capped count and pages read keys first: long record lists of wide, joined rows."""

    keys_first = True
