"""API URLs of insurance."""

from __future__ import annotations

urlpatterns: list = []
