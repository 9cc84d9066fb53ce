"""Indicators: the catalogue of indicators as data, the data items modules declare, and their evaluation."""
