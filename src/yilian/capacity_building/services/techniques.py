"""New techniques and projects (新技术新项目) at members: record, confirm or return, report cases."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yilian.accounts.models import User
from yilian.accounts.selectors import users_holding_in_consortium
from yilian.capacity_building import policies
from yilian.capacity_building.choices import TechniqueCategory, TechniqueStatus
from yilian.capacity_building.models import TechniqueCaseUpdate, TechniqueTransfer
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
from yilian.institutions.models import Department, Institution

MAX_CASES = 1_000_000
DUPLICATE = _("本机构已登记同名的新技术新项目。")


def technique_record(
    *,
    actor: Any,
    institution: Institution,
    name: str,
    category: str,
    supporting_department: Department | None,
    introduced_on: datetime.date | None,
    expert: User | None = None,
    description: str = "",
    cases_to_date: int = 0,
) -> TechniqueTransfer:
    """Record a technique introduced at the member with a lead-hospital department's help; it waits for
    the consortium office's confirmation. Audited ``technique.record``.

    Raises NotAllowed unless the actor administers ``institution``; Invalid on a missing name or
    category, a department whose hospital does not lead the member's consortium, an expert not on its
    staff, a future date, a name already recorded there.
    """
    if not policies.can_record_technique(actor, institution.pk):
        raise NotAllowed(_("只有本机构管理员可以登记新技术新项目。"))
    data = {
        "name": (name or "").strip(),
        "description": (description or "").strip(),
        "introduced_on": introduced_on,
        "supporting_department": supporting_department,
    }
    errors: dict[str, list[str]] = {}
    required(
        data,
        {"name": _("技术/项目名称"), "introduced_on": _("引进日期"), "supporting_department": _("支持科室")},
        errors,
    )
    too_long(data, {"name": 200, "description": 2000}, errors)
    if category not in TechniqueCategory.values:
        errors["category"] = [_("请选择类别。")]
    not_future(introduced_on, "introduced_on", errors)
    if cases_to_date is None or not 0 <= cases_to_date <= MAX_CASES:
        errors["cases_to_date"] = [_("累计开展例数应为 0 到 {n} 之间的整数。").format(n=MAX_CASES)]
    consortium = None
    if supporting_department is not None:
        consortium = supporting_consortium(supporting_department.institution, institution)
        if consortium is None:
            errors["supporting_department"] = [_("支持科室应属于本机构所在医联体的牵头医院。")]
        elif expert is not None and not holds_at(
            expert, supporting_department.institution_id, (Role.DOCTOR, Role.NURSE, Role.TECHNICIAN)
        ):
            errors["expert"] = [_("指导专家应为支持单位的医务人员。")]
    raise_if(errors)
    assert supporting_department is not None and consortium is not None
    with transaction.atomic():
        technique = TechniqueTransfer(
            consortium=consortium,
            institution=institution,
            name=data["name"],
            category=category,
            description=data["description"],
            supporting_institution=supporting_department.institution,
            supporting_department=supporting_department,
            expert=expert,
            introduced_on=introduced_on,
            cases_to_date=cases_to_date or 0,
            recorded_by=actor,
        )
        try:
            with transaction.atomic():
                technique.save(force_insert=True)
        except IntegrityError as error:
            raise Invalid({"name": [DUPLICATE]}) from error
        if cases_to_date:
            TechniqueCaseUpdate.objects.create(
                technique=technique, as_of=introduced_on, cases_to_date=cases_to_date, recorded_by=actor
            )
        audit(
            actor=actor,
            action="technique.record",
            obj=technique,
            institution=institution,
            consortium=consortium,
            after=snapshot(
                technique, ("name", "category", "introduced_on", "supporting_department", "expert")
            ),
        )
        tell(
            actor=actor,
            recipients=users_holding_in_consortium(consortium.pk, (Role.CONSORTIUM_OFFICE,)),
            topic="technique.recorded",
            title=message(gettext_noop("新技术新项目待确认：{name}"), name=technique.name),
            body=institution.name,
            link=f"/capacity/techniques/{technique.public_id}/",
            obj=technique,
        )
    return technique


def technique_review(
    *,
    actor: Any,
    technique: TechniqueTransfer,
    confirm: bool,
    note: str = "",
    expected_version: int | None = None,
) -> TechniqueTransfer:
    """The consortium office confirms a recorded technique (it then counts) or returns it with a note.
    Audited ``technique.confirm`` / ``technique.reject``. Raises NotAllowed (not the office), Invalid
    (returning without a note), Conflict (already reviewed, or changed since ``expected_version``)."""
    if not policies.can_review_technique(actor, technique):
        raise NotAllowed(_("只有医联体管理办公室可以审核新技术新项目。"))
    note = (note or "").strip()
    if not confirm and not note:
        raise Invalid({"note": [_("退回时请填写审核意见。")]})
    if len(note) > 300:
        raise Invalid({"note": [_("不能超过 {limit} 个字。").format(limit=300)]})
    status = TechniqueStatus.CONFIRMED if confirm else TechniqueStatus.REJECTED
    with transaction.atomic():
        rows = TechniqueTransfer.objects.filter(pk=technique.pk, status=TechniqueStatus.RECORDED)
        if expected_version is not None:
            rows = rows.filter(version=expected_version)
        now = timezone.now()
        updated = rows.update(
            status=status, review_note=note, reviewed_at=now, version=F("version") + 1, updated_at=now
        )
        if not updated:
            raise Conflict(_("该项目已审核，或已被他人修改，请刷新后重试。"))
        current = TechniqueTransfer.objects.select_related("consortium", "institution").get(pk=technique.pk)
        audit(
            actor=actor,
            action="technique.confirm" if confirm else "technique.reject",
            obj=current,
            institution=current.institution,
            consortium=current.consortium,
            details={"note": note},
        )
    return current


def technique_report_cases(
    *,
    actor: Any,
    technique: TechniqueTransfer,
    cases_to_date: int | None,
    as_of: datetime.date | None = None,
    note: str = "",
) -> TechniqueCaseUpdate:
    """Report the cases performed so far (cumulative; never lower than the last report).
    Audited ``technique.cases``. Raises NotAllowed, Invalid (lower than before, date before the
    introduction or in the future), Conflict (the technique was returned)."""
    if not policies.can_report_cases(actor, technique):
        raise NotAllowed(_("只有本机构人员可以更新开展例数。"))
    as_of = as_of or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if cases_to_date is None or not 0 <= cases_to_date <= MAX_CASES:
        errors["cases_to_date"] = [_("累计开展例数应为 0 到 {n} 之间的整数。").format(n=MAX_CASES)]
    not_future(as_of, "as_of", errors)
    if as_of < technique.introduced_on:
        errors["as_of"] = [_("截至日期不能早于引进日期。")]
    too_long({"note": note}, {"note": 300}, errors)
    raise_if(errors)
    assert cases_to_date is not None
    with transaction.atomic():
        current = (
            TechniqueTransfer.objects.select_for_update()
            .select_related("consortium", "institution")
            .get(pk=technique.pk)
        )
        if current.status == TechniqueStatus.REJECTED:
            raise Conflict(_("该项目已被退回，不能再更新例数。"))
        if cases_to_date < current.cases_to_date:
            raise Invalid(
                {"cases_to_date": [_("累计例数不能少于上次填报的 {n} 例。").format(n=current.cases_to_date)]}
            )
        update = TechniqueCaseUpdate.objects.create(
            technique=current,
            as_of=as_of,
            cases_to_date=cases_to_date,
            note=(note or "").strip(),
            recorded_by=actor,
        )
        before = current.cases_to_date
        TechniqueTransfer.objects.filter(pk=current.pk).update(
            cases_to_date=cases_to_date, version=F("version") + 1, updated_at=timezone.now()
        )
        audit(
            actor=actor,
            action="technique.cases",
            obj=current,
            institution=current.institution,
            consortium=current.consortium,
            before={"cases_to_date": before},
            after={"cases_to_date": cases_to_date},
            details={"as_of": str(as_of)},
        )
    return update
