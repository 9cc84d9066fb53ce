"""Capacity building: training courses and attendance, refresher fellowships, new techniques, equipment support."""
