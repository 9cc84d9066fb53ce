"""Writes of dispatch batches (派出批次) and the experts' visits in them, with the batch workflow."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.accounts.selectors import users_holding
from yilian.core.audit import record_event
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.messages import Message, message, stored
from yilian.core.permissions import Role
from yilian.institutions.models import Department, Institution
from yilian.notifications.services import notify
from yilian.outreach import policies, workflow
from yilian.outreach.choices import BatchSide, OutreachKind
from yilian.outreach.levels import receives_outreach, service_level
from yilian.outreach.models import OutreachBatch, OutreachEvent, OutreachVisit
from yilian.outreach.services._common import (
    actor_label,
    check_count,
    check_date,
    raise_if,
    save_numbered,
    shared_consortium,
    too_long,
)

LONGEST_TRIP_DAYS = 31
"""A batch is one trip: at most a month (longer stays are postings)."""

COUNT_LIMITS = {
    "sessions": 50,
    "patients_seen": 2000,
    "attendees": 5000,
    "surgeries": 50,
    "records_reviewed": 5000,
    "hazards_found": 500,
    "hazards_fixed": 500,
}
"""Upper bounds of the workload counts of one visit (beyond them the entry is a typing error)."""

VISIT_FIELDS = (
    "expert",
    "home_department",
    "kind",
    "visit_on",
    *COUNT_LIMITS,
    "findings",
)
BATCH_FIELDS = ("status", "starts_on", "ends_on", "purpose", "summary")


def _step(
    *,
    actor: Any,
    batch: OutreachBatch,
    action: str,
    side: str,
    from_status: str = "",
    note: str | Message = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write the timeline step and the audit event of one change (inside the caller's transaction);
    the event is filed under the acting side's institution and the consortium. A system note is a
    ``core.messages.message`` (shown in each reader's language); typed text is kept as typed."""
    note_template, note_params = stored(note)
    institution = batch.sending_institution if side == BatchSide.SENDING else batch.host_institution
    OutreachEvent.objects.create(
        batch=batch,
        action=action,
        from_status=from_status,
        to_status=batch.status,
        side=side,
        actor=actor,
        actor_label=actor_label(actor),
        note=note_template[:500],
        note_params=note_params,
    )
    record_event(
        actor=actor,
        action=f"outreach_batch.{action}",
        obj=batch,
        before=before,
        after=after,
        details={"from_status": from_status, "to_status": batch.status},
        institution_public_id=institution.public_id,
        consortium_public_id=batch.consortium.public_id,
    )


def _locked(batch: OutreachBatch, expected_version: int | None = None) -> OutreachBatch:
    """The batch row locked for the change; Conflict when the client's version is stale."""
    locked = (
        OutreachBatch.objects.select_for_update(of=("self",))
        .select_related("sending_institution", "host_institution", "consortium")
        .get(pk=batch.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该派出批次已被他人修改，请刷新后重试。"))
    return locked


def _bump(batch: OutreachBatch, **changes: Any) -> None:
    """Save ``changes`` and increment the version in one UPDATE; mirror them on the instance."""
    changes["updated_at"] = timezone.now()
    OutreachBatch.objects.filter(pk=batch.pk).update(version=F("version") + 1, **changes)
    for key, value in changes.items():
        setattr(batch, key, value)
    batch.version += 1


def batch_create(
    *,
    actor: Any,
    sending_institution: Institution,
    host_institution: Institution,
    starts_on: Any,
    ends_on: Any,
    purpose: str,
) -> OutreachBatch:
    """Record a planned dispatch batch from a hospital to a member of a consortium they share.

    The sending institution's administrator or one of its experts. Audited
    ``outreach_batch.create``. Raises NotAllowed, Invalid (no shared
    consortium, the same institution, a member that sees no patients or is
    not below the sender's level — see ``yilian.outreach.levels`` —, dates out of order or longer than a
    month, missing purpose).
    """
    if sending_institution is None or not policies.can_record_batch_for(actor, sending_institution.pk):
        raise NotAllowed(_("只有派出单位的管理员或专家可以登记派出批次。"))
    errors: dict[str, list[str]] = {}
    consortium = None
    if sending_institution.is_primary:
        errors["sending_institution"] = [_("派出单位应为医院（基层医疗卫生机构不派出专家）。")]
    if host_institution is None:
        errors["host_institution"] = [_("请选择接收单位。")]
    elif host_institution.pk == sending_institution.pk:
        errors["host_institution"] = [_("接收单位不能是派出单位本身。")]
    elif not receives_outreach(host_institution):
        errors["host_institution"] = [_("专家下沉只能派往诊治患者的医疗机构，疾控中心等公共卫生机构不接收。")]
    elif service_level(host_institution) >= service_level(sending_institution):
        errors["host_institution"] = [_("专家下沉只能派往比派出单位层级低的成员单位。")]
    else:
        consortium = shared_consortium(sending_institution, host_institution)
        if consortium is None:
            errors["host_institution"] = [_("接收单位与派出单位不在同一医联体。")]
    start = check_date(starts_on, "starts_on", errors, _("开始日期"))
    end = check_date(ends_on, "ends_on", errors, _("结束日期"))
    if start and end:
        if end < start:
            errors["ends_on"] = [_("结束日期不能早于开始日期。")]
        elif (end - start).days + 1 > LONGEST_TRIP_DAYS:
            errors["ends_on"] = [_("一个批次最长 31 天；更长的派驻请登记为长期派驻。")]
    purpose = (purpose or "").strip()
    if not purpose:
        errors["purpose"] = [_("请填写帮扶内容。")]
    too_long({"purpose": purpose}, {"purpose": 200}, errors)
    raise_if(errors)
    assert consortium is not None and start is not None and end is not None
    with transaction.atomic():
        batch = OutreachBatch(
            consortium=consortium,
            sending_institution=sending_institution,
            host_institution=host_institution,
            starts_on=start,
            ends_on=end,
            purpose=purpose,
            created_by=actor,
        )
        save_numbered(batch, "XC")
        _step(
            actor=actor,
            batch=batch,
            action="create",
            side=BatchSide.SENDING,
            after={"host_institution": str(host_institution.public_id), "starts_on": str(start)},
        )
    return batch


def _visit_values(
    batch: OutreachBatch, data: dict[str, Any], current: OutreachVisit | None
) -> dict[str, Any]:
    """Check a visit's fields against the batch; return the values to save. Raises Invalid."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    expert = data.get("expert", current.expert if current else None)
    if expert is None:
        errors["expert"] = [_("请选择专家。")]
    elif batch.sending_institution_id not in policies.expert_institutions(expert):
        errors["expert"] = [_("专家必须是派出单位的医务人员。")]
    values["expert"] = expert
    department = data.get("home_department", current.home_department if current else None)
    if department is not None and (
        not isinstance(department, Department) or department.institution_id != batch.sending_institution_id
    ):
        errors["home_department"] = [_("科室不属于派出单位。")]
    values["home_department"] = department
    kind = data.get("kind", current.kind if current else "")
    if kind not in OutreachKind.values:
        errors["kind"] = [_("请选择帮扶形式。")]
    values["kind"] = kind
    day = check_date(
        data.get("visit_on", current.visit_on if current else None), "visit_on", errors, _("日期")
    )
    if day and not batch.starts_on <= day <= batch.ends_on:
        errors["visit_on"] = [
            _("日期应在批次的 %(start)s 至 %(end)s 之间。") % {"start": batch.starts_on, "end": batch.ends_on}
        ]
    values["visit_on"] = day
    for name, limit in COUNT_LIMITS.items():
        default = getattr(current, name) if current else (1 if name == "sessions" else 0)
        values[name] = check_count(data, name, limit, errors, default=default)
    if "sessions" not in errors and values["sessions"] < 1:
        errors["sessions"] = [_("次数至少为 1。")]
    if "hazards_fixed" not in errors and values["hazards_fixed"] > values["hazards_found"]:
        errors["hazards_fixed"] = [_("已整改隐患数不能多于发现的隐患数。")]
    findings = str(data.get("findings", current.findings if current else "") or "").strip()
    too_long({"findings": findings}, {"findings": 2000}, errors)
    values["findings"] = findings
    raise_if(errors)
    return values


def _editable(actor: Any, batch: OutreachBatch) -> None:
    if not policies.can_edit_batch(actor, batch):
        raise NotAllowed(_("只有派出单位的管理员或随行专家可以修改该批次。"))
    if batch.status not in workflow.EDITABLE_STATUSES:
        raise Conflict(_("该批次已确认或已取消，不能再修改。"))


def visit_add(
    *, actor: Any, batch: OutreachBatch, expected_version: int | None = None, **data: Any
) -> OutreachVisit:
    """Add an expert's work to a batch (planned or done, not yet confirmed).

    The sending administrator, or an expert of the sender adding their own
    work (an expert may only add themselves). Audited
    ``outreach_batch.visit_add``; bumps the batch version. Raises NotAllowed,
    Conflict (confirmed, cancelled, stale version), Invalid (fields).
    """
    with transaction.atomic():
        locked = _locked(batch, expected_version)
        _editable(actor, locked)
        values = _visit_values(locked, data, None)
        if (
            not policies.is_sending_manager(actor, locked.sending_institution_id)
            and values["expert"].pk != actor.pk
        ):
            raise Invalid({"expert": [_("专家只能登记本人的下沉工作。")]})
        visit = OutreachVisit.objects.create(
            batch=locked, title_at_visit=values["expert"].professional_title, **values
        )
        _bump(locked)
        _step(
            actor=actor,
            batch=locked,
            action="visit_add",
            side=BatchSide.SENDING,
            from_status=locked.status,
            note=message(
                gettext_noop("{expert} {kind}"),
                expert=values["expert"].full_name or values["expert"].username,
                kind=OutreachKind(values["kind"]),
            ),
            after={
                "visit": str(visit.public_id),
                "kind": values["kind"],
                "visit_on": str(values["visit_on"]),
            },
        )
    batch.version = locked.version
    return visit


def visit_update(
    *, actor: Any, visit: OutreachVisit, expected_version: int | None = None, **data: Any
) -> OutreachVisit:
    """Change a visit's kind, date or workload before the batch is confirmed.

    Audited ``outreach_batch.visit_update`` with the changed values. Raises
    NotAllowed, Conflict, Invalid like ``visit_add``.
    """
    with transaction.atomic():
        locked = _locked(visit.batch, expected_version)
        _editable(actor, locked)
        current = OutreachVisit.objects.select_related("expert", "home_department").get(pk=visit.pk)
        values = _visit_values(locked, data, current)
        if not policies.is_sending_manager(actor, locked.sending_institution_id) and (
            values["expert"].pk != actor.pk or current.expert_id != actor.pk
        ):
            raise NotAllowed(_("专家只能修改本人的下沉工作。"))
        fields = [name for name in VISIT_FIELDS if name in values]
        before = {name: str(getattr(current, name)) for name in fields}
        for name, value in values.items():
            setattr(current, name, value)
        current.save()
        after = {name: str(getattr(current, name)) for name in fields}
        changed_before = {k: v for k, v in before.items() if after[k] != v}
        changed_after = {k: after[k] for k in changed_before}
        _bump(locked)
        _step(
            actor=actor,
            batch=locked,
            action="visit_update",
            side=BatchSide.SENDING,
            from_status=locked.status,
            before=changed_before,
            after={"visit": str(current.public_id), **changed_after},
        )
    return current


def visit_remove(*, actor: Any, visit: OutreachVisit, expected_version: int | None = None) -> None:
    """Remove a visit recorded by mistake (before confirmation). Audited ``outreach_batch.visit_remove``."""
    with transaction.atomic():
        locked = _locked(visit.batch, expected_version)
        _editable(actor, locked)
        current = OutreachVisit.objects.select_related("expert").get(pk=visit.pk)
        if (
            not policies.is_sending_manager(actor, locked.sending_institution_id)
            and current.expert_id != actor.pk
        ):
            raise NotAllowed(_("专家只能删除本人的下沉工作。"))
        before = {"visit": str(current.public_id), "kind": current.kind, "visit_on": str(current.visit_on)}
        current.delete()
        _bump(locked)
        _step(
            actor=actor,
            batch=locked,
            action="visit_remove",
            side=BatchSide.SENDING,
            from_status=locked.status,
            before=before,
        )


def batch_act(
    *,
    actor: Any,
    batch: OutreachBatch,
    action: str,
    expected_version: int | None = None,
    note: str = "",
    summary: str | None = None,
) -> OutreachBatch:
    """Take one workflow action on a batch.

    ``complete`` (the sender: the trip has started and has at least one
    visit; ``summary`` optional), ``confirm`` (the member's administrator),
    ``return`` (the member's administrator, ``note`` = reason, required),
    ``cancel`` (the sender, planned only, ``note`` = reason, required).
    Audited ``outreach_batch.<action>``; the receiving side's
    administrators are notified of a completed batch, the sender of a
    returned one. Raises NotAllowed (wrong side), Conflict (state or stale
    version), Invalid (missing reason, no visit, trip not started).
    """
    transition = workflow.transition_for(action)
    if transition is None:
        raise Invalid({"action": [_("无效的操作。")]})
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if action in ("return", "cancel") and not note:
        errors["note"] = [_("请填写原因。")]
    too_long({"note": note, "summary": summary}, {"note": 200, "summary": 2000}, errors)
    raise_if(errors)
    with transaction.atomic():
        locked = _locked(batch, expected_version)
        if not policies.batch_sides(actor, locked).get(transition.side):
            raise NotAllowed(_("您不能对该派出批次执行此操作。"))
        if locked.status not in transition.sources:
            raise Conflict(_("该派出批次的状态已变化，不能执行此操作。"))
        changes: dict[str, Any] = {"status": transition.target}
        if action == "complete":
            if locked.starts_on > timezone.localdate():
                raise Invalid({"__all__": [_("批次尚未开始，不能标记为已完成。")]})
            if not locked.visits.exists():
                raise Invalid({"__all__": [_("请先登记至少一名专家的下沉工作。")]})
            if summary is not None:
                changes["summary"] = summary.strip()
        elif action == "confirm":
            changes.update(confirmed_at=timezone.now(), confirmed_by=actor)
        elif action in ("return", "cancel"):
            changes["cancel_reason"] = note
        from_status = locked.status
        _bump(locked, **changes)
        _step(
            actor=actor,
            batch=locked,
            action=action,
            side=transition.side,
            from_status=from_status,
            note=note,
            before={"status": from_status},
            after={"status": locked.status},
        )
        _notify(actor, locked, action)
    batch.status, batch.version = locked.status, locked.version
    return locked


def _notify(actor: Any, batch: OutreachBatch, action: str) -> None:
    """Tell the other side: the member's administrators of a completed batch, the sender's of a returned
    one (in the same transaction)."""
    if action == "complete":
        institution_id, title = batch.host_institution_id, gettext_noop("专家下沉批次 {number} 待确认")
    elif action == "return":
        institution_id, title = batch.sending_institution_id, gettext_noop("专家下沉批次 {number} 被退回")
    else:
        return
    recipients = [u for u in users_holding(institution_id, [Role.INSTITUTION_ADMIN]) if u.pk != actor.pk]
    notify(
        recipients=recipients,
        topic="outreach",
        title=message(title, number=batch.number),
        body=batch.purpose,
        link=f"/outreach/batches/{batch.public_id}/",
        object_id=str(batch.public_id),
    )
