"""Pagination of API lists."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.core.paginator import CappedCountPaginator, CappedKeysFirstPaginator, KeysFirstPaginator


def _positive_int(request: Request, name: str, *, allow: tuple[str, ...] = ()) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "" or raw in allow:
        return raw or None
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError({name: [_("请填写正整数。")]})
    return raw


class StandardPagination(PageNumberPagination):
    """``?page=2&page_size=50`` (at most 200 a page); body has count, next, previous, results.

    A malformed ``page`` or ``page_size`` is a 400 like any other bad query
    value; a page past the end is a 404.
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        """The requested page number, validated."""
        _positive_int(request, self.page_query_param, allow=tuple(self.last_page_strings))
        return super().get_page_number(request, paginator)

    def get_page_size(self, request: Request) -> int | None:
        """The requested page size, validated and capped."""
        _positive_int(request, self.page_size_query_param)
        return super().get_page_size(request)


class CappedCountPagination(StandardPagination):
    """Standard pagination for work queues: ``count`` stops at 1 000 and ``count_capped`` says so
    (a queue is worked from its top; counting 100 000 rows on every page would cost a scan)."""

    django_paginator_class = CappedCountPaginator

    def get_paginated_response(self, data: Any) -> Response:
        """The page, with ``count_capped`` beside ``count``."""
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The standard schema plus ``count_capped``."""
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "count 达到上限（1000）时为 true，此时 count 不是总数",
        }
        return paginated


class KeysFirstPagination(StandardPagination):
    """Standard pagination whose page is read keys first (``core.paginator.KeysFirstPaginator``): for
    lists of wide rows with joined ends, where sorting every matching row before the limit would make
    a page's time grow with the table."""

    django_paginator_class = KeysFirstPaginator


class CappedKeysFirstPagination(CappedCountPagination):
    """Capped count and pages read keys first: long record lists of joined rows (drill-downs)."""

    django_paginator_class = CappedKeysFirstPaginator
