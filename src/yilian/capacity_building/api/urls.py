"""能力建设 API routes under ``capacity/``. Actions are ``POST <object>/<action>``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from yilian.capacity_building.api.views import (
    AttendanceViewSet,
    CapacityStatisticsViewSet,
    CaseUpdateViewSet,
    CourseViewSet,
    DeviceViewSet,
    FellowshipViewSet,
    MaintenanceViewSet,
    TechniqueViewSet,
)

ONE = {"pagination_class": None}
ID = "<str:public_id>"


def _actions(prefix: str, viewset: type, actions: dict[str, str], name: str) -> list[URLPattern]:
    return [
        path(f"{prefix}/{ID}/{segment}", viewset.as_view({"post": method}, **ONE), name=f"{name}-{segment}")
        for segment, method in actions.items()
    ]


urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "capacity/courses",
        CourseViewSet.as_view({"get": "list", "post": "create"}),
        name="api-capacity-courses",
    ),
    path(
        f"capacity/courses/{ID}",
        CourseViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, **ONE),
        name="api-capacity-course",
    ),
    *_actions(
        "capacity/courses", CourseViewSet, {"cancel": "cancel", "close": "close"}, "api-capacity-course"
    ),
    path(
        f"capacity/courses/{ID}/attendances",
        AttendanceViewSet.as_view({"get": "list", "post": "create"}),
        name="api-capacity-course-attendances",
    ),
    path(
        f"capacity/courses/{ID}/attendances/<str:attendance_id>",
        AttendanceViewSet.as_view({"delete": "destroy"}, **ONE),
        name="api-capacity-course-attendance",
    ),
    path(
        "capacity/fellowships",
        FellowshipViewSet.as_view({"get": "list", "post": "create"}),
        name="api-capacity-fellowships",
    ),
    path(
        f"capacity/fellowships/{ID}",
        FellowshipViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-capacity-fellowship",
    ),
    *_actions(
        "capacity/fellowships",
        FellowshipViewSet,
        {"start": "start", "complete": "complete", "withdraw": "withdraw"},
        "api-capacity-fellowship",
    ),
    path(
        "capacity/techniques",
        TechniqueViewSet.as_view({"get": "list", "post": "create"}),
        name="api-capacity-techniques",
    ),
    path(
        f"capacity/techniques/{ID}",
        TechniqueViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-capacity-technique",
    ),
    *_actions("capacity/techniques", TechniqueViewSet, {"review": "review"}, "api-capacity-technique"),
    path(
        f"capacity/techniques/{ID}/cases",
        CaseUpdateViewSet.as_view({"get": "list", "post": "create"}),
        name="api-capacity-technique-cases",
    ),
    path(
        "capacity/devices",
        DeviceViewSet.as_view({"get": "list", "post": "create"}),
        name="api-capacity-devices",
    ),
    path(
        f"capacity/devices/{ID}",
        DeviceViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-capacity-device",
    ),
    *_actions("capacity/devices", DeviceViewSet, {"return": "give_back"}, "api-capacity-device"),
    path(
        "capacity/maintenance",
        MaintenanceViewSet.as_view({"get": "list", "post": "create"}),
        name="api-capacity-maintenance-list",
    ),
    path(
        f"capacity/maintenance/{ID}",
        MaintenanceViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-capacity-maintenance",
    ),
    *_actions(
        "capacity/maintenance",
        MaintenanceViewSet,
        {"take": "take", "assign": "assign", "complete": "complete", "cancel": "cancel"},
        "api-capacity-maintenance",
    ),
    path(
        "capacity/statistics",
        CapacityStatisticsViewSet.as_view({"get": "retrieve"}, **ONE),
        name="api-capacity-statistics",
    ),
]
