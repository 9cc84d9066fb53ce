"""Writes of the registry. Each public function: policy check, validation, one transaction, audit.

Every function takes the acting user as ``actor`` and raises the project's
exceptions: ``NotAllowed`` (403), ``Invalid`` (400, field messages),
``Conflict`` (409, a concurrent change won), ``NotFound`` (404).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core.audit import changed, record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.text import pinyin_full, pinyin_initials
from yilian.institutions import policies
from yilian.institutions.choices import (
    CROSS_GRID_CATEGORIES,
    GRID_CONSORTIUM_TYPES,
    AgreementKind,
    ConsortiumStatus,
    ConsortiumType,
    DepartmentSpecialty,
    HospitalClass,
    HospitalGrade,
    InstitutionCategory,
    InstitutionStatus,
    Integration,
    ManagementBodyKind,
    MemberRole,
    Ownership,
    ProfitStatus,
    RegionLevel,
)
from yilian.institutions.codes import parse_region_code, validate_credit_code
from yilian.institutions.models import (
    Agreement,
    Consortium,
    ConsortiumMember,
    Department,
    Grid,
    GridArea,
    GridAssignment,
    Institution,
    ManagementBody,
    Region,
)

INSTITUTION_FIELDS = (
    "name",
    "short_name",
    "credit_code",
    "category",
    "grade",
    "grade_class",
    "ownership",
    "profit_status",
    "is_tcm",
    "may_serve_across_grids",
    "region",
    "address",
    "phone",
    "beds",
    "status",
    "description",
)
DEPARTMENT_FIELDS = ("name", "code", "specialty", "is_clinical", "beds", "phone", "is_active")
CONSORTIUM_FIELDS = (
    "name",
    "type",
    "integration",
    "region",
    "established_on",
    "status",
    "description",
)
MEMBER_FIELDS = ("role", "parent", "joined_on", "left_on", "is_active", "leave_reason", "notes")
GRID_FIELDS = ("code", "name", "region", "population", "description")
AGREEMENT_FIELDS = ("kind", "title", "file", "signed_on", "effective_from", "effective_to", "notes")
BODY_FIELDS = ("kind", "name", "head_name", "host_institution", "phone", "duties")

ALLOWED_UPLOADS = {
    ".pdf": (b"%PDF",),
    ".png": (b"\x89PNG",),
    ".jpg": (b"\xff\xd8",),
    ".jpeg": (b"\xff\xd8",),
    ".docx": (b"PK",),
    ".xlsx": (b"PK",),
    ".doc": (b"\xd0\xcf\x11\xe0",),
    ".ofd": (b"PK",),
}


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed(_("您没有执行此操作的权限。"))


def _set_name(obj: Any, name: str) -> None:
    obj.name = name.strip()
    obj.name_initials = pinyin_initials(obj.name)[:200]
    obj.name_pinyin = pinyin_full(obj.name)[:600]


def _choice(errors: dict[str, list[str]], field_name: str, value: Any, choices: Any) -> None:
    if value not in choices.values:
        errors.setdefault(field_name, []).append(_("“%(value)s” 不是有效的选项。") % {"value": value})


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(errors)


def _today() -> datetime.date:
    return timezone.localdate()


# Regions -------------------------------------------------------------------


def _region_parent(codes: Sequence[str], known: dict[str, Region]) -> Region | None:
    for code in codes:
        if code in known:
            return known[code]
        parent = Region.objects.filter(code=code).first()
        if parent is not None:
            known[code] = parent
            return parent
    return None


def region_create(*, actor: Any, code: str, name: str = "", population: int | None = None) -> Region:
    """Create one region. The code must be valid GB/T 2260 (or its extension) and its parent present.

    Raises NotAllowed, Invalid (unknown code, missing parent, duplicate).
    """
    _require(policies.can_manage_regions(actor))
    parsed = parse_region_code(code)
    name = (name or parsed.official_name).strip()
    if not name:
        raise Invalid({"name": _("请填写区划名称。")})
    with transaction.atomic():
        if Region.objects.filter(code=parsed.code).exists():
            raise Invalid({"code": _("区划代码 %(code)s 已存在。") % {"code": parsed.code}})
        parent = _region_parent(parsed.parent_candidates, {})
        if parent is None and parsed.level != RegionLevel.PROVINCE:
            raise Invalid({"code": _("请先建立上级区划。")})
        region = Region(
            code=parsed.code,
            level=parsed.level,
            prefix=parsed.prefix,
            parent=parent,
            population=population,
        )
        _set_name(region, name)
        region.save()
        record_event(
            actor=actor,
            action="region.create",
            obj=region,
            after=snapshot(region, ("code", "name", "level")),
            region_code=region.code,
        )
    return region


@dataclass
class RegionImportResult:
    """What a region import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def region_import_csv(*, actor: Any, content: str | bytes) -> RegionImportResult:
    """Import a region list (CSV with columns ``code,name[,population]``, header optional).

    All rows are validated first; any bad row rejects the whole file with
    every row's reason (nothing saved). Existing codes get their name and
    population updated. Parents may come from the same file or the database.
    """
    _require(policies.can_manage_regions(actor))
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                content = content.decode("gb18030")
            except UnicodeDecodeError as error:
                raise Invalid({"file": _("文件编码无法识别，请使用 UTF-8 或 GB18030。")}) from error
    rows: list[tuple[int, Any, str, int | None]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, row in enumerate(csv.reader(io.StringIO(content)), start=1):
        if not row or not "".join(row).strip():
            continue
        code = row[0].strip()
        if number == 1 and not code.isdigit():
            continue  # header
        name = row[1].strip() if len(row) > 1 else ""
        population: int | None = None
        if len(row) > 2 and row[2].strip():
            if not row[2].strip().isdigit():
                errors.append(_("第 %(row)d 行：人口应为整数。") % {"row": number})
                continue
            population = int(row[2].strip())
        try:
            parsed = parse_region_code(code)
        except Invalid as error:
            errors.append(_("第 %(row)d 行：%(message)s") % {"row": number, "message": error.message})
            continue
        if parsed.code in seen:
            errors.append(_("第 %(row)d 行：区划代码 %(code)s 重复。") % {"row": number, "code": code})
            continue
        seen.add(parsed.code)
        name = name or parsed.official_name
        if not name:
            errors.append(_("第 %(row)d 行：缺少名称。") % {"row": number})
            continue
        rows.append((number, parsed, name, population))
    if not rows and not errors:
        raise Invalid({"file": _("文件中没有区划数据。")})
    result = RegionImportResult()
    with transaction.atomic():
        existing = {region.code: region for region in Region.objects.filter(code__in=seen)}
        known: dict[str, Region] = dict(existing)
        pending = {parsed.code for _number, parsed, _name, _population in rows}
        for number, parsed, name, population in sorted(
            rows, key=lambda item: len(item[1].code) * 10**12 + int(item[1].code)
        ):
            region = existing.get(parsed.code)
            if region is not None:
                before = snapshot(region, ("name", "population"))
                _set_name(region, name)
                region.population = population if population is not None else region.population
                after = snapshot(region, ("name", "population"))
                if before == after:
                    result.unchanged += 1
                    continue
                region.save()
                old, new = changed(before, after)
                record_event(
                    actor=actor,
                    action="region.update",
                    obj=region,
                    before=old,
                    after=new,
                    region_code=region.code,
                )
                result.updated += 1
                continue
            parent = _region_parent(parsed.parent_candidates, known)
            if parent is None and parsed.level != RegionLevel.PROVINCE:
                missing = next(
                    (c for c in parsed.parent_candidates if c in pending),
                    parsed.parent_candidates[0],
                )
                errors.append(
                    _("第 %(row)d 行：上级区划 %(parent)s 不存在。") % {"row": number, "parent": missing}
                )
                continue
            region = Region(
                code=parsed.code,
                level=parsed.level,
                prefix=parsed.prefix,
                parent=parent,
                population=population,
            )
            _set_name(region, name)
            region.save()
            known[region.code] = region
            record_event(
                actor=actor,
                action="region.create",
                obj=region,
                after=snapshot(region, ("code", "name", "level")),
                region_code=region.code,
                details={"source": "csv"},
            )
            result.created += 1
        if errors:
            transaction.set_rollback(True)
            raise Invalid({"file": errors})
    return result


# Institutions --------------------------------------------------------------


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
            errors[required] = [_("此项为必填项。")]
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
        record_event(
            actor=actor,
            action="institution.create",
            obj=institution,
            after=snapshot(institution, INSTITUTION_FIELDS),
            institution_public_id=institution.public_id,
            region_code=institution.region.code,
        )
    return institution


def institution_update(*, actor: Any, institution: Institution, **data: Any) -> Institution:
    """Change an institution's profile. Only the given fields change. Raises NotAllowed, Invalid."""
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
        before = snapshot(locked, INSTITUTION_FIELDS)
        for key, value in data.items():
            if key == "name":
                _set_name(locked, value)
            else:
                setattr(locked, key, value)
        locked.save()
        old, new = changed(before, snapshot(locked, INSTITUTION_FIELDS))
        if new:
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
    if "beds" in data and (data["beds"] is None or int(data["beds"]) < 0):
        errors["beds"] = [_("床位数不能为负数。")]
    _raise_if(errors)


def department_create(*, actor: Any, institution: Institution, **data: Any) -> Department:
    """Add a department to an institution. Raises NotAllowed, Invalid (duplicate name, bad subject)."""
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


def department_update(*, actor: Any, department: Department, **data: Any) -> Department:
    """Change a department (including deactivating it). Raises NotAllowed, Invalid."""
    institution = department.institution
    _require(policies.can_manage_departments(actor, institution))
    data = {k: v for k, v in data.items() if k in DEPARTMENT_FIELDS}
    _validate_department(data, institution, department)
    with transaction.atomic():
        before = snapshot(department, DEPARTMENT_FIELDS)
        for key, value in data.items():
            if key == "name":
                _set_name(department, value)
            else:
                setattr(department, key, value)
        department.save()
        old, new = changed(before, snapshot(department, DEPARTMENT_FIELDS))
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


# Consortia -----------------------------------------------------------------


def _consortium_event(actor: Any, action: str, obj: Any, consortium: Consortium, **kwargs: Any) -> None:
    record_event(
        actor=actor,
        action=action,
        obj=obj,
        consortium_public_id=consortium.public_id,
        region_code=consortium.region.code,
        **kwargs,
    )


def _lock_consortium(consortium: Consortium, expected_version: int | None) -> Consortium:
    """Lock the consortium row and check the version the caller saw (optimistic concurrency)."""
    locked = Consortium.objects.select_for_update().select_related("region").get(pk=consortium.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该医联体已被他人修改，请刷新后重试。"))
    if locked.status != ConsortiumStatus.ACTIVE:
        raise Invalid({"__all__": [_("医联体已解散，不能再修改成员。")]})
    return locked


def _bump(consortium: Consortium) -> None:
    Consortium.objects.filter(pk=consortium.pk).update(version=F("version") + 1, updated_at=timezone.now())
    consortium.refresh_from_db(fields=["version", "updated_at"])


def consortium_create(
    *,
    actor: Any,
    name: str,
    type: str,
    region: Region,
    lead_institution: Institution,
    integration: str = Integration.LOOSE,
    established_on: datetime.date | None = None,
    description: str = "",
    joined_on: datetime.date | None = None,
) -> Consortium:
    """Create a consortium with its first lead institution (a consortium keeps at least one lead).

    A consortium-office creator is granted the office role on the new
    consortium. Raises NotAllowed, Invalid (duplicate name, bad form, a lead
    already in another city group or county community).
    """
    _require(policies.can_create_consortium(actor, region))
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("请填写医联体名称。")]
    elif Consortium.objects.filter(name=name.strip()).exists():
        errors["name"] = [_("已有同名医联体。")]
    _choice(errors, "type", type, ConsortiumType)
    _choice(errors, "integration", integration, Integration)
    if not isinstance(region, Region):
        errors["region"] = [_("请选择规划区域。")]
    elif region.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        errors["region"] = [_("医联体的规划区域应为省、市或县级区划。")]
    if not isinstance(lead_institution, Institution):
        errors["lead_institution"] = [_("请选择牵头单位。")]
    elif lead_institution.status != InstitutionStatus.ACTIVE:
        errors["lead_institution"] = [_("该机构不在运营状态。")]
    elif (
        type in GRID_CONSORTIUM_TYPES
        and ConsortiumMember.objects.filter(
            institution=lead_institution, is_active=True, grid_form=True
        ).exists()
    ):
        errors["lead_institution"] = [_("一个机构同一时间只能加入一个城市医疗集团或县域医共体。")]
    _raise_if(errors)
    with transaction.atomic():
        consortium = Consortium(
            type=type,
            integration=integration,
            region=region,
            established_on=established_on,
            description=description,
        )
        _set_name(consortium, name)
        try:
            with transaction.atomic():
                consortium.save()
                lead = ConsortiumMember.objects.create(
                    consortium=consortium,
                    institution=lead_institution,
                    role=MemberRole.LEAD,
                    joined_on=joined_on or established_on or _today(),
                    grid_form=type in GRID_CONSORTIUM_TYPES,
                )
        except IntegrityError as error:
            raise Conflict(_("医联体或其牵头单位已被他人同时登记，请刷新后重试。")) from error
        _consortium_event(
            actor,
            "consortium.create",
            consortium,
            consortium,
            after=snapshot(consortium, CONSORTIUM_FIELDS),
        )
        _consortium_event(
            actor,
            "consortium.member.add",
            lead,
            consortium,
            after=snapshot(lead, MEMBER_FIELDS),
            institution_public_id=lead_institution.public_id,
        )
        from yilian.accounts.services import grant_creator_office_role

        grant_creator_office_role(actor=actor, consortium=consortium)
    return consortium


def consortium_update(
    *, actor: Any, consortium: Consortium, expected_version: int | None = None, **data: Any
) -> Consortium:
    """Change a consortium's profile. The form (``type``) cannot change while it has members.

    Raises NotAllowed, Invalid, Conflict (someone else changed it meanwhile).
    """
    _require(policies.can_manage_consortium(actor, consortium))
    data = {k: v for k, v in data.items() if k in CONSORTIUM_FIELDS}
    errors: dict[str, list[str]] = {}
    if "name" in data:
        if not str(data["name"] or "").strip():
            errors["name"] = [_("请填写医联体名称。")]
        elif Consortium.objects.filter(name=str(data["name"]).strip()).exclude(pk=consortium.pk).exists():
            errors["name"] = [_("已有同名医联体。")]
    if "type" in data:
        _choice(errors, "type", data["type"], ConsortiumType)
        if data["type"] != consortium.type:
            errors.setdefault("type", []).append(_("医联体的组织形式创建后不能更改。"))
    if "integration" in data:
        _choice(errors, "integration", data["integration"], Integration)
    if "status" in data:
        _choice(errors, "status", data["status"], ConsortiumStatus)
    if "region" in data and data["region"] != consortium.region:
        _require(policies.can_create_consortium(actor, data["region"]))
    _raise_if(errors)
    with transaction.atomic():
        locked = Consortium.objects.select_for_update().select_related("region").get(pk=consortium.pk)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(_("该医联体已被他人修改，请刷新后重试。"))
        before = snapshot(locked, CONSORTIUM_FIELDS)
        for key, value in data.items():
            if key == "name":
                _set_name(locked, value)
            else:
                setattr(locked, key, value)
        locked.version += 1
        locked.save()
        old, new = changed(before, snapshot(locked, CONSORTIUM_FIELDS))
        if new:
            _consortium_event(actor, "consortium.update", locked, locked, before=old, after=new)
    return locked


def _check_parent(
    consortium: Consortium,
    role: str,
    parent: ConsortiumMember | None,
    member: ConsortiumMember | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if role == MemberRole.LEAD and parent is not None:
        errors["parent"] = [_("牵头单位不能有上级牵头单位。")]
        return errors
    if role == MemberRole.SUB_LEAD and parent is None:
        errors["parent"] = [_("二级牵头单位必须挂在一个牵头单位之下。")]
        return errors
    if parent is None:
        return errors
    if parent.consortium_id != consortium.pk or not parent.is_active:
        errors["parent"] = [_("上级牵头单位必须是本医联体的在册成员。")]
    elif parent.role not in (MemberRole.LEAD, MemberRole.SUB_LEAD):
        errors["parent"] = [_("上级只能是牵头单位或二级牵头单位。")]
    elif member is not None:
        # Walk up from the new parent; meeting the member itself means a cycle.
        seen: set[int] = set()
        current: ConsortiumMember | None = parent
        while current is not None and current.pk not in seen:
            if current.pk == member.pk:
                errors["parent"] = [_("不能把成员挂到它自己或它的下级之下（会形成循环）。")]
                break
            seen.add(current.pk)
            current = (
                ConsortiumMember.objects.filter(pk=current.parent_id).first() if current.parent_id else None
            )
    return errors


def member_add(
    *,
    actor: Any,
    consortium: Consortium,
    institution: Institution,
    role: str = MemberRole.MEMBER,
    parent: ConsortiumMember | None = None,
    joined_on: datetime.date | None = None,
    notes: str = "",
    expected_version: int | None = None,
) -> ConsortiumMember:
    """Add an institution to a consortium with a role (lead, sub-lead under a lead, member).

    Rules: no duplicate active membership; an institution is in at most one
    city group or county community at a time; a sub-lead sits under a lead;
    no cycle. ``expected_version`` is the consortium version the caller saw;
    if someone changed the consortium meanwhile, raises Conflict. Raises
    NotAllowed, Invalid, Conflict.
    """
    _require(policies.can_manage_consortium(actor, consortium))
    joined_on = joined_on or _today()
    with transaction.atomic():
        locked = _lock_consortium(consortium, expected_version)
        errors: dict[str, list[str]] = {}
        _choice(errors, "role", role, MemberRole)
        if not isinstance(institution, Institution):
            errors["institution"] = [_("请选择机构。")]
            _raise_if(errors)
        if institution.status != InstitutionStatus.ACTIVE:
            errors["institution"] = [_("该机构不在运营状态。")]
        elif ConsortiumMember.objects.filter(
            consortium=locked, institution=institution, is_active=True
        ).exists():
            errors["institution"] = [_("该机构已是本医联体的成员。")]
        elif locked.type in GRID_CONSORTIUM_TYPES:
            other = (
                ConsortiumMember.objects.filter(institution=institution, is_active=True, grid_form=True)
                .select_related("consortium")
                .first()
            )
            if other is not None:
                errors["institution"] = [
                    _("该机构已加入%(name)s；一个机构同一时间只能加入一个城市医疗集团或县域医共体。")
                    % {"name": other.consortium.name}
                ]
        if joined_on > _today() + datetime.timedelta(days=366):
            errors["joined_on"] = [_("加入日期不能晚于一年以后。")]
        errors.update(_check_parent(locked, role, parent, None))
        _raise_if(errors)
        try:
            with transaction.atomic():
                member = ConsortiumMember.objects.create(
                    consortium=locked,
                    institution=institution,
                    role=role,
                    parent=parent,
                    joined_on=joined_on,
                    notes=notes,
                    grid_form=locked.type in GRID_CONSORTIUM_TYPES,
                )
        except IntegrityError as error:
            raise Conflict(_("该机构刚被他人加入医联体，请刷新后查看。")) from error
        _bump(locked)
        _consortium_event(
            actor,
            "consortium.member.add",
            member,
            locked,
            after=snapshot(member, MEMBER_FIELDS),
            institution_public_id=institution.public_id,
        )
    consortium.version = locked.version
    return member


def member_update(
    *,
    actor: Any,
    member: ConsortiumMember,
    role: str | None = None,
    parent: ConsortiumMember | object | None = ...,
    notes: str | None = None,
    expected_version: int | None = None,
) -> ConsortiumMember:
    """Change a member's role or parent (e.g. promote to sub-lead, move under another lead).

    Refuses a change that leaves the consortium without a lead, leaves
    children under a plain member, or makes a cycle. Raises NotAllowed,
    Invalid, Conflict.
    """
    consortium = member.consortium
    _require(policies.can_manage_consortium(actor, consortium))
    with transaction.atomic():
        locked = _lock_consortium(consortium, expected_version)
        current = ConsortiumMember.objects.select_for_update().get(pk=member.pk)
        if not current.is_active:
            raise Invalid({"__all__": [_("该成员已退出，不能修改。")]})
        new_role = role or current.role
        new_parent = current.parent if parent is ... else parent
        errors: dict[str, list[str]] = {}
        _choice(errors, "role", new_role, MemberRole)
        if (
            current.role == MemberRole.LEAD
            and new_role != MemberRole.LEAD
            and (
                not locked.members.filter(is_active=True, role=MemberRole.LEAD)
                .exclude(pk=current.pk)
                .exists()
            )
        ):
            errors["role"] = [_("医联体至少要保留一个牵头单位。")]
        if new_role == MemberRole.MEMBER and current.children.filter(is_active=True).exists():
            errors["role"] = [_("该单位下还有成员，请先调整下属成员。")]
        errors.update(_check_parent(locked, new_role, new_parent, current))  # type: ignore[arg-type]
        _raise_if(errors)
        before = snapshot(current, MEMBER_FIELDS)
        current.role = new_role
        current.parent = new_parent  # type: ignore[assignment]
        if notes is not None:
            current.notes = notes
        current.save()
        _bump(locked)
        old, new = changed(before, snapshot(current, MEMBER_FIELDS))
        if new:
            _consortium_event(
                actor,
                "consortium.member.update",
                current,
                locked,
                before=old,
                after=new,
                institution_public_id=current.institution.public_id,
            )
    consortium.version = locked.version
    return current


def member_remove(
    *,
    actor: Any,
    member: ConsortiumMember,
    left_on: datetime.date | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> ConsortiumMember:
    """Record that an institution left a consortium (the row stays as history).

    Refuses removing the last lead or a lead/sub-lead that still has members
    under it. Raises NotAllowed, Invalid, Conflict.
    """
    consortium = member.consortium
    _require(policies.can_manage_consortium(actor, consortium))
    left_on = left_on or _today()
    with transaction.atomic():
        locked = _lock_consortium(consortium, expected_version)
        current = ConsortiumMember.objects.select_for_update().select_related("institution").get(pk=member.pk)
        errors: dict[str, list[str]] = {}
        if not current.is_active:
            raise Conflict(_("该成员已退出。"))
        if left_on < current.joined_on:
            errors["left_on"] = [_("退出日期不能早于加入日期。")]
        if (
            current.role == MemberRole.LEAD
            and not locked.members.filter(is_active=True, role=MemberRole.LEAD)
            .exclude(pk=current.pk)
            .exists()
        ):
            errors["__all__"] = [_("医联体至少要保留一个牵头单位。")]
        elif current.children.filter(is_active=True).exists():
            errors["__all__"] = [_("该单位下还有成员，请先移出或调整其下属成员。")]
        _raise_if(errors)
        before = snapshot(current, MEMBER_FIELDS)
        current.is_active = False
        current.left_on = left_on
        current.leave_reason = reason.strip()
        current.save()
        _bump(locked)
        old, new = changed(before, snapshot(current, MEMBER_FIELDS))
        _consortium_event(
            actor,
            "consortium.member.remove",
            current,
            locked,
            before=old,
            after=new,
            institution_public_id=current.institution.public_id,
        )
    consortium.version = locked.version
    return current


def management_body_save(
    *, actor: Any, consortium: Consortium, body: ManagementBody | None = None, **data: Any
) -> ManagementBody:
    """Create (``body`` None) or change a management body of a consortium. Raises NotAllowed, Invalid."""
    _require(policies.can_manage_consortium(actor, consortium))
    data = {k: v for k, v in data.items() if k in BODY_FIELDS}
    errors: dict[str, list[str]] = {}
    if "kind" in data or body is None:
        _choice(errors, "kind", data.get("kind"), ManagementBodyKind)
    if (body is None or "name" in data) and not str(data.get("name") or "").strip():
        errors["name"] = [_("请填写名称。")]
    _raise_if(errors)
    with transaction.atomic():
        before = snapshot(body, BODY_FIELDS) if body else None
        target = body or ManagementBody(consortium=consortium)
        for key, value in data.items():
            setattr(target, key, value)
        target.save()
        after = snapshot(target, BODY_FIELDS)
        if before is None:
            _consortium_event(actor, "consortium.body.create", target, consortium, after=after)
        else:
            old, new = changed(before, after)
            if new:
                _consortium_event(actor, "consortium.body.update", target, consortium, before=old, after=new)
    return target


def management_body_delete(*, actor: Any, body: ManagementBody) -> None:
    """Remove a management body. Raises NotAllowed."""
    consortium = body.consortium
    _require(policies.can_manage_consortium(actor, consortium))
    with transaction.atomic():
        _consortium_event(
            actor, "consortium.body.delete", body, consortium, before=snapshot(body, BODY_FIELDS)
        )
        body.delete()


def _validate_upload(upload: UploadedFile | None, errors: dict[str, list[str]]) -> None:
    if upload is None:
        errors["file"] = [_("请上传文件。")]
        return
    name = (upload.name or "").lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in ALLOWED_UPLOADS:
        errors["file"] = [_("只接受 PDF、OFD、Word、Excel 或图片文件。")]
        return
    if upload.size and upload.size > settings.UPLOAD_MAX_BYTES:
        errors["file"] = [
            _("文件过大（上限 %(size)d MB）。") % {"size": settings.UPLOAD_MAX_BYTES // (1024 * 1024)}
        ]
        return
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in ALLOWED_UPLOADS[suffix]):
        errors["file"] = [_("文件内容与扩展名不符。")]


def agreement_create(
    *,
    actor: Any,
    consortium: Consortium,
    kind: str,
    title: str,
    file: UploadedFile | None,
    effective_from: datetime.date | None,
    effective_to: datetime.date | None = None,
    signed_on: datetime.date | None = None,
    parties: Iterable[Institution] = (),
    notes: str = "",
) -> Agreement:
    """Upload a charter or agreement with its dates and signing parties (members of the consortium).

    Raises NotAllowed, Invalid (file type/size, dates, parties not members).
    """
    _require(policies.can_manage_consortium(actor, consortium))
    parties = list(parties)
    errors: dict[str, list[str]] = {}
    _choice(errors, "kind", kind, AgreementKind)
    if not (title or "").strip():
        errors["title"] = [_("请填写标题。")]
    if effective_from is None:
        errors["effective_from"] = [_("请填写生效日期。")]
    elif effective_to is not None and effective_to < effective_from:
        errors["effective_to"] = [_("失效日期不能早于生效日期。")]
    member_ids = set(consortium.members.filter(is_active=True).values_list("institution_id", flat=True))
    strangers = [party.name for party in parties if party.pk not in member_ids]
    if strangers:
        errors["parties"] = [_("以下机构不是本医联体成员：%(names)s") % {"names": "、".join(strangers)}]
    _validate_upload(file, errors)
    _raise_if(errors)
    with transaction.atomic():
        agreement = Agreement(
            consortium=consortium,
            kind=kind,
            title=title.strip(),
            signed_on=signed_on,
            effective_from=effective_from,
            effective_to=effective_to,
            notes=notes,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            original_filename=(file.name or "")[:255] if file else "",
        )
        agreement.file.save(file.name or "upload", file, save=False)  # type: ignore[union-attr]
        agreement.save()
        agreement.parties.set(parties)
        after = snapshot(agreement, AGREEMENT_FIELDS)
        after["parties"] = [str(party.public_id) for party in parties]
        _consortium_event(actor, "consortium.agreement.create", agreement, consortium, after=after)
    return agreement


def agreement_update(
    *,
    actor: Any,
    agreement: Agreement,
    effective_to: datetime.date | None = None,
    notes: str | None = None,
) -> Agreement:
    """End an agreement (set its end date) or change its notes. Raises NotAllowed, Invalid."""
    consortium = agreement.consortium
    _require(policies.can_manage_consortium(actor, consortium))
    if effective_to is not None and effective_to < agreement.effective_from:
        raise Invalid({"effective_to": [_("失效日期不能早于生效日期。")]})
    with transaction.atomic():
        before = snapshot(agreement, ("effective_to", "notes"))
        agreement.effective_to = effective_to
        if notes is not None:
            agreement.notes = notes
        agreement.save()
        old, new = changed(before, snapshot(agreement, ("effective_to", "notes")))
        if new:
            _consortium_event(
                actor, "consortium.agreement.update", agreement, consortium, before=old, after=new
            )
    return agreement


# Grids ---------------------------------------------------------------------


def _grid_areas(
    region: Region, area_codes: Iterable[str], grid: Grid | None
) -> tuple[list[Region], list[str]]:
    codes = sorted({code.strip() for code in area_codes if code and code.strip()})
    areas = {area.code: area for area in Region.objects.filter(code__in=codes)}
    errors: list[str] = []
    for code in codes:
        area = areas.get(code)
        if area is None:
            errors.append(_("区划 %(code)s 不存在。") % {"code": code})
        elif area.level not in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
            errors.append(_("%(name)s 不是乡镇（街道）或村（居）。") % {"name": area.name})
        elif not area.code.startswith(region.prefix):
            errors.append(_("%(name)s 不在网格所属区域内。") % {"name": area.name})
    taken = GridArea.objects.filter(area__code__in=codes).select_related("grid", "area")
    if grid is not None:
        taken = taken.exclude(grid=grid)
    for link in taken:
        errors.append(_("%(area)s 已属于网格“%(grid)s”。") % {"area": link.area.name, "grid": link.grid.name})
    # A township in a grid covers its villages, so a township and its villages never sit in two grids.
    nested = GridArea.objects.filter(
        Q(area__code__in={code[:9] for code in codes if len(code) == 12})
        | Q(area__parent__code__in=[code for code in codes if len(code) == 9])
    ).select_related("grid", "area")
    if grid is not None:
        nested = nested.exclude(grid=grid)
    for link in nested:
        if link.area.level == RegionLevel.TOWNSHIP:
            message = _("%(area)s 已整体属于网格“%(grid)s”，其下的村不能再划入其他网格。")
        else:
            message = _("%(area)s 已属于网格“%(grid)s”，其所在乡镇不能整体划入。")
        errors.append(message % {"area": link.area.name, "grid": link.grid.name})
    chosen = set(codes)
    for code in codes:
        if len(code) == 12 and code[:9] in chosen:
            errors.append(_("%(code)s 所在乡镇已整体划入，无需单独选择村。") % {"code": code})
    return [areas[code] for code in codes if code in areas], errors


def grid_create(
    *,
    actor: Any,
    region: Region,
    code: str,
    name: str,
    area_codes: Iterable[str] = (),
    population: int | None = None,
    description: str = "",
) -> Grid:
    """Plan a grid in a region (county or prefecture) covering townships/villages not in another grid.

    Raises NotAllowed, Invalid.
    """
    _require(policies.can_plan_grids(actor, region))
    errors: dict[str, list[str]] = {}
    if not isinstance(region, Region) or region.level not in (
        RegionLevel.PREFECTURE,
        RegionLevel.COUNTY,
    ):
        errors["region"] = [_("网格的规划区域应为地级或县级区划。")]
        _raise_if(errors)
    if not (code or "").strip():
        errors["code"] = [_("请填写网格编码。")]
    elif Grid.objects.filter(code=code.strip()).exists():
        errors["code"] = [_("网格编码已存在。")]
    if not (name or "").strip():
        errors["name"] = [_("请填写网格名称。")]
    areas, area_errors = _grid_areas(region, area_codes, None)
    if area_errors:
        errors["area_codes"] = area_errors
    _raise_if(errors)
    with transaction.atomic():
        grid = Grid(region=region, code=code.strip(), population=population, description=description)
        _set_name(grid, name)
        try:
            with transaction.atomic():
                grid.save()
                GridArea.objects.bulk_create([GridArea(grid=grid, area=area) for area in areas])
        except IntegrityError as error:
            raise Conflict(_("网格或其覆盖区域刚被他人修改，请刷新后重试。")) from error
        after = snapshot(grid, GRID_FIELDS)
        after["areas"] = [area.code for area in areas]
        record_event(actor=actor, action="grid.create", obj=grid, after=after, region_code=region.code)
    return grid


def grid_update(
    *,
    actor: Any,
    grid: Grid,
    name: str | None = None,
    population: int | None = None,
    description: str | None = None,
    area_codes: Iterable[str] | None = None,
) -> Grid:
    """Rename a grid or change the areas it covers. Raises NotAllowed, Invalid, Conflict."""
    _require(policies.can_change_grid(actor, grid))
    errors: dict[str, list[str]] = {}
    if name is not None and not name.strip():
        errors["name"] = [_("请填写网格名称。")]
    areas: list[Region] | None = None
    if area_codes is not None:
        areas, area_errors = _grid_areas(grid.region, area_codes, grid)
        if area_errors:
            errors["area_codes"] = area_errors
    _raise_if(errors)
    with transaction.atomic():
        before = snapshot(grid, GRID_FIELDS)
        before["areas"] = list(grid.area_links.order_by("area__code").values_list("area__code", flat=True))
        if name is not None:
            _set_name(grid, name)
        if population is not None:
            grid.population = population
        if description is not None:
            grid.description = description
        grid.save()
        if areas is not None:
            try:
                with transaction.atomic():
                    grid.area_links.exclude(area__in=areas).delete()
                    present = set(grid.area_links.values_list("area_id", flat=True))
                    GridArea.objects.bulk_create(
                        [GridArea(grid=grid, area=area) for area in areas if area.pk not in present]
                    )
            except IntegrityError as error:
                raise Conflict(_("网格或其覆盖区域刚被他人修改，请刷新后重试。")) from error
        after = snapshot(grid, GRID_FIELDS)
        after["areas"] = list(grid.area_links.order_by("area__code").values_list("area__code", flat=True))
        old, new = changed(before, after)
        if new:
            record_event(
                actor=actor,
                action="grid.update",
                obj=grid,
                before=old,
                after=new,
                region_code=grid.region.code,
            )
    return grid


def grid_assign(
    *,
    actor: Any,
    grid: Grid,
    consortium: Consortium,
    assigned_from: datetime.date | None = None,
    replace: bool = False,
) -> GridAssignment:
    """Make a city group or county community responsible for a grid (Art. 10: one at a time).

    If the grid already has a consortium, pass ``replace=True`` to hand it
    over (the old assignment ends the day before); otherwise raises Invalid.
    Raises NotAllowed, Invalid, Conflict.
    """
    _require(policies.can_change_grid(actor, grid))
    assigned_from = assigned_from or _today()
    errors: dict[str, list[str]] = {}
    if not isinstance(consortium, Consortium):
        raise Invalid({"consortium": [_("请选择医联体。")]})
    if not policies.can_serve_grid(consortium):
        errors["consortium"] = [_("只有城市医疗集团或县域医共体可以负责网格。")]
    elif consortium.status != ConsortiumStatus.ACTIVE:
        errors["consortium"] = [_("该医联体已解散。")]
    _raise_if(errors)
    with transaction.atomic():
        Grid.objects.select_for_update().get(pk=grid.pk)
        current = grid.assignments.filter(is_current=True).select_related("consortium").first()
        if current is not None:
            if current.consortium_id == consortium.pk:
                raise Invalid({"consortium": [_("该网格已由此医联体负责。")]})
            if not replace:
                raise Invalid(
                    {
                        "consortium": [
                            _("该网格已由“%(name)s”负责；一个网格同一时间只能由一个医联体负责。")
                            % {"name": current.consortium.name}
                        ]
                    }
                )
            if assigned_from <= current.assigned_from:
                raise Invalid({"assigned_from": [_("交接日期必须晚于当前责任的起始日期。")]})
            current.is_current = False
            current.assigned_to = assigned_from - datetime.timedelta(days=1)
            current.save()
            record_event(
                actor=actor,
                action="grid.unassign",
                obj=current,
                before={"is_current": True},
                after={"is_current": False, "assigned_to": str(current.assigned_to)},
                consortium_public_id=current.consortium.public_id,
                region_code=grid.region.code,
            )
        try:
            with transaction.atomic():
                assignment = GridAssignment.objects.create(
                    grid=grid, consortium=consortium, assigned_from=assigned_from
                )
        except IntegrityError as error:
            raise Conflict(_("该网格刚被他人分配，请刷新后重试。")) from error
        record_event(
            actor=actor,
            action="grid.assign",
            obj=assignment,
            after={
                "grid": grid.code,
                "consortium": str(consortium.public_id),
                "assigned_from": str(assigned_from),
            },
            consortium_public_id=consortium.public_id,
            region_code=grid.region.code,
        )
    return assignment


def grid_unassign(*, actor: Any, grid: Grid, assigned_to: datetime.date | None = None) -> GridAssignment:
    """End the current consortium's responsibility for a grid. Raises NotAllowed, Invalid."""
    _require(policies.can_change_grid(actor, grid))
    with transaction.atomic():
        Grid.objects.select_for_update().get(pk=grid.pk)
        current = grid.assignments.filter(is_current=True).select_related("consortium").first()
        if current is None:
            raise Invalid({"__all__": [_("该网格当前没有负责的医联体。")]})
        end = assigned_to or _today()
        if end < current.assigned_from:
            raise Invalid({"assigned_to": [_("截止日期不能早于起始日期。")]})
        current.is_current = False
        current.assigned_to = end
        current.save()
        record_event(
            actor=actor,
            action="grid.unassign",
            obj=current,
            before={"is_current": True},
            after={"is_current": False, "assigned_to": str(end)},
            consortium_public_id=current.consortium.public_id,
            region_code=grid.region.code,
        )
    return current
