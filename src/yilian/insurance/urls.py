"""UI URLs of insurance (医保总额预算, settlements, claims) under /insurance/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from yilian.insurance.views import budgets
from yilian.insurance.views import cost_stories as cost_story_views

app_name = "insurance"

urlpatterns: list[URLPattern | URLResolver] = [
    *budgets.urlpatterns,
    *cost_story_views.urlpatterns,
]
