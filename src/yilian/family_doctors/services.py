"""Writes of family-doctor contracting: teams and members, service packages, contracts and the sweep.

Every write is one transaction with an audit event. Contracts in force are
unique per resident: the service refuses a second one with a clear message,
and the partial unique index ``fd_contract_one_active_per_person`` settles
concurrent signings (the loser gets Conflict). Renewals and terminations
lock the contract row and carry the version the user saw.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.accounts.selectors import scope_for
from yilian.core.audit import apply_changes, record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed
from yilian.core.permissions import Role
from yilian.core.text import join_list, pinyin_full, pinyin_initials
from yilian.family_doctors import policies, selectors
from yilian.family_doctors.choices import (
    ACTIVE_STATUSES,
    ContractStatus,
    PackageKind,
    PriorityGroup,
    TeamMemberRole,
    TerminationReason,
)
from yilian.family_doctors.models import (
    CareTeam,
    CareTeamMember,
    ContractPriorityGroup,
    ContractTerm,
    FamilyDoctorContract,
    ServicePackage,
)
from yilian.people.choices import Gender, PersonLinkReason
from yilian.people.services import person_link

TEAM_FIELDS = ("name", "grid", "description", "is_active")
PACKAGE_FIELDS = ("name", "kind", "annual_price", "contents", "target_groups", "is_active")
MAX_TERM_DAYS = 3 * 366
"""A term is at most three years (contracts are usually signed for one)."""

NUMBER_ATTEMPTS = 30


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


def _one_year_from(day: datetime.date) -> datetime.date:
    """The last day of a one-year term starting on ``day``."""
    try:
        return day.replace(year=day.year + 1) - datetime.timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


# Teams -----------------------------------------------------------------------------------------


def _validate_team(team: CareTeam, data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if "name" in data:
        data["name"] = str(data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = [_("请填写团队名称。")]
        elif len(data["name"]) > 100:
            errors["name"] = [_("团队名称不能超过 100 个字。")]
    if data.get("grid") is not None and not _grid_of_institution(team.institution, data["grid"]):
        errors["grid"] = [_("该网格不在本机构所在区域内。")]


def _grid_of_institution(institution: Any, grid: Any) -> bool:
    """A team serves a grid of its institution's area (the grid's region or one of its areas lies in
    the township / county of the institution)."""
    if institution.region_id is None:
        return True
    prefix = institution.region.prefix
    county = prefix[:6]
    return grid.region.code.startswith(county) or grid.region.code.startswith(prefix)


def _assign_team(team: CareTeam, key: str, value: Any) -> None:
    setattr(team, key, value)
    if key == "name":
        team.name_initials = pinyin_initials(value)
        team.name_pinyin = pinyin_full(value)


def team_create(
    *,
    actor: Any,
    institution: Any,
    name: str,
    leader: Any,
    leader_role: str = TeamMemberRole.GENERAL_PRACTITIONER,
    grid: Any = None,
    description: str = "",
) -> CareTeam:
    """Form a care team of a primary institution with its leader (a current member from the start).

    Audited as ``care_team.create`` and ``care_team.member_add``. Raises NotAllowed (not an admin of a
    primary institution), Invalid (name, grid, leader checks), Conflict (the name is taken).
    """
    _require(
        policies.can_manage_teams_of(actor, institution), _("只有基层医疗卫生机构的管理员可以组建签约团队。")
    )
    if not institution.is_primary:
        raise Invalid({"institution": [_("签约团队只能由基层医疗卫生机构组建。")]})
    team = CareTeam(institution=institution, created_by=actor if getattr(actor, "pk", None) else None)
    data = {"name": name, "grid": grid, "description": (description or "").strip()[:300]}
    errors: dict[str, list[str]] = {}
    _validate_team(team, data, errors)
    if leader is None:
        errors["leader"] = [_("请指定团队长。")]
    if errors:
        raise Invalid(errors)
    for key, value in data.items():
        _assign_team(team, key, value)
    try:
        with transaction.atomic():
            team.save()
            record_event(
                actor=actor,
                action="care_team.create",
                obj=team,
                after=snapshot(team, TEAM_FIELDS),
                institution_public_id=institution.public_id,
            )
            _add_member(actor, team, leader, leader_role, is_leader=True, joined_on=None)
    except IntegrityError as error:
        raise Conflict(_("本机构已有同名的签约团队。")) from error
    return team


def team_update(
    *, actor: Any, team: CareTeam, seen_updated_at: datetime.datetime | None = None, **data: Any
) -> CareTeam:
    """Change a team's name, grid, description or whether it is active.

    A team with contracts in force cannot be deactivated (terminate or move them first).
    ``seen_updated_at`` is the ``updated_at`` of the team the caller edited: when someone saved it
    since, nothing changes (the form carries every field, so saving it would silently undo the other
    change, a deactivation included). Audited as ``care_team.update``. Raises NotAllowed, Invalid,
    Conflict (name taken, a newer save).
    """
    _require(policies.can_manage_teams_of(actor, team.institution), _("您没有管理该签约团队的权限。"))
    data = {k: v for k, v in data.items() if k in TEAM_FIELDS}
    errors: dict[str, list[str]] = {}
    _validate_team(team, data, errors)
    if (
        data.get("is_active") is False
        and team.is_active
        and team.contracts.filter(status__in=ACTIVE_STATUSES).exists()
    ):
        errors["is_active"] = [_("该团队仍有生效的签约协议，请先解约或到期后再停用。")]
    if "description" in data:
        data["description"] = (data["description"] or "").strip()[:300]
    if errors:
        raise Invalid(errors)
    try:
        with transaction.atomic():
            if seen_updated_at is not None:
                current = CareTeam.objects.select_for_update().only("updated_at").get(pk=team.pk)
                if current.updated_at != seen_updated_at:
                    raise Conflict(
                        _("该签约团队在您编辑期间已被他人修改；请核对后再次保存（以本页内容为准）。")
                    )
            old, new = apply_changes(team, data, TEAM_FIELDS, assign=_assign_team)
            if new:
                record_event(
                    actor=actor,
                    action="care_team.update",
                    obj=team,
                    before=old,
                    after=new,
                    institution_public_id=team.institution.public_id,
                )
    except IntegrityError as error:
        raise Conflict(_("本机构已有同名的签约团队。")) from error
    return team


def _member_institution(team: CareTeam, user: Any, role: str) -> tuple[Any, dict[str, list[str]]]:
    """Where the user serves the team from, checked against the role: GPs and public-health staff are
    doctors, nurses are nurses, of the team's institution or a primary member of its consortium in its
    area (village clinics); specialists are doctors of a hospital of the same consortium."""
    if role not in TeamMemberRole.values:
        return None, {"role": [_("无效的团队角色。")]}
    allowed = list(selectors.member_institutions(team))
    wanted = {
        TeamMemberRole.GENERAL_PRACTITIONER: {Role.DOCTOR},
        TeamMemberRole.NURSE: {Role.NURSE},
        TeamMemberRole.PUBLIC_HEALTH: {Role.DOCTOR, Role.NURSE},
        TeamMemberRole.SPECIALIST: {Role.DOCTOR},
    }[TeamMemberRole(role)]
    for institution in allowed:
        hospital = not institution.is_primary
        if (role == TeamMemberRole.SPECIALIST) != hospital:
            continue
        if selectors.staff_roles_at(user, institution.pk) & wanted:
            return institution, {}
    if role == TeamMemberRole.SPECIALIST:
        return None, {"user": [_("专科医生须为本医联体医院的在职医生。")]}
    if role == TeamMemberRole.NURSE:
        return None, {"user": [_("护士须为本机构（或本机构所辖村卫生室）的在职护士。")]}
    return None, {"user": [_("全科医生和公共卫生人员须为本机构（或本机构所辖村卫生室）的在职医务人员。")]}


def _add_member(
    actor: Any, team: CareTeam, user: Any, role: str, *, is_leader: bool, joined_on: datetime.date | None
) -> CareTeamMember:
    institution, errors = _member_institution(team, user, role)
    if is_leader and role == TeamMemberRole.SPECIALIST:
        errors.setdefault("is_leader", []).append(_("团队长应由基层机构的全科医生等担任。"))
    day = joined_on or timezone.localdate()
    if day > timezone.localdate():
        errors["joined_on"] = [_("加入日期不能晚于今天。")]
    if errors:
        raise Invalid(errors)
    if is_leader:
        CareTeamMember.objects.filter(team=team, left_on__isnull=True, is_leader=True).update(is_leader=False)
    try:
        with transaction.atomic():
            member = CareTeamMember.objects.create(
                team=team, user=user, institution=institution, role=role, is_leader=is_leader, joined_on=day
            )
    except IntegrityError as error:
        raise Conflict(_("该人员已是本团队成员。")) from error
    record_event(
        actor=actor,
        action="care_team.member_add",
        obj=team,
        details={
            "user": str(user.public_id),
            "name": user.full_name or user.username,
            "role": role,
            "leader": is_leader,
            "institution": str(institution.public_id),
        },
        institution_public_id=team.institution.public_id,
    )
    return member


def _lock_team(team: CareTeam) -> CareTeam:
    return CareTeam.objects.select_for_update().select_related("institution").get(pk=team.pk)


def team_member_add(
    *,
    actor: Any,
    team: CareTeam,
    user: Any,
    role: str,
    is_leader: bool = False,
    joined_on: datetime.date | None = None,
) -> CareTeamMember:
    """Add a current member; ``is_leader`` hands the leadership over from the current leader.

    Checks that the role fits the account and the institution (see ``_member_institution``). Audited as
    ``care_team.member_add``. Raises NotAllowed, Invalid, Conflict (already a member).
    """
    _require(policies.can_manage_teams_of(actor, team.institution), _("您没有管理该签约团队的权限。"))
    if user is None:
        raise Invalid({"user": [_("请选择成员。")]})
    with transaction.atomic():
        locked = _lock_team(team)
        if not locked.is_active:
            raise Invalid({"__all__": [_("该团队已停用。")]})
        if CareTeamMember.objects.filter(team=locked, user=user, left_on__isnull=True).exists():
            raise Conflict(_("该人员已是本团队成员。"))
        member = _add_member(actor, locked, user, role, is_leader=is_leader, joined_on=joined_on)
    return member


def team_member_remove(
    *, actor: Any, team: CareTeam, user: Any, left_on: datetime.date | None = None
) -> CareTeamMember:
    """End a member's membership (``left_on``; the row stays as history). The leader cannot leave before
    another member is made leader. Audited as ``care_team.member_remove``. Raises NotAllowed, Invalid,
    Conflict (not a current member — e.g. removed concurrently)."""
    _require(policies.can_manage_teams_of(actor, team.institution), _("您没有管理该签约团队的权限。"))
    day = left_on or timezone.localdate()
    with transaction.atomic():
        _lock_team(team)
        member = (
            CareTeamMember.objects.select_for_update()
            .filter(team=team, user=user, left_on__isnull=True)
            .first()
        )
        if member is None:
            raise Conflict(_("该人员已不是本团队的成员，请刷新页面。"))
        if member.is_leader:
            raise Invalid({"user": [_("团队长不能直接移出，请先指定新的团队长。")]})
        if day < member.joined_on or day > timezone.localdate():
            raise Invalid({"left_on": [_("退出日期应在加入日期和今天之间。")]})
        member.left_on = day
        member.save(update_fields=["left_on"])
        record_event(
            actor=actor,
            action="care_team.member_remove",
            obj=team,
            details={
                "user": str(user.public_id),
                "name": user.full_name or user.username,
                "left_on": str(day),
            },
            institution_public_id=team.institution.public_id,
        )
    return member


def team_set_leader(*, actor: Any, team: CareTeam, user: Any) -> CareTeamMember:
    """Make a current (non-specialist) member the leader; the previous leader stays a member.

    Audited as ``care_team.leader``. Raises NotAllowed, Invalid, Conflict (not a current member).
    """
    _require(policies.can_manage_teams_of(actor, team.institution), _("您没有管理该签约团队的权限。"))
    with transaction.atomic():
        _lock_team(team)
        member = CareTeamMember.objects.filter(team=team, user=user, left_on__isnull=True).first()
        if member is None:
            raise Conflict(_("该人员已不是本团队的成员，请刷新页面。"))
        if member.role == TeamMemberRole.SPECIALIST:
            raise Invalid({"user": [_("团队长应由基层机构的全科医生等担任。")]})
        if not member.is_leader:
            CareTeamMember.objects.filter(team=team, left_on__isnull=True, is_leader=True).update(
                is_leader=False
            )
            member.is_leader = True
            member.save(update_fields=["is_leader"])
            record_event(
                actor=actor,
                action="care_team.leader",
                obj=team,
                details={"user": str(user.public_id), "name": user.full_name or user.username},
                institution_public_id=team.institution.public_id,
            )
    return member


# Packages --------------------------------------------------------------------------------------


def _validate_package(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if "name" in data:
        data["name"] = str(data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = [_("请填写服务包名称。")]
    if "kind" in data and data["kind"] not in PackageKind.values:
        errors["kind"] = [_("无效的服务包类型。")]
    if "annual_price" in data:
        try:
            data["annual_price"] = Decimal(
                str(data["annual_price"] if data["annual_price"] is not None else "0")
            )
        except (InvalidOperation, ValueError):
            errors["annual_price"] = [_("请填写有效的金额。")]
        else:
            if data["annual_price"] < 0 or data["annual_price"] > Decimal("99999"):
                errors["annual_price"] = [_("年服务费应在 0–99999 元之间。")]
    if "contents" in data:
        data["contents"] = "\n".join(
            line.strip() for line in str(data["contents"] or "").splitlines() if line.strip()
        )
        if not data["contents"]:
            errors["contents"] = [_("请填写服务内容（每行一项）。")]


def _check_price(kind: str, price: Decimal, errors: dict[str, list[str]]) -> None:
    if "annual_price" in errors:
        return
    if kind == PackageKind.BASIC and price != 0:
        errors["annual_price"] = [_("基础服务包免费，年服务费应为 0。")]
    elif kind == PackageKind.PERSONALISED and price <= 0:
        errors["annual_price"] = [_("个性化服务包须填写年服务费。")]


def package_create(*, actor: Any, consortium: Any, **data: Any) -> ServicePackage:
    """Add a service package of a consortium. Audited as ``service_package.create``.
    Raises NotAllowed (not the office), Invalid, Conflict (name taken)."""
    _require(policies.can_manage_packages(actor, consortium), _("只有医联体管理办公室可以管理签约服务包。"))
    data = {k: v for k, v in data.items() if k in PACKAGE_FIELDS}
    data.setdefault("name", "")
    data.setdefault("kind", PackageKind.BASIC)
    data.setdefault("annual_price", Decimal("0"))
    data.setdefault("contents", "")
    errors: dict[str, list[str]] = {}
    _validate_package(data, errors)
    _check_price(data["kind"], data.get("annual_price") or Decimal("0"), errors)
    if errors:
        raise Invalid(errors)
    package = ServicePackage(
        consortium=consortium, created_by=actor if getattr(actor, "pk", None) else None, **data
    )
    try:
        with transaction.atomic():
            package.save()
            record_event(
                actor=actor,
                action="service_package.create",
                obj=package,
                after=snapshot(package, PACKAGE_FIELDS),
                consortium_public_id=consortium.public_id,
            )
    except IntegrityError as error:
        raise Conflict(_("本医联体已有同名的服务包。")) from error
    return package


def package_update(
    *, actor: Any, package: ServicePackage, seen_updated_at: datetime.datetime | None = None, **data: Any
) -> ServicePackage:
    """Change a package (contracts keep the price they were signed at). The kind of a package with
    contracts cannot change. ``seen_updated_at`` is the ``updated_at`` of the package the caller
    edited: when someone saved it since, nothing changes (the form carries every field, so saving it
    would silently undo the other change, a price included). Audited as ``service_package.update``.
    Raises NotAllowed, Invalid, Conflict."""
    _require(
        policies.can_manage_packages(actor, package.consortium), _("只有医联体管理办公室可以管理签约服务包。")
    )
    data = {k: v for k, v in data.items() if k in PACKAGE_FIELDS}
    errors: dict[str, list[str]] = {}
    _validate_package(data, errors)
    kind = data.get("kind", package.kind)
    if kind != package.kind and package.contracts.exists():
        errors["kind"] = [_("已有签约协议使用该服务包，不能更改类型。")]
    _check_price(kind, data.get("annual_price", package.annual_price), errors)
    if errors:
        raise Invalid(errors)
    try:
        with transaction.atomic():
            if seen_updated_at is not None:
                current = ServicePackage.objects.select_for_update().only("updated_at").get(pk=package.pk)
                if current.updated_at != seen_updated_at:
                    raise Conflict(
                        _("该服务包在您编辑期间已被他人修改；请核对后再次保存（以本页内容为准）。")
                    )
            old, new = apply_changes(package, data, PACKAGE_FIELDS)
            if new:
                record_event(
                    actor=actor,
                    action="service_package.update",
                    obj=package,
                    before=old,
                    after=new,
                    consortium_public_id=package.consortium.public_id,
                )
    except IntegrityError as error:
        raise Conflict(_("本医联体已有同名的服务包。")) from error
    return package


# Contracts -------------------------------------------------------------------------------------


def _next_number(day: datetime.date, skip: int) -> str:
    prefix = f"QY{day:%Y%m%d}"
    last = (
        FamilyDoctorContract.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = (int(last[len(prefix) :]) if last else 0) + 1 + skip
    return f"{prefix}{sequence:05d}"


def _save_numbered(contract: FamilyDoctorContract) -> None:
    """Insert under the next free number (QY + date + sequence), moving on when a concurrent signing took
    it; any other integrity error (the one-contract-per-resident index) propagates."""
    for attempt in range(NUMBER_ATTEMPTS):
        contract.number = _next_number(timezone.localdate(), random.randrange(attempt * 2 + 1))
        try:
            with transaction.atomic():
                contract.save(force_insert=True)
            return
        except IntegrityError:
            if (
                not FamilyDoctorContract.objects.filter(number=contract.number).exists()
                or attempt == NUMBER_ATTEMPTS - 1
            ):
                raise


def _clean_groups(groups: Iterable[str] | None, errors: dict[str, list[str]]) -> list[str]:
    cleaned = sorted(set(groups or []))
    unknown = [g for g in cleaned if g not in PriorityGroup.values]
    if unknown:
        errors["priority_groups"] = [_("无效的重点人群：%(groups)s。") % {"groups": join_list(unknown)}]
    return [g for g in cleaned if g in PriorityGroup.values]


def _check_groups_against_person(
    person: Any, groups: list[str], day: datetime.date, errors: dict[str, list[str]]
) -> None:
    """Refuse groups the person's age or sex rules out (the coverage figures count them)."""
    problems = errors.setdefault("priority_groups", [])
    if PriorityGroup.PREGNANT in groups and person.gender == Gender.MALE:
        problems.append(_("居民为男性，不属于孕产妇重点人群。"))
    age = selectors.age_on(person, day)
    if age is not None:
        implied = selectors.suggested_groups(person, day)
        if PriorityGroup.ELDERLY in groups and PriorityGroup.ELDERLY not in implied:
            problems.append(_("居民未满 65 岁，不属于老年人重点人群。"))
        if PriorityGroup.CHILDREN in groups and PriorityGroup.CHILDREN not in implied:
            problems.append(_("居民已超过 6 岁，不属于 0–6 岁儿童重点人群。"))
        if PriorityGroup.PREGNANT in groups and not (
            selectors.PREGNANCY_MIN_AGE <= age <= selectors.PREGNANCY_MAX_AGE
        ):
            problems.append(_("居民 %(age)s 岁，不在孕产妇重点人群的年龄范围内。") % {"age": age})
    if not problems:
        del errors["priority_groups"]


def _check_term(starts_on: datetime.date, ends_on: datetime.date, errors: dict[str, list[str]]) -> None:
    if ends_on < starts_on:
        # Named, because on renewal the start is computed (the day after the current end), not typed.
        errors["ends_on"] = [
            _("到期日期不能早于服务期开始日期 %(start)s。") % {"start": starts_on.isoformat()}
        ]
    elif (ends_on - starts_on).days > MAX_TERM_DAYS:
        errors["ends_on"] = [_("服务期最长 3 年。")]


def _existing_message(existing: FamilyDoctorContract, team: CareTeam) -> str:
    if existing.team_id == team.pk:
        return _("该居民已与本团队签约（协议 %(number)s，至 %(end)s），如需延续请办理续约。") % {
            "number": existing.number,
            "end": existing.ends_on,
        }
    return _(
        "该居民已与“%(team)s”（%(institution)s）签约（协议 %(number)s，至 %(end)s），须先解约才能改签其他团队。"
    ) % {
        "team": existing.team.name,
        "institution": existing.institution.name,
        "number": existing.number,
        "end": existing.ends_on,
    }


def contract_sign(
    *,
    actor: Any,
    team: CareTeam,
    person: Any,
    package: ServicePackage,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    priority_groups: Iterable[str] | None = None,
    notes: str = "",
) -> FamilyDoctorContract:
    """Sign a resident of the team's grid to the team for a term (one year by default).

    Links the resident to the team's institution (``PersonInstitutionLink`` reason ``contract``) so its
    staff see them. A resident with a contract in force (with any team) is refused with Conflict naming
    it; two concurrent signings: the partial unique index lets one win, the other gets Conflict.
    Audited as ``contract.sign``. Raises NotAllowed, Invalid (grid, package, term, groups), Conflict.
    """
    _require(
        selectors.may_sign_for(actor, team),
        _("只有本团队的全科医生、护士、公卫人员或机构管理员可以办理签约。"),
    )
    today = timezone.localdate()
    start = starts_on or today
    end = ends_on or _one_year_from(start)
    errors: dict[str, list[str]] = {}
    if person is None:
        errors["person"] = [_("请选择签约居民。")]
    elif team.grid_id is not None and person.home_grid_id != team.grid_id:
        errors["person"] = [
            _("该居民不属于本团队服务的网格（%(grid)s），不能签约。") % {"grid": team.grid.name}
        ]
    if package is None or not selectors.packages_for_team(team).filter(pk=package.pk).exists():
        errors["package"] = [_("请选择本医联体在用的服务包。")]
    if start < today - datetime.timedelta(days=30) or start > today + datetime.timedelta(days=90):
        errors["starts_on"] = [_("开始日期应在今天前 30 天至后 90 天之间。")]
    _check_term(start, end, errors)
    groups = _clean_groups(priority_groups, errors)
    if person is not None:
        _check_groups_against_person(person, groups, start, errors)
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        existing = (
            FamilyDoctorContract.objects.select_related("team", "institution")
            .filter(person=person, status__in=ACTIVE_STATUSES)
            .first()
        )
        if existing is not None:
            raise Conflict(_existing_message(existing, team))
        contract = FamilyDoctorContract(
            person=person,
            team=team,
            institution=team.institution,
            package=package,
            annual_price=package.annual_price,
            status=ContractStatus.SIGNED,
            starts_on=start,
            term_starts_on=start,
            ends_on=end,
            signed_by=actor if getattr(actor, "pk", None) else None,
            notes=(notes or "").strip()[:300],
        )
        try:
            _save_numbered(contract)
        except IntegrityError as error:
            raise Conflict(_("该居民刚刚已与其他团队签约，请刷新后查看。")) from error
        ContractTerm.objects.create(
            contract=contract,
            sequence=1,
            package=package,
            annual_price=package.annual_price,
            starts_on=start,
            ends_on=end,
            recorded_by=contract.signed_by,
        )
        ContractPriorityGroup.objects.bulk_create(
            [ContractPriorityGroup(contract=contract, group=g) for g in groups]
        )
        person_link(
            actor=actor, person=person, institution=team.institution, reason=PersonLinkReason.CONTRACT
        )
        record_event(
            actor=actor,
            action="contract.sign",
            obj=contract,
            after={
                "number": contract.number,
                "team": str(team.public_id),
                "package": str(package.public_id),
                "starts_on": str(start),
                "ends_on": str(end),
                "priority_groups": groups,
            },
            institution_public_id=team.institution.public_id,
        )
    return contract


def _lock_contract(contract: FamilyDoctorContract, expected_version: int | None) -> FamilyDoctorContract:
    locked = (
        FamilyDoctorContract.objects.select_for_update()
        .select_related("team", "institution", "package", "person")
        .get(pk=contract.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该签约协议已被他人修改，请刷新后重试。"))
    return locked


def contract_renew(
    *,
    actor: Any,
    contract: FamilyDoctorContract,
    package: ServicePackage | None = None,
    ends_on: datetime.date | None = None,
    priority_groups: Iterable[str] | None = None,
    expected_version: int | None = None,
) -> FamilyDoctorContract:
    """Continue a contract for a new term under the same number (the terms stay as history).

    A contract in force may be renewed within ``RENEWAL_WINDOW_DAYS`` of its end (the new term starts
    the day after); an expired one any time (the new term starts today) unless the resident signed
    elsewhere meanwhile. Terminated contracts are not renewed (sign again). ``priority_groups``, when
    given, replace the recorded ones. Audited as ``contract.renew``. Raises NotAllowed, Invalid,
    Conflict (stale version, already renewed, signed elsewhere).
    """
    _require(
        selectors.may_sign_for(actor, contract.team),
        _("只有本团队的全科医生、护士、公卫人员或机构管理员可以办理续约。"),
    )
    today = timezone.localdate()
    with transaction.atomic():
        locked = _lock_contract(contract, expected_version)
        errors: dict[str, list[str]] = {}
        if locked.status == ContractStatus.TERMINATED:
            raise Invalid({"__all__": [_("已解约的协议不能续约，请重新签约。")]})
        if locked.is_active:
            if locked.ends_on - today > datetime.timedelta(days=selectors.RENEWAL_WINDOW_DAYS):
                raise Invalid(
                    {
                        "__all__": [
                            _("协议到期前 %(days)s 天内方可续约。") % {"days": selectors.RENEWAL_WINDOW_DAYS}
                        ]
                    }
                )
            start = max(locked.ends_on + datetime.timedelta(days=1), today)
        else:
            start = today
        new_package = package or locked.package
        if not selectors.packages_for_team(locked.team).filter(pk=new_package.pk).exists():
            errors["package"] = [_("请选择本医联体在用的服务包。")]
        end = ends_on or _one_year_from(start)
        _check_term(start, end, errors)
        groups = None
        if priority_groups is not None:
            groups = _clean_groups(priority_groups, errors)
            _check_groups_against_person(locked.person, groups, start, errors)
        if errors:
            raise Invalid(errors)
        was_expired = locked.status == ContractStatus.EXPIRED
        locked.package = new_package
        locked.annual_price = new_package.annual_price
        locked.term_starts_on = start
        locked.ends_on = end
        locked.terms = F("terms") + 1
        locked.status = ContractStatus.RENEWED
        locked.version = F("version") + 1
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError as error:
            raise Conflict(_("该居民已与其他团队签约，不能续约。")) from error
        locked.refresh_from_db()
        ContractTerm.objects.create(
            contract=locked,
            sequence=locked.terms,
            package=new_package,
            annual_price=new_package.annual_price,
            starts_on=start,
            ends_on=end,
            recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        if groups is not None:
            locked.priority_groups.all().delete()
            ContractPriorityGroup.objects.bulk_create(
                [ContractPriorityGroup(contract=locked, group=g) for g in groups]
            )
        if was_expired:
            person_link(
                actor=actor,
                person=locked.person,
                institution=locked.institution,
                reason=PersonLinkReason.CONTRACT,
            )
        record_event(
            actor=actor,
            action="contract.renew",
            obj=locked,
            after={
                "term": locked.terms,
                "package": str(new_package.public_id),
                "starts_on": str(start),
                "ends_on": str(end),
                **({"priority_groups": groups} if groups is not None else {}),
            },
            institution_public_id=locked.institution.public_id,
        )
    return locked


def contract_terminate(
    *,
    actor: Any,
    contract: FamilyDoctorContract,
    reason: str,
    note: str = "",
    on: datetime.date | None = None,
    expected_version: int | None = None,
) -> FamilyDoctorContract:
    """End a contract in force before its term, with a reason (``other`` needs a note).

    Audited as ``contract.terminate``. Raises NotAllowed, Invalid, Conflict (not in force any more,
    stale version).
    """
    _require(
        selectors.may_sign_for(actor, contract.team),
        _("只有本团队的全科医生、护士、公卫人员或机构管理员可以办理解约。"),
    )
    today = timezone.localdate()
    day = on or today
    errors: dict[str, list[str]] = {}
    if reason not in TerminationReason.values:
        errors["reason"] = [_("请选择解约原因。")]
    note = (note or "").strip()
    if reason == TerminationReason.OTHER and not note:
        errors["note"] = [_("选择“其他”时请说明解约原因。")]
    if len(note) > 200:
        errors["note"] = [_("解约说明不能超过 200 个字。")]
    if day > today:
        errors["on"] = [_("解约日期不能晚于今天。")]
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        locked = _lock_contract(contract, expected_version)
        if not locked.is_active:
            raise Conflict(
                _("该签约协议已不在有效期内（%(status)s）。") % {"status": locked.get_status_display()}
            )
        if day < locked.starts_on:
            raise Invalid({"on": [_("解约日期不能早于签约日期。")]})
        before = {"status": locked.status}
        locked.status = ContractStatus.TERMINATED
        locked.terminated_on = day
        locked.termination_reason = reason
        locked.termination_note = note
        locked.terminated_by = actor if getattr(actor, "pk", None) else None
        locked.version = F("version") + 1
        locked.save()
        locked.refresh_from_db()
        record_event(
            actor=actor,
            action="contract.terminate",
            obj=locked,
            before=before,
            after={"status": locked.status, "reason": reason, "note": note, "on": str(day)},
            institution_public_id=locked.institution.public_id,
        )
    return locked


def contracts_expire(*, today: datetime.date | None = None) -> int:
    """Mark contracts in force whose term has passed as expired (the daily sweep). One audit event per
    contract (system actor). Returns how many expired."""
    day = today or timezone.localdate()
    expired = 0
    due = list(
        FamilyDoctorContract.objects.filter(status__in=ACTIVE_STATUSES, ends_on__lt=day)
        .select_related("institution")
        .values_list("pk", flat=True)[:5000]
    )
    for pk in due:
        with transaction.atomic():
            updated = FamilyDoctorContract.objects.filter(
                pk=pk, status__in=ACTIVE_STATUSES, ends_on__lt=day
            ).update(status=ContractStatus.EXPIRED, version=F("version") + 1)
            if updated:
                contract = FamilyDoctorContract.objects.select_related("institution").get(pk=pk)
                record_event(
                    actor=None,
                    action="contract.expire",
                    obj=contract,
                    after={"status": ContractStatus.EXPIRED, "ends_on": str(contract.ends_on)},
                    institution_public_id=contract.institution.public_id,
                )
                expired += 1
    return expired


def is_staff_somewhere(actor: Any) -> bool:
    """True when the actor holds an institution role (used by views deciding what to offer)."""
    return bool(scope_for(actor).institutions_with())


def contract_sign_new_resident(
    *, actor: Any, team: CareTeam, resident: dict[str, Any], **sign: Any
) -> FamilyDoctorContract:
    """Register a resident not yet known (through the people app, at the team's institution and in the
    team's grid; an ID number already registered links that person) and sign them, in one transaction:
    when the signing fails nothing of the registration stays. Audited as ``person.create`` /
    ``person.link`` and ``contract.sign``. Raises what ``person_register`` and ``contract_sign`` raise."""
    from yilian.people.services import person_register

    _require(
        selectors.may_sign_for(actor, team),
        _("只有本团队的全科医生、护士、公卫人员或机构管理员可以办理签约。"),
    )
    with transaction.atomic():
        person, _created = person_register(
            actor=actor, institution=team.institution, home_grid=team.grid, **resident
        )
        if person.home_grid_id is None and team.grid_id is not None:
            # A person registered elsewhere without a grid: the signing doctor records where they live.
            from yilian.people.services import person_update

            person_update(actor=actor, person=person, home_grid=team.grid)
        return contract_sign(actor=actor, team=team, person=person, **sign)
