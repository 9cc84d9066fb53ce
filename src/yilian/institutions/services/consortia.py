"""Writes of consortia and their members (the lead / sub-lead / member tree)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.core.audit import apply_changes, changed, snapshot
from yilian.core.exceptions import Conflict, Invalid
from yilian.institutions import policies
from yilian.institutions.choices import (
    GRID_CONSORTIUM_TYPES,
    ConsortiumStatus,
    ConsortiumType,
    InstitutionStatus,
    Integration,
    MemberRole,
    RegionLevel,
)
from yilian.institutions.models import (
    Consortium,
    ConsortiumMember,
    Institution,
    Region,
)
from yilian.institutions.services._common import (
    CONSORTIUM_FIELDS,
    MEMBER_FIELDS,
    _assign,
    _choice,
    _consortium_event,
    _raise_if,
    _registry_changed,
    _require,
    _set_name,
    _today,
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
        _registry_changed()
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
        locked.version += 1
        old, new = apply_changes(locked, data, CONSORTIUM_FIELDS, assign=_assign)
        if new:
            _registry_changed()
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
        errors["parent"] = [_("二级牵头单位必须挂在牵头单位或另一个二级牵头单位之下。")]
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
        _registry_changed()
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
            errors.setdefault("role", []).append(_("医联体至少要保留一个牵头单位。"))
        if new_role == MemberRole.MEMBER and current.children.filter(is_active=True).exists():
            errors.setdefault("role", []).append(_("该单位下还有成员，请先调整下属成员。"))
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
            _registry_changed()
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
        _registry_changed()
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
