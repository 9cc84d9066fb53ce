"""Scoped reads of cases and follow-ups, the overdue and suggestion lists, and the public selectors other
apps use (``stable_case_for``, ``active_case_counts``)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from yilian.chronic_care import policies
from yilian.chronic_care.choices import CaseStatus, Control, SideEffects, SuggestionState
from yilian.chronic_care.models import ChronicCase, ChronicRegistry, FollowUp
from yilian.chronic_care.rules import STABLE_WINDOW_DAYS
from yilian.core.exceptions import Invalid, NotFound


def registry_list(*, active_only: bool = True) -> QuerySet[ChronicRegistry]:
    """Registries (not personal data: readable by anyone who uses the module)."""
    registries = ChronicRegistry.objects.all()
    return registries.filter(is_active=True) if active_only else registries


def registry_get(code_or_public_id: Any) -> ChronicRegistry:
    """One registry by code or public id; NotFound otherwise."""
    try:
        return ChronicRegistry.objects.get(Q(code=str(code_or_public_id)))
    except ChronicRegistry.DoesNotExist:
        pass
    try:
        return ChronicRegistry.objects.get(public_id=code_or_public_id)
    except (ChronicRegistry.DoesNotExist, ValueError, ValidationError) as error:
        raise NotFound("registry") from error


def _case_scope(actor: Any) -> Q | None:
    institutions = policies.patient_institutions(actor)
    teams = policies.team_ids_of(actor)
    if not institutions and not teams:
        return None
    return Q(institution_id__in=institutions) | Q(care_team_id__in=teams)


def case_visible_to(actor: Any) -> QuerySet[ChronicCase]:
    """Cases the actor reads by name: the managing institution's clinical staff and admins, and current
    members of the case's care team. Oversight roles get none (they read aggregates)."""
    scope = _case_scope(actor)
    cases = ChronicCase.objects.select_related(
        "person", "person__home_grid", "registry", "institution", "care_team"
    )
    if scope is None:
        return cases.none()
    return cases.filter(scope)


def case_list(
    actor: Any,
    *,
    registry: str = "",
    status: str = CaseStatus.ACTIVE,
    team: Any = None,
    institution: Any = None,
    control: str = "",
    query: str = "",
) -> QuerySet[ChronicCase]:
    """Visible cases filtered by registry code, status, team / institution public id, last control, or a
    name / pinyin query on the person."""
    from yilian.core.search import name_search_q

    cases = case_visible_to(actor)
    if registry:
        cases = cases.filter(registry__code=registry)
    if status:
        cases = cases.filter(status=status)
    if team:
        cases = cases.filter(care_team__public_id=team)
    if institution:
        cases = cases.filter(institution__public_id=institution)
    if control:
        cases = cases.filter(last_control=control)
    if query:
        cases = cases.filter(person__in=_person_ids(query, name_search_q))
    return cases.order_by("-enrolled_on", "-id")


def _person_ids(query: str, name_search_q: Any) -> QuerySet[Any]:
    from yilian.people.models import Person

    return Person.objects.filter(name_search_q(query)).values("pk")


def case_get_for(actor: Any, public_id: Any) -> ChronicCase:
    """One visible case by public id; NotFound otherwise."""
    try:
        return case_visible_to(actor).get(public_id=public_id)
    except (ChronicCase.DoesNotExist, ValueError, ValidationError, Invalid) as error:
        raise NotFound("chronic_case") from error


def follow_up_visible_to(actor: Any) -> QuerySet[FollowUp]:
    """Follow-ups of visible cases."""
    scope = _case_scope(actor)
    follow_ups = FollowUp.objects.select_related(
        "case", "case__person", "case__registry", "case__institution", "recorded_by", "referral"
    )
    if scope is None:
        return follow_ups.none()
    return follow_ups.filter(case__in=ChronicCase.objects.filter(scope).values("pk"))


def follow_up_get_for(actor: Any, public_id: Any) -> FollowUp:
    """One visible follow-up by public id; NotFound otherwise."""
    try:
        return follow_up_visible_to(actor).get(public_id=public_id)
    except (FollowUp.DoesNotExist, ValueError, ValidationError, Invalid) as error:
        raise NotFound("follow_up") from error


def follow_ups_of(case: ChronicCase, *, limit: int | None = None) -> QuerySet[FollowUp]:
    """A case's follow-ups, newest first (the caller already holds the case)."""
    follow_ups = FollowUp.objects.filter(case=case).select_related("recorded_by", "referral", "institution")
    follow_ups = follow_ups.order_by("-visited_on", "-id")
    return follow_ups[:limit] if limit else follow_ups


OVERDUE_ORDERINGS = {
    "days": ("next_due_on", "id"),
    "-days": ("-next_due_on", "-id"),
    "name": ("person__name", "id"),
    "due": ("next_due_on", "id"),
}
"""Orderings of the overdue list: ``days`` most overdue first (the earliest due date)."""


def overdue_list(
    actor: Any,
    *,
    today: datetime.date | None = None,
    registry: str = "",
    team: Any = None,
    institution: Any = None,
    village: Any = None,
    order: str = "days",
    within_days: int = 0,
) -> QuerySet[ChronicCase]:
    """Active visible cases whose next follow-up is past due (or due within ``within_days``), sorted by
    days overdue. Filters: registry code, team / institution public id, village (grid public id).

    Served by the (status, next_due_on) indexes on the denormalised due date: one query per page.
    """
    today = today or timezone.localdate()
    cutoff = today + datetime.timedelta(days=within_days)
    cases = case_visible_to(actor).filter(status=CaseStatus.ACTIVE, next_due_on__lt=cutoff)
    if registry:
        cases = cases.filter(registry__code=registry)
    if team:
        cases = cases.filter(care_team__public_id=team)
    if institution:
        cases = cases.filter(institution__public_id=institution)
    if village:
        cases = cases.filter(person__home_grid__public_id=village)
    return cases.order_by(*OVERDUE_ORDERINGS.get(order, OVERDUE_ORDERINGS["days"]))


def suggestion_list(actor: Any, *, state: str = SuggestionState.OPEN) -> QuerySet[FollowUp]:
    """Follow-ups whose rule suggests a referral ("建议转诊"), open ones by default, newest first."""
    follow_ups = follow_up_visible_to(actor).filter(suggestion_state=state or SuggestionState.OPEN)
    return follow_ups.filter(case__status=CaseStatus.ACTIVE).order_by("-visited_on", "-id")


def stable_case_for(
    person: Any, *, registry_code: str | None = None, on: datetime.date | None = None
) -> ChronicCase | None:
    """An active case of ``person`` that is stable on ``on`` (today by default): its most recent
    follow-up on or before that day is within the last three months (``rules.STABLE_WINDOW_DAYS``), is
    controlled and has no uncontrolled side effects. ``registry_code`` limits it to one registry
    ("hypertension", "diabetes_t2"). The most recently seen such case, or None.

    Not scoped: the caller (prescriptions' long-prescription check) has already checked that its actor
    may see the person. One query.
    """
    on = on or timezone.localdate()
    since = on - datetime.timedelta(days=STABLE_WINDOW_DAYS)
    latest = FollowUp.objects.filter(case=OuterRef("pk"), visited_on__lte=on).order_by("-visited_on", "-id")
    cases = ChronicCase.objects.select_related("registry").filter(
        person_id=getattr(person, "pk", person), status=CaseStatus.ACTIVE
    )
    if registry_code:
        cases = cases.filter(registry__code=registry_code)
    cases = cases.annotate(
        latest_on=Subquery(latest.values("visited_on")[:1]),
        latest_control=Subquery(latest.values("control")[:1]),
        latest_side_effects=Subquery(latest.values("side_effects")[:1]),
    ).filter(
        latest_on__gte=since,
        latest_control=Control.CONTROLLED,
    )
    cases = cases.exclude(latest_side_effects=SideEffects.UNCONTROLLED)
    return cases.order_by("-latest_on", "-id").first()


def active_case_counts(
    *,
    person_ids: Iterable[int] | QuerySet[Any] | None = None,
    grid_ids: Iterable[int] | None = None,
    registry_codes: Iterable[str] | None = None,
) -> dict[str, int]:
    """Residents under active management per registry code, in one query: ``{"hypertension": 812, ...}``.

    Limit to ``person_ids`` (ids or a ``values("pk")`` queryset, e.g. a team's panel) and/or to residents
    whose home grid is in ``grid_ids``; ``registry_codes`` limits the registries (every registry asked for
    appears in the answer, 0 when none). Not scoped: counts carry no names (family_doctors' coverage
    denominators).
    """
    cases = ChronicCase.objects.filter(status=CaseStatus.ACTIVE)
    if person_ids is not None:
        cases = cases.filter(person_id__in=person_ids)
    if grid_ids is not None:
        cases = cases.filter(person__home_grid_id__in=grid_ids)
    codes = list(registry_codes) if registry_codes is not None else None
    if codes is not None:
        cases = cases.filter(registry__code__in=codes)
    rows = cases.values("registry__code").annotate(n=Count("person_id", distinct=True)).order_by()
    counts = dict.fromkeys(codes or [], 0)
    counts.update({row["registry__code"]: row["n"] for row in rows})
    return counts


def active_case_counts_by_grid(
    *, grid_ids: Iterable[int], registry_codes: Iterable[str] | None = None
) -> dict[int, dict[str, int]]:
    """Like ``active_case_counts`` but broken down per home grid: ``{grid_id: {code: n}}``, one query."""
    cases = ChronicCase.objects.filter(status=CaseStatus.ACTIVE, person__home_grid_id__in=list(grid_ids))
    if registry_codes is not None:
        cases = cases.filter(registry__code__in=list(registry_codes))
    rows = (
        cases.values("person__home_grid_id", "registry__code")
        .annotate(n=Count("person_id", distinct=True))
        .order_by()
    )
    result: dict[int, dict[str, int]] = {}
    for row in rows:
        result.setdefault(row["person__home_grid_id"], {})[row["registry__code"]] = row["n"]
    return result


def cases_of_person(actor: Any, person: Any) -> QuerySet[ChronicCase]:
    """The person's visible cases, active first (for the person page)."""
    return (
        case_visible_to(actor)
        .filter(person=person)
        .annotate(
            open_suggestions=Count("follow_ups", filter=Q(follow_ups__suggestion_state=SuggestionState.OPEN))
        )
        .order_by("status", "-enrolled_on")
    )


PRIORITY_GROUP_OF_REGISTRY = {"hypertension": "hypertension", "diabetes_t2": "diabetes"}
"""Registry code → family_doctors' priority-group value (their coverage denominators)."""


def registered_counts_by_grid(grid_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Residents under active hypertension / diabetes management per home grid, keyed by the family-doctor
    priority-group values: ``{grid_id: {"hypertension": n, "diabetes": n}}``; one query. Used by
    ``family_doctors`` for the coverage of its priority groups."""
    counts = active_case_counts_by_grid(grid_ids=grid_ids, registry_codes=list(PRIORITY_GROUP_OF_REGISTRY))
    return {
        grid: {PRIORITY_GROUP_OF_REGISTRY[code]: n for code, n in by_code.items()}
        for grid, by_code in counts.items()
    }
