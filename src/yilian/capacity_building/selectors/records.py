"""Scoped reads of courses, fellowships, techniques, devices and maintenance requests, and form options.

Every ``*_visible_to(actor)`` applies ``capacity_building.policies``: staff
of the institutions a record concerns, the office of its consortium, the
regulator of the member's region, platform admins. Lists select their
related rows and annotate their counts, so a page costs the same number of
queries whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from yilian.accounts.models import Membership, User
from yilian.accounts.selectors import scope_for
from yilian.capacity_building import policies
from yilian.capacity_building.choices import FELLOWSHIP_OPEN, MAINTENANCE_OPEN, MaintenanceStatus
from yilian.capacity_building.models import (
    Fellowship,
    MaintenanceRequest,
    SupportedDevice,
    TechniqueCaseUpdate,
    TechniqueTransfer,
    TrainingAttendance,
    TrainingCourse,
)
from yilian.core.exceptions import NotFound
from yilian.core.models import AuditEvent
from yilian.core.permissions import INSTITUTION_ROLES, Role
from yilian.institutions.choices import MemberRole
from yilian.institutions.models import Consortium, ConsortiumMember, Department, Institution

NOTHING = Q(pk__in=[])


def _get(rows: QuerySet[Any], public_id: Any) -> Any:
    try:
        return rows.get(public_id=public_id)
    except (rows.model.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound(rows.model._meta.model_name) from error


def _member_consortia(institution_ids: set[int]) -> QuerySet[ConsortiumMember]:
    return ConsortiumMember.objects.filter(institution_id__in=institution_ids, is_active=True).values(
        "consortium_id"
    )


def _oversight(actor: Any, consortium_field: str, region_fields: tuple[str, ...]) -> Q:
    condition = NOTHING
    consortia = policies.overseen_consortia(actor)
    if consortia:
        condition |= Q(**{f"{consortium_field}__in": consortia})
    for prefix in policies.regulated_prefixes(actor):
        for field in region_fields:
            condition |= Q(**{f"{field}__region__code__startswith": prefix})
    return condition


# Courses ------------------------------------------------------------------------------------------

COURSE_RELATED = ("organiser", "organiser_department", "venue", "consortium")


def course_visible_to(actor: Any) -> QuerySet[TrainingCourse]:
    """Courses the actor may read: organised or hosted by their institutions, open to them (every
    member of a consortium their institution belongs to, or listed in the audience), attended by them;
    of consortia whose office they run; organised or held in regions they regulate; all for admins."""
    scope = scope_for(actor)
    rows = TrainingCourse.objects.select_related(*COURSE_RELATED)
    if scope.is_platform_admin:
        return rows
    condition = _oversight(actor, "consortium_id", ("organiser", "venue"))
    staff = policies.staff_institutions(actor)
    if staff:
        audience = TrainingCourse.audience.through.objects.filter(
            trainingcourse_id=OuterRef("pk"), institution_id__in=staff
        )
        condition |= (
            Q(organiser_id__in=staff)
            | Q(venue_id__in=staff)
            | Q(open_to_all_members=True, consortium_id__in=_member_consortia(staff))
            | Q(Exists(audience))
        )
    if not scope.is_anonymous:
        condition |= Q(Exists(TrainingAttendance.objects.filter(course=OuterRef("pk"), user_id=actor.pk)))
    return rows.filter(condition)


@dataclass(frozen=True)
class CourseFilters:
    """Filters of the course list: ``box`` is ``all``, ``organised`` (by the actor's institutions) or
    ``attended`` (by the actor)."""

    box: str = "all"
    kind: str = ""
    status: str = ""
    year: int | None = None
    query: str = ""


def course_list(actor: Any, filters: CourseFilters = CourseFilters()) -> QuerySet[TrainingCourse]:
    """Visible courses, newest first, with the number of sign-ins (``attendance_count``)."""
    rows = course_visible_to(actor)
    if filters.box == "organised":
        rows = rows.filter(organiser_id__in=policies.organiser_institutions(actor))
    elif filters.box == "attended":
        rows = rows.filter(attendances__user_id=getattr(actor, "pk", None))
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.year:
        rows = rows.filter(starts_on__year=filters.year)
    if filters.query:
        rows = rows.filter(Q(title__icontains=filters.query) | Q(trainers__icontains=filters.query))
    return rows.annotate(attendance_count=Count("attendances", distinct=True)).order_by("-starts_on", "-id")


def course_get_for(actor: Any, public_id: Any) -> TrainingCourse:
    """One visible course; NotFound otherwise."""
    return _get(course_visible_to(actor), public_id)


def course_attendances(course: TrainingCourse) -> QuerySet[TrainingAttendance]:
    """The sign-ins of a course (the caller has read the course), by institution and name."""
    return course.attendances.select_related("user", "institution").order_by("institution_name", "name", "id")


def course_audience(course: TrainingCourse) -> list[Institution]:
    """The institutions a course is listed for (empty when open to every member)."""
    return list(course.audience.order_by("name"))


def attendance_get(course: TrainingCourse, public_id: Any) -> TrainingAttendance:
    """One sign-in of a course."""
    return _get(course.attendances.select_related("course"), public_id)


def attendance_summary(course: TrainingCourse) -> list[dict[str, Any]]:
    """Person-times per institution at a course."""
    return list(
        course.attendances.values("institution_name")
        .annotate(n=Count("id"))
        .order_by("-n", "institution_name")
    )


def sign_in_candidates(
    actor: Any, course: TrainingCourse, query: str = "", limit: int = 300
) -> QuerySet[User]:
    """Staff accounts the organiser may sign in: active staff of the consortium's members the course is
    open to, not yet signed in. Only for those who manage the course."""
    if not policies.can_manage_course(actor, course):
        return User.objects.none()
    members = ConsortiumMember.objects.filter(consortium_id=course.consortium_id, is_active=True).values(
        "institution_id"
    )
    memberships = Membership.objects.filter(is_active=True, institution_id__in=members)
    if not course.open_to_all_members:
        allowed = {course.organiser_id, *(i.pk for i in course.audience.all())}
        if course.venue_id:
            allowed.add(course.venue_id)
        memberships = memberships.filter(institution_id__in=allowed)
    users = User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).exclude(
        pk__in=course.attendances.filter(user__isnull=False).values("user_id")
    )
    if query:
        users = users.filter(Q(full_name__icontains=query) | Q(username__icontains=query))
    return users.order_by("full_name", "username")


def staff_user_in_reach(actor: Any, public_id: Any) -> User:
    """A staff account by public id among the members of the actor's consortia (the payload of a
    sign-in, an application, an assignment); NotFound otherwise, as for an unknown id."""
    scope = scope_for(actor)
    rows = User.objects.filter(is_active=True)
    if not scope.is_platform_admin:
        staff = policies.staff_institutions(actor)
        members = ConsortiumMember.objects.filter(
            is_active=True, consortium_id__in=_member_consortia(staff)
        ).values("institution_id")
        rows = rows.filter(
            pk__in=Membership.objects.filter(is_active=True, institution_id__in=members).values("user_id")
        )
    return _get(rows, public_id)


# Fellowships --------------------------------------------------------------------------------------

FELLOWSHIP_RELATED = (
    "trainee",
    "home_institution",
    "host_institution",
    "host_department",
    "supervisor",
    "consortium",
)


def fellowship_visible_to(actor: Any) -> QuerySet[Fellowship]:
    """Fellowships the actor may read: of their institutions as home or host, their own, of consortia
    whose office they run, of members in regions they regulate; all for admins."""
    scope = scope_for(actor)
    rows = Fellowship.objects.select_related(*FELLOWSHIP_RELATED)
    if scope.is_platform_admin:
        return rows
    condition = _oversight(actor, "consortium_id", ("home_institution",))
    staff = policies.staff_institutions(actor)
    if staff:
        condition |= Q(home_institution_id__in=staff) | Q(host_institution_id__in=staff)
    if not scope.is_anonymous:
        condition |= Q(trainee_id=actor.pk)
    return rows.filter(condition)


@dataclass(frozen=True)
class FellowshipFilters:
    """Filters of the fellowship list."""

    status: str = ""
    open_only: bool = False
    year: int | None = None
    query: str = ""


def fellowship_list(actor: Any, filters: FellowshipFilters = FellowshipFilters()) -> QuerySet[Fellowship]:
    """Visible fellowships, newest planned start first."""
    rows = fellowship_visible_to(actor)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.open_only:
        rows = rows.filter(status__in=list(FELLOWSHIP_OPEN))
    if filters.year:
        rows = rows.filter(planned_start__year=filters.year)
    if filters.query:
        rows = rows.filter(
            Q(trainee__full_name__icontains=filters.query) | Q(host_department__name__icontains=filters.query)
        )
    return rows.order_by("-planned_start", "-id")


def fellowship_get_for(actor: Any, public_id: Any) -> Fellowship:
    """One visible fellowship; NotFound otherwise."""
    return _get(fellowship_visible_to(actor), public_id)


def host_departments(actor: Any) -> QuerySet[Department]:
    """Departments a member's administrator may send staff to: the active clinical departments of
    the institutions leading the consortia the actor's administered institutions belong to."""
    administered = policies.admin_institutions(actor)
    if not administered:
        return Department.objects.none()
    leads = ConsortiumMember.objects.filter(
        consortium_id__in=_member_consortia(administered),
        role__in=[MemberRole.LEAD, MemberRole.SUB_LEAD],
        is_active=True,
    ).exclude(institution_id__in=administered)
    return (
        Department.objects.filter(institution_id__in=leads.values("institution_id"), is_active=True)
        .select_related("institution")
        .order_by("institution__name", "name")
    )


def staff_of(institution_ids: set[int] | list[int], roles: Any = INSTITUTION_ROLES) -> QuerySet[User]:
    """Active staff accounts of the institutions (holding any of ``roles``), by name."""
    memberships = Membership.objects.filter(
        is_active=True, institution_id__in=list(institution_ids), role__in=list(roles)
    )
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by(
        "full_name", "username"
    )


# Techniques --------------------------------------------------------------------------------------

TECHNIQUE_RELATED = ("institution", "supporting_institution", "supporting_department", "expert", "consortium")


def technique_visible_to(actor: Any) -> QuerySet[TechniqueTransfer]:
    """Techniques the actor may read: of their institutions as member or supporter, of consortia whose
    office they run, of members in regions they regulate; all for admins."""
    scope = scope_for(actor)
    rows = TechniqueTransfer.objects.select_related(*TECHNIQUE_RELATED)
    if scope.is_platform_admin:
        return rows
    condition = _oversight(actor, "consortium_id", ("institution",))
    staff = policies.staff_institutions(actor)
    if staff:
        condition |= Q(institution_id__in=staff) | Q(supporting_institution_id__in=staff)
    return rows.filter(condition)


@dataclass(frozen=True)
class TechniqueFilters:
    """Filters of the technique list."""

    status: str = ""
    category: str = ""
    year: int | None = None
    query: str = ""


def technique_list(actor: Any, filters: TechniqueFilters = TechniqueFilters()) -> QuerySet[TechniqueTransfer]:
    """Visible techniques, newest first."""
    rows = technique_visible_to(actor)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.year:
        rows = rows.filter(introduced_on__year=filters.year)
    if filters.query:
        rows = rows.filter(Q(name__icontains=filters.query) | Q(institution__name__icontains=filters.query))
    return rows.order_by("-introduced_on", "-id")


def technique_get_for(actor: Any, public_id: Any) -> TechniqueTransfer:
    """One visible technique; NotFound otherwise."""
    return _get(technique_visible_to(actor), public_id)


def technique_case_updates(technique: TechniqueTransfer) -> QuerySet[TechniqueCaseUpdate]:
    """The case reports of a technique, newest first."""
    return technique.case_updates.select_related("recorded_by").order_by("-as_of", "-id")


def supporting_departments(actor: Any) -> QuerySet[Department]:
    """Departments that may support a technique of the actor's administered members (the leads' departments)."""
    return host_departments(actor)


# Devices and maintenance ------------------------------------------------------------------------

DEVICE_RELATED = ("donor", "recipient", "consortium")


def device_visible_to(actor: Any) -> QuerySet[SupportedDevice]:
    """Devices the actor may read: of their institutions as donor or recipient, of consortia whose
    office they run, held by members in regions they regulate; all for admins."""
    scope = scope_for(actor)
    rows = SupportedDevice.objects.select_related(*DEVICE_RELATED)
    if scope.is_platform_admin:
        return rows
    condition = _oversight(actor, "consortium_id", ("recipient",))
    staff = policies.staff_institutions(actor)
    if staff:
        condition |= Q(donor_id__in=staff) | Q(recipient_id__in=staff)
    return rows.filter(condition)


@dataclass(frozen=True)
class DeviceFilters:
    """Filters of the device list: ``in_service`` keeps devices the member still holds."""

    device_type: str = ""
    support_kind: str = ""
    in_service: bool = False
    query: str = ""


def device_list(actor: Any, filters: DeviceFilters = DeviceFilters()) -> QuerySet[SupportedDevice]:
    """Visible devices, newest delivery first, with their open repair requests (``open_requests``)."""
    rows = device_visible_to(actor)
    if filters.device_type:
        rows = rows.filter(device_type=filters.device_type)
    if filters.support_kind:
        rows = rows.filter(support_kind=filters.support_kind)
    if filters.in_service:
        rows = rows.filter(returned_on__isnull=True)
    if filters.query:
        rows = rows.filter(
            Q(name__icontains=filters.query)
            | Q(serial_number__icontains=filters.query)
            | Q(recipient__name__icontains=filters.query)
        )
    return rows.annotate(
        open_requests=Count("maintenance", filter=Q(maintenance__status__in=list(MAINTENANCE_OPEN)))
    ).order_by("-delivered_on", "-id")


def device_get_for(actor: Any, public_id: Any) -> SupportedDevice:
    """One visible device; NotFound otherwise."""
    return _get(device_visible_to(actor), public_id)


def device_maintenance(device: SupportedDevice) -> QuerySet[MaintenanceRequest]:
    """The repair history of a device, newest first."""
    return device.maintenance.select_related("engineer", "requested_by").order_by("-requested_at", "-id")


def recipient_choices(actor: Any) -> QuerySet[Institution]:
    """Members of the consortia led by institutions where the actor manages devices."""
    donors = policies.device_manager_institutions(actor)
    if not donors:
        return Institution.objects.none()
    led = ConsortiumMember.objects.filter(
        institution_id__in=donors, role__in=[MemberRole.LEAD, MemberRole.SUB_LEAD], is_active=True
    ).values("consortium_id")
    members = ConsortiumMember.objects.filter(consortium_id__in=led, is_active=True).exclude(
        institution_id__in=donors
    )
    return Institution.objects.filter(pk__in=members.values("institution_id")).order_by("name")


MAINTENANCE_RELATED = (
    "device",
    "device__donor",
    "device__recipient",
    "device__consortium",
    "engineer",
    "requested_by",
)


def maintenance_visible_to(actor: Any) -> QuerySet[MaintenanceRequest]:
    """Repair requests of the devices the actor may read."""
    scope = scope_for(actor)
    rows = MaintenanceRequest.objects.select_related(*MAINTENANCE_RELATED)
    if scope.is_platform_admin:
        return rows
    condition = _oversight(actor, "device__consortium_id", ("device__recipient",))
    staff = policies.staff_institutions(actor)
    if staff:
        condition |= Q(device__donor_id__in=staff) | Q(device__recipient_id__in=staff)
    return rows.filter(condition)


MAINTENANCE_BOXES = ("worklist", "requests", "all")


def maintenance_boxes(actor: Any) -> list[str]:
    """The lists the actor has: engineers a worklist, members' staff their requests, everyone all."""
    boxes = []
    servicing = policies.engineer_institutions(actor) | scope_for(actor).institutions_with(
        Role.INSTITUTION_ADMIN
    )
    # Only institutions that lead a consortium give devices, so only their engineers have a worklist.
    if (
        servicing
        and ConsortiumMember.objects.filter(
            institution_id__in=servicing, role__in=[MemberRole.LEAD, MemberRole.SUB_LEAD], is_active=True
        ).exists()
    ):
        boxes.append("worklist")
    if policies.staff_institutions(actor):
        boxes.append("requests")
    boxes.append("all")
    return boxes


@dataclass(frozen=True)
class MaintenanceFilters:
    """Filters of the repair lists. ``worklist``: open requests of devices the actor's institutions
    donated (unassigned ones and those assigned to the actor first); ``requests``: requests for the
    devices the actor's institutions hold."""

    box: str = "all"
    status: str = ""
    open_only: bool = False
    query: str = ""


def maintenance_list(
    actor: Any, filters: MaintenanceFilters = MaintenanceFilters()
) -> QuerySet[MaintenanceRequest]:
    """Visible repair requests for one of the boxes, filtered."""
    rows = maintenance_visible_to(actor)
    if filters.box == "worklist":
        donors = policies.engineer_institutions(actor) | scope_for(actor).institutions_with(
            Role.INSTITUTION_ADMIN
        )
        rows = rows.filter(device__donor_id__in=donors, status__in=list(MAINTENANCE_OPEN))
        if not filters.status:
            # Engineers see what is free to take and their own jobs; administrators every open one.
            dispatchers = scope_for(actor).institutions_with(Role.INSTITUTION_ADMIN)
            rows = rows.filter(
                Q(status=MaintenanceStatus.REQUESTED)
                | Q(engineer_id=getattr(actor, "pk", None))
                | Q(device__donor_id__in=dispatchers)
            )
    elif filters.box == "requests":
        rows = rows.filter(device__recipient_id__in=policies.staff_institutions(actor))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.open_only:
        rows = rows.filter(status__in=list(MAINTENANCE_OPEN))
    if filters.query:
        rows = rows.filter(
            Q(number__icontains=filters.query)
            | Q(device__name__icontains=filters.query)
            | Q(device__recipient__name__icontains=filters.query)
        )
    if filters.box == "worklist":
        return rows.order_by("requested_at", "id")
    return rows.order_by("-requested_at", "-id")


def maintenance_get_for(actor: Any, public_id: Any) -> MaintenanceRequest:
    """One visible repair request; NotFound otherwise."""
    return _get(maintenance_visible_to(actor), public_id)


def engineers_of(institution_id: int) -> QuerySet[User]:
    """The engineers (technicians) of an institution, for assigning a request."""
    return staff_of([institution_id], roles=(Role.TECHNICIAN,))


# History and statistics scope ------------------------------------------------------------------


def record_history(obj: Any) -> QuerySet[AuditEvent]:
    """The audit events of one record (the caller has read it), oldest first: its timeline."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.public_id)
    ).order_by("occurred_at", "id")


def statistics_consortia(actor: Any) -> QuerySet[Consortium]:
    """Consortia whose capacity-building figures the actor reads: as the office, in a region they
    regulate, as an administrator of a member; all for platform admins."""
    scope = scope_for(actor)
    rows = Consortium.objects.all()
    if scope.is_platform_admin:
        return rows.order_by("name")
    condition = NOTHING
    consortia = policies.overseen_consortia(actor)
    if consortia:
        condition |= Q(pk__in=consortia)
    for prefix in policies.regulated_prefixes(actor):
        condition |= Q(region__code__startswith=prefix)
    administered = policies.admin_institutions(actor)
    if administered:
        condition |= Q(pk__in=_member_consortia(administered))
    return rows.filter(condition).order_by("name")


def statistics_consortium_get(actor: Any, public_id: Any) -> Consortium:
    """One consortium the actor reads figures of; NotFound otherwise."""
    return _get(statistics_consortia(actor), public_id)


def figures_scope(actor: Any, consortium: Consortium) -> list[Institution]:
    """The members whose figures the actor reads: all for the office, regulators and admins of the
    lead; an administrator of a member only their own institution."""
    scope = scope_for(actor)
    members = ConsortiumMember.objects.filter(consortium=consortium, is_active=True).select_related(
        "institution"
    )
    rows = list(members.order_by("role", "institution__name"))
    sees_all = (
        scope.is_platform_admin
        or consortium.pk in policies.overseen_consortia(actor)
        or any(consortium.region.code.startswith(p) for p in policies.regulated_prefixes(actor))
        or any(
            row.role in (MemberRole.LEAD, MemberRole.SUB_LEAD)
            and scope.holds_at_institution(row.institution_id, Role.INSTITUTION_ADMIN)
            for row in rows
        )
    )
    administered = policies.admin_institutions(actor)
    return [row.institution for row in rows if sees_all or row.institution_id in administered]


def institutions_by_ids(ids: set[int]) -> QuerySet[Institution]:
    """Institutions by primary key (ids the policies gave for the actor), by name."""
    return Institution.objects.filter(pk__in=ids).order_by("name")


def organiser_departments(institution_ids: set[int]) -> QuerySet[Department]:
    """Active departments of the organising institutions."""
    return (
        Department.objects.filter(institution_id__in=institution_ids, is_active=True)
        .select_related("institution")
        .order_by("institution__name", "name")
    )


def fellow_institutions(institution_ids: set[int]) -> QuerySet[Institution]:
    """Institutions sharing a consortium with the given ones (venues and audiences of their courses)."""
    consortia = _member_consortia(institution_ids)
    members = ConsortiumMember.objects.filter(consortium_id__in=consortia, is_active=True).values(
        "institution_id"
    )
    return Institution.objects.filter(pk__in=members).order_by("name")


def member_roles(consortium: Consortium) -> dict[int, str]:
    """Each active member's role in the consortium, as its readable label."""
    labels = dict(MemberRole.choices)
    rows = ConsortiumMember.objects.filter(consortium=consortium, is_active=True).values_list(
        "institution_id", "role"
    )
    return {pk: str(labels.get(role, role)) for pk, role in rows}
