"""Capacity-building API: courses and sign-ins, fellowships, techniques, devices, repairs, figures.

The views parse, call one service or selector with ``actor=request.user`` and
render; who may do what is decided by the services (``capacity_building.policies``).
Status changes take the version the client saw (``expected_version``) where
two people may act at once; a stale version or a lost race answers 409.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from yilian.capacity_building import policies, selectors, services
from yilian.capacity_building.api import serializers as s
from yilian.core.api.pagination import CappedCountPagination
from yilian.core.api.views import ServiceViewSet
from yilian.core.exceptions import NotAllowed, NotFound


class CapacityViewSet(ServiceViewSet):
    """Base of the capacity-building endpoints: only users with some view of them get past the door (403)."""

    error_statuses = (400, 401, 403, 404, 409)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, then refuse users with no role in capacity building."""
        super().initial(request, *args, **kwargs)
        if not policies.can_use_capacity(self.actor):
            raise NotAllowed("capacity_building")


# Courses -----------------------------------------------------------------------------------------


@extend_schema(tags=["capacity-courses"])
class CourseViewSet(CapacityViewSet):
    """Courses and teaching rounds the requester may read; the organiser's staff publish and run them."""

    serializer_class = s.CourseSerializer

    @extend_schema(parameters=[s.CourseQuerySerializer], responses={200: s.CourseSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible courses, newest first, with their sign-in counts."""
        params = self.query(s.CourseQuerySerializer)
        filters = selectors.CourseFilters(
            box=params["box"],
            kind=params.get("kind", ""),
            status=params.get("status", ""),
            year=params.get("year"),
            query=params.get("q", ""),
        )
        return self.paginated(selectors.course_list(self.actor, filters), s.CourseSerializer)

    @extend_schema(request=s.CourseWriteSerializer, responses={201: s.CourseDetailSerializer})
    def create(self, request: Request) -> Response:
        """Publish a course (``organiser``: an institution where the requester organises)."""
        data = self.payload(s.CourseWriteSerializer)
        data.pop("expected_version", None)
        course = services.course_create(actor=self.actor, **data)
        return self.rendered(
            selectors.course_get_for(self.actor, course.public_id), s.CourseDetailSerializer, status=201
        )

    @extend_schema(responses={200: s.CourseDetailSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One course."""
        return self.rendered(selectors.course_get_for(self.actor, self.object_id()), s.CourseDetailSerializer)

    @extend_schema(request=s.CourseWriteSerializer, responses={200: s.CourseDetailSerializer})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change a published course (the organiser; not the organiser itself)."""
        course = selectors.course_get_for(self.actor, self.object_id())
        data = self.payload(s.CourseWriteSerializer, partial=True)
        data.pop("organiser", None)
        expected = data.pop("expected_version", None)
        services.course_update(actor=self.actor, course=course, expected_version=expected, **data)
        return self.rendered(selectors.course_get_for(self.actor, course.public_id), s.CourseDetailSerializer)

    @extend_schema(request=s.CapacityReasonSerializer, responses={200: s.CourseDetailSerializer})
    def cancel(self, request: Request, public_id: str) -> Response:
        """Cancel a published course with a ``reason``."""
        course = selectors.course_get_for(self.actor, self.object_id())
        data = self.payload(s.CapacityReasonSerializer)
        services.course_cancel(actor=self.actor, course=course, reason=data["reason"])
        return self.rendered(selectors.course_get_for(self.actor, course.public_id), s.CourseDetailSerializer)

    @extend_schema(request=s.CapacityEmptySerializer, responses={200: s.CourseDetailSerializer})
    def close(self, request: Request, public_id: str) -> Response:
        """Mark the course held and close its sign-in sheet."""
        course = selectors.course_get_for(self.actor, self.object_id())
        services.course_close(actor=self.actor, course=course)
        return self.rendered(selectors.course_get_for(self.actor, course.public_id), s.CourseDetailSerializer)


@extend_schema(tags=["capacity-courses"])
class AttendanceViewSet(CapacityViewSet):
    """The sign-ins of a course."""

    serializer_class = s.AttendanceSerializer

    @extend_schema(responses={200: s.AttendanceSerializer(many=True)})
    def list(self, request: Request, public_id: str) -> Response:
        """Who signed in, by institution and name."""
        course = selectors.course_get_for(self.actor, self.object_id())
        return self.paginated(selectors.course_attendances(course), s.AttendanceSerializer)

    @extend_schema(request=s.AttendanceCreateSerializer, responses={201: s.AttendanceSerializer(many=True)})
    def create(self, request: Request, public_id: str) -> Response:
        """Sign in staff accounts (``users``) or one external attendee; a person already signed in is a 409."""
        course = selectors.course_get_for(self.actor, self.object_id())
        data = self.payload(s.AttendanceCreateSerializer)
        if data.get("users"):
            rows = services.attendance_record_many(actor=self.actor, course=course, users=data["users"])
        else:
            rows = [
                services.attendance_record(
                    actor=self.actor,
                    course=course,
                    name=data.get("name", ""),
                    institution_name=data.get("institution_name", ""),
                )
            ]
        return Response(s.AttendanceSerializer(rows, many=True).data, status=201)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, public_id: str, attendance_id: str) -> Response:
        """Remove a sign-in recorded by mistake (while sign-in is open)."""
        course = selectors.course_get_for(self.actor, self.object_id())
        attendance = selectors.attendance_get(course, self.object_id("attendance_id"))
        services.attendance_remove(actor=self.actor, attendance=attendance)
        return Response(status=204)


# Fellowships -------------------------------------------------------------------------------------


@extend_schema(tags=["capacity-fellowships"])
class FellowshipViewSet(CapacityViewSet):
    """Refresher fellowships at the lead hospital."""

    serializer_class = s.FellowshipSerializer

    @extend_schema(
        parameters=[s.FellowshipQuerySerializer], responses={200: s.FellowshipSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """Visible fellowships, newest planned start first."""
        params = self.query(s.FellowshipQuerySerializer)
        filters = selectors.FellowshipFilters(
            status=params.get("status", ""),
            open_only=params["open"],
            year=params.get("year"),
            query=params.get("q", ""),
        )
        return self.paginated(selectors.fellowship_list(self.actor, filters), s.FellowshipSerializer)

    @extend_schema(request=s.FellowshipCreateSerializer, responses={201: s.FellowshipSerializer})
    def create(self, request: Request) -> Response:
        """Apply for a fellowship of a member's staff (the member's administrator)."""
        data = self.payload(s.FellowshipCreateSerializer)
        fellowship = services.fellowship_apply(actor=self.actor, **data)
        return self.rendered(self._get(fellowship.public_id), s.FellowshipSerializer, status=201)

    def _get(self, public_id: Any) -> Any:
        return selectors.fellowship_get_for(self.actor, public_id)

    @extend_schema(responses={200: s.FellowshipSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One fellowship."""
        return self.rendered(self._get(self.object_id()), s.FellowshipSerializer)

    @extend_schema(request=s.FellowshipStartSerializer, responses={200: s.FellowshipSerializer})
    def start(self, request: Request, public_id: str) -> Response:
        """The trainee reported: planned → in progress (the host's administrator or the supervisor)."""
        fellowship = self._get(self.object_id())
        data = self.payload(s.FellowshipStartSerializer)
        services.fellowship_start(
            actor=self.actor,
            fellowship=fellowship,
            started_on=data.get("started_on"),
            expected_version=data.get("expected_version"),
        )
        return self.rendered(self._get(fellowship.public_id), s.FellowshipSerializer)

    @extend_schema(request=s.FellowshipCompleteSerializer, responses={200: s.FellowshipSerializer})
    def complete(self, request: Request, public_id: str) -> Response:
        """In progress → completed with the assessment and certificate number."""
        fellowship = self._get(self.object_id())
        data = self.payload(s.FellowshipCompleteSerializer)
        services.fellowship_complete(actor=self.actor, fellowship=fellowship, **data)
        return self.rendered(self._get(fellowship.public_id), s.FellowshipSerializer)

    @extend_schema(request=s.CapacityReasonSerializer, responses={200: s.FellowshipSerializer})
    def withdraw(self, request: Request, public_id: str) -> Response:
        """Withdraw with a ``reason`` (either side's administrator)."""
        fellowship = self._get(self.object_id())
        data = self.payload(s.CapacityReasonSerializer)
        services.fellowship_withdraw(
            actor=self.actor,
            fellowship=fellowship,
            reason=data["reason"],
            expected_version=data.get("expected_version"),
        )
        return self.rendered(self._get(fellowship.public_id), s.FellowshipSerializer)


# Techniques --------------------------------------------------------------------------------------


@extend_schema(tags=["capacity-techniques"])
class TechniqueViewSet(CapacityViewSet):
    """New techniques and projects introduced at members."""

    serializer_class = s.TechniqueSerializer

    def _get(self, public_id: Any) -> Any:
        return selectors.technique_get_for(self.actor, public_id)

    @extend_schema(parameters=[s.TechniqueQuerySerializer], responses={200: s.TechniqueSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible techniques, newest first."""
        params = self.query(s.TechniqueQuerySerializer)
        filters = selectors.TechniqueFilters(
            status=params.get("status", ""),
            category=params.get("category", ""),
            year=params.get("year"),
            query=params.get("q", ""),
        )
        return self.paginated(selectors.technique_list(self.actor, filters), s.TechniqueSerializer)

    @extend_schema(request=s.TechniqueCreateSerializer, responses={201: s.TechniqueSerializer})
    def create(self, request: Request) -> Response:
        """Record a technique (the member's administrator); it waits for the office's confirmation."""
        data = self.payload(s.TechniqueCreateSerializer)
        technique = services.technique_record(actor=self.actor, **data)
        return self.rendered(self._get(technique.public_id), s.TechniqueSerializer, status=201)

    @extend_schema(responses={200: s.TechniqueSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One technique."""
        return self.rendered(self._get(self.object_id()), s.TechniqueSerializer)

    @extend_schema(request=s.TechniqueReviewSerializer, responses={200: s.TechniqueSerializer})
    def review(self, request: Request, public_id: str) -> Response:
        """The consortium office confirms or returns it."""
        technique = self._get(self.object_id())
        data = self.payload(s.TechniqueReviewSerializer)
        services.technique_review(actor=self.actor, technique=technique, **data)
        return self.rendered(self._get(technique.public_id), s.TechniqueSerializer)


@extend_schema(tags=["capacity-techniques"])
class CaseUpdateViewSet(CapacityViewSet):
    """The case reports of a technique."""

    serializer_class = s.CaseUpdateSerializer

    @extend_schema(responses={200: s.CaseUpdateSerializer(many=True)})
    def list(self, request: Request, public_id: str) -> Response:
        """Reports, newest first."""
        technique = selectors.technique_get_for(self.actor, self.object_id())
        return self.paginated(selectors.technique_case_updates(technique), s.CaseUpdateSerializer)

    @extend_schema(request=s.CaseUpdateSerializer, responses={201: s.CaseUpdateSerializer})
    def create(self, request: Request, public_id: str) -> Response:
        """Report the cumulative cases (never lower than the last report)."""
        technique = selectors.technique_get_for(self.actor, self.object_id())
        data = self.payload(s.CaseUpdateSerializer)
        update = services.technique_report_cases(actor=self.actor, technique=technique, **data)
        return self.rendered(update, s.CaseUpdateSerializer, status=201)


# Devices and maintenance ------------------------------------------------------------------------


@extend_schema(tags=["capacity-equipment"])
class DeviceViewSet(CapacityViewSet):
    """Devices donated or lent to members."""

    serializer_class = s.DeviceSerializer

    def _get(self, public_id: Any) -> Any:
        return selectors.device_get_for(self.actor, public_id)

    @extend_schema(parameters=[s.DeviceQuerySerializer], responses={200: s.DeviceSerializer(many=True)})
    def list(self, request: Request) -> Response:
        """Visible devices, newest delivery first, with their open repair requests."""
        params = self.query(s.DeviceQuerySerializer)
        filters = selectors.DeviceFilters(
            device_type=params.get("device_type", ""),
            support_kind=params.get("support_kind", ""),
            in_service=params["in_service"],
            query=params.get("q", ""),
        )
        return self.paginated(selectors.device_list(self.actor, filters), s.DeviceSerializer)

    @extend_schema(request=s.DeviceCreateSerializer, responses={201: s.DeviceSerializer})
    def create(self, request: Request) -> Response:
        """Register a device (the donor's administrator or engineer)."""
        data = self.payload(s.DeviceCreateSerializer)
        device = services.device_register(actor=self.actor, **data)
        return self.rendered(self._get(device.public_id), s.DeviceSerializer, status=201)

    @extend_schema(responses={200: s.DeviceSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One device."""
        return self.rendered(self._get(self.object_id()), s.DeviceSerializer)

    @extend_schema(request=s.DeviceReturnSerializer, responses={200: s.DeviceSerializer})
    def give_back(self, request: Request, public_id: str) -> Response:
        """A lent device came back."""
        device = self._get(self.object_id())
        data = self.payload(s.DeviceReturnSerializer)
        services.device_return(actor=self.actor, device=device, returned_on=data.get("returned_on"))
        return self.rendered(self._get(device.public_id), s.DeviceSerializer)


@extend_schema(tags=["capacity-equipment"])
class MaintenanceViewSet(CapacityViewSet):
    """Repair requests: the engineers' worklist, the members' requests."""

    serializer_class = s.MaintenanceSerializer
    pagination_class = CappedCountPagination

    def _get(self, public_id: Any) -> Any:
        return selectors.maintenance_get_for(self.actor, public_id)

    @extend_schema(
        parameters=[s.MaintenanceQuerySerializer], responses={200: s.MaintenanceSerializer(many=True)}
    )
    def list(self, request: Request) -> Response:
        """``box=worklist`` (open requests for the requester's institutions' devices, oldest first),
        ``requests`` (for devices the requester's institutions hold) or ``all``."""
        params = self.query(s.MaintenanceQuerySerializer)
        filters = selectors.MaintenanceFilters(
            box=params["box"],
            status=params.get("status", ""),
            open_only=params["open"],
            query=params.get("q", ""),
        )
        return self.paginated(selectors.maintenance_list(self.actor, filters), s.MaintenanceSerializer)

    @extend_schema(request=s.MaintenanceCreateSerializer, responses={201: s.MaintenanceSerializer})
    def create(self, request: Request) -> Response:
        """Report a fault (staff of the member holding the device)."""
        data = self.payload(s.MaintenanceCreateSerializer)
        item = services.maintenance_request(actor=self.actor, **data)
        return self.rendered(self._get(item.public_id), s.MaintenanceSerializer, status=201)

    @extend_schema(responses={200: s.MaintenanceSerializer})
    def retrieve(self, request: Request, public_id: str) -> Response:
        """One request."""
        return self.rendered(self._get(self.object_id()), s.MaintenanceSerializer)

    @extend_schema(request=s.CapacityEmptySerializer, responses={200: s.MaintenanceSerializer})
    def take(self, request: Request, public_id: str) -> Response:
        """An engineer of the donor takes the request; 409 when another engineer was faster."""
        item = self._get(self.object_id())
        services.maintenance_take(actor=self.actor, request=item)
        return self.rendered(self._get(item.public_id), s.MaintenanceSerializer)

    @extend_schema(request=s.MaintenanceAssignSerializer, responses={200: s.MaintenanceSerializer})
    def assign(self, request: Request, public_id: str) -> Response:
        """The donor's administrator assigns an engineer."""
        item = self._get(self.object_id())
        data = self.payload(s.MaintenanceAssignSerializer)
        services.maintenance_assign(actor=self.actor, request=item, **data)
        return self.rendered(self._get(item.public_id), s.MaintenanceSerializer)

    @extend_schema(request=s.MaintenanceCompleteSerializer, responses={200: s.MaintenanceSerializer})
    def complete(self, request: Request, public_id: str) -> Response:
        """The engineer closes it as repaired or not repairable."""
        item = self._get(self.object_id())
        data = self.payload(s.MaintenanceCompleteSerializer)
        services.maintenance_complete(actor=self.actor, request=item, **data)
        return self.rendered(self._get(item.public_id), s.MaintenanceSerializer)

    @extend_schema(request=s.CapacityReasonSerializer, responses={200: s.MaintenanceSerializer})
    def cancel(self, request: Request, public_id: str) -> Response:
        """The member withdraws a request nobody has taken."""
        item = self._get(self.object_id())
        data = self.payload(s.CapacityReasonSerializer)
        services.maintenance_cancel(actor=self.actor, request=item, reason=data["reason"])
        return self.rendered(self._get(item.public_id), s.MaintenanceSerializer)


# Statistics --------------------------------------------------------------------------------------


@extend_schema(tags=["capacity-statistics"])
class CapacityStatisticsViewSet(CapacityViewSet):
    """Capacity-building figures per member and year (the office, regulators, administrators)."""

    serializer_class = s.CapacityStatisticsSerializer

    @extend_schema(
        parameters=[s.CapacityStatisticsQuerySerializer], responses={200: s.CapacityStatisticsSerializer}
    )
    def retrieve(self, request: Request) -> Response:
        """Figures of the consortium's members (an administrator of a member: their own) for the year."""
        if not policies.can_view_statistics(self.actor):
            raise NotAllowed(_("您没有查看能力建设统计的权限。"))
        params = self.query(s.CapacityStatisticsQuerySerializer)
        consortium = params.get("consortium") or selectors.statistics_consortia(self.actor).first()
        if consortium is None:
            raise NotFound("consortium")
        year = params.get("year") or timezone.localdate().year
        report = selectors.capacity_statistics(
            consortium,
            year,
            selectors.figures_scope(self.actor, consortium),
            selectors.member_roles(consortium),
        )
        return self.rendered(report, s.CapacityStatisticsSerializer)
