"""能力建设 pages under /capacity/."""

from __future__ import annotations

from yilian.capacity_building.views import pages

app_name = "capacity_building"
urlpatterns = pages.urlpatterns
