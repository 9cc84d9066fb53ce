"""The data items every module declares, collected from each app's ``data_items`` module.

An app declares its facts in ``<app>/data_items.py`` as a ``DATA_ITEMS``
list of ``core.data_items.DataItem``; nothing else registers them, so the
list of data items is the code's, while indicators over them are data.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps

from yilian.core.data_items import DataItem, DataSource
from yilian.indicators.expressions import ITEM_CODE


class RegistryError(RuntimeError):
    """Two data items share a code, or a code is not a valid identifier."""


@functools.cache
def data_items() -> dict[str, DataItem]:
    """Every declared data item by code, in app order."""
    found: dict[str, DataItem] = {}
    for config in apps.get_app_configs():
        module_name = f"{config.name}.data_items"
        if not config.name.startswith("yilian.") or find_spec(module_name) is None:
            continue
        module = import_module(module_name)
        for item in getattr(module, "DATA_ITEMS", ()):
            if not ITEM_CODE.match(item.code):
                raise RegistryError(f"data item code {item.code!r} is not an identifier")
            if item.code in found:
                raise RegistryError(f"data item {item.code!r} is declared twice")
            found[item.code] = item if item.module else _with_module(item, config.label)
    return found


def _with_module(item: DataItem, label: str) -> DataItem:
    from dataclasses import replace

    return replace(item, module=label)


def data_item(code: str) -> DataItem | None:
    """One data item by code, or None."""
    return data_items().get(code)


def items_by_source() -> dict[str, tuple[DataSource, list[DataItem]]]:
    """Data items grouped by their source, so each source's table is read once per refresh."""
    grouped: dict[str, tuple[DataSource, list[DataItem]]] = {}
    lists: dict[str, list[DataItem]] = defaultdict(list)
    for item in data_items().values():
        lists[item.source.code].append(item)
        grouped[item.source.code] = (item.source, lists[item.source.code])
    return grouped


def stock_item_codes() -> set[str]:
    """Codes of items counted as stocks (in force at month end, or regional): averaged over a period's months."""
    return {code for code, item in data_items().items() if item.source.is_stock or not item.source.date_field}


def department_item_codes() -> set[str]:
    """Codes of items attributed to departments as well as institutions."""
    return {code for code, item in data_items().items() if item.source.department_field}


def regional_item_codes() -> set[str]:
    """Codes of items attributed to regions only (population)."""
    return {code for code, item in data_items().items() if item.source.is_regional}
