"""Writes of a consortium's referral configuration: criteria catalogue, settings, subsidies, reserved capacity."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core.audit import apply_changes, record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.icd10 import parse_icd10
from yilian.institutions.models import Consortium, Department
from yilian.people.choices import InsuranceScheme
from yilian.referrals import policies
from yilian.referrals.choices import (
    CapacityKind,
    CriterionCategory,
    Material,
    MissingMaterialAction,
    ReferralPriority,
)
from yilian.referrals.models import DeductibleSubsidy, ReferralCriterion, ReferralSettings, ReservedCapacity
from yilian.referrals.schemes import SCHEMES
from yilian.referrals.services._common import raise_if

CRITERION_FIELDS = (
    "name",
    "category",
    "icd_from",
    "icd_to",
    "triggers",
    "required_materials",
    "completeness_threshold",
    "missing_action",
    "min_stay_days",
    "source",
    "is_active",
)
SETTINGS_FIELDS = (
    "answer_hours",
    "expiry_grace_hours",
    "arrival_grace_days",
    "follow_up_hours",
    "rehabilitation_days",
    "grade_bounds",
)
MAX_CAPACITY_DAYS_AHEAD = 90


def _require_configure(actor: Any, consortium: Consortium) -> None:
    if not policies.can_configure(actor, consortium):
        raise NotAllowed(_("只有医联体管理办公室可以修改转诊配置。"))


def _validate_criterion(data: dict[str, Any], instance: ReferralCriterion | None) -> None:
    errors: dict[str, list[str]] = {}
    if "name" in data and not str(data["name"] or "").strip():
        errors["name"] = [_("请填写名称。")]
    if "category" in data and data["category"] not in CriterionCategory.values:
        errors["category"] = [_("无效的类别。")]
    if "missing_action" in data and data["missing_action"] not in MissingMaterialAction.values:
        errors["missing_action"] = [_("无效的取值。")]
    for name in ("icd_from", "icd_to"):
        if name in data:
            try:
                data[name] = parse_icd10(data[name], field=name).code
            except Invalid as error:
                errors.update(error.as_text())
    first = data.get("icd_from", instance.icd_from if instance else "")
    last = data.get("icd_to", instance.icd_to if instance else "")
    if first and last and "icd_from" not in errors and "icd_to" not in errors and first[:3] > last[:3]:
        errors["icd_to"] = [_("编码范围的止点不能小于起点。")]
    if "required_materials" in data:
        materials = data["required_materials"] or []
        if not isinstance(materials, list) or any(m not in Material.values for m in materials):
            errors["required_materials"] = [_("无效的资料类型。")]
    if "triggers" in data:
        triggers = data["triggers"] or []
        if not isinstance(triggers, list) or any(not isinstance(t, str) or not t.strip() for t in triggers):
            errors["triggers"] = [_("触发条件应为若干条文字。")]
        else:
            data["triggers"] = [t.strip()[:200] for t in triggers]
    threshold = data.get("completeness_threshold")
    if threshold is not None and not (isinstance(threshold, int) and 0 <= threshold <= 100):
        errors["completeness_threshold"] = [_("完整度阈值应为 0–100 的整数。")]
    stay = data.get("min_stay_days")
    if stay is not None and not (isinstance(stay, int) and 1 <= stay <= 365):
        errors["min_stay_days"] = [_("住院日应为 1–365 的整数。")]
    raise_if(errors)


def criterion_create(*, actor: Any, consortium: Consortium, **data: Any) -> ReferralCriterion:
    """Add a rule to the consortium's referral catalogue. Audited. Raises NotAllowed, Invalid."""
    _require_configure(actor, consortium)
    data = {k: v for k, v in data.items() if k in CRITERION_FIELDS}
    for name in ("name", "category", "icd_from", "icd_to"):
        data.setdefault(name, "")
    _validate_criterion(data, None)
    data["name"] = data["name"].strip()
    with transaction.atomic():
        criterion = ReferralCriterion.objects.create(consortium=consortium, **data)
        record_event(
            actor=actor,
            action="referral_criterion.create",
            obj=criterion,
            after=snapshot(criterion, CRITERION_FIELDS),
            consortium_public_id=consortium.public_id,
        )
    return criterion


def criterion_update(*, actor: Any, criterion: ReferralCriterion, **data: Any) -> ReferralCriterion:
    """Change a catalogue rule (or switch it off with ``is_active``). Audited. Raises NotAllowed, Invalid."""
    _require_configure(actor, criterion.consortium)
    data = {k: v for k, v in data.items() if k in CRITERION_FIELDS}
    _validate_criterion(data, criterion)
    with transaction.atomic():
        old, new = apply_changes(criterion, data, CRITERION_FIELDS)
        if new:
            record_event(
                actor=actor,
                action="referral_criterion.update",
                obj=criterion,
                before=old,
                after=new,
                consortium_public_id=criterion.consortium.public_id,
            )
    return criterion


def _validate_settings(data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    hours = data.get("answer_hours")
    if hours is not None and (
        not isinstance(hours, dict)
        or set(hours) != set(ReferralPriority.values)
        or any(not isinstance(v, int) or not 1 <= v <= 720 for v in hours.values())
    ):
        errors["answer_hours"] = [_("请为每个优先级填写 1–720 小时。")]
    limits = (
        ("expiry_grace_hours", 720),
        ("arrival_grace_days", 30),
        ("follow_up_hours", 720),
        ("rehabilitation_days", 90),
    )
    for name, upper in limits:
        value = data.get(name)
        if value is not None and not (isinstance(value, int) and 1 <= value <= upper):
            errors[name] = [_("应为 1–{upper} 的整数。").format(upper=upper)]
    bounds = data.get("grade_bounds")
    if bounds is not None:
        ok = isinstance(bounds, dict) and set(bounds) == {"up_rate", "down_rate"}
        if ok:
            for key, values in bounds.items():
                if not (
                    isinstance(values, list)
                    and len(values) == 3
                    and all(isinstance(v, (int, float)) and v >= 0 for v in values)
                ) or (
                    (key == "up_rate" and values != sorted(values))
                    or (key == "down_rate" and values != sorted(values, reverse=True))
                ):
                    ok = False
        if not ok:
            errors["grade_bounds"] = [_("评级界值应为三个百分数：上转率由低到高，下转率由高到低。")]
    raise_if(errors)


def referral_settings_update(*, actor: Any, consortium: Consortium, **data: Any) -> ReferralSettings:
    """Save the consortium's referral settings. Audited ``referral_settings.update``. Raises NotAllowed, Invalid."""
    _require_configure(actor, consortium)
    data = {k: v for k, v in data.items() if k in SETTINGS_FIELDS}
    _validate_settings(data)
    with transaction.atomic():
        current, _created = ReferralSettings.objects.select_for_update().get_or_create(consortium=consortium)
        old, new = apply_changes(current, data, SETTINGS_FIELDS)
        if new:
            record_event(
                actor=actor,
                action="referral_settings.update",
                obj=consortium,
                before=old,
                after=new,
                consortium_public_id=consortium.public_id,
            )
    return current


def subsidy_set(
    *, actor: Any, consortium: Consortium, insurance_scheme: str, amount: Any
) -> DeductibleSubsidy:
    """Set the deductible difference subsidy of one insurance scheme (audited when it changes).

    Raises NotAllowed, Invalid.
    """
    _require_configure(actor, consortium)
    errors: dict[str, list[str]] = {}
    if insurance_scheme not in (InsuranceScheme.RESIDENT, InsuranceScheme.EMPLOYEE):
        errors["insurance_scheme"] = [_("只能为城乡居民医保或职工医保设置补贴。")]
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
        if value < 0 or value > Decimal("100000"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["amount"] = [_("请填写 0–100000 之间的金额。")]
        value = Decimal("0")
    raise_if(errors)
    with transaction.atomic():
        row = (
            DeductibleSubsidy.objects.select_for_update()
            .filter(consortium=consortium, insurance_scheme=insurance_scheme)
            .first()
        )
        before = {"amount": str(row.amount)} if row else None
        if row is not None and row.amount == value:
            return row
        if row is None:
            row = DeductibleSubsidy.objects.create(
                consortium=consortium, insurance_scheme=insurance_scheme, amount=value
            )
        else:
            row.amount = value
            row.save(update_fields=["amount"])
        record_event(
            actor=actor,
            action="deductible_subsidy.update",
            obj=consortium,
            before=before,
            after={"insurance_scheme": insurance_scheme, "amount": str(value)},
            consortium_public_id=consortium.public_id,
        )
    return row


def capacity_publish(
    *,
    actor: Any,
    department: Department,
    kind: str,
    date: datetime.date,
    quantity: int,
    signed_residents_only: bool = False,
) -> ReservedCapacity:
    """Publish (or change) the places a department reserves for member referrals on one day.

    ``signed_residents_only`` publishes the places kept for residents with a family-doctor contract in
    force (a separate row beside the general places). Lowering below what is already booked is refused. Audited
    ``reserved_capacity.publish``. Raises NotAllowed, Invalid, Conflict.
    """
    if not policies.can_manage_capacity(actor, department.institution_id):
        raise NotAllowed(_("您没有发布该科室预留号源的权限。"))
    errors: dict[str, list[str]] = {}
    if kind not in CapacityKind.values:
        errors["kind"] = [_("无效的号源类型。")]
    today = timezone.localdate()
    if not isinstance(date, datetime.date) or date < today:
        errors["date"] = [_("日期不能早于今天。")]
    elif date > today + datetime.timedelta(days=MAX_CAPACITY_DAYS_AHEAD):
        errors["date"] = [_("最多提前 {days} 天发布。").format(days=MAX_CAPACITY_DAYS_AHEAD)]
    if not isinstance(quantity, int) or not 0 <= quantity <= 500:
        errors["quantity"] = [_("数量应为 0–500 的整数。")]
    if not department.is_active:
        errors["department"] = [_("科室已停用。")]
    raise_if(errors)
    with transaction.atomic():
        try:
            with transaction.atomic():
                capacity, created = ReservedCapacity.objects.get_or_create(
                    department=department,
                    kind=kind,
                    date=date,
                    signed_residents_only=bool(signed_residents_only),
                    defaults={"quantity": quantity, "published_by": actor},
                )
        except IntegrityError as error:
            raise Conflict(_("该号源刚被他人发布，请刷新后重试。")) from error
        before = None if created else {"quantity": capacity.quantity}
        if not created:
            locked = ReservedCapacity.objects.select_for_update().get(pk=capacity.pk)
            if quantity < locked.booked:
                raise Invalid(
                    {
                        "quantity": [
                            _("已有 {booked} 个预约，数量不能少于已预约数。").format(booked=locked.booked)
                        ]
                    }
                )
            locked.quantity = quantity
            locked.published_by = actor
            locked.save(update_fields=["quantity", "published_by", "updated_at"])
            capacity = locked
        record_event(
            actor=actor,
            action="reserved_capacity.publish",
            obj=capacity,
            before=before,
            after={
                "kind": kind,
                "date": str(date),
                "quantity": quantity,
                "signed_residents_only": bool(signed_residents_only),
            },
            institution_public_id=department.institution.public_id,
        )
    return capacity


def criteria_load_scheme(*, actor: Any, consortium: Consortium, scheme: str) -> list[ReferralCriterion]:
    """Add a shipped example scheme (e.g. "hypertension") to the consortium's catalogue, skipping rules it
    already has by name. Each rule is audited as ``referral_criterion.create``. Raises NotAllowed, Invalid."""
    if scheme not in SCHEMES:
        raise Invalid({"scheme": [_("未知的示例方案。")]})
    _require_configure(actor, consortium)
    existing = set(ReferralCriterion.objects.filter(consortium=consortium).values_list("name", flat=True))
    created = []
    with transaction.atomic():
        for rule in SCHEMES[scheme]:
            if rule["name"] not in existing:
                created.append(criterion_create(actor=actor, consortium=consortium, **rule))
    return created
