"""Refresher fellowships (进修) at the lead hospital: apply, start, complete, withdraw.

Each status change is one conditional UPDATE on the expected status (and
version, when the caller sent the one it saw): of two concurrent changes
only one lands, the other gets Conflict (409).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.accounts.models import User
from yilian.accounts.selectors import users_holding
from yilian.capacity_building import policies
from yilian.capacity_building.choices import FELLOWSHIP_OPEN, AssessmentResult, FellowshipStatus
from yilian.capacity_building.models import Fellowship
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
from yilian.core.permissions import INSTITUTION_ROLES, Role
from yilian.institutions.models import Department, Institution

SUPERVISOR_ROLES = (Role.DOCTOR, Role.NURSE, Role.TECHNICIAN)
FELLOWSHIP_FIELDS = (
    "status",
    "started_on",
    "ended_on",
    "assessment",
    "certificate_number",
    "withdraw_reason",
)
STALE = _("进修状态已被他人修改，请刷新后重试。")


def fellowship_apply(
    *,
    actor: Any,
    trainee: User,
    home_institution: Institution,
    host_department: Department,
    planned_start: datetime.date | None,
    planned_months: int | None,
    supervisor: User | None = None,
    specialty_goal: str = "",
) -> Fellowship:
    """Apply for a member's staff to train at a department of the lead hospital (status ``planned``).
    Audited ``fellowship.apply``.

    Raises NotAllowed unless the actor administers ``home_institution``; Invalid when the trainee is
    not its staff, the department's hospital does not lead a consortium the member belongs to, the
    supervisor is not a clinician there, the period is not 1–12 months; Conflict when the trainee
    already has an open fellowship.
    """
    if not policies.can_apply_fellowship(actor, home_institution.pk):
        raise NotAllowed(_("只有选派单位的管理员可以申请进修。"))
    errors: dict[str, list[str]] = {}
    data = {
        "planned_start": planned_start,
        "planned_months": planned_months,
        "specialty_goal": specialty_goal or "",
    }
    required(data, {"planned_start": _("计划开始日期"), "planned_months": _("计划进修月数")}, errors)
    too_long(data, {"specialty_goal": 300}, errors)
    if planned_months is not None and not 1 <= planned_months <= 12:
        errors["planned_months"] = [_("进修期限应为 1 到 12 个月。")]
    if planned_start is not None and planned_start < timezone.localdate() - datetime.timedelta(days=366):
        errors["planned_start"] = [_("计划开始日期不能早于一年前。")]
    if not holds_at(trainee, home_institution.pk, INSTITUTION_ROLES):
        errors["trainee"] = [_("进修人员应为选派单位的在职人员。")]
    host = host_department.institution
    consortium = supporting_consortium(host, home_institution)
    if consortium is None or not host_department.is_active:
        errors["host_department"] = [_("进修科室应属于选派单位所在医联体的牵头医院。")]
    if supervisor is not None and not holds_at(supervisor, host.pk, SUPERVISOR_ROLES):
        errors["supervisor"] = [_("带教老师应为进修医院的医务人员。")]
    raise_if(errors)
    with transaction.atomic():
        if Fellowship.objects.filter(trainee=trainee, status__in=list(FELLOWSHIP_OPEN)).exists():
            raise Conflict(_("该人员已有未结束的进修，不能重复申请。"))
        fellowship = Fellowship(
            consortium=consortium,
            trainee=trainee,
            home_institution=home_institution,
            host_institution=host,
            host_department=host_department,
            supervisor=supervisor,
            planned_start=planned_start,
            planned_months=planned_months,
            specialty_goal=data["specialty_goal"].strip(),
            applied_by=actor,
        )
        try:
            with transaction.atomic():
                fellowship.save(force_insert=True)
        except IntegrityError as error:
            raise Conflict(_("该人员已有未结束的进修，不能重复申请。")) from error
        audit(
            actor=actor,
            action="fellowship.apply",
            obj=fellowship,
            institution=home_institution,
            consortium=consortium,
            after={
                "trainee": str(trainee.public_id),
                "host_department": str(host_department.public_id),
                "planned_start": str(planned_start),
                "planned_months": planned_months,
            },
        )
        tell(
            actor=actor,
            recipients=[*users_holding(host.pk, (Role.INSTITUTION_ADMIN,)), supervisor],
            topic="fellowship.applied",
            title=message(
                gettext_noop("进修申请：{name}（{institution}）"),
                name=trainee.full_name or trainee.username,
                institution=home_institution.name,
            ),
            body=f"{host_department.name} · {planned_start} · {planned_months}",
            link=f"/capacity/fellowships/{fellowship.public_id}/",
            obj=fellowship,
        )
    return fellowship


def _move(
    *,
    actor: Any,
    fellowship: Fellowship,
    action: str,
    from_statuses: frozenset[str] | set[str],
    expected_version: int | None,
    acting_institution_id: int,
    details: dict[str, Any] | None = None,
    **changes: Any,
) -> Fellowship:
    """One conditional UPDATE from an expected status (and version), then the audit event."""
    rows = Fellowship.objects.filter(pk=fellowship.pk, status__in=list(from_statuses))
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    before = snapshot(fellowship, FELLOWSHIP_FIELDS)
    try:
        with transaction.atomic():
            updated = rows.update(version=F("version") + 1, updated_at=timezone.now(), **changes)
    except IntegrityError as error:
        raise Invalid({"certificate_number": [_("该结业证书编号已被使用。")]}) from error
    if not updated:
        raise Conflict(STALE)
    current = Fellowship.objects.select_related(
        "consortium", "home_institution", "host_institution", "host_department", "trainee", "supervisor"
    ).get(pk=fellowship.pk)
    institution = (
        current.host_institution
        if acting_institution_id == current.host_institution_id
        else current.home_institution
    )
    audit(
        actor=actor,
        action=f"fellowship.{action}",
        obj=current,
        institution=institution,
        consortium=current.consortium,
        before=before,
        after=snapshot(current, FELLOWSHIP_FIELDS),
        details=details,
    )
    return current


def fellowship_start(
    *,
    actor: Any,
    fellowship: Fellowship,
    started_on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Fellowship:
    """The trainee has reported to the host department: ``planned`` → ``in_progress``. Audited
    ``fellowship.start``. Raises NotAllowed (not the host's admin or the supervisor), Invalid (date in
    the future), Conflict (not planned any more, or changed since ``expected_version``)."""
    if not policies.can_run_fellowship(actor, fellowship):
        raise NotAllowed(_("只有进修医院管理员或带教老师可以办理报到。"))
    started_on = started_on or timezone.localdate()
    errors: dict[str, list[str]] = {}
    not_future(started_on, "started_on", errors)
    raise_if(errors)
    with transaction.atomic():
        return _move(
            actor=actor,
            fellowship=fellowship,
            action="start",
            from_statuses={FellowshipStatus.PLANNED},
            expected_version=expected_version,
            acting_institution_id=fellowship.host_institution_id,
            status=FellowshipStatus.IN_PROGRESS,
            started_on=started_on,
        )


def fellowship_complete(
    *,
    actor: Any,
    fellowship: Fellowship,
    assessment: str,
    certificate_number: str = "",
    assessment_note: str = "",
    ended_on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Fellowship:
    """Finish a fellowship in progress with the assessment result and, unless failed, the certificate
    number: ``in_progress`` → ``completed``. Audited ``fellowship.complete``.

    Raises NotAllowed, Invalid (no result, missing or duplicate certificate, end before start or in
    the future), Conflict (not in progress, or changed since ``expected_version``).
    """
    if not policies.can_run_fellowship(actor, fellowship):
        raise NotAllowed(_("只有进修医院管理员或带教老师可以办理结业。"))
    ended_on = ended_on or timezone.localdate()
    certificate_number = (certificate_number or "").strip()
    errors: dict[str, list[str]] = {}
    if assessment not in AssessmentResult.values:
        errors["assessment"] = [_("请选择结业考核结果。")]
    elif assessment != AssessmentResult.FAIL and not certificate_number:
        errors["certificate_number"] = [_("考核合格请填写结业证书编号。")]
    too_long(
        {"certificate_number": certificate_number, "assessment_note": assessment_note},
        {"certificate_number": 40, "assessment_note": 500},
        errors,
    )
    not_future(ended_on, "ended_on", errors)
    if fellowship.started_on and ended_on < fellowship.started_on:
        errors["ended_on"] = [_("结业日期不能早于开始日期。")]
    raise_if(errors)
    with transaction.atomic():
        return _move(
            actor=actor,
            fellowship=fellowship,
            action="complete",
            from_statuses={FellowshipStatus.IN_PROGRESS},
            expected_version=expected_version,
            acting_institution_id=fellowship.host_institution_id,
            status=FellowshipStatus.COMPLETED,
            ended_on=ended_on,
            assessment=assessment,
            assessment_note=(assessment_note or "").strip(),
            certificate_number=certificate_number if assessment != AssessmentResult.FAIL else "",
        )


def fellowship_withdraw(
    *, actor: Any, fellowship: Fellowship, reason: str, expected_version: int | None = None
) -> Fellowship:
    """Withdraw a planned or running fellowship with a reason (either side's administrator).
    Audited ``fellowship.withdraw``. Raises NotAllowed, Invalid (no reason), Conflict (already ended)."""
    if not policies.can_withdraw_fellowship(actor, fellowship):
        raise NotAllowed(_("只有双方机构管理员可以办理退出。"))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": [_("请填写退出原因。")]})
    if len(reason) > 300:
        raise Invalid({"reason": [_("不能超过 {limit} 个字。").format(limit=300)]})
    acting = (
        fellowship.host_institution_id
        if policies.admin_institutions(actor) & {fellowship.host_institution_id}
        else fellowship.home_institution_id
    )
    with transaction.atomic():
        return _move(
            actor=actor,
            fellowship=fellowship,
            action="withdraw",
            from_statuses=FELLOWSHIP_OPEN,
            expected_version=expected_version,
            acting_institution_id=acting,
            details={"reason": reason},
            status=FellowshipStatus.WITHDRAWN,
            withdraw_reason=reason,
            ended_on=timezone.localdate() if fellowship.started_on else None,
        )
