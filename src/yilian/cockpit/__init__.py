"""Cockpit: the consortium's and the regulator's dashboards over computed indicator values."""
