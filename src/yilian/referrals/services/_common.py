"""Helpers shared by the referral services: timeline + audit in one call, numbering, direction."""

from __future__ import annotations

import random
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from yilian.core.audit import record_event
from yilian.core.exceptions import Invalid
from yilian.core.messages import Message, stored
from yilian.institutions.choices import HospitalGrade, MemberRole
from yilian.institutions.models import ConsortiumMember, Institution
from yilian.referrals.choices import ReferralDirection, ReferralSide
from yilian.referrals.models import Referral, ReferralEvent, ReferralSettings
from yilian.referrals.selectors import referral_settings_for


def raise_if(errors: dict[str, list[str]]) -> None:
    """Raise Invalid with every field error collected so far."""
    if errors:
        raise Invalid(errors)


def step(
    *,
    actor: Any,
    referral: Referral,
    action: str,
    side: str,
    from_status: str = "",
    note: str | Message = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    institution: Institution | None = None,
) -> None:
    """Write the timeline step and the audit event of one change (inside the caller's transaction).

    The audit event is filed under the acting side's institution (or
    ``institution`` when the actor acts for another, as on a redirect), and
    the consortium, so both administrators and the office read it. A system
    note is a ``core.messages.message`` (shown in each reader's language);
    text the user typed is a plain string, kept as typed.
    """
    note_template, note_params = stored(note)
    if institution is None:
        institution = referral.to_institution if side == ReferralSide.RECEIVER else referral.from_institution
    is_user = getattr(actor, "is_authenticated", False)
    ReferralEvent.objects.create(
        referral=referral,
        action=action,
        from_status=from_status,
        to_status=referral.status,
        side=side,
        actor=actor if is_user else None,
        actor_label=(getattr(actor, "full_name", "") or actor.get_username())
        if is_user
        else gettext_noop("系统"),
        institution_name="" if side == ReferralSide.SYSTEM else institution.name,
        note=note_template[:500],
        note_params=note_params,
    )
    record_event(
        actor=actor if is_user else "system",
        action=f"referral.{action}",
        obj=referral,
        before=before,
        after=after,
        details={"from_status": from_status, "to_status": referral.status, **(details or {})},
        institution_public_id=institution.public_id,
        consortium_public_id=referral.consortium.public_id if referral.consortium_id else None,
    )


def next_number(skip: int = 0) -> str:
    """A readable referral number: ZZ + date + a sequence (unique constraint settles races);
    ``skip`` jumps that many numbers past the last one (a retry after a collision)."""
    today = timezone.localdate()
    prefix = f"ZZ{today:%Y%m%d}"
    last = (
        Referral.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = (int(last[len(prefix) :]) if last else 0) + 1 + skip
    return f"{prefix}{sequence:05d}"


NUMBER_ATTEMPTS = 30


def save_numbered(referral: Referral) -> None:
    """Insert a new referral under the next free number, taking the next one when a concurrent insert
    took it first (its own savepoint, so the caller's transaction goes on). Other integrity errors,
    and a number still taken after ``NUMBER_ATTEMPTS``, propagate.

    Concurrent senders that collided would otherwise all retry the same next number; a random
    skip that grows with the attempts spreads them (numbers may have gaps, never duplicates).
    """
    for attempt in range(NUMBER_ATTEMPTS):
        referral.number = next_number(skip=random.randrange(attempt * 2 + 1))
        try:
            with transaction.atomic():
                referral.save(force_insert=True)
            return
        except IntegrityError:
            # On PostgreSQL the losing insert waits for the winner's commit, so the winner's number
            # is visible here and the next attempt reads past it.
            taken = Referral.objects.filter(number=referral.number).exists()
            if not taken or attempt == NUMBER_ATTEMPTS - 1:
                raise


_TIER_BY_CATEGORY = {"D": 1, "B": 2, "C": 2}


def tier(institution: Institution) -> int:
    """Care level for direction: village clinic 1, community/township 2, then by hospital grade (3–5)."""
    first = institution.category[:1]
    if first in _TIER_BY_CATEGORY:
        return _TIER_BY_CATEGORY[first]
    return {HospitalGrade.TERTIARY: 5, HospitalGrade.SECONDARY: 4}.get(institution.grade, 3)


_ROLE_RANK = {MemberRole.LEAD: 3, MemberRole.SUB_LEAD: 2, MemberRole.MEMBER: 1}


def shared_consortium(
    from_institution: Institution, to_institution: Institution
) -> tuple[Any, dict[int, str]]:
    """The consortium both ends belong to (active members), else the sender's own; with each end's role in it.

    Returns (consortium or None, {institution id: member role}). A county
    health community wins over other forms when both ends share several.
    """
    rows = list(
        ConsortiumMember.objects.filter(
            institution_id__in=[from_institution.pk, to_institution.pk], is_active=True
        ).select_related("consortium")
    )
    by_consortium: dict[int, dict[int, str]] = {}
    consortia = {}
    for row in rows:
        by_consortium.setdefault(row.consortium_id, {})[row.institution_id] = row.role
        consortia[row.consortium_id] = row.consortium
    both = {from_institution.pk, to_institution.pk}  # one institution when two of its departments refer
    shared = [pk for pk, ends in by_consortium.items() if both <= set(ends)]
    own = [pk for pk, ends in by_consortium.items() if from_institution.pk in ends]
    pool = shared or own
    if not pool:
        return None, {}
    pool.sort(key=lambda pk: (consortia[pk].type != "county_community", pk))
    chosen = pool[0]
    return consortia[chosen], by_consortium[chosen]


def derive_direction(
    from_institution: Institution, to_institution: Institution, roles: dict[int, str]
) -> str:
    """上转 / 下转 / 平转 from the two care levels, then (same level) from the two roles in the consortium."""
    difference = tier(to_institution) - tier(from_institution)
    if difference == 0 and from_institution.pk in roles and to_institution.pk in roles:
        difference = _ROLE_RANK.get(roles[to_institution.pk], 0) - _ROLE_RANK.get(
            roles[from_institution.pk], 0
        )
    if difference > 0:
        return ReferralDirection.UP
    if difference < 0:
        return ReferralDirection.DOWN
    return ReferralDirection.LATERAL


def settings_for(consortium: Any) -> ReferralSettings:
    """The consortium's referral settings (defaults when none were saved; an outside referral uses defaults)."""
    return referral_settings_for(consortium)


def bump(referral: Referral, **changes: Any) -> None:
    """Save ``changes`` and increment the version in one UPDATE; mirror them on the instance."""
    changes["updated_at"] = timezone.now()
    Referral.objects.filter(pk=referral.pk).update(version=F("version") + 1, **changes)
    for key, value in changes.items():
        setattr(referral, key, value)
    referral.version += 1
