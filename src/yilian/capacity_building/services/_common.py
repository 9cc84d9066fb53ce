"""Helpers shared by the capacity-building services: errors, the consortium of two institutions, staff checks."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from yilian.accounts.models import Membership
from yilian.core.audit import record_event
from yilian.core.exceptions import Invalid, required_message
from yilian.core.messages import Message
from yilian.institutions.choices import MemberRole
from yilian.institutions.models import Consortium, ConsortiumMember, Institution
from yilian.notifications.services import notify

LEADING_ROLES = (MemberRole.LEAD, MemberRole.SUB_LEAD)


def raise_if(errors: dict[str, list[str]]) -> None:
    """Raise Invalid with every field error collected so far."""
    if errors:
        raise Invalid(errors)


def too_long(data: dict[str, Any], limits: dict[str, int], errors: dict[str, list[str]]) -> None:
    """Add an error for every text longer than its limit."""
    for name, limit in limits.items():
        if len(str(data.get(name) or "")) > limit:
            errors[name] = [_("不能超过 {limit} 个字。").format(limit=limit)]


def required(data: dict[str, Any], labels: dict[str, str], errors: dict[str, list[str]]) -> None:
    """Add the forms' "required" error under every empty required value (``labels`` names the fields).

    The error shows under its field, so it does not repeat the field's name: a name differing from the
    form's label, and capitalised mid-sentence in English ("Please enter Institution name."), read badly.
    """
    for name in labels:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.setdefault(name, []).append(required_message())


def not_future(value: Any, field: str, errors: dict[str, list[str]]) -> None:
    """Add an error when a date lies after today."""
    if value is not None and value > timezone.localdate():
        errors.setdefault(field, []).append(_("日期不能晚于今天。"))


def _memberships(institution_ids: list[int]) -> list[ConsortiumMember]:
    return list(
        ConsortiumMember.objects.filter(institution_id__in=institution_ids, is_active=True).select_related(
            "consortium"
        )
    )


def consortium_of(institution: Institution) -> Consortium | None:
    """The consortium an institution belongs to (a county health community or city group first)."""
    rows = _memberships([institution.pk])
    rows.sort(
        key=lambda row: (row.consortium.type not in ("county_community", "city_group"), row.consortium_id)
    )
    return rows[0].consortium if rows else None


def supporting_consortium(supporter: Institution, member: Institution) -> Consortium | None:
    """The consortium in which ``supporter`` leads (lead or sub-lead) and ``member`` is a member; None otherwise."""
    rows = _memberships([supporter.pk, member.pk])
    leads = {
        row.consortium_id for row in rows if row.institution_id == supporter.pk and row.role in LEADING_ROLES
    }
    shared = [
        row.consortium for row in rows if row.institution_id == member.pk and row.consortium_id in leads
    ]
    if supporter.pk == member.pk:
        return None
    shared.sort(
        key=lambda consortium: (consortium.type not in ("county_community", "city_group"), consortium.pk)
    )
    return shared[0] if shared else None


def holds_at(user: Any, institution_id: int, roles: Any = None) -> bool:
    """True when the user is active and holds an active membership (of ``roles``, if given) at the institution."""
    if user is None or not getattr(user, "is_active", False):
        return False
    rows = Membership.objects.filter(user=user, institution_id=institution_id, is_active=True)
    if roles:
        rows = rows.filter(role__in=list(roles))
    return rows.exists()


def audit(
    *,
    actor: Any,
    action: str,
    obj: Any,
    institution: Institution,
    consortium: Consortium | None,
    **extra: Any,
) -> None:
    """The audit event of one change, filed under the acting institution and the consortium."""
    record_event(
        actor=actor,
        action=action,
        obj=obj,
        institution_public_id=institution.public_id,
        consortium_public_id=consortium.public_id if consortium is not None else None,
        **extra,
    )


def tell(
    *, actor: Any, recipients: Any, topic: str, title: str | Message, body: str | Message, link: str, obj: Any
) -> None:
    """An in-app notification to ``recipients`` (never to the actor), in the caller's transaction; a
    ``core.messages.message`` title reads in each recipient's language."""
    actor_pk = getattr(actor, "pk", None)
    notify(
        recipients=[user for user in recipients if user is not None and user.pk != actor_pk],
        topic=topic,
        title=title,
        body=body,
        link=link,
        object_id=str(obj.public_id),
    )
