"""Reads on the hot path whose SQL Django compiles once per thread, not on every call.

Django turns a queryset into SQL each time it is evaluated. For a read with
joins that compilation, with the cloning of the queryset, costs several times
what the database takes to answer: a workflow step's locked read of a
referral with both ends and the doctor took 4.7 ms in process, its SQL alone
0.7–1.0 ms (ADR 0022). A ``PreparedRead`` builds its queryset once with a
marker in place of its one variable, keeps the compiled SQL, the converters
and the model populators, and from then on only swaps the value in, runs the
SQL and builds the rows as Django would (the same read now takes 1.1 ms).

The queryset stays the single description of the read; the ORM still
compiles it (so backends, table names and columns come from the models) and
builds the instances. Only queries whose variable is one integer, string or
UUID parameter are supported: a lookup by primary key or another column. What
changes with the actor (a policy's filter) cannot be prepared and is not.
It relies on the compiler's ``select``/``klass_info`` and
``get_related_populators``, internal to Django 5.2 (the version the project
pins); ``core.tests.test_prepared`` compares every prepared read with the
same queryset evaluated by Django, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.query import ModelIterable, QuerySet, ValuesListIterable, get_related_populators
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=models.Model)

_MARKERS: dict[type, Any] = {
    int: -(2**62) + 20_260_024,
    str: "\x00yilian-prepared-read-marker",
    uuid.UUID: uuid.UUID("00000000-7e11-4a11-8000-000020261124"),
}
"""The value each supported kind of variable is compiled with: none a real row takes."""


def _as_parameter(kind: type, value: Any, template: Any) -> Any:
    """``value`` as the backend took the marker: a UUID is a ``uuid`` on PostgreSQL, hex text on SQLite."""
    if not isinstance(value, kind):
        # uuid.UUID(42) fails with an AttributeError; through text every bad value is a ValueError.
        value = kind(str(value)) if kind is uuid.UUID else kind(value)
    if kind is uuid.UUID and isinstance(template, str):
        return value.hex
    return value


def _is_marker(kind: type, parameter: Any) -> bool:
    marker = _MARKERS[kind]
    return parameter == marker or (kind is uuid.UUID and parameter == marker.hex)


@dataclass(frozen=True)
class _Compiled:
    """One queryset compiled for one connection: the SQL, where the variable goes, and how to build rows."""

    sql: str
    params: tuple[Any, ...]
    position: int
    locks: bool
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]
    model: type[models.Model] | None
    init_list: tuple[str, ...]
    model_columns: slice
    populators: tuple[Any, ...]


class PreparedRead(Generic[M]):
    """A read (model instances, or tuples for ``values_list``) compiled once per thread and database.

    ``build(value)`` returns the queryset for one value of the variable; it is
    called once per thread with a marker. ``kind`` is the variable's type
    (``int``, ``str`` or ``uuid.UUID``); a value that does not convert to it
    raises ValueError (or TypeError) before any query. Raises ValueError at compile time when the marker
    does not reach the SQL as exactly one parameter (a lookup that transforms
    its value cannot be prepared).
    """

    def __init__(self, build: Callable[[Any], QuerySet[Any]], *, kind: type = int) -> None:
        if kind not in _MARKERS:
            raise ValueError(f"a prepared read's variable is an int, a str or a UUID, not {kind.__name__}")
        self._build = build
        self._kind = kind
        self._local = threading.local()

    def rows(self, value: Any, *, using: str = DEFAULT_DB_ALIAS) -> list[Any]:
        """Every row for ``value``: model instances, or tuples when the queryset is a ``values_list``."""
        connection = connections[using]
        compiled = self._compiled(using)
        parameter = _as_parameter(self._kind, value, compiled.params[compiled.position])
        if compiled.locks and connection.features.has_select_for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        params[compiled.position] = parameter
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        if compiled.converters:
            fetched = [_converted(row, compiled.converters, connection) for row in fetched]
        if compiled.model is None:
            return [tuple(row) for row in fetched]
        return [_instance(row, compiled, using) for row in fetched]

    def get(self, value: Any, *, using: str = DEFAULT_DB_ALIAS) -> M:
        """The one model instance for ``value``; the model's DoesNotExist when there is none."""
        found = self.rows(value, using=using)
        if not found:
            model = self._compiled(using).model
            assert model is not None, "get() reads model instances; a values_list read has rows()"
            raise model.DoesNotExist(f"{model.__name__} matching query does not exist.")
        return found[0]

    def _compiled(self, using: str) -> _Compiled:
        cache: dict[str, _Compiled] = getattr(self._local, "cache", None) or {}
        if using not in cache:
            cache[using] = self._compile(using)
            self._local.cache = cache
        return cache[using]

    def _compile(self, using: str) -> _Compiled:
        queryset = self._build(_MARKERS[self._kind])
        iterable = queryset._iterable_class
        if iterable not in (ModelIterable, ValuesListIterable):
            raise ValueError("a prepared read returns model instances or values_list tuples")
        compiler = queryset.query.get_compiler(using=using)
        locks = bool(queryset.query.select_for_update)
        # A locking read compiles inside the caller's transaction: Django refuses FOR UPDATE outside one.
        sql, params = compiler.as_sql()
        positions = [index for index, param in enumerate(params) if _is_marker(self._kind, param)]
        if len(positions) != 1:
            raise ValueError("the prepared read's variable must reach its SQL as exactly one parameter")
        fields = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
        converters = tuple(
            (position, tuple(functions), expression)
            for position, (functions, expression) in compiler.get_converters(fields).items()
        )
        if iterable is ValuesListIterable:
            names = [*queryset.query.extra_select, *queryset.query.values_select]
            if list(queryset._fields) != names or queryset.query.annotation_select:
                raise ValueError("a prepared values_list names plain fields only")
            return _Compiled(sql, tuple(params), positions[0], locks, converters, None, (), slice(0), ())
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(params),
            position=positions[0],
            locks=locks,
            converters=converters,
            model=klass_info["model"],
            init_list=tuple(column[0].target.attname for column in compiler.select[start:end]),
            model_columns=slice(start, end),
            populators=tuple(get_related_populators(klass_info, compiler.select, using)),
        )


def _converted(
    row: Any, converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...], connection: Any
) -> list[Any]:
    # The backend's converters are bound to the compiling thread's connection; the converters get this
    # thread's, as Django's own apply_converters passes its compiler's.
    values = list(row)
    for position, functions, expression in converters:
        value = values[position]
        for function in functions:
            value = function(value, expression, connection)
        values[position] = value
    return values


def _instance(row: list[Any], compiled: _Compiled, using: str) -> Any:
    assert compiled.model is not None
    instance = compiled.model.from_db(using, list(compiled.init_list), row[compiled.model_columns])
    for populator in compiled.populators:
        populator.populate(row, instance)
    return instance
