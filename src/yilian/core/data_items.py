"""Data items: the countable facts each module declares for the indicator engine.

A module describes its facts in its own ``data_items.py`` with the two
classes below and a module-level ``DATA_ITEMS`` list; the ``indicators`` app
collects them at start-up (``indicators.registry``). The spec lives in core
so that a module declaring facts depends on nothing above it.

A ``DataSource`` is a set of records (a queryset), the date that places a
record in a month, and the institution (and department) it counts for. A
``DataItem`` is one count or sum over a source, narrowed by a filter. Items
of one source are computed together in one grouped pass over its table.

Two more shapes exist for facts that are not events:

* a *stock* source (``ends_field`` set) counts the records in force at the
  end of each month (contracts, chronic cases under management, postings);
* a *region* source (``institution_field`` empty) is attributed to a region
  (the resident population), not to an institution.

A module that writes facts in bulk (an import) sends ``facts_changed`` once
its rows are committed; the indicator engine listens and recomputes only
the months and institutions named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.dispatch import Signal

facts_changed = Signal()
"""Sent after a bulk write commits, with ``institution_months`` (pairs of institution id and a day
of the month), ``regional_months`` (days of months whose regional facts changed) and ``models``
(labels of the models written, such as ``encounters.Encounter``; none: any source may have changed)."""

COUNT = "count"
SUM = "sum"


@dataclass(frozen=True)
class Column:
    """One column of a drill-down table: a header and a lookup path on the record (``person__name``)."""

    label: Any
    path: str
    sensitive: bool = False
    """Personal data: shown masked unless the actor may see the source module's rows in full."""


@dataclass(frozen=True)
class DataSource:
    """A set of records facts are counted over; see the module docstring.

    ``records`` returns every record (no scoping); ``visible_to(actor)`` returns
    the records the actor may see in the source module, used for drill-down so
    the same policy applies as on the module's own pages. ``detail_url`` names
    the URL of one record (reversed with its ``public_id``), if it has a page.
    """

    code: str
    name: Any
    records: Callable[[], QuerySet]
    date_field: str
    institution_field: str = ""
    department_field: str = ""
    region_field: str = ""
    ends_field: str = ""
    visible_to: Callable[[Any], QuerySet] | None = None
    columns: tuple[Column, ...] = ()
    detail_url: str = ""
    shows_full: Callable[[Any], bool] | None = None
    """Whether the module shows the actor its records' sensitive columns in full (masked when absent)."""

    @property
    def is_stock(self) -> bool:
        """Counted at each month's end (records in force) rather than by the month they happened in."""
        return bool(self.ends_field)

    @property
    def is_regional(self) -> bool:
        """Attributed to a region rather than to an institution."""
        return not self.institution_field


@dataclass(frozen=True)
class DataItem:
    """One countable fact: a count (or a sum of ``field``) over a source's records matching ``filter``.

    ``code`` is what indicator expressions name (lower case letters, digits
    and underscores). ``unit`` is the unit of one value (人次, 元, 人).
    """

    code: str
    name: Any
    description: Any
    source: DataSource
    filter: Q = field(default_factory=Q)
    measure: str = COUNT
    field: str = ""
    unit: Any = ""
    module: str = ""
