"""Writes of diagnostic orders: ordering (with the recognition check), every workflow action,
study uploads, reports, critical values and their escalation."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from yilian.accounts.selectors import users_holding, users_holding_in_consortium
from yilian.core.audit import record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed, required_message
from yilian.core.icd10 import parse_icd10
from yilian.core.messages import Message, message
from yilian.core.permissions import Role
from yilian.diagnostics import policies, workflow
from yilian.diagnostics.choices import (
    PATIENT_KINDS,
    PRIORITY_RANK,
    SPECIMEN_KINDS,
    CentreKind,
    OrderPriority,
    OrderSide,
    OrderStatus,
    RecognitionOutcome,
    RejectionReason,
    ReportStatus,
    rejection_reasons_for,
)
from yilian.diagnostics.models import (
    CriticalValueAlert,
    DiagnosticItem,
    DiagnosticOrder,
    DiagnosticReport,
    RecognitionDecision,
    StudyFile,
)
from yilian.diagnostics.selectors import Recognition, find_by_barcode, recognised_result_for
from yilian.diagnostics.services._common import bump, raise_if, save_numbered, step
from yilian.diagnostics.services.uploads import CheckedFile, check_upload
from yilian.institutions.models import Department, Institution
from yilian.notifications.services import notify
from yilian.people.choices import PersonLinkReason
from yilian.people.models import Person
from yilian.people.selectors import person_visible_to
from yilian.people.services import person_link

AUDITED_FIELDS = ("person", "centre", "item", "priority", "diagnosis_code", "price", "repeat_reason")
MAX_FILES_PER_UPLOAD = 500


class RecognisedResultExists(Invalid):
    """Invalid on ``repeat_reason``: the patient has a valid recognised result; ``recognition`` carries it."""

    def __init__(self, recognition: Recognition) -> None:
        prior = recognition.order
        super().__init__(
            {
                "repeat_reason": [
                    _(
                        "该患者已有可互认的“{item}”结果（{centre}，{date}，单号 {number}，有效至 {until}）。"
                        "如需重复检查，请填写重复原因；也可直接采用既往结果。"
                    ).format(
                        item=prior.item_name,
                        centre=prior.centre.name,
                        date=timezone.localtime(prior.final_at).date(),
                        number=prior.number,
                        until=timezone.localtime(recognition.valid_until).date(),
                    )
                ]
            }
        )
        self.recognition = recognition


# --- ordering --------------------------------------------------------------------------------------


def _not_for_patients(item: DiagnosticItem) -> str:
    return _("“{item}”是{kind}的项目，不为患者提供，不能为居民开单。").format(
        item=item.name, kind=CentreKind(item.centre.kind).label
    )


def _check_orderer(actor: Any, person: Person, institution: Institution, item: DiagnosticItem) -> None:
    if not policies.can_order_at(actor, item.centre, institution.pk):
        raise NotAllowed(_("您不能在该机构向此诊断中心开单（仅限中心服务的成员单位的医生）。"))
    if not person_visible_to(actor).filter(pk=person.pk).exists():
        raise NotAllowed(_("您无权为该居民开单。"))


def order_create(
    *,
    actor: Any,
    person: Person,
    institution: Institution,
    item: DiagnosticItem,
    department: Department | None = None,
    priority: str = OrderPriority.ROUTINE,
    clinical_info: str = "",
    diagnosis_code: str = "",
    diagnosis_name: str = "",
    repeat_reason: str = "",
    idempotency_key: str = "",
) -> tuple[DiagnosticOrder, bool]:
    """Order a catalogue item for a patient at the actor's institution, for the centre running the item.

    A doctor of an institution the centre serves; the item and centre must
    be active and the centre one that serves patients (not the sterilisation
    supply centre: Invalid on ``item``); the ICD-10 code is checked. When the patient already has a
    valid recognised result of the item in scope, a ``repeat_reason`` is
    required (RecognisedResultExists otherwise, carrying the prior result)
    and a "repeated" decision is recorded. Specimen centres get a barcode.
    The same ``idempotency_key`` from the same user returns the first
    order (created false). Links the patient to the centre's hub, notifies
    the centre for urgent orders. Audited ``diagnostics.create``.
    Raises NotAllowed, Invalid, Conflict.
    """
    key = (idempotency_key or "").strip()[:64]
    if key and getattr(actor, "is_authenticated", False):
        existing = DiagnosticOrder.objects.filter(created_by=actor, idempotency_key=key).first()
        if existing is not None:
            return existing, False
    centre = item.centre
    _check_orderer(actor, person, institution, item)
    errors: dict[str, list[str]] = {}
    if centre.kind not in PATIENT_KINDS:
        errors["item"] = [_not_for_patients(item)]
    elif not (item.is_active and centre.is_active):
        errors["item"] = [_("该项目或诊断中心已停用。")]
    if priority not in OrderPriority.values:
        errors["priority"] = [_("无效的优先级。")]
    if department is not None and department.institution_id != institution.pk:
        errors["department"] = [_("开单科室不属于开单机构。")]
    code = ""
    try:
        code = parse_icd10(diagnosis_code).code
    except Invalid as error:
        errors.update(error.as_text())
    if len(diagnosis_name or "") > 50:
        errors["diagnosis_name"] = [_("不能超过 {limit} 个字。").format(limit=50)]
    clinical_info = (clinical_info or "").strip()
    if len(clinical_info) > 4000:
        # Refused, not cut: a silently shortened history reaches the reading doctor incomplete.
        errors["clinical_info"] = [_("不能超过 {limit} 个字。").format(limit=4000)]
    repeat_reason = (repeat_reason or "").strip()
    if len(repeat_reason) > 200:
        errors["repeat_reason"] = [_("不能超过 {limit} 个字。").format(limit=200)]
    raise_if(errors)
    recognition = recognised_result_for(person, item.code, institution)
    if recognition is not None and not repeat_reason:
        raise RecognisedResultExists(recognition)
    now = timezone.now()
    try:
        with transaction.atomic():
            order = DiagnosticOrder(
                person=person,
                ordering_institution=institution,
                ordering_department=department,
                ordering_doctor=actor,
                centre=centre,
                item=item,
                item_code=item.code,
                item_name=item.name,
                price=item.price,
                consortium_id=centre.consortium_id,
                region_code=centre.hub_institution.region.code,
                priority=priority,
                priority_rank=PRIORITY_RANK[OrderPriority(priority)],
                clinical_info=clinical_info,
                diagnosis_code=code,
                diagnosis_name=(diagnosis_name or "").strip(),
                ordered_at=now,
                due_at=now + datetime.timedelta(hours=item.turnaround_hours),
                needs_second_reader=item.requires_second_reader,
                recognised_prior=recognition.order if recognition else None,
                repeat_reason=repeat_reason if recognition else "",
                created_by=actor,
                idempotency_key=key,
            )
            save_numbered(order, with_barcode=centre.kind in SPECIMEN_KINDS)
            if recognition is not None:
                RecognitionDecision.objects.create(
                    person=person,
                    item_code=item.code,
                    prior_order=recognition.order,
                    rule_id=recognition.rule_id,
                    outcome=RecognitionOutcome.REPEATED,
                    reason=repeat_reason,
                    decided_by=actor,
                    institution=institution,
                    consortium_id=centre.consortium_id,
                    new_order=order,
                )
            person_link(
                actor=actor,
                person=person,
                institution=centre.hub_institution,
                reason=PersonLinkReason.ORDER,
            )
            step(
                actor=actor,
                order=order,
                action="create",
                side=OrderSide.ORDERING,
                note=message(gettext_noop("重复检查：{reason}"), reason=repeat_reason) if recognition else "",
                after=snapshot(order, AUDITED_FIELDS),
            )
            if priority != OrderPriority.ROUTINE:
                _notify_centre(order, gettext_noop("加急检查申请：{number}"))
    except IntegrityError as error:
        if key:
            existing = DiagnosticOrder.objects.filter(created_by=actor, idempotency_key=key).first()
            if existing is not None:
                return existing, False
        raise Conflict(_("申请单号冲突，请重试。")) from error
    return order, True


def recognition_use(
    *, actor: Any, person: Person, institution: Institution, item: DiagnosticItem
) -> RecognitionDecision:
    """Use the patient's valid recognised result instead of ordering the item again.

    Records a "used" decision with the item's price as money saved; no order
    is created. Audited ``diagnostics.recognition_use``. Raises NotAllowed,
    Invalid (no valid recognised result now).
    """
    _check_orderer(actor, person, institution, item)
    if item.centre.kind not in PATIENT_KINDS:
        raise Invalid({"item": [_not_for_patients(item)]})
    recognition = recognised_result_for(person, item.code, institution)
    if recognition is None:
        raise Invalid({"item": [_("该患者没有可互认的有效结果。")]})
    with transaction.atomic():
        decision = RecognitionDecision.objects.create(
            person=person,
            item_code=item.code,
            prior_order=recognition.order,
            rule_id=recognition.rule_id,
            outcome=RecognitionOutcome.USED,
            saved_amount=item.price,
            decided_by=actor,
            institution=institution,
            consortium_id=item.centre.consortium_id,
        )
        record_event(
            actor=actor,
            action="diagnostics.recognition_use",
            obj=decision,
            details={
                "item_code": item.code,
                "prior_order": recognition.order.number,
                "saved_amount": str(item.price),
            },
            institution_public_id=institution.public_id,
            consortium_public_id=item.centre.consortium.public_id,
        )
    return decision


# --- workflow --------------------------------------------------------------------------------------

LOCK_RELATED = (
    "ordering_institution",
    "ordering_doctor",
    "centre__hub_institution",
    "consortium",
    "item",
)
"""Joined under the lock. Not the holder: a claim waiting on the lock gets the claimed row again
after the winner commits, but PostgreSQL keeps the joined rows of its first read (no holder then),
so the holder is read on access."""


def _lock(order: DiagnosticOrder, expected_version: int | None) -> DiagnosticOrder:
    """Re-read the order under a row lock and check the version the caller saw."""
    locked = (
        DiagnosticOrder.objects.select_for_update(of=("self",)).select_related(*LOCK_RELATED).get(pk=order.pk)
    )
    _check_version(locked, expected_version)
    return locked


def _check_version(order: DiagnosticOrder, expected_version: int | None) -> None:
    if expected_version is not None and order.version != expected_version:
        raise Conflict(_("该申请单已被他人更新，请刷新后重试。"))


def _holder_label(order: DiagnosticOrder) -> str:
    holder = order.claimed_by
    if holder is None:
        return _("其他医生")
    return getattr(holder, "full_name", "") or holder.get_username()


def _allowed(actor: Any, order: DiagnosticOrder, action: str) -> workflow.Transition:
    """The transition for ``action`` if the actor may take it now: NotAllowed for the wrong side or role,
    Conflict for the wrong state (naming the holder when another doctor claimed the order)."""
    transition = workflow.transition_for(action)
    if transition is None:
        raise Invalid({"action": [_("未知的操作。")]})
    held = policies.sides_of(actor, order).get(transition.side, frozenset())
    if not held & transition.roles:
        raise NotAllowed(_("您不是该申请单的开单方或诊断中心人员，不能执行此操作。"))
    if order.centre.kind not in transition.kinds:
        raise Invalid({"action": [_("该类诊断中心不适用此操作。")]})
    other_holder = order.claimed_by_id is not None and order.claimed_by_id != actor.pk
    if action == "claim" and order.status in (OrderStatus.READING, OrderStatus.PRELIMINARY):
        raise Conflict(_("该检查已由 {holder} 领取诊断。").format(holder=_holder_label(order)))
    if action in workflow.HOLDER_ACTIONS and other_holder and order.status in transition.sources:
        raise Conflict(_("该检查已由 {holder} 领取诊断，您不能操作。").format(holder=_holder_label(order)))
    if order.status not in transition.sources:
        raise Conflict(
            _("申请单当前状态为“{status}”，不能执行此操作（可能已被他人处理，请刷新）。").format(
                status=OrderStatus(order.status).label
            )
        )
    return transition


def order_act(
    *, actor: Any, order: DiagnosticOrder, action: str, expected_version: int | None = None, **fields: Any
) -> DiagnosticOrder:
    """Take one workflow action on an order: collect, dispatch, receive, reject, claim, release,
    save_preliminary, sign, second_sign, amend, cancel (``upload`` is ``study_upload``).

    The row is locked first, so of two concurrent claims or signs one wins
    and the other gets Conflict (naming the holder for a claim). ``fields``
    are the action's inputs (``reason``, ``note``, ``findings``,
    ``conclusion``, ``is_abnormal``, ``critical_value``,
    ``request_second_reader``). Writes the timeline step and audit event,
    notifies the other side. Raises NotAllowed, Conflict, Invalid.
    """
    if action == "upload":
        raise Invalid({"action": [_("请通过文件上传接口上传检查文件。")]})
    handler = _HANDLERS.get(action)
    if handler is None:
        raise Invalid({"action": [_("未知的操作。")]})
    with transaction.atomic():
        locked = _lock(order, None)
        # The state's own answer first: a doctor claiming a study another doctor took a moment ago
        # learns who holds it, not only that the page is stale.
        transition = _allowed(actor, locked, action)
        _check_version(locked, expected_version)
        values = {name: str(fields.get(name) or "").strip() for name in transition.required}
        missing = workflow.missing_fields(transition, values)
        if missing:
            raise Invalid({name: [required_message()] for name in missing})
        from_status = locked.status
        note = handler(actor, locked, transition, fields)
        step(
            actor=actor,
            order=locked,
            action=action,
            side=transition.side,
            from_status=from_status,
            note=note or str(fields.get("reason") or fields.get("note") or "")[:500],
        )
        critical = str(fields.get("critical_value") or "").strip()
        if action == "sign" and critical:
            # After the sign step, so the timeline reads: signed, then the critical value reported.
            _raise_alert(actor, locked, locked.reports.order_by("-version").first(), critical)
    return locked


def order_receive_barcode(
    *, actor: Any, centre: Any, barcode: str, expected_version: int | None = None
) -> DiagnosticOrder:
    """Receive a specimen at ``centre`` by scanning its barcode.

    Raises Invalid on ``barcode`` when no order of the centre carries it or
    its specimen was already received (saying when and by whom; nothing
    changes); otherwise as ``order_act(action="receive")``.
    """
    if not policies.works_at_centre(actor, centre):
        raise NotAllowed(_("只有诊断中心的工作人员可以接收标本。"))
    code = (barcode or "").strip()
    order = find_by_barcode(centre, code) if code else None
    if order is None:
        raise Invalid({"barcode": [_("条码 {code} 不存在或不属于本中心。").format(code=code or "—")]})
    if order.received_at is not None:
        raise Invalid({"barcode": [_already_received(order)]})
    return order_act(actor=actor, order=order, action="receive", expected_version=expected_version)


def _already_received(order: DiagnosticOrder) -> str:
    """A second scan of a received specimen: say so, with when and by whom (from the timeline)."""
    event = order.events.filter(action="receive").order_by("-occurred_at", "-id").first()
    values = {
        "code": order.barcode,
        "number": order.number,
        "at": timezone.localtime(order.received_at).strftime("%Y-%m-%d %H:%M"),
    }
    if event is not None and event.actor_label:
        return _("标本 {code}（申请单 {number}）已于 {at} 由 {who} 接收，无需再次扫码。").format(
            who=event.display_actor, **values
        )
    return _("标本 {code}（申请单 {number}）已于 {at} 接收，无需再次扫码。").format(**values)


def _collect(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    bump(order, status=transition.target, collected_at=timezone.now())
    return ""


def _dispatch(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    bump(order, status=transition.target, dispatched_at=timezone.now())
    return ""


def _receive(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    now = timezone.now()
    bump(
        order,
        status=transition.target,
        received_at=now,
        due_at=now + datetime.timedelta(hours=order.item.turnaround_hours),
    )
    return message(gettext_noop("条码 {code}"), code=order.barcode or "")


def _reject(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    reason = str(fields.get("reason") or "").strip()
    if reason not in RejectionReason.values:
        raise Invalid({"reason": [_("请选择拒收原因。")]})
    if reason not in rejection_reasons_for(order.centre.kind):
        raise Invalid(
            {
                "reason": [
                    _("“{reason}”不适用于{kind}的申请单，请选择：{choices}。").format(
                        reason=RejectionReason(reason).label,
                        kind=CentreKind(order.centre.kind).label,
                        choices=pgettext("punctuation", "、").join(
                            str(r.label) for r in rejection_reasons_for(order.centre.kind)
                        ),
                    )
                ]
            }
        )
    note = str(fields.get("note") or "").strip()[:300]
    if reason == RejectionReason.OTHER and not note:
        raise Invalid({"note": [_("原因为“其他”时请填写说明。")]})
    bump(
        order,
        status=transition.target,
        rejected_at=timezone.now(),
        rejection_reason=reason,
        rejection_note=note,
        claimed_by=None,
        claimed_at=None,
    )
    text = (
        message(gettext_noop("{reason}：{note}"), reason=RejectionReason(reason), note=note)
        if note
        else message(gettext_noop("{reason}"), reason=RejectionReason(reason))
    )
    _notify_orderer(order, gettext_noop("标本/检查被拒收：{number}"), body=text)
    return text


def _claim(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    bump(order, status=transition.target, claimed_by=actor, claimed_at=timezone.now())
    return ""


def _release(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    bump(order, status=transition.target, claimed_by=None, claimed_at=None)
    return ""


REPORT_TEXT_LIMIT = 10000


def _report_values(fields: dict[str, Any]) -> dict[str, Any]:
    findings = str(fields.get("findings") or "").strip()
    conclusion = str(fields.get("conclusion") or "").strip()
    if len(findings) > REPORT_TEXT_LIMIT or len(conclusion) > REPORT_TEXT_LIMIT:
        raise Invalid({"findings": [_("报告内容过长。")]})
    return {"findings": findings, "conclusion": conclusion, "is_abnormal": bool(fields.get("is_abnormal"))}


def _draft(order: DiagnosticOrder) -> DiagnosticReport | None:
    """The unsigned report version being written, if any."""
    return (
        order.reports.filter(status=ReportStatus.PRELIMINARY, signed_at__isnull=True)
        .order_by("-version")
        .first()
    )


def _write_draft(actor: Any, order: DiagnosticOrder, values: dict[str, Any]) -> DiagnosticReport:
    report = _draft(order)
    if report is None:
        last = order.reports.order_by("-version").values_list("version", flat=True).first() or 0
        report = DiagnosticReport(order=order, version=last + 1, author=actor)
    for key, value in values.items():
        setattr(report, key, value)
    report.author = actor
    report.save()
    return report


def _save_preliminary(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    _write_draft(actor, order, _report_values(fields))
    bump(order, status=transition.target)
    return ""


def _sign(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    values = _report_values(fields)
    needs_second = order.needs_second_reader or bool(fields.get("request_second_reader"))
    target = workflow.target_of(transition, needs_second_reader=needs_second)
    report = _write_draft(actor, order, values)
    now = timezone.now()
    report.status = ReportStatus.FINAL if target == OrderStatus.FINAL else ReportStatus.AWAITING_SECOND
    report.signed_at = now
    report.save()
    changes: dict[str, Any] = {
        "status": target,
        "reported_at": now,
        "is_abnormal": values["is_abnormal"],
        "needs_second_reader": needs_second,
    }
    if target == OrderStatus.FINAL:
        changes["final_at"] = now
    bump(order, **changes)
    if target == OrderStatus.FINAL:
        _notify_orderer(order, gettext_noop("报告已发布：{number}"))
        return ""
    _notify_centre(order, gettext_noop("报告待复核：{number}"), roles=workflow.READING_ROLES)
    return gettext_noop("待第二位医生复核")


def _second_sign(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    report = order.reports.filter(status=ReportStatus.AWAITING_SECOND).order_by("-version").first()
    if report is None:
        raise Conflict(_("没有待复核的报告。"))
    if report.author_id == actor.pk:
        raise NotAllowed(_("复核须由另一位医生完成。"))
    now = timezone.now()
    report.status = ReportStatus.FINAL
    report.second_reader = actor
    report.second_signed_at = now
    report.save(update_fields=["status", "second_reader", "second_signed_at", "updated_at"])
    bump(order, status=transition.target, final_at=now)
    critical = str(fields.get("critical_value") or "").strip()
    if critical:
        _raise_alert(actor, order, report, critical)
    _notify_orderer(order, gettext_noop("报告已发布：{number}"))
    return ""


def _amend(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    reason = str(fields.get("reason") or "").strip()[:300]
    values = _report_values(fields)
    previous = order.reports.filter(status=ReportStatus.FINAL).order_by("-version").first()
    if previous is None:
        raise Conflict(_("没有可修订的正式报告。"))
    now = timezone.now()
    previous.status = ReportStatus.SUPERSEDED
    previous.superseded_at = now
    previous.save(update_fields=["status", "superseded_at", "updated_at"])
    report = DiagnosticReport.objects.create(
        order=order,
        version=previous.version + 1,
        status=ReportStatus.FINAL,
        author=actor,
        signed_at=now,
        amendment_reason=reason,
        **values,
    )
    bump(order, status=transition.target, is_abnormal=values["is_abnormal"])
    critical = str(fields.get("critical_value") or "").strip()
    if critical:
        _raise_alert(actor, order, report, critical)
    _notify_orderer(order, gettext_noop("报告已修订：{number}"), body=reason)
    return message(gettext_noop("修订为第 {version} 版：{reason}"), version=report.version, reason=reason)


def _cancel(
    actor: Any, order: DiagnosticOrder, transition: workflow.Transition, fields: dict[str, Any]
) -> str | Message:
    bump(order, status=transition.target, cancel_reason=str(fields.get("reason") or "").strip()[:200])
    return ""


_HANDLERS = {
    "collect": _collect,
    "dispatch": _dispatch,
    "receive": _receive,
    "reject": _reject,
    "claim": _claim,
    "release": _release,
    "save_preliminary": _save_preliminary,
    "sign": _sign,
    "second_sign": _second_sign,
    "amend": _amend,
    "cancel": _cancel,
}


# --- study uploads ---------------------------------------------------------------------------------


def study_upload(
    *,
    actor: Any,
    order: DiagnosticOrder,
    files: list[UploadedFile],
    expected_version: int | None = None,
) -> list[StudyFile]:
    """Attach the acquired study (imaging, ECG) to an order; the order becomes ready to read.

    Every file is checked first (type by extension and magic bytes, size
    limit, DICOM must parse; its header is kept as metadata, never used for
    access); one bad file refuses the whole upload. All rows are written in
    one transaction, and files already stored are deleted when it fails,
    so nothing is half-saved. Audited ``diagnostics.upload``; notifies the
    centre. Raises NotAllowed, Invalid (on ``files``), Conflict.
    """
    if not files:
        raise Invalid({"files": [_("请选择要上传的文件。")]})
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise Invalid({"files": [_("一次最多上传 {n} 个文件。").format(n=MAX_FILES_PER_UPLOAD)]})
    with transaction.atomic():
        locked = _lock(order, expected_version)
        transition = _allowed(actor, locked, "upload")
        checked: list[CheckedFile] = []
        problems: list[str] = []
        for upload in files:
            try:
                checked.append(check_upload(upload, locked.centre.kind))
            except ValueError as error:
                problems.append(str(error))
        if problems:
            raise Invalid({"files": problems})
        stored: list[str] = []
        try:
            rows = []
            for item in checked:
                row = StudyFile(
                    order=locked,
                    kind=item.kind,
                    original_filename=(item.upload.name or "")[:255],
                    size=item.upload.size,
                    content_type=item.content_type,
                    metadata=item.metadata,
                    uploaded_by=actor,
                )
                item.upload.seek(0)
                row.file.save(item.upload.name, item.upload, save=False)
                stored.append(row.file.name)
                rows.append(row)
            StudyFile.objects.bulk_create(rows)
            from_status = locked.status
            now = timezone.now()
            changes: dict[str, Any] = {"status": transition.target}
            if locked.received_at is None:
                changes["received_at"] = now
                changes["due_at"] = now + datetime.timedelta(hours=locked.item.turnaround_hours)
            bump(locked, **changes)
            step(
                actor=actor,
                order=locked,
                action="upload",
                side=OrderSide.ORDERING,
                from_status=from_status,
                note=message(gettext_noop("上传 {n} 个文件"), n=len(rows)),
                details={"files": len(rows), "bytes": sum(row.size for row in rows)},
            )
            if from_status != OrderStatus.RECEIVED:
                _notify_centre(locked, gettext_noop("新检查待诊断：{number}"), roles=workflow.READING_ROLES)
        except BaseException:
            for name in stored:
                default_storage.delete(name)
            raise
    return rows


# --- critical values -------------------------------------------------------------------------------


def _raise_alert(
    actor: Any, order: DiagnosticOrder, report: DiagnosticReport, description: str
) -> CriticalValueAlert:
    recipient = (
        order.ordering_doctor if order.ordering_doctor_id and order.ordering_doctor.is_active else None
    )
    alert = CriticalValueAlert.objects.create(
        order=order,
        report=report,
        description=description[:300],
        recipient=recipient,
        raised_by=actor,
    )
    step(
        actor=actor,
        order=order,
        action="critical_value",
        side=OrderSide.CENTRE,
        from_status=order.status,
        note=description[:500],
    )
    recipients = (
        [recipient]
        if recipient
        else list(users_holding(order.ordering_institution_id, workflow.ORDERING_ROLES))
    )
    notify(
        recipients=recipients,
        topic="diagnostics.critical",
        title=message(gettext_noop("危急值：{number} {item}"), number=order.number, item=order.item_name),
        body=description[:500],
        link=_link(order),
        object_id=str(order.public_id),
    )
    return alert


def critical_value_raise(*, actor: Any, order: DiagnosticOrder, description: str) -> CriticalValueAlert:
    """Report a critical value on an order being read or reported (a centre doctor).

    Notifies the ordering doctor, who must acknowledge it. Audited
    ``diagnostics.critical_value``. Raises NotAllowed, Invalid (no description), Conflict (wrong state).
    """
    description = (description or "").strip()
    if not description:
        raise Invalid({"description": [_("请填写危急值内容。")]})
    with transaction.atomic():
        locked = _lock(order, None)
        if not policies.sides_of(actor, locked).get(OrderSide.CENTRE, frozenset()) & workflow.READING_ROLES:
            raise NotAllowed(_("只有诊断中心的医生可以报告危急值。"))
        if locked.status not in (
            OrderStatus.READING,
            OrderStatus.PRELIMINARY,
            OrderStatus.AWAITING_SECOND,
            OrderStatus.FINAL,
        ):
            raise Conflict(_("该申请单尚未进入诊断，不能报告危急值。"))
        report = locked.reports.order_by("-version").first()
        alert = _raise_alert(actor, locked, report, description)
    return alert


def critical_alert_acknowledge(
    *, actor: Any, alert: CriticalValueAlert, note: str = ""
) -> CriticalValueAlert:
    """The ordering doctor (or a doctor of the ordering institution) acknowledges a critical value.

    ``note`` is the record of what was done (处置记录) and is required: critical-value handling
    rules ask for the measures taken, not only that someone saw the alert. Audited
    ``diagnostics.critical_ack``. Raises NotAllowed, Conflict (already acknowledged),
    Invalid on ``note`` (empty or over 300 characters; nothing saved).
    """
    order = alert.order
    if not policies.sides_of(actor, order).get(OrderSide.ORDERING, frozenset()) & workflow.ORDERING_ROLES:
        raise NotAllowed(_("只有开单机构的医生可以确认危急值。"))
    with transaction.atomic():
        locked = CriticalValueAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            raise Conflict(_("该危急值已被确认。"))
        text = (note or "").strip()
        if not text:
            raise Invalid({"note": [_("请填写处置记录：已对患者采取了哪些措施。")]})
        if len(text) > 300:
            raise Invalid({"note": [_("不能超过 {limit} 个字。").format(limit=300)]})
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.acknowledgement_note = text
        locked.save(
            update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement_note", "updated_at"]
        )
        minutes = round((locked.acknowledged_at - locked.raised_at).total_seconds() / 60, 1)
        full = _lock(order, None)
        step(
            actor=actor,
            order=full,
            action="critical_ack",
            side=OrderSide.ORDERING,
            from_status=full.status,
            note=locked.acknowledgement_note,
            details={"minutes": minutes},
        )
    return locked


def critical_alerts_escalate(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Escalate unacknowledged critical values: after the centre's minutes to the ordering institution's
    doctors and administrators (level 1), after another period to the consortium office (level 2).

    Each alert escalates in its own transaction with a conditional update,
    so concurrent sweeps never notify twice. Returns counts by level.
    """
    now = now or timezone.now()
    counts = {"institution": 0, "office": 0}
    open_alerts = CriticalValueAlert.objects.filter(
        acknowledged_at__isnull=True, escalation_level__lt=2
    ).select_related("order__centre__hub_institution", "order__ordering_institution", "order__consortium")
    for alert in open_alerts:
        period = datetime.timedelta(minutes=alert.order.centre.critical_ack_minutes)
        since = alert.escalated_at or alert.raised_at
        if since + period > now:
            continue
        level = alert.escalation_level + 1
        with transaction.atomic():
            moved = CriticalValueAlert.objects.filter(
                pk=alert.pk, acknowledged_at__isnull=True, escalation_level=alert.escalation_level
            ).update(escalation_level=level, escalated_at=now)
            if not moved:
                continue
            order = alert.order
            if level == 1:
                recipients = list(
                    users_holding(order.ordering_institution_id, {Role.DOCTOR, Role.INSTITUTION_ADMIN})
                )
                counts["institution"] += 1
            else:
                recipients = list(users_holding_in_consortium(order.consortium_id, {Role.CONSORTIUM_OFFICE}))
                counts["office"] += 1
            notify(
                recipients=recipients,
                topic="diagnostics.critical_escalated",
                title=message(gettext_noop("危急值超时未确认：{number}"), number=order.number),
                body=alert.description,
                link=_link(order),
                object_id=str(order.public_id),
            )

            step(
                actor=None,
                order=order,
                action="critical_escalate",
                side=OrderSide.SYSTEM,
                from_status=order.status,
                note=message(gettext_noop("危急值超时未确认，已上报（第 {level} 级）"), level=level),
                details={"level": level},
            )
    return counts


# --- notifications ---------------------------------------------------------------------------------


def _link(order: DiagnosticOrder) -> str:
    return f"/diagnostics/orders/{order.public_id}/"


def _notify_orderer(order: DiagnosticOrder, title: str, body: str | Message = "") -> None:
    """Tell the ordering doctor (or the ordering institution's doctors when the doctor left); ``title`` is
    an untranslated msgid (``gettext_noop``) with ``{number}``, read in each recipient's language."""
    if order.ordering_doctor_id and order.ordering_doctor.is_active:
        recipients: list[Any] = [order.ordering_doctor]
    else:
        recipients = list(users_holding(order.ordering_institution_id, workflow.ORDERING_ROLES))
    notify(
        recipients=recipients,
        topic="diagnostics.order",
        title=message(title, number=order.number),
        body=body or f"{order.item_name} · {order.centre.name}",
        link=_link(order),
        object_id=str(order.public_id),
    )


def _notify_centre(
    order: DiagnosticOrder, title: str, roles: frozenset[str] = workflow.HANDLING_ROLES
) -> None:
    """Tell the centre's staff: ``roles`` in its department at the hub (the only ones who may act on it;
    nobody when the centre has no department). ``title`` is an untranslated msgid (``gettext_noop``)
    with ``{number}``."""
    centre = order.centre
    if centre.department_id is None:
        return
    users = users_holding(centre.hub_institution_id, roles, department_id=centre.department_id)
    notify(
        recipients=users,
        topic="diagnostics.order",
        title=message(title, number=order.number),
        body=f"{order.ordering_institution.name} · {order.item_name}",
        link=_link(order),
        object_id=str(order.public_id),
    )
