"""Writes of accounts: staff accounts, role grants, login with throttling.

Every public function takes ``actor`` and raises the project's exceptions.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yilian.accounts import policies
from yilian.accounts.choices import TITLE_SERIES, ProfessionalTitle, TitleSeries
from yilian.accounts.models import ApiToken, Membership, User, api_key_hash
from yilian.accounts.selectors import forget_scope, scope_for
from yilian.core.audit import apply_changes, record_event, snapshot
from yilian.core.exceptions import Conflict, Invalid, NotAllowed, NotFound
from yilian.core.permissions import CONSORTIUM_ROLES, INSTITUTION_ROLES, REGION_ROLES, Role
from yilian.core.text import join_list
from yilian.institutions.choices import RegionLevel

# Region roles (regulator, insurance officer) are granted on these levels only.
GRANTABLE_REGION_LEVELS = frozenset({RegionLevel.PROVINCE, RegionLevel.PREFECTURE, RegionLevel.COUNTY})

USER_FIELDS = ("username", "full_name", "phone", "email", "professional_title", "is_active")
API_KEY_PREFIX = "yl_"
"""API keys start with this, so secret scanners and people recognise a leaked one."""


class LoginLocked(NotAllowed):
    """Too many failed logins for this username or address; try again later."""

    code = "login_locked"


def _throttle_keys(username: str, address: str) -> list[tuple[str, int]]:
    """The cache keys counting failures, each with its limit.

    A username gets few tries (LOGIN_FAILURE_LIMIT); an address many more
    (LOGIN_ADDRESS_FAILURE_LIMIT), because a whole hospital may reach us
    through one gateway address.
    """
    # Hash the username so the cache never holds a raw login name.
    user_key = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"login-fail:user:{user_key}", settings.LOGIN_FAILURE_LIMIT),
        (f"login-fail:addr:{address}", settings.LOGIN_ADDRESS_FAILURE_LIMIT),
    ]


def login_is_locked(username: str, address: str) -> bool:
    """True when the username or the address has reached its failure limit within the window."""
    return any((cache.get(key) or 0) >= limit for key, limit in _throttle_keys(username, address))


def _count_failure(username: str, address: str) -> None:
    """Add one failure for the username and the address; the window restarts at each failure.

    The counter is stored again with an explicit timeout: ``cache.incr``
    re-saves the key with the cache's default timeout (5 minutes), which
    would end the lock long before LOGIN_FAILURE_WINDOW_SECONDS.
    """
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key, _limit in _throttle_keys(username, address):
        cache.set(key, (cache.get(key) or 0) + 1, timeout=window)


def login(*, username: str, password: str, address: str = "") -> User:
    """Check a username and password, throttled: after LOGIN_FAILURE_LIMIT failures for a
    username, or LOGIN_ADDRESS_FAILURE_LIMIT from an address, within the window (counted
    from the last failure), every attempt is refused until the window has passed.

    Returns the user. Raises LoginLocked or Invalid (wrong credentials — one
    message for unknown user and wrong password). Failures are only counted,
    in the cache, under a hash of the username and under the address.
    """
    if login_is_locked(username, address):
        minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
        raise LoginLocked(
            ngettext(
                "登录失败次数过多，请 %(minutes)d 分钟后再试。",
                "登录失败次数过多，请 %(minutes)d 分钟后再试。",
                minutes,
            )
            % {"minutes": minutes}
        )
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        _count_failure(username, address)
        raise Invalid({"__all__": [_("用户名或密码错误。")]})
    for key, _limit in _throttle_keys(username, address):
        cache.delete(key)
    return user


# API tokens ----------------------------------------------------------------------


def api_token_issue(*, user: User, label: str = "") -> str:
    """Issue a new API token for ``user`` (call only after ``login`` succeeded) and return its key.

    The key is returned once and never stored: the token row keeps its
    SHA-256. It expires after API_TOKEN_TTL_HOURS. Side effects: the
    user's expired tokens are deleted; ``api_token.issue`` is audited
    (without the key). Raises NotAllowed for an inactive account.
    """
    if not user.is_active:
        raise NotAllowed(_("该账号已停用。"))
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
        token = ApiToken.objects.create(
            user=user,
            key_hash=api_key_hash(key),
            label=label.strip()[:100],
            created_at=now,
            expires_at=now + datetime.timedelta(hours=settings.API_TOKEN_TTL_HOURS),
        )
        record_event(
            actor=user,
            action="api_token.issue",
            obj=user,
            details={"token": token.pk, "label": token.label, "expires_at": token.expires_at.isoformat()},
        )
    return key


def _revoke_tokens(*, actor: Any, user: User, reason: str) -> int:
    """Delete every token of ``user`` and audit it (when there was one). Runs in the caller's transaction."""
    count, _deleted = ApiToken.objects.filter(user=user).delete()
    if count:
        record_event(
            actor=actor,
            action="api_token.revoke",
            obj=user,
            details={"count": count, "reason": reason},
        )
    return count


def api_token_revoke_all(*, actor: Any, user: User) -> int:
    """Revoke every API token of ``user`` (own account, or staff the actor administers).

    Returns how many were revoked; audited as ``api_token.revoke`` when
    there were any. Raises NotAllowed.
    """
    if user.pk != getattr(actor, "pk", None) and not policies.can_change_user(
        actor, user, _administers(actor, user)
    ):
        raise NotAllowed(_("您没有修改此账号的权限。"))
    with transaction.atomic():
        return _revoke_tokens(actor=actor, user=user, reason="revoke_all")


def api_token_revoke(*, actor: Any, key: str) -> None:
    """Revoke one API token of the actor: the one whose key is presented (API logout).

    Audited as ``api_token.revoke``. Raises Invalid when no key is given
    (e.g. the request was authenticated by a session), NotFound when the key
    is not a live token of the actor.
    """
    if not key:
        raise Invalid({"__all__": [_("此请求未使用 API 令牌。")]})
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update()
            .filter(key_hash=api_key_hash(key), user_id=getattr(actor, "pk", None))
            .first()
        )
        if token is None:
            raise NotFound("api_token")
        token_id = token.pk
        token.delete()
        record_event(
            actor=actor,
            action="api_token.revoke",
            obj=actor,
            details={"count": 1, "token": token_id, "reason": "logout"},
        )


# Accounts ------------------------------------------------------------------------


USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length or 150


def _is_valid_username(username: str) -> bool:
    """True when the username passes the model's validator (letters, digits and @ . + - _ only)."""
    try:
        User.username_validator(username)
    except ValidationError:
        return False
    return True


def _validate_user_fields(data: dict[str, Any], instance: User | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "username" in data:
        username = str(data["username"] or "").strip()
        if not username:
            errors["username"] = [_("请填写用户名。")]
        elif len(username) > USERNAME_MAX_LENGTH:
            errors["username"] = [_("不能超过 {limit} 个字。").format(limit=USERNAME_MAX_LENGTH)]
        elif not _is_valid_username(username):
            # The model's own validator (AbstractUser): services save without full_clean, so check here.
            errors["username"] = [_("用户名只能包含字母、数字和 @ . + - _，不能有空格。")]
        elif (
            User.objects.filter(username__iexact=username).exclude(pk=getattr(instance, "pk", None)).exists()
        ):
            errors["username"] = [_("该用户名已被使用。")]
        data["username"] = username
    if "professional_title" in data and data["professional_title"] not in ProfessionalTitle.values:
        errors["professional_title"] = [_("无效的职称。")]
    if "phone" in data and data["phone"] and not str(data["phone"]).isdigit():
        errors["phone"] = [_("手机号只能包含数字。")]
    return errors


ROLE_SERIES: dict[str, str] = {
    Role.DOCTOR: TitleSeries.PHYSICIAN,
    Role.NURSE: TitleSeries.NURSING,
    Role.TECHNICIAN: TitleSeries.TECHNICIAN,
}
"""The title series of each clinical staff kind: a nurse holds a nursing title, not 主任医师."""


def title_mismatch(title: str, roles: Iterable[str]) -> str:
    """Why ``title`` does not fit the clinical roles among ``roles`` ("" when it fits).

    A title fits when its series is that of one of the clinical roles held.
    No title, or no clinical role (an administrator, a coordinator, an
    office), leaves nothing to check: those posts are held by staff of any series.
    """
    series = TITLE_SERIES.get(title)
    held = {ROLE_SERIES[role] for role in roles if role in ROLE_SERIES}
    if series is None or not held or series in held:
        return ""
    return _("职称“{title}”属于{series}，与岗位（{roles}）不符，请选择{expected}的职称。").format(
        title=ProfessionalTitle(title).label,
        series=TitleSeries(series).label,
        roles=join_list(Role(role).label for role in sorted(roles) if role in ROLE_SERIES),
        expected=_("或").join(str(TitleSeries(s).label) for s in sorted(held)),
    )


def _active_roles(user: User) -> set[str]:
    """The roles the user holds now (any target)."""
    if user.pk is None:
        return set()
    return set(user.memberships.filter(is_active=True).values_list("role", flat=True))


def _administers(actor: Any, user: User) -> bool:
    """True when every institution the user works in is administered by the actor."""
    scope = scope_for(actor)
    administered = scope.institutions_with(Role.INSTITUTION_ADMIN)
    memberships = list(
        user.memberships.filter(is_active=True).values_list(
            "institution_id", "consortium_id", "region_id", "role"
        )
    )
    if not memberships:
        return bool(administered)
    return all(institution_id in administered for institution_id, _c, _r, _role in memberships)


def user_create(*, actor: Any, password: str, **data: Any) -> User:
    """Create a login account (roles are granted separately). Password is validated and hashed.

    Raises NotAllowed, Invalid (duplicate username, weak password).
    """
    if not policies.can_create_user(actor):
        raise NotAllowed(_("您没有创建账号的权限。"))
    data = {k: v for k, v in data.items() if k in USER_FIELDS}
    data.setdefault("username", "")
    errors = _validate_user_fields(data, None)
    candidate = User(**data)
    try:
        validate_password(password or "", user=candidate)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        candidate.set_password(password)
        try:
            with transaction.atomic():
                candidate.save()
        except IntegrityError as error:
            raise Conflict(_("该用户名已被使用。")) from error
        record_event(actor=actor, action="user.create", obj=candidate, after=snapshot(candidate, USER_FIELDS))
    return candidate


def staff_account_create(
    *,
    actor: Any,
    institution: Any,
    role: str,
    password: str,
    department: Any = None,
    **data: Any,
) -> tuple[User, Membership]:
    """Create a staff account of an institution together with its first role, in one transaction.

    An institution administrator uses this for their own staff (an account
    without a role would be invisible to them). Raises NotAllowed (the actor
    may not grant that role there), Invalid (account or grant errors, all
    reported together where possible).
    """
    if not policies.can_grant_role(actor, role, institution=institution):
        raise NotAllowed(_("您没有授予此角色的权限。"))
    mismatch = title_mismatch(str(data.get("professional_title") or ""), {role})
    title_errors = {"professional_title": [mismatch]} if mismatch else {}
    with transaction.atomic():
        try:
            user = user_create(actor=actor, password=password, **data)
        except Invalid as error:
            raise Invalid({**title_errors, **error.errors}) from error
        if title_errors:
            raise Invalid(title_errors)  # rolls the account back
        membership = membership_grant(
            actor=actor, user=user, role=role, institution=institution, department=department
        )
    return user, membership


def user_update(*, actor: Any, user: User, **data: Any) -> User:
    """Change an account's profile or deactivate it.

    Deactivating also revokes the account's API tokens, in the same
    transaction (audited). Raises NotAllowed, Invalid.
    """
    if user.pk != getattr(actor, "pk", None) and not policies.can_change_user(
        actor, user, _administers(actor, user)
    ):
        raise NotAllowed(_("您没有修改此账号的权限。"))
    data = {k: v for k, v in data.items() if k in USER_FIELDS}
    if user.pk == getattr(actor, "pk", None):
        data.pop("is_active", None)
    errors = _validate_user_fields(data, user)
    if "professional_title" in data and "professional_title" not in errors:
        mismatch = title_mismatch(str(data["professional_title"] or ""), _active_roles(user))
        if mismatch:
            errors["professional_title"] = [mismatch]
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        old, new = apply_changes(user, data, USER_FIELDS)
        if new:
            record_event(actor=actor, action="user.update", obj=user, before=old, after=new)
        if new.get("is_active") is False:
            _revoke_tokens(actor=actor, user=user, reason="deactivated")
    return user


def user_set_password(*, actor: Any, user: User, password: str) -> User:
    """Set a new password: a change of one's own, or a reset by an administrator of the account
    (a platform admin, or the admin of every institution the user works in).

    Side effects, in one transaction: the password is hashed and saved,
    every API token of the user is revoked, ``user.password`` (without the
    password) and ``api_token.revoke`` are audited. Sessions elsewhere end
    because the session hash changes. Raises NotAllowed, Invalid (weak password).
    """
    if user.pk != getattr(actor, "pk", None) and not policies.can_change_user(
        actor, user, _administers(actor, user)
    ):
        raise NotAllowed(_("您没有修改此账号的权限。"))
    try:
        validate_password(password or "", user=user)
    except ValidationError as error:
        raise Invalid({"password": list(error.messages)}) from error
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event(
            actor=actor,
            action="user.password",
            obj=user,
            details={"changed": True, "reset": user.pk != getattr(actor, "pk", None)},
        )
        _revoke_tokens(actor=actor, user=user, reason="password")
    return user


def membership_grant(
    *,
    actor: Any,
    user: User,
    role: str,
    institution: Any = None,
    consortium: Any = None,
    region: Any = None,
    department: Any = None,
) -> Membership:
    """Grant a role to a user within one institution, consortium or region (platform admin: none).

    Raises NotAllowed, Invalid (role not grantable on that target, duplicate).
    """
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        raise Invalid({"role": [_("无效的角色。")]})
    targets = [t for t in (institution, consortium, region) if t is not None]
    if role == Role.PLATFORM_ADMIN:
        if targets:
            errors["role"] = [_("平台管理员不属于具体机构。")]
    elif len(targets) != 1:
        errors["__all__"] = [_("请选择且只选择一个授权范围（机构、医联体或区划）。")]
    elif institution is not None and role not in INSTITUTION_ROLES:
        errors["role"] = [_("该角色不能在机构内授予。")]
    elif consortium is not None and role not in CONSORTIUM_ROLES:
        errors["role"] = [_("该角色不能在医联体内授予。")]
    elif region is not None and role not in REGION_ROLES:
        errors["role"] = [_("该角色不能按行政区划授予。")]
    elif region is not None and region.level not in GRANTABLE_REGION_LEVELS:
        # Health commissions and insurance bureaus sit at county level and above, never in a township.
        errors["region"] = [_("只能按县级及以上行政区划授权。")]
    if department is not None and (institution is None or department.institution_id != institution.pk):
        errors["department"] = [_("科室必须属于所选机构。")]
    if "role" not in errors and user.professional_title:
        mismatch = title_mismatch(user.professional_title, _active_roles(user) | {role})
        if mismatch:
            errors["role"] = [mismatch + " " + _("如需授予该角色，请先修改该用户的职称。")]
    if errors:
        raise Invalid(errors)
    if not policies.can_grant_role(
        actor, role, institution=institution, consortium=consortium, region=region
    ):
        raise NotAllowed(_("您没有授予此角色的权限。"))
    with transaction.atomic():
        duplicate = Membership.objects.filter(
            user=user,
            role=role,
            institution=institution,
            consortium=consortium,
            region=region,
            is_active=True,
        )
        if duplicate.exists():
            raise Invalid({"role": [_("该用户已有此授权。")]})
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    user=user,
                    role=role,
                    institution=institution,
                    consortium=consortium,
                    region=region,
                    department=department,
                    granted_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
        except IntegrityError as error:
            raise Conflict(_("该授权刚被他人添加。")) from error
        record_event(
            actor=actor,
            action="membership.grant",
            obj=membership,
            after={
                "user": user.username,
                "role": role,
                "institution": str(institution.public_id) if institution else None,
                "consortium": str(consortium.public_id) if consortium else None,
                "region": region.code if region else None,
                "department": str(department.public_id) if department else None,
            },
            institution_public_id=institution.public_id if institution else None,
            consortium_public_id=consortium.public_id if consortium else None,
            region_code=region.code if region else "",
        )
    forget_scope(user)
    return membership


def membership_revoke(*, actor: Any, membership: Membership) -> Membership:
    """Revoke a role (the row stays as history). An actor cannot revoke their own platform-admin role.

    Raises NotAllowed, Conflict (already revoked).
    """
    if not policies.can_grant_role(
        actor,
        membership.role,
        institution=membership.institution,
        consortium=membership.consortium,
        region=membership.region,
    ):
        raise NotAllowed(_("您没有撤销此授权的权限。"))
    if membership.role == Role.PLATFORM_ADMIN and membership.user_id == getattr(actor, "pk", None):
        raise Invalid({"__all__": [_("不能撤销自己的平台管理员身份。")]})
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if not locked.is_active:
            raise Conflict(_("该授权已被撤销。"))
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        record_event(
            actor=actor,
            action="membership.revoke",
            obj=locked,
            before={"is_active": True},
            after={"is_active": False},
            institution_public_id=locked.institution.public_id if locked.institution else None,
            consortium_public_id=locked.consortium.public_id if locked.consortium else None,
            region_code=locked.region.code if locked.region else "",
        )
    forget_scope(membership.user)
    return locked


def grant_creator_office_role(*, actor: Any, consortium: Any) -> Membership | None:
    """Give the consortium-office creator of a new consortium the office role on it.

    Called by ``institutions.services.consortium_create`` inside its
    transaction. Does nothing for platform admins and regulators, who
    manage consortia through their own scope.
    """
    scope = scope_for(actor)
    if scope.is_platform_admin or not scope.has_role(Role.CONSORTIUM_OFFICE):
        return None
    membership = Membership.objects.create(
        user=actor, role=Role.CONSORTIUM_OFFICE, consortium=consortium, granted_by=actor
    )
    record_event(
        actor=actor,
        action="membership.grant",
        obj=membership,
        after={
            "user": actor.username,
            "role": Role.CONSORTIUM_OFFICE,
            "consortium": str(consortium.public_id),
        },
        consortium_public_id=consortium.public_id,
        details={"reason": "creator of the consortium"},
    )
    forget_scope(actor)
    return membership


def platform_admin_bootstrap(*, username: str, password: str, full_name: str = "") -> User:
    """Create the first platform administrator of a new installation (from the command line).

    Refuses when an active platform administrator already exists: later
    administrators are granted by an existing one. Audited with the
    system as actor. Raises Conflict, Invalid.
    """
    if Membership.objects.filter(role=Role.PLATFORM_ADMIN, is_active=True).exists():
        raise Conflict(_("平台管理员已存在，请由现有平台管理员授权。"))
    data: dict[str, Any] = {"username": username, "full_name": full_name}
    errors = _validate_user_fields(data, None)
    candidate = User(**data)
    try:
        validate_password(password or "", user=candidate)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        candidate.set_password(password)
        candidate.save()
        membership = Membership.objects.create(user=candidate, role=Role.PLATFORM_ADMIN)
        record_event(
            actor="system", action="user.create", obj=candidate, after=snapshot(candidate, USER_FIELDS)
        )
        record_event(
            actor="system",
            action="membership.grant",
            obj=membership,
            after={"user": candidate.username, "role": Role.PLATFORM_ADMIN},
            details={"reason": "bootstrap"},
        )
    return candidate
