"""Writes of institutions and their departments."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yilian.core.audit import apply_changes, record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, required_message
from yilian.institutions import policies
from yilian.institutions.choices import (
    CROSS_GRID_CATEGORIES,
    DepartmentSpecialty,
    DepartmentSubject,
    HospitalClass,
    HospitalGrade,
    InstitutionCategory,
    InstitutionStatus,
    Ownership,
    ProfitStatus,
    subject_specialty,
)
from yilian.institutions.codes import validate_credit_code
from yilian.institutions.models import (
    Department,
    Institution,
    Region,
)
from yilian.institutions.services._common import (
    DEPARTMENT_FIELDS,
    INSTITUTION_FIELDS,
    _assign,
    _choice,
    _raise_if,
    _registry_changed,
    _require,
    _set_name,
)


def _validate_institution(data: dict[str, Any], *, instance: Institution | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "name" in data and not str(data["name"] or "").strip():
        errors["name"] = [_("请填写机构名称。")]
    if "credit_code" in data:
        try:
            data["credit_code"] = validate_credit_code(data["credit_code"])
        except Invalid as error:
            errors.update(error.as_text())
        else:
            duplicates = Institution.objects.filter(credit_code=data["credit_code"])
            if instance is not None:
                duplicates = duplicates.exclude(pk=instance.pk)
            if duplicates.exists():
                errors["credit_code"] = [_("该统一社会信用代码已被其他机构使用。")]
    for name, choices in (
        ("category", InstitutionCategory),
        ("grade", HospitalGrade),
        ("grade_class", HospitalClass),
        ("ownership", Ownership),
        ("profit_status", ProfitStatus),
        ("status", InstitutionStatus),
    ):
        if name in data:
            _choice(errors, name, data[name], choices)
    if "beds" in data and (data["beds"] is None or int(data["beds"]) < 0):
        errors["beds"] = [_("床位数不能为负数。")]
    if "region" in data and not isinstance(data["region"], Region):
        errors["region"] = [_("请选择所在区划。")]
    grade = data.get("grade", instance.grade if instance else HospitalGrade.UNGRADED)
    grade_class = data.get("grade_class", instance.grade_class if instance else HospitalClass.UNRATED)
    if grade == HospitalGrade.UNGRADED and grade_class != HospitalClass.UNRATED:
        errors.setdefault("grade_class", []).append(_("未定级机构的等次只能为“未评”。"))
    if grade_class == HospitalClass.SPECIAL and grade != HospitalGrade.TERTIARY:
        errors.setdefault("grade_class", []).append(_("只有三级医院可以评为特等。"))
    return errors


def default_may_serve_across_grids(category: str, grade: str) -> bool:
    """Art. 10: tertiary hospitals, maternal-child, public-health, rehabilitation and nursing institutions."""
    return grade == HospitalGrade.TERTIARY or category in CROSS_GRID_CATEGORIES


def institution_create(*, actor: Any, **data: Any) -> Institution:
    """Register an institution. Validates the credit code (GB 32100) and the WS 218 category.

    ``may_serve_across_grids`` defaults from the category and grade (Art. 10).
    Raises NotAllowed, Invalid.
    """
    unknown = set(data) - set(INSTITUTION_FIELDS)
    if unknown:
        raise Invalid({name: [_("未知字段。")] for name in unknown})
    _require(policies.can_create_institution(actor, data.get("region")))
    for required in ("name", "credit_code", "category", "ownership", "region"):
        data.setdefault(required, None)
    errors = _validate_institution(data, instance=None)
    for required in ("category", "ownership"):
        if not data.get(required):
            errors[required] = [required_message()]
    _raise_if(errors)
    if data.get("may_serve_across_grids") is None:
        data["may_serve_across_grids"] = default_may_serve_across_grids(
            data["category"], data.get("grade", HospitalGrade.UNGRADED)
        )
    with transaction.atomic():
        institution = Institution(**{k: v for k, v in data.items() if k != "name"})
        _set_name(institution, data["name"])
        try:
            with transaction.atomic():
                institution.save()
        except IntegrityError as error:
            raise Conflict(_("该统一社会信用代码已被其他机构使用。")) from error
        _registry_changed()
        record_event(
            actor=actor,
            action="institution.create",
            obj=institution,
            after=snapshot(institution, INSTITUTION_FIELDS),
            institution_public_id=institution.public_id,
            region_code=institution.region.code,
        )
    return institution


def institution_update(
    *, actor: Any, institution: Institution, seen_updated_at: datetime.datetime | None = None, **data: Any
) -> Institution:
    """Change an institution's profile. Only the given fields change.

    ``seen_updated_at`` is the ``updated_at`` of the profile the caller edited;
    when someone saved the profile since, nothing changes (a form carries every
    field, so saving it would silently undo the other person's change).
    Raises NotAllowed, Invalid, Conflict.
    """
    unknown = set(data) - set(INSTITUTION_FIELDS)
    if unknown:
        raise Invalid({name: [_("未知字段。")] for name in unknown})
    _require(policies.can_change_institution(actor, institution))
    if "region" in data and data["region"] != institution.region:
        _require(policies.can_create_institution(actor, data["region"]))
    errors = _validate_institution(data, instance=institution)
    _raise_if(errors)
    with transaction.atomic():
        locked = Institution.objects.select_for_update().get(pk=institution.pk)
        if seen_updated_at is not None and locked.updated_at != seen_updated_at:
            raise Conflict(_("该机构资料在您编辑期间已被他人修改；请核对后再次保存（以本页内容为准）。"))
        old, new = apply_changes(locked, data, INSTITUTION_FIELDS, assign=_assign)
        if new:
            _registry_changed()
            record_event(
                actor=actor,
                action="institution.update",
                obj=locked,
                before=old,
                after=new,
                institution_public_id=locked.public_id,
                region_code=locked.region.code,
            )
    return locked


def _validate_department(data: dict[str, Any], institution: Institution, instance: Department | None) -> None:
    errors: dict[str, list[str]] = {}
    if "name" in data:
        if not str(data["name"] or "").strip():
            errors["name"] = [_("请填写科室名称。")]
        else:
            same = institution.departments.filter(name=str(data["name"]).strip())
            if instance is not None:
                same = same.exclude(pk=instance.pk)
            if same.exists():
                errors["name"] = [_("本机构已有同名科室。")]
    if "specialty" in data:
        _choice(errors, "specialty", data["specialty"], DepartmentSpecialty)
    if "subject" in data:
        data["subject"] = data["subject"] or ""
        if data["subject"]:
            _choice(errors, "subject", data["subject"], DepartmentSubject)
    _check_subject_within_specialty(errors, data, instance)
    if "beds" in data and (data["beds"] is None or int(data["beds"]) < 0):
        errors["beds"] = [_("床位数不能为负数。")]
    _raise_if(errors)


def _check_subject_within_specialty(
    errors: dict[str, list[str]], data: dict[str, Any], instance: Department | None
) -> None:
    """The (new or kept) second-level subject must belong to the (new or kept) first-level one.

    The error goes to the field being changed: ``subject`` when it is given,
    else ``specialty`` (moving a 心血管内科 to 外科 without clearing its 03.04).
    """
    if "subject" in errors or "specialty" in errors:
        return
    default = instance if instance is not None else Department()
    subject = data.get("subject", default.subject)
    specialty = data.get("specialty", default.specialty)
    if not subject or subject_specialty(subject) == specialty:
        return
    values = {
        "subject": f"{subject} {DepartmentSubject(subject).label}",
        "specialty": f"{specialty} {DepartmentSpecialty(specialty).label}",
    }
    if "subject" in data:
        message = _("二级诊疗科目 %(subject)s 不属于诊疗科目 %(specialty)s，请选择其下的专业或留空。")
    else:
        message = _(
            "科室的二级诊疗科目 %(subject)s 不属于诊疗科目 %(specialty)s，请同时更改或清空二级诊疗科目。"
        )
    errors["subject" if "subject" in data else "specialty"] = [message % values]


def department_create(*, actor: Any, institution: Institution, **data: Any) -> Department:
    """Add a department to an institution, with an audit event.

    Raises NotAllowed; Invalid for a blank or duplicate name, an unknown
    specialty or subject, or a subject outside the specialty (03.04 under 04);
    Conflict when a concurrent write took the name.
    """
    _require(policies.can_manage_departments(actor, institution))
    data = {k: v for k, v in data.items() if k in DEPARTMENT_FIELDS}
    data.setdefault("name", "")
    _validate_department(data, institution, None)
    with transaction.atomic():
        department = Department(institution=institution, **{k: v for k, v in data.items() if k != "name"})
        _set_name(department, data["name"])
        try:
            with transaction.atomic():
                department.save()
        except IntegrityError as error:
            raise Conflict(_("本机构已有同名科室。")) from error
        record_event(
            actor=actor,
            action="department.create",
            obj=department,
            after=snapshot(department, DEPARTMENT_FIELDS),
            institution_public_id=institution.public_id,
        )
    return department


def department_update(
    *, actor: Any, department: Department, seen_updated_at: datetime.datetime | None = None, **data: Any
) -> Department:
    """Change a department (including deactivating it), with an audit event of what changed.

    ``seen_updated_at`` is the ``updated_at`` of the department the caller
    edited; when someone saved the department since, nothing changes (a form
    carries every field, so saving it would silently undo the other change, a
    deactivation included). Raises NotAllowed; Invalid as ``department_create``
    does, also when a new specialty no longer holds the department's recorded
    subject; Conflict on a newer save.
    """
    institution = department.institution
    _require(policies.can_manage_departments(actor, institution))
    data = {k: v for k, v in data.items() if k in DEPARTMENT_FIELDS}
    _validate_department(data, institution, department)
    with transaction.atomic():
        if seen_updated_at is not None:
            current = Department.objects.select_for_update().only("updated_at").get(pk=department.pk)
            if current.updated_at != seen_updated_at:
                raise Conflict(_("该科室在您编辑期间已被他人修改；请核对后再次保存（以本页内容为准）。"))
        old, new = apply_changes(department, data, DEPARTMENT_FIELDS, assign=_assign)
        if new:
            record_event(
                actor=actor,
                action="department.update",
                obj=department,
                before=old,
                after=new,
                institution_public_id=institution.public_id,
            )
    return department
