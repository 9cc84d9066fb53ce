"""Equipment support: devices donated or lent to members, and their maintenance by the donor's engineers."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.accounts.models import User
from yilian.accounts.selectors import users_holding
from yilian.capacity_building import policies
from yilian.capacity_building.choices import MAINTENANCE_OPEN, DeviceType, MaintenanceStatus, SupportKind
from yilian.capacity_building.models import MaintenanceRequest, SupportedDevice
from yilian.capacity_building.services._common import (
    audit,
    holds_at,
    not_future,
    raise_if,
    required,
    supporting_consortium,
    tell,
    too_long,
)
from yilian.core.audit import snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.messages import message
from yilian.core.permissions import Role
from yilian.institutions.models import Institution

MAX_VALUE = Decimal("99999999")
MAX_COST = Decimal("9999999")
MAX_LEND_DAYS = 366 * 5
DEVICE_FIELDS = (
    "device_type",
    "name",
    "model",
    "serial_number",
    "value",
    "support_kind",
    "delivered_on",
    "lent_until",
    "returned_on",
)
MAINTENANCE_FIELDS = ("status", "engineer", "completed_on", "work_done", "parts", "cost")
TAKEN = _("该维修单已被其他工程师接单或已处理，请刷新后查看。")


def device_register(
    *,
    actor: Any,
    donor: Institution,
    recipient: Institution,
    device_type: str,
    name: str,
    serial_number: str,
    support_kind: str,
    delivered_on: datetime.date | None,
    model: str = "",
    value: Decimal | None = None,
    lent_until: datetime.date | None = None,
    notes: str = "",
) -> SupportedDevice:
    """Register a device the donor (a lead hospital) donated or lent to a member. Audited ``device.register``.

    Raises NotAllowed unless the actor manages devices at ``donor``; Invalid on missing fields, a
    recipient the donor does not lead, a lent device without a due date after delivery (or a donated
    one with one), a future delivery date, a serial number the donor already registered.
    """
    if not policies.can_manage_device(actor, donor.pk):
        raise NotAllowed(_("只有支持单位的管理员或设备工程师可以登记设备。"))
    data = {
        "name": (name or "").strip(),
        "model": (model or "").strip(),
        "serial_number": (serial_number or "").strip(),
        "notes": (notes or "").strip(),
        "delivered_on": delivered_on,
    }
    errors: dict[str, list[str]] = {}
    required(
        data, {"name": _("设备名称"), "serial_number": _("序列号"), "delivered_on": _("交付日期")}, errors
    )
    too_long(data, {"name": 100, "model": 100, "serial_number": 60, "notes": 300}, errors)
    if device_type not in DeviceType.values:
        errors["device_type"] = [_("请选择设备类型。")]
    if support_kind not in SupportKind.values:
        errors["support_kind"] = [_("请选择支持方式。")]
    value = value if value is not None else Decimal("0")
    if not Decimal("0") <= value <= MAX_VALUE:
        errors["value"] = [_("价值应在 0 到 {n} 元之间。").format(n=MAX_VALUE)]
    not_future(delivered_on, "delivered_on", errors)
    if support_kind == SupportKind.LENT:
        if lent_until is None:
            errors["lent_until"] = [_("借用设备请填写借用截止日期。")]
        elif delivered_on and lent_until <= delivered_on:
            errors["lent_until"] = [_("借用截止日期应晚于交付日期。")]
        elif delivered_on and (lent_until - delivered_on).days > MAX_LEND_DAYS:
            errors["lent_until"] = [_("借用期限不能超过五年。")]
    elif support_kind == SupportKind.DONATED and lent_until is not None:
        errors["lent_until"] = [_("捐赠设备不填写借用截止日期。")]
    consortium = supporting_consortium(donor, recipient)
    if consortium is None:
        errors["recipient"] = [_("受援机构应为本院牵头的医联体成员单位。")]
    raise_if(errors)
    with transaction.atomic():
        device = SupportedDevice(
            consortium=consortium,
            donor=donor,
            recipient=recipient,
            device_type=device_type,
            support_kind=support_kind,
            value=value,
            lent_until=lent_until if support_kind == SupportKind.LENT else None,
            registered_by=actor,
            **data,
        )
        try:
            with transaction.atomic():
                device.save(force_insert=True)
        except IntegrityError as error:
            raise Invalid({"serial_number": [_("本院已登记该序列号的设备。")]}) from error
        audit(
            actor=actor,
            action="device.register",
            obj=device,
            institution=donor,
            consortium=consortium,
            after=snapshot(device, DEVICE_FIELDS),
            details={"recipient": recipient.name},
        )
    return device


def device_return(
    *, actor: Any, device: SupportedDevice, returned_on: datetime.date | None = None
) -> SupportedDevice:
    """Record that a lent device came back. Audited ``device.return``.
    Raises NotAllowed, Invalid (not lent, date before delivery or in the future), Conflict (already
    returned, or a repair request is still open)."""
    if not policies.can_manage_device(actor, device.donor_id):
        raise NotAllowed(_("只有支持单位的管理员或设备工程师可以办理归还。"))
    returned_on = returned_on or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if device.support_kind != SupportKind.LENT:
        errors["returned_on"] = [_("捐赠设备无需归还。")]
    elif returned_on < device.delivered_on:
        errors["returned_on"] = [_("归还日期不能早于交付日期。")]
    not_future(returned_on, "returned_on", errors)
    raise_if(errors)
    with transaction.atomic():
        if MaintenanceRequest.objects.filter(device=device, status__in=list(MAINTENANCE_OPEN)).exists():
            raise Conflict(_("该设备还有未完成的维修单，请先处理。"))
        updated = SupportedDevice.objects.filter(pk=device.pk, returned_on__isnull=True).update(
            returned_on=returned_on, updated_at=timezone.now()
        )
        if not updated:
            raise Conflict(_("该设备已归还。"))
        current = SupportedDevice.objects.select_related("donor", "consortium").get(pk=device.pk)
        audit(
            actor=actor,
            action="device.return",
            obj=current,
            institution=current.donor,
            consortium=current.consortium,
            after={"returned_on": str(returned_on)},
        )
    return current


def _number() -> str:
    return f"WX{timezone.localdate():%Y%m%d}{uuid.uuid4().hex[:6].upper()}"


def maintenance_request(*, actor: Any, device: SupportedDevice, fault_description: str) -> MaintenanceRequest:
    """Report a fault of a device the member holds; the donor's engineers see it on their worklist.
    Audited ``maintenance.request``. Raises NotAllowed (not the member's staff), Invalid (no
    description), Conflict (device returned, or a request for it is already open)."""
    if not policies.can_report_fault(actor, device):
        raise NotAllowed(_("只有设备所在机构的人员可以报修。"))
    text = (fault_description or "").strip()
    errors: dict[str, list[str]] = {}
    required({"fault_description": text}, {"fault_description": _("故障描述")}, errors)
    too_long({"fault_description": text}, {"fault_description": 1000}, errors)
    raise_if(errors)
    with transaction.atomic():
        current = (
            SupportedDevice.objects.select_for_update()
            .select_related("recipient", "consortium")
            .get(pk=device.pk)
        )
        if current.returned_on is not None:
            raise Conflict(_("该设备已归还支持单位，不能报修。"))
        if MaintenanceRequest.objects.filter(device=current, status__in=list(MAINTENANCE_OPEN)).exists():
            raise Conflict(_("该设备已有未完成的维修单。"))
        request = MaintenanceRequest(
            device=current,
            number=_number(),
            fault_description=text,
            requested_by=actor,
            requested_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                request.save(force_insert=True)
        except IntegrityError as error:
            raise Conflict(_("该设备已有未完成的维修单。")) from error
        audit(
            actor=actor,
            action="maintenance.request",
            obj=request,
            institution=current.recipient,
            consortium=current.consortium,
            details={"device": str(current), "fault": text[:200]},
        )
        tell(
            actor=actor,
            recipients=users_holding(current.donor_id, (Role.TECHNICIAN, Role.INSTITUTION_ADMIN)),
            topic="maintenance.requested",
            title=message(
                gettext_noop("设备报修 {number}：{device}"), number=request.number, device=current.name
            ),
            body=f"{current.recipient.name} · {text[:200]}",
            link=f"/capacity/maintenance/{request.public_id}/",
            obj=request,
        )
    return request


def _after_change(
    actor: Any, request: MaintenanceRequest, action: str, before: dict[str, Any], acting: str, **extra: Any
) -> MaintenanceRequest:
    current = MaintenanceRequest.objects.select_related(
        "device", "device__donor", "device__recipient", "device__consortium", "engineer", "requested_by"
    ).get(pk=request.pk)
    institution = current.device.donor if acting == "donor" else current.device.recipient
    audit(
        actor=actor,
        action=f"maintenance.{action}",
        obj=current,
        institution=institution,
        consortium=current.device.consortium,
        before=before,
        after=snapshot(current, MAINTENANCE_FIELDS),
        **extra,
    )
    titles = {
        "take": gettext_noop("维修单 {number} 已由工程师 {engineer} 接单"),
        "assign": gettext_noop("维修单 {number} 已派工给 {engineer}"),
        "complete": gettext_noop("维修单 {number} 已处理：{status}"),
    }
    if action in titles and current.engineer is not None:
        engineer = current.engineer.full_name or current.engineer.username
        title = message(
            titles[action], number=current.number, engineer=engineer, status=MaintenanceStatus(current.status)
        )
        recipients = [current.requested_by]
        if action == "assign":
            recipients.append(current.engineer)
        tell(
            actor=actor,
            recipients=recipients,
            topic=f"maintenance.{action}",
            title=title,
            body=f"{current.device.name} · {current.device.recipient.name}",
            link=f"/capacity/maintenance/{current.public_id}/",
            obj=current,
        )
    return current


def maintenance_take(*, actor: Any, request: MaintenanceRequest) -> MaintenanceRequest:
    """An engineer of the donor takes an unassigned request (``requested`` → ``assigned``).
    Audited ``maintenance.take``. Raises NotAllowed (not the donor's engineer), Conflict (somebody
    took it first, or it was cancelled): a conditional UPDATE, so only one of two engineers wins."""
    device = request.device
    if not policies.is_engineer_of(actor, device.donor_id):
        raise NotAllowed(_("只有支持单位的设备工程师可以接单。"))
    before = snapshot(request, MAINTENANCE_FIELDS)
    with transaction.atomic():
        now = timezone.now()
        updated = MaintenanceRequest.objects.filter(
            pk=request.pk, status=MaintenanceStatus.REQUESTED, engineer__isnull=True
        ).update(
            status=MaintenanceStatus.ASSIGNED,
            engineer=actor,
            assigned_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        if not updated:
            raise Conflict(TAKEN)
        return _after_change(actor, request, "take", before, "donor")


def maintenance_assign(
    *, actor: Any, request: MaintenanceRequest, engineer: User, expected_version: int | None = None
) -> MaintenanceRequest:
    """The donor's administrator assigns (or reassigns) an open request to one of its engineers.
    Audited ``maintenance.assign``. Raises NotAllowed, Invalid (not an engineer of the donor),
    Conflict (closed, or changed since ``expected_version``)."""
    device = request.device
    if not policies.can_dispatch(actor, device.donor_id):
        raise NotAllowed(_("只有支持单位的管理员可以派工。"))
    if not holds_at(engineer, device.donor_id, (Role.TECHNICIAN,)):
        raise Invalid({"engineer": [_("请选择本院的设备工程师。")]})
    before = snapshot(request, MAINTENANCE_FIELDS)
    with transaction.atomic():
        rows = MaintenanceRequest.objects.filter(pk=request.pk, status__in=list(MAINTENANCE_OPEN))
        if expected_version is not None:
            rows = rows.filter(version=expected_version)
        now = timezone.now()
        updated = rows.update(
            status=MaintenanceStatus.ASSIGNED,
            engineer=engineer,
            assigned_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        if not updated:
            raise Conflict(_("该维修单已处理或已被他人修改，请刷新后重试。"))
        return _after_change(actor, request, "assign", before, "donor")


def maintenance_complete(
    *,
    actor: Any,
    request: MaintenanceRequest,
    outcome: str,
    work_done: str,
    completed_on: datetime.date | None = None,
    parts: str = "",
    cost: Decimal | None = None,
    expected_version: int | None = None,
) -> MaintenanceRequest:
    """Close an assigned request as repaired or not repairable, with the work done, parts and cost
    (0 for the free support the seeds describe). Audited ``maintenance.complete``.

    Raises NotAllowed (not the assigned engineer or the donor's administrator), Invalid (bad outcome,
    no description, negative cost, date before the request or in the future), Conflict (not in repair
    any more, or changed since ``expected_version``).
    """
    device = request.device
    is_assignee = getattr(actor, "pk", None) == request.engineer_id and policies.is_engineer_of(
        actor, device.donor_id
    )
    if not (is_assignee or policies.can_dispatch(actor, device.donor_id)):
        raise NotAllowed(_("只有接单工程师或支持单位管理员可以填写维修结果。"))
    completed_on = completed_on or timezone.localdate()
    cost = cost if cost is not None else Decimal("0")
    data = {"work_done": (work_done or "").strip(), "parts": (parts or "").strip()}
    errors: dict[str, list[str]] = {}
    if outcome not in (MaintenanceStatus.REPAIRED, MaintenanceStatus.NOT_REPAIRABLE):
        errors["outcome"] = [_("请选择维修结果。")]
    required(data, {"work_done": _("维修情况")}, errors)
    too_long(data, {"work_done": 1000, "parts": 300}, errors)
    if not Decimal("0") <= cost <= MAX_COST:
        errors["cost"] = [_("费用应在 0 到 {n} 元之间。").format(n=MAX_COST)]
    not_future(completed_on, "completed_on", errors)
    if completed_on < timezone.localtime(request.requested_at).date():
        errors["completed_on"] = [_("完成日期不能早于报修日期。")]
    raise_if(errors)
    before = snapshot(request, MAINTENANCE_FIELDS)
    with transaction.atomic():
        rows = MaintenanceRequest.objects.filter(pk=request.pk, status=MaintenanceStatus.ASSIGNED)
        if expected_version is not None:
            rows = rows.filter(version=expected_version)
        updated = rows.update(
            status=outcome,
            completed_on=completed_on,
            cost=cost,
            version=F("version") + 1,
            updated_at=timezone.now(),
            **data,
        )
        if not updated:
            raise Conflict(_("该维修单已完成或已被他人修改，请刷新后重试。"))
        return _after_change(actor, request, "complete", before, "donor")


def maintenance_cancel(*, actor: Any, request: MaintenanceRequest, reason: str) -> MaintenanceRequest:
    """The member withdraws a request nobody has taken yet. Audited ``maintenance.cancel``.
    Raises NotAllowed, Invalid (no reason), Conflict (already taken or closed)."""
    if not policies.can_report_fault(actor, request.device):
        raise NotAllowed(_("只有设备所在机构的人员可以撤销报修。"))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": [_("请填写撤销原因。")]})
    if len(reason) > 300:
        raise Invalid({"reason": [_("不能超过 {limit} 个字。").format(limit=300)]})
    before = snapshot(request, MAINTENANCE_FIELDS)
    with transaction.atomic():
        updated = MaintenanceRequest.objects.filter(pk=request.pk, status=MaintenanceStatus.REQUESTED).update(
            status=MaintenanceStatus.CANCELLED,
            cancel_reason=reason,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if not updated:
            raise Conflict(_("工程师已接单或维修单已关闭，不能撤销。"))
        return _after_change(actor, request, "cancel", before, "recipient", details={"reason": reason})
