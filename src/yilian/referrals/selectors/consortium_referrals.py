"""Unscoped reads of a consortium's referrals for apps that apply their own policy (insurance's cost
stories of down-referred patients): they check who may read the consortium before calling."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import QuerySet

from yilian.referrals.models import Referral


def consortium_referrals(
    consortium: Any,
    *,
    direction: str,
    statuses: Collection[str],
    from_institution_ids: Collection[int],
    to_institution_ids: Collection[int] | QuerySet[Any],
) -> QuerySet[Referral]:
    """The consortium's referrals of ``direction`` in one of ``statuses``, sent by one of
    ``from_institution_ids`` to one of ``to_institution_ids``.

    ``to_institution_ids`` may be a ``values("institution_id")`` queryset, which stays a subquery.
    Unordered, nothing preloaded; no query until evaluated.
    """
    return Referral.objects.filter(
        consortium=consortium,
        direction=direction,
        status__in=statuses,
        from_institution_id__in=from_institution_ids,
        to_institution_id__in=to_institution_ids,
    )


def consortium_referral_by_public_id(public_id: Any, *, direction: str) -> Referral | None:
    """The referral ``public_id`` of ``direction`` if it belongs to a consortium, else None.

    Only its id and consortium (with the consortium's region) are loaded. Unscoped: the caller
    checks that the actor reads the consortium. Raises ValidationError when ``public_id`` is not a
    UUID. One query.
    """
    return (
        Referral.objects.select_related("consortium", "consortium__region")
        .filter(public_id=public_id, direction=direction, consortium__isnull=False)
        .only("pk", "consortium")
        .first()
    )
