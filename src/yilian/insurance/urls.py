"""UI URLs of insurance."""

from __future__ import annotations

app_name = "insurance"

urlpatterns: list = []
