"""慢病管理 pages under /chronic-care/."""

from __future__ import annotations

from yilian.chronic_care.views import pages

app_name = "chronic_care"
urlpatterns = pages.urlpatterns
