"""Writes of capacity building: one service call, one transaction, one audit event per change."""

from __future__ import annotations

from yilian.capacity_building.services.courses import (
    attendance_record,
    attendance_record_many,
    attendance_remove,
    course_cancel,
    course_close,
    course_create,
    course_update,
)
from yilian.capacity_building.services.equipment import (
    device_register,
    device_return,
    maintenance_assign,
    maintenance_cancel,
    maintenance_complete,
    maintenance_request,
    maintenance_take,
)
from yilian.capacity_building.services.fellowships import (
    fellowship_apply,
    fellowship_complete,
    fellowship_start,
    fellowship_withdraw,
)
from yilian.capacity_building.services.techniques import (
    technique_record,
    technique_report_cases,
    technique_review,
)

__all__ = [
    "attendance_record",
    "attendance_record_many",
    "attendance_remove",
    "course_cancel",
    "course_close",
    "course_create",
    "course_update",
    "device_register",
    "device_return",
    "fellowship_apply",
    "fellowship_complete",
    "fellowship_start",
    "fellowship_withdraw",
    "maintenance_assign",
    "maintenance_cancel",
    "maintenance_complete",
    "maintenance_request",
    "maintenance_take",
    "technique_record",
    "technique_report_cases",
    "technique_review",
]
