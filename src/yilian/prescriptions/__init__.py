"""Prescriptions across levels: the consortium formulary, member stocks, long and extended prescriptions."""
