"""A paginator for work queues that may grow large: it counts at most ``cap`` rows.

Counting every row of a queue of 100 000 pending items costs a scan on each
page view; a queue is worked from its top, so "more than 1 000" is all a
reader needs. Pages past the cap stay reachable: beyond it, whether there is
a next page is learnt by reading one row more than a page.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

COUNT_CAP = 1000
"""Rows counted at most by ``CappedCountPaginator`` unless told otherwise."""


class CappedPage(Page):
    """A page that knows from its own read whether another page follows."""

    def __init__(self, object_list: Any, number: int, paginator: Paginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        """True when a row follows this page."""
        return self.more


class CappedCountPaginator(Paginator):
    """A paginator whose ``count`` stops at ``cap`` + 1 (``capped`` then says so).

    Below the cap it behaves as Django's paginator. Above it, any page number
    is accepted and ``has_next`` comes from reading one row past the page.
    """

    def __init__(
        self, object_list: Any, per_page: int, *args: Any, cap: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        """Rows, counted up to ``cap`` + 1 (one ``COUNT`` over a ``LIMIT``)."""
        head = self.object_list[: self.cap + 1]
        return int(head.count()) if hasattr(head, "query") else len(head)

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
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)
