"""Chronic-disease management: registries, enrolled cases, follow-up visits and the referral rule."""
