"""专家下沉 pages under /outreach/."""

from __future__ import annotations

from yilian.outreach.views import pages

app_name = "outreach"
urlpatterns = pages.urlpatterns
