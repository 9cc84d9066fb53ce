"""Writes of expert clinic sessions (专家门诊) at members: publish with slots, cancel, book, cancel a booking.

Double booking is prevented twice: taking a slot is a conditional UPDATE
(``is_booked`` false → true, one winner), and partial unique constraints
allow one live booking per slot and per person per session.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.accounts.selectors import users_holding
from yilian.core.audit import record_event
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.messages import message
from yilian.institutions.models import Department, Institution
from yilian.notifications.services import notify
from yilian.outreach import policies
from yilian.outreach.choices import BookingStatus, SessionStatus
from yilian.outreach.levels import receives_outreach, service_level
from yilian.outreach.models import ClinicBooking, ClinicSlot, ExpertClinicSession
from yilian.outreach.services._common import raise_if, shared_consortium, too_long
from yilian.people.choices import PersonLinkReason
from yilian.people.models import Person
from yilian.people.services import person_link

SLOT_MINUTES = (5, 10, 15, 20, 30, 60)
"""The slot lengths a session may use."""
LONGEST_SESSION = datetime.timedelta(hours=12)
MOST_SLOTS = 96


def _home_of(expert: Any, host: Institution) -> tuple[Institution | None, Any]:
    """The expert's institution that shares a consortium with the host and may send experts to it (of a
    higher level, ``yilian.outreach.levels``; not the host itself)."""
    for institution in Institution.objects.filter(pk__in=policies.expert_institutions(expert)).exclude(
        pk=host.pk
    ):
        if service_level(institution) <= service_level(host):
            continue
        consortium = shared_consortium(institution, host)
        if consortium is not None:
            return institution, consortium
    return None, None


def session_publish(
    *,
    actor: Any,
    expert: Any,
    host_institution: Institution,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    slot_minutes: int = 15,
    host_department: Department | None = None,
    note: str = "",
) -> ExpertClinicSession:
    """Publish an expert clinic session at a member, cut into bookable slots of ``slot_minutes``.

    The expert, their institution's administrator or the host's
    administrator. Audited ``expert_clinic_session.publish``. Raises
    NotAllowed, Invalid (a host that sees no patients, not an expert of a
    hospital of a higher level sharing a consortium with the host — see
    ``yilian.outreach.levels`` —, time in the past, end before start, longer than 12
    hours or across days, slot length, overlap with the expert's other
    sessions).
    """
    errors: dict[str, list[str]] = {}
    home, consortium = (None, None)
    if expert is None or host_institution is None:
        errors["expert"] = [_("请选择专家和坐诊单位。")]
    else:
        home, consortium = _home_of(expert, host_institution)
        if not receives_outreach(host_institution):
            errors["host_institution"] = [
                _("专家门诊只能设在诊治患者的医疗机构，疾控中心等公共卫生机构不接收。")
            ]
        elif home is None:
            errors["expert"] = [_("专家必须是与坐诊单位同一医联体的上级医院医务人员。")]
    scope_ok = expert is not None and (
        getattr(actor, "pk", None) == expert.pk
        or (home is not None and policies.is_sending_manager(actor, home.pk))
        or (host_institution is not None and policies.is_host_manager(actor, host_institution.pk))
    )
    if not scope_ok:
        raise NotAllowed(_("您不能为该专家发布专家门诊。"))
    if host_department is not None and host_department.institution_id != host_institution.pk:
        errors["host_department"] = [_("科室不属于坐诊单位。")]
    if not isinstance(starts_at, datetime.datetime):
        errors["starts_at"] = [_("请填写开始时间。")]
    elif starts_at <= timezone.now():
        errors["starts_at"] = [_("开始时间必须晚于现在。")]
    if not isinstance(ends_at, datetime.datetime):
        errors["ends_at"] = [_("请填写结束时间。")]
    elif isinstance(starts_at, datetime.datetime):
        if ends_at <= starts_at:
            errors["ends_at"] = [_("结束时间必须晚于开始时间。")]
        elif (
            ends_at - starts_at > LONGEST_SESSION
            or timezone.localtime(ends_at).date() != timezone.localtime(starts_at).date()
        ):
            errors["ends_at"] = [_("一场专家门诊应在同一天内，且不超过 12 小时。")]
    try:
        minutes = int(slot_minutes)
    except (TypeError, ValueError):
        minutes = 0
    if minutes not in SLOT_MINUTES:
        errors["slot_minutes"] = [_("每号时长应为 5、10、15、20、30 或 60 分钟。")]
    note = (note or "").strip()
    too_long({"note": note}, {"note": 200}, errors)
    raise_if(errors)
    count = int((ends_at - starts_at).total_seconds() // (minutes * 60))
    if count < 1:
        raise Invalid({"ends_at": [_("时段太短，放不下一个号。")]})
    if count > MOST_SLOTS:
        raise Invalid({"slot_minutes": [_("一场门诊最多 %(n)s 个号。") % {"n": MOST_SLOTS}]})
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=expert.pk).exists()
        if ExpertClinicSession.objects.filter(
            expert=expert, status=SessionStatus.OPEN, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).exists():
            raise Invalid({"starts_at": [_("与该专家已发布的专家门诊时间重叠。")]})
        session = ExpertClinicSession.objects.create(
            consortium=consortium,
            expert=expert,
            home_institution=home,
            host_institution=host_institution,
            host_department=host_department,
            title_at_session=expert.professional_title,
            starts_at=starts_at,
            ends_at=ends_at,
            slot_minutes=minutes,
            note=note,
            created_by=actor,
        )
        step = datetime.timedelta(minutes=minutes)
        ClinicSlot.objects.bulk_create(
            ClinicSlot(session=session, starts_at=starts_at + i * step, ends_at=starts_at + (i + 1) * step)
            for i in range(count)
        )
        record_event(
            actor=actor,
            action="expert_clinic_session.publish",
            obj=session,
            after={
                "expert": str(expert.public_id),
                "host_institution": str(host_institution.public_id),
                "starts_at": str(starts_at),
                "ends_at": str(ends_at),
                "slots": count,
            },
            institution_public_id=host_institution.public_id,
            consortium_public_id=consortium.public_id,
        )
    return session


def session_cancel(*, actor: Any, session: ExpertClinicSession, reason: str) -> ExpertClinicSession:
    """Cancel (停诊) an open session: every live booking becomes ``session_cancelled`` and the staff who
    booked them, and the host's administrators, are notified.

    The expert, the sending or the host administrator. Audited
    ``expert_clinic_session.cancel``. Raises NotAllowed, Conflict (already
    cancelled or over), Invalid (missing reason).
    """
    if not policies.can_manage_session(actor, session):
        raise NotAllowed(_("您不能取消该专家门诊。"))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("请填写停诊原因。")]
    too_long({"reason": reason}, {"reason": 200}, errors)
    raise_if(errors)
    with transaction.atomic():
        locked = (
            ExpertClinicSession.objects.select_for_update(of=("self",))
            .select_related("host_institution", "consortium", "expert")
            .get(pk=session.pk)
        )
        if locked.status != SessionStatus.OPEN:
            raise Conflict(_("该专家门诊已取消。"))
        if locked.ends_at <= timezone.now():
            raise Conflict(_("该专家门诊已结束，不能取消。"))
        locked.status, locked.cancel_reason = SessionStatus.CANCELLED, reason
        locked.save(update_fields=["status", "cancel_reason", "updated_at"])
        # Close every slot first: this waits for bookings in flight (they hold their slot's row), and
        # no booking can take a slot afterwards, so none slips past the cancellation below.
        ClinicSlot.objects.filter(session=locked).update(is_booked=True)
        live = ClinicBooking.objects.filter(session=locked, status=BookingStatus.BOOKED)
        bookers = list(
            get_user_model().objects.filter(pk__in=live.values("booked_by_id"), is_active=True).order_by("pk")
        )
        cancelled = live.update(
            status=BookingStatus.SESSION_CANCELLED, cancelled_at=timezone.now(), cancelled_by=actor
        )
        record_event(
            actor=actor,
            action="expert_clinic_session.cancel",
            obj=locked,
            before={"status": SessionStatus.OPEN},
            after={"status": SessionStatus.CANCELLED, "reason": reason, "bookings_cancelled": cancelled},
            institution_public_id=locked.host_institution.public_id,
            consortium_public_id=locked.consortium.public_id,
        )
        recipients = [
            u
            for u in [*bookers, *users_holding(locked.host_institution_id, policies.MANAGERS)]
            if u.pk != actor.pk
        ]
        local = timezone.localtime(locked.starts_at)
        notify(
            recipients=recipients,
            topic="outreach.session_cancelled",
            title=message(
                gettext_noop("专家门诊停诊：{expert} {time}"),
                expert=locked.expert.full_name or locked.expert.username,
                time=f"{local:%Y-%m-%d %H:%M}",
            ),
            body=message(
                gettext_noop("{reason}；已取消 {count} 个预约，请通知居民。"), reason=reason, count=cancelled
            ),
            link=f"/outreach/sessions/{locked.public_id}/",
            object_id=str(locked.public_id),
        )
    return locked


def booking_create(*, actor: Any, slot: ClinicSlot, person: Person, note: str = "") -> ClinicBooking:
    """Book a resident into a free slot of an open session at the actor's institution.

    Member clinical staff and admins (the caller found the person through
    ``people.selectors``, so they see them). The person is linked to the
    host institution (reason ``appointment``). Audited
    ``clinic_booking.create``. Raises NotAllowed, Invalid (slot in the
    past, note too long), Conflict (the slot was just taken, the session is
    cancelled, the person already holds a slot of this session).
    """
    session = slot.session
    if not policies.can_book(actor, session):
        raise NotAllowed(_("只有坐诊单位的医务人员可以预约专家门诊。"))
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if person is None:
        errors["person"] = [_("请选择居民。")]
    if slot.starts_at <= timezone.now():
        errors["slot"] = [_("该号源时间已过。")]
    too_long({"note": note}, {"note": 200}, errors)
    raise_if(errors)
    if session.status != SessionStatus.OPEN:
        raise Conflict(_("该专家门诊已停诊。"))
    with transaction.atomic():
        taken = ClinicSlot.objects.filter(pk=slot.pk, is_booked=False).update(is_booked=True)
        if not taken:
            raise Conflict(_("该号源已被预约，请选择其他时间。"))
        current = ExpertClinicSession.objects.select_related("host_institution", "consortium").get(
            pk=session.pk
        )
        if current.status != SessionStatus.OPEN:
            raise Conflict(_("该专家门诊已停诊。"))
        if ClinicBooking.objects.filter(session=current, person=person, status=BookingStatus.BOOKED).exists():
            raise Conflict(_("该居民已预约本场专家门诊。"))
        try:
            with transaction.atomic():
                booking = ClinicBooking.objects.create(
                    slot=slot, session=current, person=person, note=note, booked_by=actor
                )
        except IntegrityError as error:
            # A concurrent booking of the same person in this session committed first.
            raise Conflict(_("该居民已预约本场专家门诊。")) from error
        person_link(
            actor=actor,
            person=person,
            institution=current.host_institution,
            reason=PersonLinkReason.APPOINTMENT,
        )
        record_event(
            actor=actor,
            action="clinic_booking.create",
            obj=booking,
            after={
                "slot": str(slot.public_id),
                "starts_at": str(slot.starts_at),
                "session": str(current.public_id),
            },
            institution_public_id=current.host_institution.public_id,
            consortium_public_id=current.consortium.public_id,
        )
    return booking


def booking_cancel(*, actor: Any, booking: ClinicBooking, reason: str = "") -> ClinicBooking:
    """Cancel a live booking and free its slot (while the session is open).

    Host clinical staff and admins, or the session's expert. Audited
    ``clinic_booking.cancel``. Raises NotAllowed, Conflict (already
    cancelled).
    """
    session = booking.session
    if not (policies.can_book(actor, session) or session.expert_id == getattr(actor, "pk", None)):
        raise NotAllowed(_("您不能取消该预约。"))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    too_long({"reason": reason}, {"reason": 200}, errors)
    raise_if(errors)
    with transaction.atomic():
        done = ClinicBooking.objects.filter(pk=booking.pk, status=BookingStatus.BOOKED).update(
            status=BookingStatus.CANCELLED,
            cancelled_at=timezone.now(),
            cancelled_by=actor,
            updated_at=timezone.now(),
        )
        if not done:
            raise Conflict(_("该预约已取消。"))
        current = ExpertClinicSession.objects.select_related("host_institution", "consortium").get(
            pk=session.pk
        )
        if current.status == SessionStatus.OPEN:
            ClinicSlot.objects.filter(pk=booking.slot_id).update(is_booked=False)
        record_event(
            actor=actor,
            action="clinic_booking.cancel",
            obj=booking,
            before={"status": BookingStatus.BOOKED},
            after={"status": BookingStatus.CANCELLED, "reason": reason},
            institution_public_id=current.host_institution.public_id,
            consortium_public_id=current.consortium.public_id,
        )
    booking.status = BookingStatus.CANCELLED
    return booking
