"""Training courses (培训) and their sign-ins."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.accounts.models import Membership, User
from yilian.capacity_building import policies
from yilian.capacity_building.choices import CourseKind, CourseMode, CourseStatus
from yilian.capacity_building.models import TrainingAttendance, TrainingCourse
from yilian.capacity_building.services._common import audit, consortium_of, raise_if, required, too_long
from yilian.core.audit import snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.text import join_list
from yilian.institutions.models import ConsortiumMember, Department, Institution

MAX_COURSE_DAYS = 90
MAX_HOURS = Decimal("500")
MAX_CREDITS = Decimal("50")
COURSE_FIELDS = (
    "kind",
    "title",
    "topic",
    "trainers",
    "mode",
    "place",
    "venue",
    "starts_on",
    "ends_on",
    "hours",
    "credits",
    "open_to_all_members",
    "organiser_department",
)


def _members_of(consortium_id: int) -> set[int]:
    return set(
        ConsortiumMember.objects.filter(consortium_id=consortium_id, is_active=True).values_list(
            "institution_id", flat=True
        )
    )


def _validate_course(
    data: dict[str, Any], organiser: Institution, members: set[int], audience: list[Institution]
) -> None:
    errors: dict[str, list[str]] = {}
    required(data, {"title": _("培训名称"), "trainers": _("授课人"), "starts_on": _("开始日期")}, errors)
    too_long(data, {"title": 200, "topic": 2000, "trainers": 200, "place": 200}, errors)
    if data.get("kind") not in CourseKind.values:
        errors["kind"] = [_("请选择培训形式。")]
    if data.get("mode") not in CourseMode.values:
        errors["mode"] = [_("请选择举办方式。")]
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = [_("结束日期不能早于开始日期。")]
        elif (ends_on - starts_on).days >= MAX_COURSE_DAYS:
            errors["ends_on"] = [_("一期培训不能超过 {days} 天。").format(days=MAX_COURSE_DAYS)]
    hours, credits = data.get("hours") or Decimal("0"), data.get("credits") or Decimal("0")
    if not Decimal("0") <= hours <= MAX_HOURS:
        errors["hours"] = [_("学时应在 0 到 {n} 之间。").format(n=MAX_HOURS)]
    if not Decimal("0") <= credits <= MAX_CREDITS:
        errors["credits"] = [_("学分应在 0 到 {n} 之间。").format(n=MAX_CREDITS)]
    if (
        data.get("mode") == CourseMode.ON_SITE
        and not (data.get("place") or "").strip()
        and not data.get("venue")
    ):
        errors["place"] = [_("现场培训请填写地点或举办地机构。")]
    venue = data.get("venue")
    if venue is not None and venue.pk != organiser.pk and venue.pk not in members:
        errors["venue"] = [_("举办地机构应为本医联体成员单位。")]
    department = data.get("organiser_department")
    if department is not None and department.institution_id != organiser.pk:
        errors["organiser_department"] = [_("主办科室应属于主办机构。")]
    if not data.get("open_to_all_members"):
        if not audience:
            errors["audience"] = [_("请选择面向的机构，或勾选面向全体成员单位。")]
        elif any(item.pk not in members for item in audience):
            errors["audience"] = [_("面向机构应为本医联体成员单位。")]
    raise_if(errors)


def course_create(
    *,
    actor: Any,
    organiser: Institution,
    kind: str,
    title: str,
    trainers: str,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None = None,
    organiser_department: Department | None = None,
    topic: str = "",
    mode: str = CourseMode.ON_SITE,
    place: str = "",
    venue: Institution | None = None,
    hours: Decimal | None = None,
    credits: Decimal | None = None,
    open_to_all_members: bool = True,
    audience: Iterable[Institution] = (),
) -> TrainingCourse:
    """Publish a course of the organiser's consortium (status ``planned``). Audited ``course.create``.

    Raises NotAllowed unless the actor organises at ``organiser``; Invalid on bad fields (dates,
    hours, a venue or audience outside the consortium, an organiser in no consortium).
    """
    if not policies.can_organise(actor, organiser.pk):
        raise NotAllowed(_("您不能以该机构名义举办培训。"))
    audience = list(audience)
    ends_on = ends_on or starts_on
    data = {
        "kind": kind,
        "title": (title or "").strip(),
        "topic": (topic or "").strip(),
        "trainers": (trainers or "").strip(),
        "mode": mode,
        "place": (place or "").strip(),
        "venue": venue,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "hours": hours or Decimal("0"),
        "credits": credits or Decimal("0"),
        "open_to_all_members": open_to_all_members,
        "organiser_department": organiser_department,
    }
    consortium = consortium_of(organiser)
    if consortium is None:
        raise Invalid({"organiser": [_("主办机构不属于任何医联体。")]})
    members = _members_of(consortium.pk)
    _validate_course(data, organiser, members, audience)
    with transaction.atomic():
        course = TrainingCourse.objects.create(
            consortium=consortium, organiser=organiser, created_by=actor, **data
        )
        if not open_to_all_members:
            course.audience.set(audience)
        audit(
            actor=actor,
            action="course.create",
            obj=course,
            institution=organiser,
            consortium=consortium,
            after=snapshot(course, COURSE_FIELDS),
        )
    return course


def _locked(course: TrainingCourse) -> TrainingCourse:
    return (
        TrainingCourse.objects.select_for_update().select_related("organiser", "consortium").get(pk=course.pk)
    )


def course_update(
    *, actor: Any, course: TrainingCourse, expected_version: int | None = None, **changes: Any
) -> TrainingCourse:
    """Change a course's details while it is published (not held or cancelled). Audited ``course.update``.

    Raises NotAllowed unless the actor organises it; Conflict when it has been closed, cancelled or
    changed since ``expected_version``; Invalid on bad fields.
    """
    if not policies.can_manage_course(actor, course):
        raise NotAllowed(_("只有主办机构可以修改培训。"))
    audience = changes.pop("audience", None)
    unknown = set(changes) - set(COURSE_FIELDS)
    if unknown:
        raise Invalid({name: [_("不能修改该字段。")] for name in sorted(unknown)})
    with transaction.atomic():
        current = _locked(course)
        if current.status != CourseStatus.PLANNED:
            raise Conflict(_("培训已举办或已取消，不能再修改。"))
        if expected_version is not None and current.version != expected_version:
            raise Conflict(_("培训信息已被他人修改，请刷新后重试。"))
        data = {name: getattr(current, name) for name in COURSE_FIELDS}
        data.update(changes)
        for key in ("title", "topic", "trainers", "place"):
            data[key] = (data.get(key) or "").strip()
        data["ends_on"] = data.get("ends_on") or data.get("starts_on")
        members = _members_of(current.consortium_id)
        chosen = list(audience) if audience is not None else list(current.audience.all())
        _validate_course(data, current.organiser, members, chosen)
        before = snapshot(current, COURSE_FIELDS)
        for key, value in data.items():
            setattr(current, key, value)
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db(fields=["version"])
        current.audience.set([] if current.open_to_all_members else chosen)
        audit(
            actor=actor,
            action="course.update",
            obj=current,
            institution=current.organiser,
            consortium=current.consortium,
            before=before,
            after=snapshot(current, COURSE_FIELDS),
        )
    return current


def course_cancel(*, actor: Any, course: TrainingCourse, reason: str) -> TrainingCourse:
    """Cancel a published course with a reason; its sign-ins are kept but no longer counted.
    Audited ``course.cancel``. Raises NotAllowed, Invalid (no reason), Conflict (already held/cancelled)."""
    if not policies.can_manage_course(actor, course):
        raise NotAllowed(_("只有主办机构可以取消培训。"))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": [_("请填写取消原因。")]})
    if len(reason) > 300:
        raise Invalid({"reason": [_("不能超过 {limit} 个字。").format(limit=300)]})
    with transaction.atomic():
        updated = TrainingCourse.objects.filter(pk=course.pk, status=CourseStatus.PLANNED).update(
            status=CourseStatus.CANCELLED,
            cancel_reason=reason,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if not updated:
            raise Conflict(_("培训已举办或已取消。"))
        current = TrainingCourse.objects.select_related("organiser", "consortium").get(pk=course.pk)
        audit(
            actor=actor,
            action="course.cancel",
            obj=current,
            institution=current.organiser,
            consortium=current.consortium,
            details={"reason": reason},
        )
    return current


def course_close(*, actor: Any, course: TrainingCourse) -> TrainingCourse:
    """Mark a course held and close its sign-in sheet (after it started). Audited ``course.close``.
    Raises NotAllowed, Conflict (not published, or not started yet)."""
    if not policies.can_manage_course(actor, course):
        raise NotAllowed(_("只有主办机构可以结束签到。"))
    with transaction.atomic():
        updated = TrainingCourse.objects.filter(
            pk=course.pk, status=CourseStatus.PLANNED, starts_on__lte=timezone.localdate()
        ).update(status=CourseStatus.HELD, version=F("version") + 1, updated_at=timezone.now())
        if not updated:
            raise Conflict(_("培训尚未开始，或已结束签到、已取消。"))
        current = TrainingCourse.objects.select_related("organiser", "consortium").get(pk=course.pk)
        audit(
            actor=actor,
            action="course.close",
            obj=current,
            institution=current.organiser,
            consortium=current.consortium,
            details={"attendances": current.attendances.count()},
        )
    return current


def _open_for_sign_in(course: TrainingCourse) -> None:
    if course.status != CourseStatus.PLANNED:
        raise Conflict(_("培训已结束签到或已取消。"))
    if course.starts_on > timezone.localdate():
        raise Conflict(_("培训尚未开始，不能签到。"))


def _home_institutions(course: TrainingCourse, users: list[User]) -> dict[int, Institution]:
    """Each user's institution for this course: the first active one among the consortium's members
    (the organiser included), or None."""
    members = _members_of(course.consortium_id)
    rows = (
        Membership.objects.filter(user__in=users, is_active=True, institution_id__in=members)
        .select_related("institution")
        .order_by("user_id", "institution_id")
    )
    found: dict[int, Institution] = {}
    for row in rows:
        found.setdefault(row.user_id, row.institution)
    return found


def _may_attend(course: TrainingCourse, institution: Institution) -> bool:
    if institution.pk in (course.organiser_id, course.venue_id) or course.open_to_all_members:
        return True
    return course.audience.filter(pk=institution.pk).exists()


def attendance_record_many(
    *, actor: Any, course: TrainingCourse, users: Iterable[User]
) -> list[TrainingAttendance]:
    """Sign in several staff accounts at once, each under their institution in the consortium.
    Audited ``course.sign_in`` per person. All or nothing.

    Raises NotAllowed unless the actor manages the course; Conflict when sign-in is closed or a person
    is already signed in (named); Invalid when a person works at no member the course is open to.
    """
    if not policies.can_manage_course(actor, course):
        raise NotAllowed(_("只有主办机构可以记录签到。"))
    users = list(dict.fromkeys(users))
    if not users:
        raise Invalid({"users": [_("请选择签到人员。")]})
    with transaction.atomic():
        current = _locked(course)
        _open_for_sign_in(current)
        homes = _home_institutions(current, users)
        errors = [
            _("{name} 不是本医联体成员单位的在职人员。").format(name=user.full_name or user.username)
            for user in users
            if user.pk not in homes or not user.is_active
        ]
        errors += [
            _("本培训不面向 {name} 所在机构。").format(name=user.full_name or user.username)
            for user in users
            if user.pk in homes and not _may_attend(current, homes[user.pk])
        ]
        if errors:
            raise Invalid({"users": errors})
        taken = list(
            TrainingAttendance.objects.filter(course=current, user__in=users).values_list("name", flat=True)
        )
        if taken:
            raise Conflict(_("已签到，不能重复记录：{names}").format(names=join_list(taken)))
        now = timezone.now()
        rows = [
            TrainingAttendance(
                course=current,
                user=user,
                name=user.full_name or user.username,
                institution=homes[user.pk],
                institution_name=homes[user.pk].name,
                signed_in_at=now,
                recorded_by=actor,
            )
            for user in users
        ]
        try:
            with transaction.atomic():
                for row in rows:
                    row.save(force_insert=True)
        except IntegrityError as error:
            raise Conflict(_("有人员刚刚已签到，请刷新后重试。")) from error
        for row in rows:
            audit(
                actor=actor,
                action="course.sign_in",
                obj=current,
                institution=current.organiser,
                consortium=current.consortium,
                details={"attendee": row.name, "attendee_institution": row.institution_name},
            )
    return rows


def attendance_record(
    *,
    actor: Any,
    course: TrainingCourse,
    user: User | None = None,
    name: str = "",
    institution_name: str = "",
) -> TrainingAttendance:
    """Sign in one person: a staff account (``user``), or an external attendee by ``name`` and
    ``institution_name``. Audited ``course.sign_in``.

    Raises NotAllowed, Conflict (sign-in closed, already signed in), Invalid (neither or both given,
    missing name or institution, an account outside the consortium's members).
    """
    if user is not None:
        if name or institution_name:
            raise Invalid({"name": [_("选择了账号时不要再填写姓名和机构。")]})
        return attendance_record_many(actor=actor, course=course, users=[user])[0]
    if not policies.can_manage_course(actor, course):
        raise NotAllowed(_("只有主办机构可以记录签到。"))
    data = {"name": (name or "").strip(), "institution_name": (institution_name or "").strip()}
    errors: dict[str, list[str]] = {}
    required(data, {"name": _("学员姓名"), "institution_name": _("所在机构名称")}, errors)
    too_long(data, {"name": 50, "institution_name": 200}, errors)
    raise_if(errors)
    with transaction.atomic():
        current = _locked(course)
        _open_for_sign_in(current)
        if TrainingAttendance.objects.filter(course=current, user__isnull=True, **data).exists():
            raise Conflict(_("已签到，不能重复记录：{names}").format(names=data["name"]))
        # An external name that matches a member institution's name still counts under that member.
        institution = Institution.objects.filter(
            name=data["institution_name"], pk__in=_members_of(current.consortium_id)
        ).first()
        row = TrainingAttendance(
            course=current,
            name=data["name"],
            institution=institution,
            institution_name=data["institution_name"],
            signed_in_at=timezone.now(),
            recorded_by=actor,
        )
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError as error:
            raise Conflict(_("已签到，不能重复记录：{names}").format(names=data["name"])) from error
        audit(
            actor=actor,
            action="course.sign_in",
            obj=current,
            institution=current.organiser,
            consortium=current.consortium,
            details={"attendee": row.name, "attendee_institution": row.institution_name},
        )
    return row


def attendance_remove(*, actor: Any, attendance: TrainingAttendance) -> None:
    """Remove a sign-in recorded by mistake while sign-in is open. Audited ``course.sign_in_remove``.
    Raises NotAllowed, Conflict (sign-in closed)."""
    course = attendance.course
    if not policies.can_manage_course(actor, course):
        raise NotAllowed(_("只有主办机构可以修改签到。"))
    with transaction.atomic():
        current = _locked(course)
        if current.status != CourseStatus.PLANNED:
            raise Conflict(_("培训已结束签到或已取消。"))
        deleted, _rows = TrainingAttendance.objects.filter(pk=attendance.pk, course=current).delete()
        if not deleted:
            raise Conflict(_("该签到记录已被删除。"))
        audit(
            actor=actor,
            action="course.sign_in_remove",
            obj=current,
            institution=current.organiser,
            consortium=current.consortium,
            details={"attendee": attendance.name, "attendee_institution": attendance.institution_name},
        )
