"""Writes of experts' free times and of the consortium's teleconsultation fees."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core.audit import record_event
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.institutions.models import Institution
from yilian.telemedicine import policies
from yilian.telemedicine.choices import TeleconsultationKind
from yilian.telemedicine.models import ExpertAvailability, TeleconsultationFee
from yilian.telemedicine.services._common import raise_if

LONGEST_SLOT = datetime.timedelta(hours=12)
"""A published free time covers at most half a day."""

MAX_FEE = Decimal("99999.99")


def availability_publish(
    *,
    actor: Any,
    expert: Any,
    institution: Institution,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> ExpertAvailability:
    """Publish a time the expert is free for teleconsultations at the institution.

    The expert themselves or the institution's coordinators and
    administrators. Audited ``expert_availability.publish``. Raises
    NotAllowed, Invalid (not a doctor there, time in the past, end before
    start, too long, overlapping another of the expert's times).
    """
    if not policies.can_manage_availability(actor, institution.pk, expert):
        raise NotAllowed(_("您不能为该医师发布可预约时间。"))
    errors: dict[str, list[str]] = {}
    if expert is None or institution.pk not in policies.expert_institutions(expert):
        errors["expert"] = [_("只能为本机构的医师发布可预约时间。")]
    if not isinstance(starts_at, datetime.datetime):
        errors["starts_at"] = [_("请填写开始时间。")]
    elif starts_at <= timezone.now():
        errors["starts_at"] = [_("开始时间必须晚于现在。")]
    if not isinstance(ends_at, datetime.datetime):
        errors["ends_at"] = [_("请填写结束时间。")]
    elif isinstance(starts_at, datetime.datetime):
        if ends_at <= starts_at:
            errors["ends_at"] = [_("结束时间必须晚于开始时间。")]
        elif ends_at - starts_at > LONGEST_SLOT:
            errors["ends_at"] = [_("一个时段不能超过 12 小时。")]
    raise_if(errors)
    with transaction.atomic():
        # Two publishes for one expert at once would each see no overlap in the other's uncommitted
        # row; locking the expert's user row first puts them one after the other.
        get_user_model().objects.select_for_update().filter(pk=expert.pk).exists()
        overlapping = ExpertAvailability.objects.filter(
            expert=expert, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).exists()
        if overlapping:
            raise Invalid({"starts_at": [_("与该医师已发布的时间重叠。")]})
        slot = ExpertAvailability.objects.create(
            expert=expert, institution=institution, starts_at=starts_at, ends_at=ends_at, published_by=actor
        )
        record_event(
            actor=actor,
            action="expert_availability.publish",
            obj=slot,
            after={"expert": str(expert.public_id), "starts_at": str(starts_at), "ends_at": str(ends_at)},
            institution_public_id=institution.public_id,
        )
    return slot


def availability_withdraw(*, actor: Any, slot: ExpertAvailability) -> None:
    """Withdraw a free time nobody booked. Audited ``expert_availability.withdraw``.

    Raises NotAllowed, Conflict (already booked).
    """
    if not policies.can_manage_availability(actor, slot.institution_id, slot.expert):
        raise NotAllowed(_("您不能撤回该可预约时间。"))
    with transaction.atomic():
        locked = ExpertAvailability.objects.select_for_update().select_related("institution").get(pk=slot.pk)
        if locked.taken_by_id is not None:
            raise Conflict(_("该时间已被会诊预约，不能撤回。"))
        record_event(
            actor=actor,
            action="expert_availability.withdraw",
            obj=locked,
            before={"starts_at": str(locked.starts_at), "ends_at": str(locked.ends_at)},
            institution_public_id=locked.institution.public_id,
        )
        locked.delete()


def fee_set(
    *, actor: Any, consortium: Any, kind: str, amount: Any, agreement: Any = None
) -> TeleconsultationFee:
    """Set the consortium's fee for one kind of remote service (per its telemedicine agreement).

    The consortium office or a platform admin. Audited
    ``teleconsultation_fee.update``. Raises NotAllowed, Invalid (kind,
    amount, an agreement of another consortium).
    """
    if not policies.can_configure_fees(actor, consortium):
        raise NotAllowed(_("只有医联体管理办公室可以设置远程会诊收费标准。"))
    errors: dict[str, list[str]] = {}
    if kind not in TeleconsultationKind.values:
        errors["kind"] = [_("无效的会诊类型。")]
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
        if value < 0 or value > MAX_FEE:
            errors["amount"] = [_("金额应在 0 到 99999.99 元之间。")]
    except (InvalidOperation, ValueError):
        errors["amount"] = [_("请填写有效的金额。")]
    if agreement is not None and agreement.consortium_id != consortium.pk:
        errors["agreement"] = [_("协议不属于该医联体。")]
    raise_if(errors)
    with transaction.atomic():
        fee = TeleconsultationFee.objects.select_for_update().filter(consortium=consortium, kind=kind).first()
        before = {"amount": str(fee.amount)} if fee is not None else None
        if fee is None:
            fee = TeleconsultationFee(consortium=consortium, kind=kind)
        fee.amount = value
        fee.agreement = agreement
        fee.save()
        record_event(
            actor=actor,
            action="teleconsultation_fee.update",
            obj=consortium,
            before=before,
            after={"kind": kind, "amount": str(value)},
            consortium_public_id=consortium.public_id,
        )
    return fee
