"""Pagination of API lists."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """``?page=2&page_size=50`` (at most 200 a page); body has count, next, previous, results."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
