"""API URLs of ingestion."""

from __future__ import annotations

urlpatterns: list = []
