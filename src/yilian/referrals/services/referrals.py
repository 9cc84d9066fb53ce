"""Writes of referrals: create and edit drafts, submit, every workflow action, attachments, deadlines."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.accounts.selectors import users_holding
from yilian.core.audit import snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed, required_message
from yilian.core.icd10 import parse_icd10
from yilian.core.messages import Message, message
from yilian.core.prepared import PreparedRead
from yilian.core.text import join_list
from yilian.family_doctors.selectors import active_contract_for
from yilian.institutions.models import Department, Institution
from yilian.notifications.services import notify
from yilian.people.choices import PersonLinkReason
from yilian.people.models import Person
from yilian.people.selectors import person_visible_to
from yilian.people.services import person_link
from yilian.referrals import policies, workflow
from yilian.referrals.choices import (
    ADMITTING_KINDS,
    ATTACHMENT_MATERIALS,
    ENDED_STATUSES,
    KIND_CAPACITY,
    FollowUpTaskKind,
    Material,
    RecoveryPhase,
    ReferralDirection,
    ReferralKind,
    ReferralPriority,
    ReferralSide,
    ReferralStatus,
)
from yilian.referrals.models import (
    DeductibleSubsidy,
    FollowUpTask,
    Referral,
    ReferralAttachment,
    ReservedCapacity,
)
from yilian.referrals.services import criteria
from yilian.referrals.services._common import (
    bump,
    derive_direction,
    raise_if,
    save_numbered,
    settings_for,
    shared_consortium,
    step,
)

CONTENT_FIELDS = (
    "kind",
    "priority",
    "to_department",
    "from_department",
    "diagnosis_code",
    "diagnosis_name",
    "reason",
    "recovery_phase",
    "history",
    "exam_results",
    "medications",
    "procedures",
    "treatment",
    "plan",
    "patient_consented",
    "encounter",
)
"""What the sender writes on a draft."""

AUDITED_FIELDS = (*CONTENT_FIELDS, "to_institution", "person")

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENT_TYPES = {"pdf", "jpg", "jpeg", "png", "dcm", "txt", "doc", "docx"}
MAX_TEXT = {"diagnosis_name": 50, "reason": 100}

RECEIVER_ROLES_TO_NOTIFY = workflow.RECEIVING_ROLES


# --- validation ---------------------------------------------------------------------------------


def _validate_content(data: dict[str, Any], errors: dict[str, list[str]], *, for_submit: bool) -> None:
    """Field checks of a draft's content; with ``for_submit`` the submission's required fields too."""
    if "kind" in data and data["kind"] not in ReferralKind.values:
        errors["kind"] = [_("无效的转诊类型。")]
    if "priority" in data and data["priority"] not in ReferralPriority.values:
        errors["priority"] = [_("无效的优先级。")]
    if data.get("recovery_phase") and data["recovery_phase"] not in RecoveryPhase.values:
        errors["recovery_phase"] = [_("无效的下转阶段。")]
    if data.get("diagnosis_code"):
        try:
            data["diagnosis_code"] = parse_icd10(data["diagnosis_code"]).code
        except Invalid as error:
            errors.update(error.as_text())
    for name, limit in MAX_TEXT.items():
        if len(str(data.get(name) or "")) > limit:
            errors[name] = [_("不能超过 {limit} 个字。").format(limit=limit)]
    department = data.get("to_department")
    if department is not None and not (department.is_active and department.institution.status == "active"):
        errors["to_department"] = [_("接收科室已停用或所属机构不在运营中。")]
    if for_submit:
        required = {
            "to_department": _("请选择接收科室。"),
            "diagnosis_code": _("请填写 ICD-10 诊断编码。"),
            "diagnosis_name": _("请填写诊断名称。"),
            "reason": _("请填写转诊原因。"),
        }
        for name, message in required.items():
            if not data.get(name) and name not in errors:
                errors[name] = [message]
        if not data.get("patient_consented"):
            errors["patient_consented"] = [_("转诊须经患者（或家属）知情同意。")]


def _check_ends(
    from_institution: Institution, from_department: Department | None, to_department: Department | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if from_department is not None and from_department.institution_id != from_institution.pk:
        errors["from_department"] = [_("转出科室不属于转出机构。")]
    if to_department is not None and to_department == from_department:
        errors["to_department"] = [_("不能转诊到本科室。")]
    return errors


LOCK_RELATED = (
    "from_institution",
    "from_department",
    "from_doctor",
    "to_institution",
    "to_department",
    "consortium",
)
"""The ends a workflow step reads under the lock (the timeline, notifications, audit and the answer)."""

LOCK_RELATED_FIELDS = {
    "from_institution": ("public_id", "name"),
    "to_institution": ("public_id", "name"),
    "from_department": ("public_id", "name", "institution_id"),
    "to_department": ("public_id", "name", "institution_id"),
    "from_doctor": ("username", "full_name", "is_active"),
    "consortium": ("public_id", "name", "type"),
}
"""What of each end the steps and the answer read: an institution row alone has dozens of columns, and
building six such rows under the lock was the largest single cost of an accept."""


def _lock_columns() -> list[str]:
    own = [field.attname for field in Referral._meta.concrete_fields]
    ends = [f"{end}__{name}" for end, names in LOCK_RELATED_FIELDS.items() for name in names]
    return own + ends


_LOCKED_READ: PreparedRead[Referral] = PreparedRead(
    lambda pk: (
        Referral.objects.select_for_update(of=("self",))
        .select_related(*LOCK_RELATED)
        .only(*_lock_columns())
        .filter(pk=pk)
    )
)
"""Every step's locked read, compiled once: compiling its joins cost more than running it (ADR 0022)."""


def _lock(referral: Referral, expected_version: int | None) -> Referral:
    """Re-read the referral under a row lock (with both ends and the doctor, which the timeline,
    notifications and the caller's answer use; the patient loads on access) and check the version
    the caller saw."""
    locked = _LOCKED_READ.get(referral.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该转诊单已被他人更新，请刷新后重试。"))
    return locked


# --- drafts ------------------------------------------------------------------------------------


def referral_create(
    *,
    actor: Any,
    person: Person,
    from_institution: Institution,
    submit: bool = False,
    booking: ReservedCapacity | None = None,
    booking_date: datetime.date | None = None,
    acknowledge_missing: bool = False,
    idempotency_key: str = "",
    **data: Any,
) -> tuple[Referral, bool]:
    """Write a referral as a draft of the actor's institution; with ``submit`` send it at once.

    ``data`` holds the content fields (``to_department`` a Department,
    ``from_department`` a Department or None); ``booking`` and
    ``booking_date`` are as for ``referral_submit``. The same ``idempotency_key``
    from the same user returns the referral made the first time (created
    false) and changes nothing. Audited ``referral.create`` (and
    ``referral.submit``). Raises NotAllowed (no sending role there, patient
    not visible), Invalid (field errors, criteria blocking), Conflict.
    """
    key = (idempotency_key or "").strip()[:64]
    if key and getattr(actor, "is_authenticated", False):
        existing = Referral.objects.filter(created_by=actor, idempotency_key=key).first()
        if existing is not None:
            return existing, False
    if from_institution.pk not in policies.sending_institutions(actor):
        raise NotAllowed(_("您没有在该机构发起转诊的权限。"))
    if not person_visible_to(actor).filter(pk=person.pk).exists():
        raise NotAllowed(_("您无权为该居民发起转诊。"))
    data = {k: v for k, v in data.items() if k in CONTENT_FIELDS}
    data.setdefault("kind", ReferralKind.OUTPATIENT)
    data.setdefault("priority", ReferralPriority.ROUTINE)
    errors: dict[str, list[str]] = {}
    _validate_content(data, errors, for_submit=False)
    if data.get("to_department") is None:
        errors.setdefault("to_department", [_("请选择接收科室。")])
    errors.update(_check_ends(from_institution, data.get("from_department"), data.get("to_department")))
    raise_if(errors)
    to_department: Department = data["to_department"]
    try:
        with transaction.atomic():
            _refuse_a_second_referral_of_the_stay(data.get("encounter"))
            referral = Referral(
                person=person,
                from_institution=from_institution,
                from_doctor=actor,
                to_institution=to_department.institution,
                created_by=actor,
                idempotency_key=key,
                **data,
            )
            _derive(referral)
            raise_if(_green_channel_errors(referral))
            save_numbered(referral)
            step(
                actor=actor,
                referral=referral,
                action="create",
                side=ReferralSide.SENDER,
                after=snapshot(referral, AUDITED_FIELDS),
            )
            if submit:
                # A referral written a moment ago has no attachments yet: no need to read them.
                _submit(
                    actor,
                    referral,
                    booking=booking,
                    booking_date=booking_date,
                    acknowledge_missing=acknowledge_missing,
                    attached=set(),
                )
    except IntegrityError as error:
        if key:
            existing = Referral.objects.filter(created_by=actor, idempotency_key=key).first()
            if existing is not None:
                return existing, False
        raise Conflict(_("转诊单号冲突，请重试。")) from error
    return referral, True


def _refuse_a_second_referral_of_the_stay(encounter: Any) -> None:
    """Conflict when the inpatient stay already has a referral under way: two tabs of the worklist, or
    two colleagues, would otherwise send the same patient down twice. The stay's row is locked first so
    that of two concurrent attempts the second sees the first's referral."""
    if encounter is None:
        return
    list(type(encounter).objects.select_for_update().filter(pk=encounter.pk).values_list("pk", flat=True))
    under_way = (
        Referral.objects.filter(encounter=encounter)
        .exclude(status__in=ENDED_STATUSES)
        .order_by("-id")
        .first()
    )
    if under_way is not None:
        raise Conflict(
            _("该住院患者已有进行中的转诊单 {number}（{status}），请勿重复发起。").format(
                number=under_way.number, status=under_way.get_status_display()
            )
        )


def _derive(referral: Referral) -> None:
    """Set the consortium, whether both ends are in it, and the direction from the two institutions."""
    consortium, roles = shared_consortium(referral.from_institution, referral.to_institution)
    referral.consortium = consortium
    referral.inside_consortium = {referral.from_institution_id, referral.to_institution_id} <= set(roles)
    referral.direction = derive_direction(referral.from_institution, referral.to_institution, roles)


def _green_channel_errors(referral: Referral) -> dict[str, list[str]]:
    """Field errors when a down-referral asks for the green channel (急危重 priority or the 急诊 kind).

    The green channel takes critical patients up into the hospital; a patient referred down is stable
    by definition, so neither belongs on a down-referral (``direction`` must have been derived).
    """
    errors: dict[str, list[str]] = {}
    if referral.direction != ReferralDirection.DOWN:
        return errors
    if referral.priority == ReferralPriority.EMERGENCY:
        errors["priority"] = [_("下转不走绿色通道：急危重患者应上转，下转请选择“普通”或“加急”。")]
    if referral.kind == ReferralKind.EMERGENCY:
        errors["kind"] = [_("下转不走绿色通道：请选择门诊就诊、住院或检查检验。")]
    return errors


def _redirect_green_channel_errors(successor: Referral) -> dict[str, list[str]]:
    """The field error of a redirect that would make an emergency referral a down-referral (derived first).

    The rule is the one for creating a down-referral (``_green_channel_errors``); the receiver who
    redirects chooses only the department, so the refusal stands under it and says what to do instead.
    """
    if not _green_channel_errors(successor):
        return {}
    return {
        "to_department": [
            _(
                "改派到%(institution)s为下转，而本转诊为急危重或急诊（绿色通道）：下转不走绿色通道，不能改派到下级机构。"
                "请改派到同级或上级机构；如无法接收，请拒绝并说明原因，由转出方重新发起。"
            )
            % {"institution": successor.to_institution.name}
        ]
    }


def referral_update(
    *, actor: Any, referral: Referral, expected_version: int | None = None, **data: Any
) -> Referral:
    """Change a draft's content (sender only). Audited ``referral.update``. Raises NotAllowed, Invalid, Conflict."""
    data = {k: v for k, v in data.items() if k in CONTENT_FIELDS}
    with transaction.atomic():
        locked = _lock(referral, expected_version)
        _require_side(actor, locked, ReferralSide.SENDER, workflow.SENDING_ROLES)
        if locked.status != ReferralStatus.DRAFT:
            raise Conflict(_("只能修改草稿状态的转诊单。"))
        errors: dict[str, list[str]] = {}
        _validate_content(data, errors, for_submit=False)
        if "to_department" in data and data["to_department"] is None:
            errors["to_department"] = [_("请选择接收科室。")]
        errors.update(
            _check_ends(
                locked.from_institution,
                data.get("from_department", locked.from_department),
                data.get("to_department", locked.to_department),
            )
        )
        raise_if(errors)
        before = snapshot(locked, AUDITED_FIELDS)
        for key, value in data.items():
            setattr(locked, key, value)
        locked.to_institution = locked.to_department.institution
        _derive(locked)
        raise_if(_green_channel_errors(locked))
        locked.version += 1
        locked.save()
        after = snapshot(locked, AUDITED_FIELDS)
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        step(
            actor=actor,
            referral=locked,
            action="update",
            side=ReferralSide.SENDER,
            from_status=locked.status,
            before={k: before.get(k) for k in changed},
            after=changed,
        )
    return locked


def _require_side(actor: Any, referral: Referral, side: str, roles: frozenset[str]) -> None:
    held = policies.sides_of(actor, referral).get(side, frozenset())
    if not held & roles:
        raise NotAllowed(_("您不是该转诊单的转出方或接收方，不能执行此操作。"))


# --- submission -------------------------------------------------------------------------------


def referral_check(referral: Referral, *, attached: set[str] | None = None) -> criteria.CriteriaCheck:
    """How the referral stands against the catalogue now (what the doctor sees before submitting).

    ``attached`` names the attachment materials when they are not (yet) on the row.
    """
    if attached is None:
        attached = set(referral.attachments.values_list("material", flat=True)) if referral.pk else set()
    values = {name: getattr(referral, name) for name in Material.values if hasattr(referral, name)}
    urgent = referral.priority != ReferralPriority.ROUTINE or referral.kind == ReferralKind.EMERGENCY
    return criteria.evaluate(
        referral.consortium, referral.direction, referral.diagnosis_code, values, attached, urgent=urgent
    )


def referral_submit(
    *,
    actor: Any,
    referral: Referral,
    expected_version: int | None = None,
    booking: ReservedCapacity | None = None,
    booking_date: datetime.date | None = None,
    acknowledge_missing: bool = False,
    patient_consented: bool = False,
) -> Referral:
    """Send a draft to the receiving department.

    Checks the required fields and the criteria catalogue (a blocking
    shortfall raises Invalid on ``materials``; a warning one needs
    ``acknowledge_missing``), stores whether the criteria were met, books
    reserved capacity, lets the receiver see the patient, sets the answer
    deadline of the priority and notifies the receiving department (every
    receiving clinician of the institution for an emergency).

    ``booking`` books exactly that pool of reserved places (Invalid on
    ``booking`` when it is not the receiving department's for the kind, or
    is kept for signed residents and the patient has no contract in force;
    Conflict when full). ``booking_date`` alone books a place that day, a
    signed resident's kept place first. ``patient_consented`` records the
    consent the sender confirms while submitting (an ``update`` step, as on
    the edit form), in the same transaction. Raises NotAllowed, Invalid, Conflict.
    """
    with transaction.atomic():
        locked = _lock(referral, expected_version)
        if patient_consented and not locked.patient_consented:
            _allowed(actor, locked, "submit")
            _record_consent(actor, locked)
        _submit(
            actor,
            locked,
            booking=booking,
            booking_date=booking_date,
            acknowledge_missing=acknowledge_missing,
        )
    return locked


def _record_consent(actor: Any, referral: Referral) -> None:
    """Record on a draft that the patient (or family) consented, audited like the same change on the
    edit form."""
    bump(referral, patient_consented=True)
    step(
        actor=actor,
        referral=referral,
        action="update",
        side=ReferralSide.SENDER,
        from_status=referral.status,
        before={"patient_consented": False},
        after={"patient_consented": True},
    )


def _submit(
    actor: Any,
    referral: Referral,
    *,
    booking: ReservedCapacity | None = None,
    booking_date: datetime.date | None,
    acknowledge_missing: bool,
    attached: set[str] | None = None,
) -> None:
    transition = _allowed(actor, referral, "submit")
    values = {name: getattr(referral, name) for name in CONTENT_FIELDS}
    errors: dict[str, list[str]] = {}
    _validate_content(values, errors, for_submit=True)
    errors.update(_green_channel_errors(referral))
    if booking is not None:
        _validate_pool(referral, booking, booking_date, errors)
    elif booking_date is not None:
        _validate_booking_date(referral, booking_date, errors)
    raise_if(errors)
    referral.diagnosis_code = values["diagnosis_code"]
    check = referral_check(referral, attached=attached)
    if check.blocks:
        raise Invalid(
            {
                "materials": [
                    _("资料完整度 {value}% 低于要求，缺少：{missing}。").format(
                        value=check.completeness, missing=_labels(check.missing)
                    )
                ]
            }
        )
    if check.missing and not acknowledge_missing and check.criterion is not None:
        raise Invalid(
            {
                "materials": [
                    _("缺少资料：{missing}。确认仍要提交请勾选“资料不全仍提交”。").format(
                        missing=_labels(check.missing)
                    )
                ]
            }
        )
    now = timezone.now()
    hours = _answer_hours(referral)
    changes: dict[str, Any] = {
        "status": transition.target,
        "diagnosis_code": referral.diagnosis_code,
        "criterion": check.criterion,
        "criteria_met": check.met,
        "completeness": check.completeness,
        "missing_materials": check.missing,
        "submitted_at": now,
        "answer_due_at": now + datetime.timedelta(hours=hours),
    }
    # The green channel of signed residents (Art. 22): stored, so the inbox can put them first. It is a
    # priority into the hospital: a down-referral never carries it.
    signed = referral.direction == ReferralDirection.UP and _signed(referral)
    changes["signed_resident"] = signed
    if booking is not None:
        changes["booking"] = _book_pool(referral, booking, signed=signed)
        changes["scheduled_for"] = booking.date
    elif booking_date is not None:
        changes["booking"] = _book(referral, booking_date, signed=signed)
        changes["scheduled_for"] = booking_date
    before_status = referral.status
    bump(referral, **changes)
    person_link(
        actor=actor,
        person=referral.person,
        institution=referral.to_institution,
        reason=PersonLinkReason.REFERRAL,
    )
    step(
        actor=actor,
        referral=referral,
        action="submit",
        side=ReferralSide.SENDER,
        from_status=before_status,
        details={
            "criteria_met": check.met,
            "completeness": check.completeness,
            "direction": referral.direction,
        },
    )
    emergency = referral.priority == ReferralPriority.EMERGENCY or referral.kind == ReferralKind.EMERGENCY
    if emergency:
        _notify_receiver(
            referral, "referral.emergency", gettext_noop("急诊转诊：{number}"), whole_institution=True
        )
    else:
        _notify_receiver(referral, "referral.new", gettext_noop("新转诊：{number}"))


def _answer_hours(referral: Referral) -> int:
    """Hours the receiver has to answer: the consortium's setting for the referral's priority."""
    return int(settings_for(referral.consortium).answer_hours.get(referral.priority, 72))


def _labels(materials: list[str]) -> str:
    # The refusal is read now by the submitter, so the list follows their language (", " in English).
    return join_list(str(Material(m).label) if m in Material.values else m for m in materials)


def _validate_booking_date(
    referral: Referral, day: datetime.date, errors: dict[str, list[str]], field: str = "booking_date"
) -> None:
    if day < timezone.localdate():
        errors[field] = [_("预约日期不能早于今天。")]
    elif referral.kind not in KIND_CAPACITY:
        errors[field] = [_("急诊转诊走绿色通道，无需预约。")]
    elif not referral.inside_consortium:
        errors[field] = [_("预留号源只对医联体成员单位开放。")]


def _validate_pool(
    referral: Referral,
    pool: ReservedCapacity,
    day: datetime.date | None,
    errors: dict[str, list[str]],
) -> None:
    """A chosen pool must be the receiving department's, of the referral's kind, bookable today or later."""
    _validate_booking_date(referral, pool.date, errors, field="booking")
    if "booking" in errors:
        return
    if pool.department_id != referral.to_department_id or pool.kind != KIND_CAPACITY[referral.kind]:
        errors["booking"] = [_("所选预留号源不属于接收科室，或与转诊类型不符，请重新选择。")]
    elif day is not None and day != pool.date:
        errors["booking_date"] = [_("预约日期与所选预留号源的日期不一致。")]


def _signed(referral: Referral) -> bool:
    """True when the patient has a family-doctor contract in force today (the green channel)."""
    return active_contract_for(referral.person) is not None


def _book(referral: Referral, day: datetime.date, *, signed: bool | None = None) -> ReservedCapacity:
    """Take one reserved place of the referral's kind on ``day`` at the receiving department, atomically.

    A signed resident takes a place kept for signed residents first, then a general one; anyone else
    only a general one, and a day with places for signed residents only is refused with Invalid.
    """
    signed = _signed(referral) if signed is None else signed
    rows = list(
        ReservedCapacity.objects.filter(
            department_id=referral.to_department_id, kind=KIND_CAPACITY[referral.kind], date=day
        )
    )
    if not rows:
        raise Invalid({"booking_date": [_("接收科室当天没有发布预留号源。")]})
    general = [row for row in rows if not row.signed_residents_only]
    reserved = [row for row in rows if row.signed_residents_only]
    if not signed and not general:
        raise Invalid(
            {
                "booking_date": [
                    _(
                        "{day} 的预留号源仅限家庭医生签约居民预约，该患者没有生效的签约，请选择其他日期。"
                    ).format(day=day)
                ]
            }
        )
    for capacity in (reserved + general) if signed else general:
        taken = ReservedCapacity.objects.filter(pk=capacity.pk, booked__lt=F("quantity")).update(
            booked=F("booked") + 1
        )
        if taken:
            return capacity
    raise Conflict(_("{day} 的预留号源已被约满，请选择其他日期。").format(day=day))


def _book_pool(referral: Referral, pool: ReservedCapacity, *, signed: bool) -> ReservedCapacity:
    """Take one place of exactly this pool, atomically (the conditional update: of two senders racing for
    its last place one gets Conflict). A pool kept for signed residents refuses others with Invalid."""
    if pool.signed_residents_only and not signed:
        raise Invalid(
            {
                "booking": [
                    _(
                        "{day} 的这组号源仅限家庭医生签约居民预约，该患者没有生效的签约，请选择普通号源。"
                    ).format(day=pool.date)
                ]
            }
        )
    taken = ReservedCapacity.objects.filter(pk=pool.pk, booked__lt=F("quantity")).update(
        booked=F("booked") + 1
    )
    if not taken:
        raise Conflict(_("{day} 的这组预留号源已被约满，请选择其他号源。").format(day=pool.date))
    return pool


def _release(referral: Referral) -> None:
    if referral.booking_id:
        ReservedCapacity.objects.filter(pk=referral.booking_id, booked__gt=0).update(booked=F("booked") - 1)


def _allowed(actor: Any, referral: Referral, action: str) -> workflow.Transition:
    """The transition for ``action`` if the actor may take it now: NotAllowed for the wrong side, Conflict for the wrong state."""
    transition = workflow.transition_for(action)
    if transition is None:
        raise Invalid({"action": [_("未知的操作。")]})
    if transition.side != ReferralSide.SYSTEM:
        _require_side(actor, referral, transition.side, transition.roles)
    if referral.status not in transition.sources:
        raise Conflict(
            _("转诊单当前状态为“{status}”，不能执行此操作（可能已被他人处理，请刷新）。").format(
                status=ReferralStatus(referral.status).label
            )
        )
    return transition


# --- answering and fulfilment --------------------------------------------------------------------


def referral_act(
    *, actor: Any, referral: Referral, action: str, expected_version: int | None = None, **fields: Any
) -> Referral:
    """Take one workflow action (accept, decline, redirect, schedule, arrive, no_show, complete, close,
    cancel, request_cancel, confirm_cancel, decline_cancel) on a referral.

    The transition table decides whether the action is allowed from the
    current state by the actor's side; the row is locked first, so of two
    concurrent answers one wins and the other gets Conflict. ``fields`` are
    the action's inputs (``reason``, ``to_department``, ``scheduled_for``,
    ``book``, outcome fields). Writes the timeline step and audit event,
    notifies the other end. Returns the referral (for redirect, the new
    one). Raises NotAllowed (wrong side or role), Conflict (wrong state,
    stale version, capacity full), Invalid (missing or bad fields).
    """
    if action == "submit":
        return referral_submit(
            actor=actor,
            referral=referral,
            expected_version=expected_version,
            booking=fields.get("booking"),
            booking_date=fields.get("booking_date"),
            acknowledge_missing=bool(fields.get("acknowledge_missing")),
            patient_consented=bool(fields.get("patient_consented")),
        )
    handler = _HANDLERS.get(action)
    if handler is None:
        raise Invalid({"action": [_("未知的操作。")]})
    with transaction.atomic():
        locked = _lock(referral, expected_version)
        transition = _allowed(actor, locked, action)
        values = {name: fields.get(name) for name in transition.required}
        if "reason" in values:
            values["reason"] = str(values["reason"] or "").strip()
        errors: dict[str, list[str]] = {
            name: [required_message()] for name in workflow.missing_fields(transition, values)
        }
        check = _FIELD_CHECKS.get(action)
        if check is not None:
            errors.update(check(fields))
        raise_if(errors)
        from_status = locked.status
        target = workflow.target_of(transition, from_status, has_schedule=locked.scheduled_for is not None)
        result = handler(actor, locked, target, fields)
        step(
            actor=actor,
            referral=locked,
            action=action,
            side=transition.side,
            from_status=from_status,
            note=_step_note(locked, action, str(fields.get("reason") or fields.get("note") or "")),
            details=_step_details(locked, action),
        )
        if action == "accept":
            _confirm_booking(actor, locked)
    return result


def _step_note(referral: Referral, action: str, typed: str) -> str | Message:
    """The timeline note of a step: what the user typed, and on a schedule step the appointment day
    first, so a rescheduled appointment (no change of state) says which day it moved to."""
    if action == "schedule" and referral.scheduled_for:
        if typed:
            return message(gettext_noop("预约 {day}：{note}"), day=referral.scheduled_for, note=typed[:450])
        return message(gettext_noop("预约 {day}"), day=referral.scheduled_for)
    return typed[:500]


def _step_details(referral: Referral, action: str) -> dict[str, Any]:
    if action == "schedule":
        return {"scheduled_for": str(referral.scheduled_for), "booked": referral.booking_id is not None}
    if action == "complete":
        return {"subsidy_amount": str(referral.subsidy_amount)}
    return {}


def _accept(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    bump(referral, status=target, answered_at=timezone.now(), answered_by=actor)
    _notify_sender(referral, "referral.answered", gettext_noop("转诊已接收：{number}"))
    return referral


def _confirm_booking(actor: Any, referral: Referral) -> None:
    """After accepting: a place the sender booked becomes the appointment (a schedule step of its own)."""
    if not (
        referral.booking_id and referral.scheduled_for and referral.scheduled_for >= timezone.localdate()
    ):
        return
    bump(referral, status=ReferralStatus.SCHEDULED)
    step(
        actor=actor,
        referral=referral,
        action="schedule",
        side=ReferralSide.RECEIVER,
        from_status=ReferralStatus.ACCEPTED,
        note=message(gettext_noop("确认转出方预约的 {day} 床位"), day=referral.scheduled_for)
        if referral.kind == ReferralKind.ADMISSION
        else message(gettext_noop("确认转出方预约的 {day} 号源"), day=referral.scheduled_for),
        details={"scheduled_for": str(referral.scheduled_for), "booked": True},
    )


def _decline(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    _end_with_reason(actor, referral, target, fields["reason"], timezone.now())
    _notify_sender(referral, "referral.answered", gettext_noop("转诊被拒绝：{number}"))
    return referral


def _end_with_reason(
    actor: Any, referral: Referral, target: str, reason: str, now: datetime.datetime
) -> None:
    """Answer and end a referral the receiver will not see through (declined, or redirected elsewhere):
    its reserved slot goes back to the pool and the reason is kept."""
    _release(referral)
    bump(
        referral,
        status=target,
        decline_reason=reason.strip()[:200],
        answered_at=now,
        answered_by=actor,
        ended_at=now,
        booking=None,
    )


def _redirect(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    department = fields["to_department"]
    if not isinstance(department, Department):
        raise Invalid({"to_department": [_("请选择改派的接收科室。")]})
    errors: dict[str, list[str]] = {}
    _validate_content({"to_department": department}, errors, for_submit=False)
    if department.pk == referral.to_department_id:
        errors["to_department"] = [_("请改派到其他科室或机构。")]
    if department == referral.from_department:
        errors["to_department"] = [_("不能改派回转出科室。")]
    elif (
        department.institution_id == referral.from_institution_id
        and department.institution_id != referral.to_institution_id
    ):
        # Sending the patient back where they came from is a decline, not a redirect (an internal
        # referral, between two departments of one institution, may still go to a third department).
        errors["to_department"] = [_("不能改派回转出机构；如无法接收，请拒绝并说明原因。")]
    raise_if(errors)
    now = timezone.now()
    successor = Referral(
        person=referral.person,
        from_institution=referral.from_institution,
        from_department=referral.from_department,
        from_doctor=referral.from_doctor,
        to_institution=department.institution,
        to_department=department,
        redirected_from=referral,
        signed_resident=referral.signed_resident,
        created_by=actor,
        status=ReferralStatus.SUBMITTED,
        submitted_at=now,
        **{
            name: getattr(referral, name)
            for name in CONTENT_FIELDS
            if name not in ("to_department", "from_department")
        },
    )
    _derive(successor)
    # The new receiver may change the direction. A redirect that makes it a down-referral must obey the rule
    # of creating one: no 急危重 priority, no 急诊 kind (the receiver cannot change the sender's priority, so
    # the redirect is refused under the department it chose; nothing is saved).
    raise_if(_redirect_green_channel_errors(successor))
    _end_with_reason(actor, referral, target, fields["reason"], now)
    # The green channel stays with up-referrals only.
    successor.signed_resident = referral.signed_resident and successor.direction == ReferralDirection.UP
    # The new receiver may sit in another consortium or change the direction: judge the referral afresh.
    check = referral_check(successor, attached=set(referral.attachments.values_list("material", flat=True)))
    successor.criterion = check.criterion
    successor.criteria_met = check.met
    successor.completeness = check.completeness
    successor.missing_materials = check.missing
    hours = _answer_hours(successor)
    successor.answer_due_at = now + datetime.timedelta(hours=hours)
    save_numbered(successor)
    for attachment in referral.attachments.all():
        ReferralAttachment.objects.create(
            referral=successor,
            material=attachment.material,
            file=attachment.file.name,
            original_filename=attachment.original_filename,
            size=attachment.size,
            uploaded_by=attachment.uploaded_by,
        )
    person_link(
        actor=actor,
        person=referral.person,
        institution=department.institution,
        reason=PersonLinkReason.REFERRAL,
    )
    step(
        actor=actor,
        referral=successor,
        action="submit",
        side=ReferralSide.RECEIVER,
        note=message(gettext_noop("由 {number} 改派"), number=referral.number),
        institution=referral.to_institution,
    )
    # The sender must learn where the patient now goes, not only where the referral no longer is.
    _notify_sender(
        referral,
        "referral.answered",
        gettext_noop("转诊已改派：{number}"),
        body=f"{referral.to_institution.name} {referral.to_department.name} → "
        f"{successor.to_institution.name} {successor.to_department.name} · {successor.number}",
    )
    _notify_receiver(successor, "referral.new", gettext_noop("改派转诊：{number}"))
    referral.redirect_successor = successor  # type: ignore[attr-defined]
    return successor


def _schedule(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    day = fields["scheduled_for"]
    errors: dict[str, list[str]] = {}
    if not isinstance(day, datetime.date):
        errors["scheduled_for"] = [_("请填写预约日期。")]
    elif day < timezone.localdate():
        errors["scheduled_for"] = [_("预约日期不能早于今天。")]
    raise_if(errors)
    changes: dict[str, Any] = {"status": target, "scheduled_for": day}
    wants_booking = bool(fields.get("book"))
    if referral.booking_id and (referral.booking.date != day or not wants_booking):
        _release(referral)
        changes["booking"] = None
    if wants_booking and (referral.booking_id is None or referral.booking.date != day):
        if referral.kind not in KIND_CAPACITY:
            raise Invalid({"book": [_("急诊转诊走绿色通道，无需预约号源。")]})
        changes["booking"] = _book(referral, day)
    bump(referral, **changes)
    _notify_sender(referral, "referral.answered", gettext_noop("转诊已预约 {day}：{number}"), day=day)
    return referral


def _arrive(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    now = timezone.now()
    bump(referral, status=target, arrived_at=now)
    if referral.direction == ReferralDirection.DOWN:
        configured = settings_for(referral.consortium)
        FollowUpTask.objects.bulk_create(
            [
                FollowUpTask(
                    referral=referral,
                    kind=FollowUpTaskKind.FOLLOW_UP,
                    due_at=now + datetime.timedelta(hours=configured.follow_up_hours),
                ),
                FollowUpTask(
                    referral=referral,
                    kind=FollowUpTaskKind.REHABILITATION,
                    due_at=now + datetime.timedelta(days=configured.rehabilitation_days),
                ),
            ]
        )
    _notify_sender(referral, "referral.answered", gettext_noop("患者已到诊：{number}"))
    return referral


def _no_show(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    if referral.scheduled_for and referral.scheduled_for > timezone.localdate():
        raise Conflict(
            _("预约日期 {day} 还未到，不能登记患者未到诊。").format(day=referral.scheduled_for.isoformat())
        )
    bump(referral, status=target, ended_at=timezone.now())
    _notify_sender(referral, "referral.answered", gettext_noop("患者未按预约到诊：{number}"))
    return referral


OUTCOME_FIELDS = (
    "outcome_diagnosis_code",
    "outcome_diagnosis_name",
    "outcome_summary",
    "discharge_summary",
    "follow_up_plan",
)


def _outcome_problems(fields: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with the outcome's own fields (checked with the required ones, so one answer lists all)."""
    errors: dict[str, list[str]] = {}
    code = str(fields.get("outcome_diagnosis_code") or "").strip()
    if code:
        try:
            parse_icd10(code, field="outcome_diagnosis_code")
        except Invalid as error:
            errors.update(error.as_text())
    if len(str(fields.get("outcome_diagnosis_name") or "").strip()) > 50:
        errors["outcome_diagnosis_name"] = [_("不能超过 {limit} 个字。").format(limit=50)]
    return errors


_FIELD_CHECKS = {"complete": _outcome_problems}
"""Checks of an action's own fields, run before the step with the required-field check."""


def _complete(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    changes: dict[str, Any] = {name: str(fields.get(name) or "").strip() for name in OUTCOME_FIELDS}
    if changes["outcome_diagnosis_code"]:  # checked before the step; normalised here (i10 → I10)
        changes["outcome_diagnosis_code"] = parse_icd10(changes["outcome_diagnosis_code"]).code
    changes.update(status=target, completed_at=timezone.now(), subsidy_amount=_subsidy(referral))
    bump(referral, **changes)
    _notify_sender(referral, "referral.answered", gettext_noop("转诊结果已回传：{number}"))
    return referral


def _subsidy(referral: Referral) -> Any:
    """The deductible difference subsidy due for a completed referral: the consortium's amount for the
    patient's insurance scheme, or 0.

    Due only for an up- or down-referral inside the consortium whose kind admits the patient
    (``ADMITTING_KINDS``): the subsidy makes up for a second hospitalisation start line, which an
    outpatient or exam referral does not pay.
    """
    if (
        not referral.inside_consortium
        or referral.direction == ReferralDirection.LATERAL
        or referral.kind not in ADMITTING_KINDS
    ):
        return 0
    amount = (
        DeductibleSubsidy.objects.filter(
            consortium_id=referral.consortium_id, insurance_scheme=referral.person.insurance_scheme
        )
        .values_list("amount", flat=True)
        .first()
    )
    return amount or 0


def _close(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    now = timezone.now()
    bump(referral, status=target, closed_at=now, ended_at=now)
    return referral


def _cancel(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    was_sent = referral.status != ReferralStatus.DRAFT
    _release(referral)
    bump(
        referral,
        status=target,
        decline_reason=fields["reason"].strip()[:200],
        ended_at=timezone.now(),
        booking=None,
    )
    if was_sent:
        _notify_receiver(referral, "referral.cancelled", gettext_noop("转诊已撤销：{number}"))
    return referral


def _request_cancel(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    bump(referral, status=target)
    _notify_receiver(referral, "referral.cancel_requested", gettext_noop("转出方申请撤销：{number}"))
    return referral


def _confirm_cancel(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    # The reason is the sender's, typed on the request: record it as a cancel before acceptance does.
    reason = (
        referral.events.filter(action="request_cancel")
        .order_by("-occurred_at", "-id")
        .values_list("note", flat=True)
        .first()
        or ""
    )
    _release(referral)
    bump(referral, status=target, ended_at=timezone.now(), booking=None, decline_reason=reason[:200])
    _notify_sender(referral, "referral.answered", gettext_noop("接收方已同意撤销：{number}"))
    return referral


def _decline_cancel(actor: Any, referral: Referral, target: str, fields: dict[str, Any]) -> Referral:
    bump(referral, status=target)
    _notify_sender(referral, "referral.answered", gettext_noop("接收方不同意撤销：{number}"))
    return referral


_HANDLERS = {
    "accept": _accept,
    "decline": _decline,
    "redirect": _redirect,
    "schedule": _schedule,
    "arrive": _arrive,
    "no_show": _no_show,
    "complete": _complete,
    "close": _close,
    "cancel": _cancel,
    "request_cancel": _request_cancel,
    "confirm_cancel": _confirm_cancel,
    "decline_cancel": _decline_cancel,
}


# --- notifications -----------------------------------------------------------------------------


def _link(referral: Referral) -> str:
    return f"/referrals/{referral.public_id}/"


def _notify_receiver(
    referral: Referral, topic: str, title: str, *, whole_institution: bool = False, **values: Any
) -> None:
    """Tell the receiving department's clinicians (the whole institution's when none is attached to it).

    ``title`` is an untranslated msgid (``gettext_noop``) with ``{number}`` and any ``values``: each
    recipient reads it in their own language.
    """
    users = list(
        users_holding(
            referral.to_institution_id,
            RECEIVER_ROLES_TO_NOTIFY,
            department_id=None if whole_institution else referral.to_department_id,
        ).only("pk")
    )
    if not whole_institution and not users:
        users = list(users_holding(referral.to_institution_id, RECEIVER_ROLES_TO_NOTIFY).only("pk"))
    notify(
        recipients=users,
        topic=topic,
        title=message(title, number=referral.number, **values),
        body=f"{referral.from_institution.name} → {referral.to_department.name}",
        link=_link(referral),
        object_id=str(referral.public_id),
    )


def _notify_sender(referral: Referral, topic: str, title: str, *, body: str = "", **values: Any) -> None:
    """Tell the referring doctor (or the sending institution's clinicians when the doctor left).

    ``title`` is an untranslated msgid (``gettext_noop``) with ``{number}`` and any ``values``: each
    recipient reads it in their own language. ``body`` defaults to the receiving institution and department.
    """
    recipients: list[Any] = []
    if referral.from_doctor_id and referral.from_doctor.is_active:
        recipients = [referral.from_doctor]
    else:
        recipients = list(users_holding(referral.from_institution_id, workflow.SENDING_ROLES))
    notify(
        recipients=recipients,
        topic=topic,
        title=message(title, number=referral.number, **values),
        body=body or f"{referral.to_institution.name} {referral.to_department.name}",
        link=_link(referral),
        object_id=str(referral.public_id),
    )


# --- attachments and closed-loop duties ---------------------------------------------------------


def referral_attach(
    *, actor: Any, referral: Referral, material: str, upload: UploadedFile
) -> ReferralAttachment:
    """Attach a file to a referral (either end while it is open; the sender also on a draft).

    Audited ``referral.attach``. Raises NotAllowed, Invalid (kind, type, size).
    """
    sides = policies.sides_of(actor, referral)
    may = bool(sides.get(ReferralSide.SENDER, frozenset()) & workflow.SENDING_ROLES) or bool(
        sides.get(ReferralSide.RECEIVER, frozenset()) & workflow.RECEIVING_ROLES
    )
    if not may:
        raise NotAllowed(_("您不能为该转诊单上传资料。"))
    errors: dict[str, list[str]] = {}
    if material not in ATTACHMENT_MATERIALS:
        errors["material"] = [_("无效的资料类型。")]
    if upload is None:
        errors["file"] = [_("请选择文件。")]
    else:
        suffix = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if suffix not in ATTACHMENT_TYPES:
            errors["file"] = [_("只能上传 PDF、图片、DICOM、Word 或文本文件。")]
        elif upload.size > MAX_ATTACHMENT_BYTES:
            errors["file"] = [_("文件不能超过 20 MB。")]
    raise_if(errors)
    with transaction.atomic():
        locked = _lock(referral, None)
        if locked.status in (
            ReferralStatus.CLOSED,
            ReferralStatus.CANCELLED,
            ReferralStatus.DECLINED,
            ReferralStatus.REDIRECTED,
            ReferralStatus.EXPIRED,
            ReferralStatus.NO_SHOW,
        ):
            raise Conflict(_("转诊已结束，不能再上传资料。"))
        attachment = ReferralAttachment(
            referral=locked,
            material=material,
            original_filename=upload.name[:255],
            size=upload.size,
            uploaded_by=actor,
        )
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        side = ReferralSide.SENDER if sides.get(ReferralSide.SENDER) else ReferralSide.RECEIVER
        step(
            actor=actor,
            referral=locked,
            action="attach",
            side=side,
            from_status=locked.status,
            note=message(
                gettext_noop("{kind}：{filename}"),
                kind=Material(material),
                filename=attachment.original_filename,
            ),
        )
    return attachment


def follow_up_record(*, actor: Any, task: FollowUpTask, note: str) -> FollowUpTask:
    """Record the follow-up or first rehabilitation record a down-referral's receiver owes.

    Only the receiving (primary) institution's clinicians. Audited
    ``referral.follow_up``. Raises NotAllowed, Invalid (no note), Conflict (already done).
    """
    referral = task.referral
    if (
        not policies.sides_of(actor, referral).get(ReferralSide.RECEIVER, frozenset())
        & workflow.ARRIVAL_ROLES
    ):
        raise NotAllowed(_("只有接收机构的医护人员可以登记随访。"))
    if not note.strip():
        raise Invalid({"note": [_("请填写随访或康复记录。")]})
    with transaction.atomic():
        locked = FollowUpTask.objects.select_for_update().get(pk=task.pk)
        if locked.done_at is not None:
            raise Conflict(_("该任务已登记，无需重复登记。"))
        locked.done_at = timezone.now()
        locked.done_by = actor
        locked.note = note.strip()[:2000]
        locked.save(update_fields=["done_at", "done_by", "note", "updated_at"])
        late = locked.done_at > locked.due_at
        step(
            actor=actor,
            referral=referral,
            action="follow_up",
            side=ReferralSide.RECEIVER,
            from_status=referral.status,
            note=message(
                gettext_noop("{kind}（超时）") if late else gettext_noop("{kind}"),
                kind=FollowUpTaskKind(locked.kind),
            ),
            details={"kind": locked.kind, "late": late},
        )
    return locked


# --- deadlines (the background job) -------------------------------------------------------------


def referral_sweep_deadlines(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Expire referrals nobody answered in time and scheduled ones whose patient never came; warn of
    overdue follow-up duties once.

    Each referral expires in its own transaction (timeline, audit and
    notification to both ends); a referral answered meanwhile is skipped.
    Returns counts by outcome.
    """
    now = now or timezone.now()
    counts = {"expired_unanswered": 0, "expired_not_arrived": 0, "follow_up_overdue": 0}
    # Past the answer deadline a referral shows as overdue to both ends; it expires only after the grace.
    overdue = Referral.objects.filter(status=ReferralStatus.SUBMITTED, answer_due_at__lt=now).select_related(
        "consortium"
    )
    for referral in list(overdue):
        grace = datetime.timedelta(hours=settings_for(referral.consortium).expiry_grace_hours)
        if referral.answer_due_at + grace < now and _expire(
            referral.pk, now, ReferralStatus.SUBMITTED, gettext_noop("接收方未在时限内响应")
        ):
            counts["expired_unanswered"] += 1
    today = timezone.localtime(now).date()
    for referral in Referral.objects.filter(status=ReferralStatus.SCHEDULED).select_related("consortium"):
        grace = settings_for(referral.consortium).arrival_grace_days
        late = referral.scheduled_for and referral.scheduled_for + datetime.timedelta(days=grace) < today
        if late and _expire(referral.pk, now, ReferralStatus.SCHEDULED, gettext_noop("患者未在预约日期到诊")):
            counts["expired_not_arrived"] += 1
    overdue = FollowUpTask.objects.filter(
        done_at__isnull=True, due_at__lt=now, overdue_notified_at__isnull=True
    ).select_related(
        "referral__from_institution",
        "referral__to_institution",
        "referral__to_department",
        "referral__from_doctor",
    )
    for task in overdue:
        with transaction.atomic():
            if FollowUpTask.objects.filter(pk=task.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=now
            ):
                title, kind = gettext_noop("下转{kind}已超时：{number}"), FollowUpTaskKind(task.kind)
                _notify_receiver(task.referral, "referral.overdue", title, kind=kind)
                _notify_sender(task.referral, "referral.overdue", title, kind=kind)
                counts["follow_up_overdue"] += 1
    return counts


def _expire(pk: int, now: datetime.datetime, expected_status: str, note: str) -> bool:
    # ``note`` is an untranslated msgid: the timeline shows it in each reader's language.
    with transaction.atomic():
        locked = (
            Referral.objects.select_for_update(of=("self",))
            .select_related(
                "from_institution", "to_institution", "to_department", "consortium", "from_doctor"
            )
            .get(pk=pk)
        )
        if locked.status != expected_status:
            return False
        transition = workflow.BY_ACTION["expire"]
        _release(locked)
        bump(locked, status=transition.target, ended_at=now, booking=None)
        step(
            actor=None,
            referral=locked,
            action="expire",
            side=ReferralSide.SYSTEM,
            from_status=expected_status,
            note=note,
        )
        title = gettext_noop("转诊已超时：{number}")
        _notify_sender(locked, "referral.overdue", title)
        _notify_receiver(locked, "referral.overdue", title)
    return True
