"""Referral pages under /referrals/."""

from __future__ import annotations

from yilian.referrals.views import clinical, management

app_name = "referrals"
urlpatterns = clinical.urlpatterns + management.urlpatterns
