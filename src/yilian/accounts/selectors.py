"""Reads of accounts: the actor's scope, users and memberships visible to an actor."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from yilian.accounts.models import ApiToken, Membership, User, api_key_hash
from yilian.core.exceptions import NotFound
from yilian.core.models import AuditEvent
from yilian.core.permissions import ANONYMOUS_SCOPE, Role, Scope
from yilian.core.prepared import PreparedRead

_CACHE_ATTRIBUTE = "_yilian_scope"

API_TOKEN_TOUCH_INTERVAL = datetime.timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token, not on every request."""
API_KEY_MAX_LENGTH = 200
"""Longer strings are not keys we issued; they are refused without a query."""


_SCOPE_ROWS: PreparedRead[Any] = PreparedRead(
    lambda user_id: Membership.objects.filter(user_id=user_id, is_active=True).values_list(
        "role", "institution_id", "consortium_id", "region__prefix", "department_id"
    )
)
"""The actor's active grants, read on nearly every request: compiled once (ADR 0022)."""


def scope_for(actor: Any) -> Scope:
    """Return the actor's ``Scope`` (one query, cached on the user object for the request)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return ANONYMOUS_SCOPE
    cached = getattr(actor, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    institution_roles: dict[int, set[str]] = {}
    consortium_roles: dict[int, set[str]] = {}
    region_roles: dict[str, set[str]] = {}
    department_roles: dict[int, set[str]] = {}
    is_platform_admin = False
    for role, institution_id, consortium_id, region_prefix, department_id in _SCOPE_ROWS.rows(actor.pk):
        if role == Role.PLATFORM_ADMIN:
            is_platform_admin = True
        elif institution_id:
            institution_roles.setdefault(institution_id, set()).add(role)
            if department_id:
                department_roles.setdefault(department_id, set()).add(role)
        elif consortium_id:
            consortium_roles.setdefault(consortium_id, set()).add(role)
        elif region_prefix:
            region_roles.setdefault(region_prefix, set()).add(role)
    scope = Scope(
        user_id=actor.pk,
        is_platform_admin=is_platform_admin,
        institution_roles={k: frozenset(v) for k, v in institution_roles.items()},
        consortium_roles={k: frozenset(v) for k, v in consortium_roles.items()},
        region_roles={k: frozenset(v) for k, v in region_roles.items()},
        department_roles={k: frozenset(v) for k, v in department_roles.items()},
    )
    setattr(actor, _CACHE_ATTRIBUTE, scope)
    return scope


def forget_scope(actor: Any) -> None:
    """Drop the cached scope (after the actor's own memberships change)."""
    if actor is not None and hasattr(actor, _CACHE_ATTRIBUTE):
        delattr(actor, _CACHE_ATTRIBUTE)


_TOKEN_BY_HASH: PreparedRead[ApiToken] = PreparedRead(
    lambda key_hash: ApiToken.objects.select_related("user").filter(key_hash=key_hash), kind=str
)
"""Every API request's token (``key_hash`` is unique), compiled once (ADR 0022)."""


def api_token_user(key: str) -> User | None:
    """The active user an unexpired API key belongs to, or None (unknown, expired, inactive user).

    One query. Side effect: records ``last_used_at`` when the key was last
    seen (or issued) a minute or more ago, so a busy client does not cause a
    write per request. Not audited: use is not a change of state.
    """
    if not key or len(key) > API_KEY_MAX_LENGTH:
        return None
    found = _TOKEN_BY_HASH.rows(api_key_hash(key))
    if not found:
        return None
    token = found[0]
    now = timezone.now()
    if token.expires_at <= now or not token.user.is_active:
        return None
    if now - (token.last_used_at or token.created_at) >= API_TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def user_visible_to(actor: Any) -> QuerySet[User]:
    """Users the actor may see: everyone for a platform admin; staff of institutions they administer."""
    scope = scope_for(actor)
    if scope.is_anonymous:
        return User.objects.none()
    if scope.is_platform_admin:
        return User.objects.all()
    administered = scope.institutions_with(Role.INSTITUTION_ADMIN)
    staff = Membership.objects.filter(user=OuterRef("pk"), institution_id__in=administered)
    return User.objects.filter(Q(pk=actor.pk) | Q(Exists(staff)))


def user_list(actor: Any, *, query: str = "", institution_id: int | None = None) -> QuerySet[User]:
    """Visible users, searchable by username or name, optionally limited to one institution's staff."""
    users = user_visible_to(actor)
    if query:
        users = users.filter(Q(username__icontains=query) | Q(full_name__icontains=query))
    if institution_id is not None:
        users = users.filter(
            Exists(
                Membership.objects.filter(user=OuterRef("pk"), institution_id=institution_id, is_active=True)
            )
        )
    return users.order_by("username")


def user_get_for(actor: Any, public_id: Any) -> User:
    """Fetch a user by public id if the actor may see it; raise NotFound otherwise."""
    try:
        return user_visible_to(actor).get(public_id=public_id)
    except (User.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("user") from error


def membership_visible_to(actor: Any) -> QuerySet[Membership]:
    """Memberships the actor may see: their own, those of institutions they administer, all for a platform admin."""
    scope = scope_for(actor)
    if scope.is_anonymous:
        return Membership.objects.none()
    memberships = Membership.objects.select_related(
        "user", "institution", "consortium", "region", "department", "granted_by"
    )
    if scope.is_platform_admin:
        return memberships
    administered = scope.institutions_with(Role.INSTITUTION_ADMIN)
    return memberships.filter(Q(user=actor) | Q(institution_id__in=administered))


def membership_list_for_user(actor: Any, user: User) -> QuerySet[Membership]:
    """A user's memberships, newest first, as far as the actor may see them."""
    return membership_visible_to(actor).filter(user=user).order_by("-is_active", "-granted_at")


def staff_of_institution(actor: Any, institution_id: int, query: str = "") -> QuerySet[Membership]:
    """Active staff memberships of one institution, as far as the actor may see them."""
    memberships = membership_visible_to(actor).filter(institution_id=institution_id, is_active=True)
    if query:
        memberships = memberships.filter(
            Q(user__username__icontains=query) | Q(user__full_name__icontains=query)
        )
    return memberships.order_by("user__username", "role")


def audit_visible_to(actor: Any) -> QuerySet[AuditEvent]:
    """Audit events the actor may read.

    Platform admins read everything; regulators the events in their regions;
    consortium offices their consortia's events; institution admins their
    institutions' events. Everyone else reads nothing.
    """
    scope = scope_for(actor)
    events = AuditEvent.objects.select_related("actor")
    if scope.is_platform_admin:
        return events
    condition = Q(pk__in=[])
    targets = Membership.objects.filter(user=actor, is_active=True)
    institutions = targets.filter(role=Role.INSTITUTION_ADMIN, institution__isnull=False).values_list(
        "institution__public_id", flat=True
    )
    consortia = targets.filter(role=Role.CONSORTIUM_OFFICE, consortium__isnull=False).values_list(
        "consortium__public_id", flat=True
    )
    institution_ids = list(institutions)
    consortium_ids = list(consortia)
    if institution_ids:
        condition |= Q(institution_public_id__in=institution_ids)
    if consortium_ids:
        condition |= Q(consortium_public_id__in=consortium_ids)
    for prefix in scope.region_prefixes_with(Role.REGULATOR):
        condition |= Q(region_code__startswith=prefix)
    return events.filter(condition)


def audit_list(
    actor: Any,
    *,
    query: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    actor_username: str = "",
    since: Any = None,
    until: Any = None,
) -> QuerySet[AuditEvent]:
    """Searchable audit log: free text (object or actor name), action, object, actor, time range."""
    events = audit_visible_to(actor)
    if query:
        events = events.filter(
            Q(object_label__icontains=query) | Q(actor_label__icontains=query) | Q(action__icontains=query)
        )
    if action:
        events = events.filter(action=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if actor_username:
        events = events.filter(actor__username=actor_username)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    return events.order_by("-occurred_at", "-id")


def users_holding(institution_id: int, roles: Any, *, department_id: int | None = None) -> QuerySet[User]:
    """Active users holding any of ``roles`` at an institution (at one department, when given).

    Used to address notifications; no actor scoping, as the caller has
    already decided that the institution must be told.
    """
    memberships = Membership.objects.filter(
        institution_id=institution_id, role__in=list(roles), is_active=True
    )
    if department_id is not None:
        memberships = memberships.filter(department_id=department_id)
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by("pk")


def users_holding_in_consortium(consortium_id: int, roles: Any) -> QuerySet[User]:
    """Active users holding any of ``roles`` within a consortium (its management office).

    Used to address notifications, like ``users_holding``; no actor scoping.
    """
    memberships = Membership.objects.filter(consortium_id=consortium_id, role__in=list(roles), is_active=True)
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by("pk")


STAFF_INSTITUTIONS_ATTRIBUTE = "staff_institution_memberships"
"""Where ``with_staff_institutions`` puts each user's active institution memberships."""


def with_staff_institutions(users: QuerySet[User]) -> QuerySet[User]:
    """The users with their active institution memberships (and institutions) prefetched, in one more
    query, for labels such as "name · title · institution" (see ``staff_institution_names``)."""
    memberships = (
        Membership.objects.filter(is_active=True, institution__isnull=False)
        .select_related("institution")
        .order_by("institution__name", "pk")
    )
    return users.prefetch_related(
        Prefetch("memberships", queryset=memberships, to_attr=STAFF_INSTITUTIONS_ATTRIBUTE)
    )


def staff_institution_names(user: User) -> list[str]:
    """Names of the institutions where the user holds an active role, each once, by name; uses the
    prefetch of ``with_staff_institutions`` when present."""
    rows = getattr(user, STAFF_INSTITUTIONS_ATTRIBUTE, None)
    if rows is None:
        rows = list(
            Membership.objects.filter(user=user, is_active=True, institution__isnull=False)
            .select_related("institution")
            .order_by("institution__name", "pk")
        )
    names: list[str] = []
    for membership in rows:
        if membership.institution.name not in names:
            names.append(membership.institution.name)
    return names
