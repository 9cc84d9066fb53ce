"""Referral pages: clinical (lists, new referral, detail and actions, worklist) and management
(capacity, catalogue, settings, statistics)."""
