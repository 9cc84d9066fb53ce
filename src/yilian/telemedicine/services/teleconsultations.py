"""Writes of teleconsultations: the invitation, every workflow action, files, billing records."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.accounts.selectors import users_holding
from yilian.core.audit import snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed, required_message
from yilian.core.icd10 import parse_icd10
from yilian.core.messages import message
from yilian.institutions.choices import DepartmentSpecialty
from yilian.institutions.models import Department, Institution
from yilian.notifications.services import notify
from yilian.people.models import Person
from yilian.people.selectors import person_visible_to
from yilian.referrals.services import referral_create
from yilian.telemedicine import policies, selectors, workflow
from yilian.telemedicine.choices import (
    ENDED_STATUSES,
    PATIENTLESS_KINDS,
    TITLE_RANK,
    AttachmentKind,
    ChargeDirection,
    ConsentRelationship,
    TeleconsultationKind,
    TeleconsultationOutcome,
    TeleconsultationSide,
    TeleconsultationStatus,
)
from yilian.telemedicine.models import (
    ExpertAvailability,
    Teleconsultation,
    TeleconsultationAttachment,
    TeleconsultationCharge,
)
from yilian.telemedicine.services._common import (
    bump,
    raise_if,
    save_numbered,
    step,
    too_long,
)

CONTENT_FIELDS = (
    "inviting_department",
    "invited_department",
    "required_specialty",
    "required_title",
    "reason",
    "purpose",
    "proposed_at",
    "proposed_slot",
    "case_summary",
    "exam_results",
    "diagnosis_code",
    "diagnosis_name",
    "consent_signer_name",
    "consent_relationship",
    "consent_signed_at",
)
"""What the inviting doctor writes on the invitation."""

AUDITED_FIELDS = (
    *CONTENT_FIELDS,
    "kind",
    "person",
    "inviting_institution",
    "invited_institution",
    "fee_amount",
    "outside_consortium",
)

MAX_TEXT = {
    "reason": 200,
    "purpose": 50,
    "case_summary": 2000,
    "exam_results": 1000,
    "diagnosis_name": 50,
    "consent_signer_name": 50,
}
"""Lengths of WS 445.13 data elements (AN..n)."""

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENT_TYPES = {"pdf", "jpg", "jpeg", "png", "dcm", "txt", "doc", "docx"}

LOCK_RELATED = (
    "inviting_institution",
    "invited_institution",
    "inviting_doctor",
    "expert",
    "consortium",
)
"""What a workflow step reads under the lock (timeline, notifications, audit, the answer)."""


# --- validation ---------------------------------------------------------------------------------


def _validate_invitation(
    inviting_institution: Institution,
    invited_institution: Institution,
    kind: str,
    person: Person | None,
    data: dict[str, Any],
) -> dict[str, list[str]]:
    """Field checks of an invitation (normalises the ICD-10 code and the proposed time in ``data``)."""
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if kind not in TeleconsultationKind.values:
        errors["kind"] = [_("无效的会诊类型。")]
    if person is None and kind not in PATIENTLESS_KINDS:
        errors["person"] = [_("请选择患者（只有远程教学可以不关联患者）。")]
    if invited_institution.pk == inviting_institution.pk:
        errors["invited_institution"] = [_("不能邀请本机构会诊。")]
    elif invited_institution.status != "active":
        errors["invited_institution"] = [_("受邀机构不在运营中。")]
    inviting_department: Department | None = data.get("inviting_department")
    if inviting_department is not None and inviting_department.institution_id != inviting_institution.pk:
        errors["inviting_department"] = [_("申请科室不属于邀请机构。")]
    invited_department: Department | None = data.get("invited_department")
    if invited_department is not None and (
        invited_department.institution_id != invited_institution.pk or not invited_department.is_active
    ):
        errors["invited_department"] = [_("会诊科室不属于受邀机构或已停用。")]
    specialty = data.get("required_specialty") or ""
    if specialty and specialty not in DepartmentSpecialty.values:
        errors["required_specialty"] = [_("无效的专业（诊疗科目）代码。")]
    if (data.get("required_title") or "") not in TITLE_RANK:
        errors["required_title"] = [_("请选择所需的医师职称。")]
    for name, required in (
        ("reason", _("请填写会诊原因。")),
        ("purpose", _("请填写会诊目的。")),
        ("case_summary", _("请填写病历摘要。")),
    ):
        data[name] = str(data.get(name) or "").strip()
        if not data[name]:
            errors[name] = [required]
    too_long(data, MAX_TEXT, errors)
    if data.get("diagnosis_code"):
        try:
            data["diagnosis_code"] = parse_icd10(data["diagnosis_code"]).code
        except Invalid as error:
            errors.update(error.as_text())
    slot: ExpertAvailability | None = data.get("proposed_slot")
    if slot is not None:
        if slot.institution_id != invited_institution.pk:
            errors["proposed_slot"] = [_("所选专家时间不属于受邀机构。")]
        elif slot.taken_by_id is not None or slot.starts_at <= now:
            errors["proposed_slot"] = [_("所选专家时间已被预约或已过去，请重新选择。")]
        elif not selectors.expert_qualifies(
            slot.expert, invited_institution.pk, specialty, data.get("required_title") or ""
        ):
            errors["proposed_slot"] = [_("该专家的职称或专业不符合会诊要求。")]
        else:
            data["proposed_at"] = slot.starts_at
    proposed = data.get("proposed_at")
    if not isinstance(proposed, datetime.datetime):
        errors.setdefault("proposed_at", [_("请填写拟会诊时间。")])
    elif proposed <= now:
        errors.setdefault("proposed_at", [_("拟会诊时间必须晚于现在。")])
    if person is not None:
        if not str(data.get("consent_signer_name") or "").strip():
            errors["consent_signer_name"] = [_("须取得患者（或监护人、近亲属）书面知情同意：请填写签署人。")]
        if data.get("consent_relationship") not in ConsentRelationship.values:
            errors["consent_relationship"] = [_("请选择签署人与患者的关系。")]
        signed = data.get("consent_signed_at")
        if not isinstance(signed, datetime.datetime):
            errors["consent_signed_at"] = [_("请填写知情同意书签署时间。")]
        elif signed > now + datetime.timedelta(minutes=5):
            errors["consent_signed_at"] = [_("签署时间不能晚于现在。")]
    return errors


MAX_FEE = Decimal("999999.99")
"""The largest fee ``Teleconsultation.fee_amount`` holds (8 digits, 2 after the point)."""


def _agreed_fee(value: Any) -> tuple[Decimal | None, dict[str, list[str]]]:
    """The fee typed for an invitation outside any consortium, or its problem on ``agreed_fee``.

    Required (0 for a free service), not negative, in yuan to the cent, at most ``MAX_FEE``.
    """
    text = str(value).strip() if value is not None else ""
    if not text:
        return None, {"agreed_fee": [_("医联体外会诊须填写双方合作协议约定的费用（元），不收费请填 0。")]}
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        return None, {"agreed_fee": [_("请填写金额（元），如 300 或 280.50。")]}
    if amount < 0:
        return None, {"agreed_fee": [_("费用不能为负数。")]}
    if amount > MAX_FEE:  # before quantizing, which a huge exponent would overflow
        return None, {"agreed_fee": [_("费用不能超过 999999.99 元。")]}
    if amount != amount.quantize(Decimal("0.01")):
        return None, {"agreed_fee": [_("费用最多精确到分（两位小数）。")]}
    return amount.quantize(Decimal("0.01")), {}


def _check_expert(teleconsultation: Teleconsultation, expert: Any) -> None:
    """Invalid unless ``expert`` is a doctor of the invited institution whose title and specialty qualify."""
    if expert is None or not getattr(expert, "pk", None):
        raise Invalid({"expert": [_("请指定会诊专家。")]})
    if not selectors.expert_qualifies(
        expert,
        teleconsultation.invited_institution_id,
        teleconsultation.required_specialty,
        teleconsultation.required_title,
    ):
        raise Invalid(
            {
                "expert": [
                    _("该医师不是受邀机构的医师，或职称/专业不符合要求（须为{title}及以上）。").format(
                        title=selectors.title_label(teleconsultation.required_title)
                    )
                ]
            }
        )


def _lock(teleconsultation: Teleconsultation, expected_version: int | None) -> Teleconsultation:
    """Re-read under a row lock (with the ends, doctor, expert and consortium) and check the version
    the caller saw."""
    locked = (
        Teleconsultation.objects.select_for_update(of=("self",))
        .select_related(*LOCK_RELATED)
        .get(pk=teleconsultation.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该会诊单已被他人更新，请刷新后重试。"))
    return locked


# --- the invitation ----------------------------------------------------------------------------


def teleconsultation_create(
    *,
    actor: Any,
    inviting_institution: Institution,
    invited_institution: Institution,
    kind: str,
    person: Person | None = None,
    idempotency_key: str = "",
    agreed_fee: Any = None,
    **data: Any,
) -> tuple[Teleconsultation, bool]:
    """Record the patient's written consent (with the fee of the agreement) and send the invitation.

    ``data`` holds the content fields (departments as Department,
    ``proposed_slot`` an ExpertAvailability whose start becomes the proposed
    time). Between members of one consortium the fee is that consortium's
    fee for the kind (``agreed_fee`` is ignored). When the two ends share no
    consortium the teleconsultation is marked ``outside_consortium``, filed
    under the inviting end's consortium (if any), and its fee is
    ``agreed_fee``, the one their cooperation agreement sets: required, in
    yuan, ≥ 0, to the cent (Invalid on ``agreed_fee`` otherwise). The same
    ``idempotency_key`` from the same user returns the teleconsultation made
    the first time (created false). Writes the timeline, the audit event
    ``teleconsultation.create`` and notifies the invited institution's
    coordinators. Raises NotAllowed (no inviting role there, patient not
    visible), Invalid (field errors), Conflict.
    """
    key = (idempotency_key or "").strip()[:64]
    if key and getattr(actor, "is_authenticated", False):
        existing = Teleconsultation.objects.filter(created_by=actor, idempotency_key=key).first()
        if existing is not None:
            return existing, False
    if inviting_institution.pk not in policies.inviting_institutions(actor):
        raise NotAllowed(_("您没有在该机构发起远程会诊的权限。"))
    if person is not None and not person_visible_to(actor).filter(pk=person.pk).exists():
        raise NotAllowed(_("您无权为该居民发起远程会诊。"))
    data = {k: v for k, v in data.items() if k in CONTENT_FIELDS}
    errors = _validate_invitation(inviting_institution, invited_institution, kind, person, data)
    consortium, shared = selectors.consortium_between(inviting_institution, invited_institution)
    outside = not shared
    agreed: Decimal | None = None
    if outside:
        agreed, fee_errors = _agreed_fee(agreed_fee)
        errors.update(fee_errors)
    raise_if(errors)
    if person is None:
        for name in ("consent_signer_name", "consent_relationship", "consent_signed_at"):
            data.pop(name, None)
    # Outside any shared consortium no schedule binds the invited end: the fee is the agreed one.
    fee = agreed if agreed is not None else selectors.fee_for(consortium, kind)
    try:
        with transaction.atomic():
            teleconsultation = Teleconsultation(
                kind=kind,
                person=person,
                inviting_institution=inviting_institution,
                invited_institution=invited_institution,
                inviting_doctor=actor,
                consortium=consortium,
                fee_amount=fee,
                outside_consortium=outside,
                created_by=actor,
                idempotency_key=key,
                **data,
            )
            save_numbered(teleconsultation)
            step(
                actor=actor,
                teleconsultation=teleconsultation,
                action="create",
                side=TeleconsultationSide.INVITING,
                after=snapshot(teleconsultation, AUDITED_FIELDS),
                details={"fee_amount": str(fee), "fee_source": "agreement" if outside else "consortium"},
            )
            _notify_invited(
                teleconsultation, "teleconsultation.new", gettext_noop("新的远程会诊邀请：{number}")
            )
    except IntegrityError as error:
        if key:
            existing = Teleconsultation.objects.filter(created_by=actor, idempotency_key=key).first()
            if existing is not None:
                return existing, False
        raise Conflict(_("会诊单号冲突，请重试。")) from error
    return teleconsultation, True


# --- workflow actions --------------------------------------------------------------------------


def _allowed(actor: Any, teleconsultation: Teleconsultation, action: str) -> workflow.Transition:
    """The transition if the actor may take it now: NotAllowed for the wrong side, Conflict for the wrong state."""
    transition = workflow.transition_for(action)
    if transition is None:
        raise Invalid({"action": [_("未知的操作。")]})
    held = policies.sides_of(actor, teleconsultation).get(transition.side, frozenset())
    if not held & transition.roles:
        if transition.side == TeleconsultationSide.EXPERT:
            raise NotAllowed(_("只有指定的会诊专家可以签署会诊意见。"))
        raise NotAllowed(_("您不是该会诊的邀请方或受邀方，不能执行此操作。"))
    if teleconsultation.status not in transition.sources:
        raise Conflict(
            _("会诊单当前状态为“{status}”，不能执行此操作（可能已被他人处理，请刷新）。").format(
                status=TeleconsultationStatus(teleconsultation.status).label
            )
        )
    return transition


def teleconsultation_act(
    *,
    actor: Any,
    teleconsultation: Teleconsultation,
    action: str,
    expected_version: int | None = None,
    **fields: Any,
) -> Teleconsultation:
    """Take one workflow action: accept (with ``expert``), decline (``reason``), assign (``expert``;
    back to accepted, the booked free time released, to be scheduled again),
    schedule (``scheduled_at``, ``meeting_link``, optional ``availability`` slot of the expert),
    sign_opinion (``opinion``, the assigned expert, once), conclude (``decision``, ``outcome``;
    ``referred`` also needs ``referral_to_department`` and creates the referral), cancel (``reason``).

    The row is locked first, so of two concurrent answers one wins and the
    other gets Conflict. One transaction: the change, the timeline step,
    the audit event, notifications of the other side, billing records (on
    signing) and the referral (on concluding as referred). Raises NotAllowed
    (wrong side or role), Conflict (wrong state, stale version, slot taken),
    Invalid (missing or bad fields).
    """
    handler = _HANDLERS.get(action)
    if handler is None:
        raise Invalid({"action": [_("未知的操作。")]})
    slot = fields.get("availability")
    if isinstance(slot, ExpertAvailability):
        # A booked free time sets the session's time.
        fields["scheduled_at"] = slot.starts_at
    with transaction.atomic():
        locked = _lock(teleconsultation, expected_version)
        transition = _allowed(actor, locked, action)
        values = {name: fields.get(name) for name in transition.required}
        for name, value in values.items():
            if isinstance(value, str):
                values[name] = value.strip()
        check = _FIELD_CHECKS.get(action)
        errors: dict[str, list[str]] = check(locked, fields) if check is not None else {}
        # A missing field's own message wins over what its check says of the empty value.
        errors.update({name: [required_message()] for name in workflow.missing_fields(transition, values)})
        raise_if(errors)
        from_status = locked.status
        details = handler(actor, locked, transition.target, fields) or {}
        step(
            actor=actor,
            teleconsultation=locked,
            action=action,
            side=transition.side,
            from_status=from_status,
            note=str(fields.get("reason") or fields.get("note") or "")[:500],
            details=details,
        )
    return locked


def _accept(actor: Any, tc: Teleconsultation, target: str, fields: dict[str, Any]) -> dict[str, Any]:
    expert = fields["expert"]
    _check_expert(tc, expert)
    bump(tc, status=target, expert=expert, answered_at=timezone.now(), answered_by=actor)
    _notify_inviting(tc, "teleconsultation.answered", gettext_noop("远程会诊邀请已接受：{number}"))
    _notify_expert(tc, gettext_noop("您被指定为远程会诊专家：{number}"))
    return {"expert": str(expert.public_id)}


def _decline(actor: Any, tc: Teleconsultation, target: str, fields: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    bump(
        tc,
        status=target,
        decline_reason=str(fields["reason"]).strip()[:200],
        answered_at=now,
        answered_by=actor,
        ended_at=now,
    )
    _notify_inviting(tc, "teleconsultation.answered", gettext_noop("远程会诊邀请被谢绝：{number}"))
    return {}


def _assign(actor: Any, tc: Teleconsultation, target: str, fields: dict[str, Any]) -> dict[str, Any]:
    expert = fields["expert"]
    _check_expert(tc, expert)
    if expert.pk == tc.expert_id:
        raise Invalid({"expert": [_("该医师已是本次会诊的专家。")]})
    _release(tc)
    bump(tc, status=target, expert=expert, scheduled_at=None)
    _notify_expert(tc, gettext_noop("您被指定为远程会诊专家：{number}"))
    _notify_inviting(tc, "teleconsultation.answered", gettext_noop("远程会诊已更换专家：{number}"))
    return {"expert": str(expert.public_id)}


def _release(tc: Teleconsultation) -> bool:
    """Free the expert time the teleconsultation holds; True when it held one."""
    return bool(ExpertAvailability.objects.filter(taken_by=tc).update(taken_by=None))


def _book(tc: Teleconsultation, slot: ExpertAvailability) -> None:
    """Take ``slot`` for the teleconsultation atomically (one winner); Conflict when someone was faster."""
    if slot.expert_id != tc.expert_id or slot.institution_id != tc.invited_institution_id:
        raise Invalid({"availability": [_("所选时间不是本次会诊专家的可预约时间。")]})
    if slot.starts_at <= timezone.now():
        raise Invalid({"availability": [_("所选时间已过去。")]})
    taken = ExpertAvailability.objects.filter(pk=slot.pk, taken_by__isnull=True).update(taken_by=tc)
    if not taken:
        raise Conflict(_("该专家时间已被预约，请选择其他时间。"))


def _schedule(actor: Any, tc: Teleconsultation, target: str, fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    slot: ExpertAvailability | None = fields.get("availability")
    when = fields.get("scheduled_at")
    if not isinstance(when, datetime.datetime):
        errors["scheduled_at"] = [_("请填写会诊时间。")]
    elif when <= timezone.now():
        errors["scheduled_at"] = [_("会诊时间必须晚于现在。")]
    link = str(fields.get("meeting_link") or "").strip()
    if link:
        try:
            URLValidator(schemes=["https", "http"])(link)
        except ValidationError:
            errors["meeting_link"] = [_("请填写有效的会议链接（http:// 或 https://）。")]
        if len(link) > 300:
            errors["meeting_link"] = [_("不能超过 {limit} 个字。").format(limit=300)]
    raise_if(errors)
    held = ExpertAvailability.objects.filter(taken_by=tc).first()
    if held is not None and (slot is None or held.pk != slot.pk):
        _release(tc)
    if slot is not None and (held is None or held.pk != slot.pk):
        _book(tc, slot)
    bump(tc, status=target, scheduled_at=when, meeting_link=link)
    _notify_inviting(tc, "teleconsultation.answered", gettext_noop("远程会诊已排期：{number}"))
    _notify_expert(tc, gettext_noop("远程会诊已排期：{number}"))
    return {"scheduled_at": str(when), "booked": slot is not None}


def _sign_opinion(actor: Any, tc: Teleconsultation, target: str, fields: dict[str, Any]) -> dict[str, Any]:
    opinion = str(fields["opinion"]).strip()
    if len(opinion) > 2000:
        raise Invalid({"opinion": [_("不能超过 {limit} 个字。").format(limit=2000)]})
    now = timezone.now()
    bump(tc, status=target, opinion=opinion, opinion_signed_at=now, opinion_signed_by=actor)
    charged = _charge(tc)
    _notify_inviting(tc, "teleconsultation.opinion", gettext_noop("远程会诊意见已签署：{number}"))
    return {"charged": str(charged)}


def _charge(tc: Teleconsultation) -> Decimal:
    """The two billing records of a signed opinion: payable by the inviting institution, receivable by
    the invited one (nothing when the agreement sets no fee).

    Outside a consortium (``tc.outside_consortium``) the records name no consortium: the fee is the two
    institutions' own agreement, not an exchange inside the consortium the teleconsultation is filed under.
    """
    amount = tc.fee_amount or Decimal("0")
    if amount <= 0:
        return Decimal("0")
    consortium_id = None if tc.outside_consortium else tc.consortium_id
    common = {"teleconsultation": tc, "consortium_id": consortium_id, "amount": amount, "kind": tc.kind}
    TeleconsultationCharge.objects.bulk_create(
        [
            TeleconsultationCharge(
                institution=tc.inviting_institution,
                counterpart=tc.invited_institution,
                direction=ChargeDirection.PAYABLE,
                **common,
            ),
            TeleconsultationCharge(
                institution=tc.invited_institution,
                counterpart=tc.inviting_institution,
                direction=ChargeDirection.RECEIVABLE,
                **common,
            ),
        ]
    )
    return amount


def _conclude_problems(tc: Teleconsultation, fields: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with the decision's own fields (checked with the required ones, so one answer
    lists all: a 转诊 without a decision and without a department names both)."""
    decision = str(fields.get("decision") or "").strip()
    outcome = fields.get("outcome")
    errors: dict[str, list[str]] = {}
    if outcome and outcome not in TeleconsultationOutcome.values:
        errors["outcome"] = [_("无效的患者去向。")]
    if len(decision) > 2000:
        errors["decision"] = [_("不能超过 {limit} 个字。").format(limit=2000)]
    department = fields.get("referral_to_department")
    if outcome == TeleconsultationOutcome.REFERRED:
        if tc.person_id is None:
            errors["outcome"] = [_("未关联患者的会诊不能转诊。")]
        elif not isinstance(department, Department):
            errors["referral_to_department"] = [_("请选择转诊的接收科室。")]
    elif outcome == TeleconsultationOutcome.STAYED_LOCAL and tc.person_id is None:
        errors["outcome"] = [_("未关联患者的会诊请选择“其他”。")]
    return errors


def _conclude(actor: Any, tc: Teleconsultation, target: str, fields: dict[str, Any]) -> dict[str, Any]:
    decision = str(fields["decision"]).strip()
    outcome = fields["outcome"]
    department = fields.get("referral_to_department")
    changes: dict[str, Any] = {
        "status": target,
        "decision": decision,
        "outcome": outcome,
        "decided_at": timezone.now(),
        "ended_at": timezone.now(),
    }
    details: dict[str, Any] = {"outcome": outcome}
    if outcome == TeleconsultationOutcome.REFERRED:
        referral = _refer(actor, tc, department, fields)
        changes["referral"] = referral
        details["referral"] = referral.number
    bump(tc, **changes)
    _notify_invited(
        tc, "teleconsultation.concluded", gettext_noop("远程会诊已完成：{number}"), with_expert=True
    )
    return details


def _refer(actor: Any, tc: Teleconsultation, department: Department, fields: dict[str, Any]) -> Any:
    """Send the referral the decision calls for, in the caller's transaction; its errors name the
    ``referral_`` fields."""
    try:
        referral, _created = referral_create(
            actor=actor,
            person=tc.person,
            from_institution=tc.inviting_institution,
            submit=True,
            acknowledge_missing=bool(fields.get("acknowledge_missing")),
            to_department=department,
            from_department=tc.inviting_department,
            kind=fields.get("referral_kind") or "outpatient",
            diagnosis_code=tc.diagnosis_code,
            diagnosis_name=tc.diagnosis_name,
            reason=(_("远程会诊 {number} 后转诊").format(number=tc.number))[:100],
            history=tc.case_summary,
            exam_results=tc.exam_results,
            plan=str(fields.get("decision") or ""),
            patient_consented=True,
        )
    except Invalid as error:
        raise Invalid(
            {
                (name if name == "__all__" else f"referral_{name}"): messages
                for name, messages in error.as_text().items()
            }
        ) from error
    return referral


def _cancel(actor: Any, tc: Teleconsultation, target: str, fields: dict[str, Any]) -> dict[str, Any]:
    _release(tc)
    bump(tc, status=target, decline_reason=str(fields["reason"]).strip()[:200], ended_at=timezone.now())
    _notify_invited(
        tc, "teleconsultation.cancelled", gettext_noop("远程会诊已取消：{number}"), with_expert=True
    )
    return {}


def _sign_problems(tc: Teleconsultation, fields: dict[str, Any]) -> dict[str, list[str]]:
    """An opinion is signed after the session: before the scheduled start the consultation cannot
    have been held yet (WS 445.13 dates the record by the consultation's end). Every signable
    teleconsultation is scheduled (``sign_opinion`` starts from ``scheduled``); a session held
    earlier than booked is first rescheduled by the invited side."""
    if tc.scheduled_at is not None and tc.scheduled_at > timezone.now():
        when = timezone.localtime(tc.scheduled_at).strftime("%Y-%m-%d %H:%M")
        return {"scheduled_at": [_("会诊定于 {time} 开始，会诊开始前不能签署会诊意见。").format(time=when)]}
    return {}


_FIELD_CHECKS = {"conclude": _conclude_problems, "sign_opinion": _sign_problems}
"""Checks of an action's own fields, run before the step with the required-field check."""


_HANDLERS = {
    "accept": _accept,
    "decline": _decline,
    "assign": _assign,
    "schedule": _schedule,
    "sign_opinion": _sign_opinion,
    "conclude": _conclude,
    "cancel": _cancel,
}


# --- notifications -----------------------------------------------------------------------------


def _link(tc: Teleconsultation) -> str:
    return f"/telemedicine/{tc.public_id}/"


def _notify_invited(tc: Teleconsultation, topic: str, title: str, *, with_expert: bool = False) -> None:
    """Tell the invited institution's coordinators (and the expert when asked); ``title`` is an untranslated
    msgid (``gettext_noop``) with ``{number}``, read in each recipient's language."""
    recipients = list(users_holding(tc.invited_institution_id, workflow.ANSWERING_ROLES))
    if with_expert and tc.expert_id:
        recipients.append(tc.expert)
    notify(
        recipients=recipients,
        topic=topic,
        title=message(title, number=tc.number),
        body=f"{tc.inviting_institution.name} → {tc.invited_institution.name}",
        link=_link(tc),
        object_id=str(tc.public_id),
    )


def _notify_inviting(tc: Teleconsultation, topic: str, title: str) -> None:
    """Tell the inviting doctor (or the inviting institution's clinicians when the doctor left)."""
    if tc.inviting_doctor_id and tc.inviting_doctor.is_active:
        recipients: list[Any] = [tc.inviting_doctor]
    else:
        recipients = list(users_holding(tc.inviting_institution_id, workflow.INVITING_ROLES))
    notify(
        recipients=recipients,
        topic=topic,
        title=message(title, number=tc.number),
        body=tc.invited_institution.name,
        link=_link(tc),
        object_id=str(tc.public_id),
    )


def _notify_expert(tc: Teleconsultation, title: str) -> None:
    """Tell the assigned expert."""
    if tc.expert_id:
        notify(
            recipients=[tc.expert],
            topic="teleconsultation.assigned",
            title=message(title, number=tc.number),
            body=tc.inviting_institution.name,
            link=_link(tc),
            object_id=str(tc.public_id),
        )


# --- attachments -------------------------------------------------------------------------------


def teleconsultation_attach(
    *, actor: Any, teleconsultation: Teleconsultation, kind: str, upload: UploadedFile | None
) -> TeleconsultationAttachment:
    """Attach a file (the inviting clinicians, the invited coordinators or the expert, while open).

    Writes the timeline step and audit event ``teleconsultation.attach``.
    Raises NotAllowed, Invalid (kind, type, size), Conflict (ended).
    """
    sides = policies.sides_of(actor, teleconsultation)
    inviting = bool(sides[TeleconsultationSide.INVITING] & workflow.INVITING_ROLES)
    if not (inviting or sides[TeleconsultationSide.INVITED] or sides[TeleconsultationSide.EXPERT]):
        raise NotAllowed(_("您不能为该会诊上传资料。"))
    errors: dict[str, list[str]] = {}
    if kind not in AttachmentKind.values:
        errors["kind"] = [_("无效的资料类型。")]
    if upload is None:
        errors["file"] = [_("请选择文件。")]
    else:
        name = upload.name or ""
        suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if suffix not in ATTACHMENT_TYPES:
            errors["file"] = [_("只能上传 PDF、图片、DICOM、Word 或文本文件。")]
        elif (upload.size or 0) > MAX_ATTACHMENT_BYTES:
            errors["file"] = [_("文件不能超过 20 MB。")]
    raise_if(errors)
    assert upload is not None
    with transaction.atomic():
        locked = _lock(teleconsultation, None)
        if locked.status in ENDED_STATUSES:
            raise Conflict(_("会诊已结束，不能再上传资料。"))
        attachment = TeleconsultationAttachment(
            teleconsultation=locked,
            kind=kind,
            original_filename=(upload.name or "")[:255],
            size=upload.size or 0,
            uploaded_by=actor,
        )
        attachment.file.save(upload.name or "file", upload, save=False)
        attachment.save()
        side = TeleconsultationSide.INVITING if inviting else TeleconsultationSide.INVITED
        if not inviting and sides[TeleconsultationSide.EXPERT]:
            side = TeleconsultationSide.EXPERT
        step(
            actor=actor,
            teleconsultation=locked,
            action="attach",
            side=side,
            from_status=locked.status,
            note=message(
                gettext_noop("{kind}：{filename}"),
                kind=AttachmentKind(kind),
                filename=attachment.original_filename,
            ),
        )
    return attachment
