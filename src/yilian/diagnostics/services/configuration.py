"""Writes of the consortium office: shared centres, their catalogues, recognition rules."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yilian.core.audit import record_event, snapshot
from yilian.core.exceptions import Conflict, NotAllowed, required_message
from yilian.diagnostics import policies
from yilian.diagnostics.choices import CentreKind, RecognitionScope
from yilian.diagnostics.models import DiagnosticItem, RecognitionRule, SharedCentre
from yilian.diagnostics.services._common import raise_if
from yilian.institutions.models import Consortium, ConsortiumMember, Department, Institution

CENTRE_FIELDS = ("kind", "name", "hub_institution", "department", "critical_ack_minutes", "is_active")
ITEM_FIELDS = ("code", "name", "price", "turnaround_hours", "specimen", "requires_second_reader", "is_active")
RULE_FIELDS = ("item_code", "name", "validity_days", "scope", "is_active")


def _require_office(actor: Any, consortium: Consortium) -> None:
    if not policies.can_configure(actor, consortium):
        raise NotAllowed(_("只有医联体管理办公室可以维护共享诊断中心。"))


def _members(consortium: Consortium) -> set[int]:
    return set(
        ConsortiumMember.objects.filter(consortium=consortium, is_active=True).values_list(
            "institution_id", flat=True
        )
    )


def _validate_centre(
    consortium: Consortium, data: dict[str, Any], served: list[Institution] | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    members = _members(consortium)
    if "kind" in data and data["kind"] not in CentreKind.values:
        errors["kind"] = [_("无效的中心类型。")]
    if "name" in data and not str(data["name"] or "").strip():
        errors["name"] = [_("请填写名称。")]
    hub = data.get("hub_institution")
    if "hub_institution" in data and (hub is None or hub.pk not in members):
        errors["hub_institution"] = [_("牵头机构必须是本医联体的成员单位。")]
    department: Department | None = data.get("department")
    if "department" in data and department is None:
        # The department's staff are the centre's readers and receivers: without one nobody may work there.
        errors["department"] = [_("请选择承担科室：只有该科室的人员可以接收标本、阅片和签发报告。")]
    elif department is not None and hub is not None and department.institution_id != hub.pk:
        errors["department"] = [_("承担科室不属于牵头机构。")]
    minutes = data.get("critical_ack_minutes")
    if minutes is not None and (not isinstance(minutes, int) or minutes < 1 or minutes > 1440):
        errors["critical_ack_minutes"] = [_("危急值确认时限应为 1–1440 分钟。")]
    if served is not None and any(institution.pk not in members for institution in served):
        errors["served_institutions"] = [_("服务机构必须是本医联体的成员单位。")]
    return errors


def centre_create(
    *, actor: Any, consortium: Consortium, served_institutions: list[Institution] | None = None, **data: Any
) -> SharedCentre:
    """Set up a shared centre run by a department of a hub member institution and serving named members.

    The department's staff are the centre's staff (they receive, read and
    sign); it is required. Audited ``diagnostics.centre_create``. Raises
    NotAllowed (not the office), Invalid (kind, name, no department or one
    of another institution, hub or served institutions outside the
    consortium), Conflict (name taken).
    """
    _require_office(actor, consortium)
    data = {k: v for k, v in data.items() if k in CENTRE_FIELDS}
    data.setdefault("hub_institution", None)
    data.setdefault("name", "")
    data.setdefault("kind", "")
    data.setdefault("department", None)
    raise_if(_validate_centre(consortium, data, served_institutions))
    try:
        with transaction.atomic():
            centre = SharedCentre.objects.create(
                consortium=consortium, **{**data, "name": data["name"].strip()}
            )
            if served_institutions:
                centre.served_institutions.set(served_institutions)
            record_event(
                actor=actor,
                action="diagnostics.centre_create",
                obj=centre,
                after={
                    **snapshot(centre, CENTRE_FIELDS),
                    "served": [i.name for i in served_institutions or []],
                },
                consortium_public_id=consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("本医联体已有同名中心。")) from error
    return centre


def centre_update(
    *, actor: Any, centre: SharedCentre, served_institutions: list[Institution] | None = None, **data: Any
) -> SharedCentre:
    """Change a centre's settings (and, when given, the institutions it serves).

    Audited ``diagnostics.centre_update``. Raises NotAllowed, Invalid, Conflict.
    """
    _require_office(actor, centre.consortium)
    data = {k: v for k, v in data.items() if k in CENTRE_FIELDS}
    check = dict(data)
    if "department" in check and "hub_institution" not in check:
        check["hub_institution"] = centre.hub_institution
    if "hub_institution" in check and "department" not in check:
        # A new hub needs a department of its own: the old one's staff work elsewhere.
        check["department"] = centre.department
    raise_if(_validate_centre(centre.consortium, check, served_institutions))
    try:
        with transaction.atomic():
            locked = SharedCentre.objects.select_for_update().get(pk=centre.pk)
            before = snapshot(locked, CENTRE_FIELDS)
            for key, value in data.items():
                setattr(locked, key, value)
            locked.save()
            if served_institutions is not None:
                locked.served_institutions.set(served_institutions)
            record_event(
                actor=actor,
                action="diagnostics.centre_update",
                obj=locked,
                before=before,
                after=snapshot(locked, CENTRE_FIELDS),
                consortium_public_id=centre.consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("本医联体已有同名中心。")) from error
    return locked


def _validate_item(data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("code", "name"):
        if name in data and not str(data[name] or "").strip():
            errors[name] = [required_message()]
    if "price" in data:
        try:
            price = Decimal(str(data["price"]))
        except (InvalidOperation, ValueError):
            price = Decimal("-1")
        if price < 0 or price.as_tuple().exponent < -2:
            errors["price"] = [_("请填写不小于 0 的金额（最多两位小数）。")]
        else:
            data["price"] = price
    hours = data.get("turnaround_hours")
    if "turnaround_hours" in data and (not isinstance(hours, int) or hours < 1 or hours > 24 * 60):
        errors["turnaround_hours"] = [_("报告时限应为 1–1440 小时。")]
    return errors


def item_create(*, actor: Any, centre: SharedCentre, **data: Any) -> DiagnosticItem:
    """Add an item to a centre's catalogue (code unique within the centre).

    Audited ``diagnostics.item_create``. Raises NotAllowed, Invalid, Conflict (code taken).
    """
    _require_office(actor, centre.consortium)
    data = {k: v for k, v in data.items() if k in ITEM_FIELDS}
    for name in ("code", "name", "price"):
        data.setdefault(name, "")
    raise_if(_validate_item(data))
    data["code"] = data["code"].strip()
    try:
        with transaction.atomic():
            item = DiagnosticItem.objects.create(centre=centre, **data)
            record_event(
                actor=actor,
                action="diagnostics.item_create",
                obj=item,
                after=snapshot(item, ITEM_FIELDS),
                consortium_public_id=centre.consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("该中心已有编码相同的项目。")) from error
    return item


def item_update(*, actor: Any, item: DiagnosticItem, **data: Any) -> DiagnosticItem:
    """Change a catalogue item. Audited ``diagnostics.item_update``. Raises NotAllowed, Invalid, Conflict."""
    _require_office(actor, item.centre.consortium)
    data = {k: v for k, v in data.items() if k in ITEM_FIELDS}
    raise_if(_validate_item(data))
    try:
        with transaction.atomic():
            locked = DiagnosticItem.objects.select_for_update().get(pk=item.pk)
            before = snapshot(locked, ITEM_FIELDS)
            for key, value in data.items():
                setattr(locked, key, value)
            locked.save()
            record_event(
                actor=actor,
                action="diagnostics.item_update",
                obj=locked,
                before=before,
                after=snapshot(locked, ITEM_FIELDS),
                consortium_public_id=item.centre.consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("该中心已有编码相同的项目。")) from error
    return locked


def _validate_rule(data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("item_code", "name"):
        if name in data and not str(data[name] or "").strip():
            errors[name] = [required_message()]
    days = data.get("validity_days")
    if "validity_days" in data and (not isinstance(days, int) or days < 1 or days > 3650):
        errors["validity_days"] = [_("有效期应为 1–3650 天。")]
    if "scope" in data and data["scope"] not in RecognitionScope.values:
        errors["scope"] = [_("无效的互认范围。")]
    return errors


def rule_create(*, actor: Any, consortium: Consortium, **data: Any) -> RecognitionRule:
    """Add an item to the consortium's mutual-recognition catalogue.

    Audited ``diagnostics.rule_create``. Raises NotAllowed, Invalid, Conflict (item already listed).
    """
    _require_office(actor, consortium)
    data = {k: v for k, v in data.items() if k in RULE_FIELDS}
    for name in ("item_code", "name", "validity_days"):
        data.setdefault(name, "")
    data.setdefault("scope", RecognitionScope.CONSORTIUM)
    raise_if(_validate_rule(data))
    data["item_code"] = data["item_code"].strip()
    try:
        with transaction.atomic():
            rule = RecognitionRule.objects.create(consortium=consortium, **data)
            record_event(
                actor=actor,
                action="diagnostics.rule_create",
                obj=rule,
                after=snapshot(rule, RULE_FIELDS),
                consortium_public_id=consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("该项目已在互认目录中。")) from error
    return rule


def rule_update(*, actor: Any, rule: RecognitionRule, **data: Any) -> RecognitionRule:
    """Change a recognition rule. Audited ``diagnostics.rule_update``. Raises NotAllowed, Invalid, Conflict."""
    _require_office(actor, rule.consortium)
    data = {k: v for k, v in data.items() if k in RULE_FIELDS}
    raise_if(_validate_rule(data))
    try:
        with transaction.atomic():
            locked = RecognitionRule.objects.select_for_update().get(pk=rule.pk)
            before = snapshot(locked, RULE_FIELDS)
            for key, value in data.items():
                setattr(locked, key, value)
            locked.save()
            record_event(
                actor=actor,
                action="diagnostics.rule_update",
                obj=locked,
                before=before,
                after=snapshot(locked, RULE_FIELDS),
                consortium_public_id=rule.consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("该项目已在互认目录中。")) from error
    return locked
