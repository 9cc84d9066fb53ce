"""Reads of assessment, scoped by ``policies``: schemes, rounds, versions, results, evidence, comparison."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from yilian.accounts.selectors import scope_for
from yilian.assessment import policies
from yilian.assessment.choices import SUBJECT_UNIT_KIND, RoundStatus, SchemeSubject
from yilian.assessment.models import (
    AssessmentRound,
    AssessmentScheme,
    EvidenceFile,
    Judgement,
    RoundResult,
    RoundTotal,
)
from yilian.core.exceptions import NotAllowed, NotFound
from yilian.core.permissions import Role
from yilian.indicators.selectors import ranking_visible
from yilian.institutions.selectors import consortia_of_institutions, departments_of_institutions


def _prefix_q(field: str, prefixes: set[str]) -> Q:
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def scheme_list(actor: Any) -> QuerySet[AssessmentScheme]:
    """Shared schemes and the schemes of consortia the actor reaches (office, region, membership)."""
    if not policies.can_read_schemes(actor):
        raise NotAllowed()
    schemes = AssessmentScheme.objects.select_related("consortium").order_by("consortium_id", "name")
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return schemes
    member_of = set(consortia_of_institutions(scope.institutions_with()))
    return schemes.filter(
        Q(consortium__isnull=True)
        | Q(consortium_id__in=scope.consortia_with() | member_of)
        | _prefix_q("consortium__region__code", scope.region_prefixes_with(Role.REGULATOR))
    )


def _get(queryset: QuerySet[Any], public_id: Any, what: str) -> Any:
    try:
        return queryset.get(public_id=public_id)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound(what) from error


def scheme_get(actor: Any, public_id: Any) -> AssessmentScheme:
    """One scheme the actor reaches; ``may_edit`` says whether the actor may change it. NotFound otherwise."""
    scheme = _get(scheme_list(actor), public_id, "scheme")
    scheme.may_edit = policies.can_edit_scheme(actor, scheme.consortium)  # type: ignore[attr-defined]
    return scheme


def scheme_items(scheme: AssessmentScheme) -> QuerySet[Any]:
    """A scheme's items with their indicators, in order."""
    return scheme.items.select_related("indicator").order_by("sort_order", "id")


def schemes_for_consortium(actor: Any, consortium: Any | None) -> QuerySet[AssessmentScheme]:
    """Active schemes usable for rounds of ``consortium`` (its own and the shared ones)."""
    own = Q(consortium__isnull=True)
    if consortium is not None:
        own |= Q(consortium=consortium)
    return scheme_list(actor).filter(own, is_active=True)


def round_list(actor: Any) -> QuerySet[AssessmentRound]:
    """Rounds the actor reads: all of its region (regulators), its consortium's (office, lead unit), and
    the published rounds of the consortia its institutions belong to."""
    if not policies.can_read_schemes(actor):
        raise NotAllowed()
    rounds = AssessmentRound.objects.select_related("scheme", "consortium", "region").order_by(
        "-period_start", "-created_at"
    )
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return rounds
    prefixes = scope.region_prefixes_with(Role.REGULATOR)
    member_of = set(consortia_of_institutions(scope.institutions_with()))
    assessed = assessed_consortia(actor)
    return rounds.filter(
        _prefix_q("consortium__region__code", prefixes)
        | _prefix_q("region__code", prefixes)
        | Q(consortium_id__in=scope.consortia_with(Role.CONSORTIUM_OFFICE))
        | Q(consortium_id__in=member_of, kind="self")
        | Q(consortium_id__in=member_of, published_version__isnull=False)
        | _published_about(assessed)
    )


def assessed_consortia(actor: Any) -> set[int]:
    """Consortia whose published regional results the actor reads: those it runs the office of, and those
    its institutions (where it is the administrator) are members of."""
    scope = scope_for(actor)
    administered = scope.institutions_with(Role.INSTITUTION_ADMIN)
    return set(scope.consortia_with(Role.CONSORTIUM_OFFICE)) | set(consortia_of_institutions(administered))


def _published_about(consortia: set[int]) -> Q:
    """A regulator's published round over consortia (the annual assessment, whose results are public) in
    whose published version one of ``consortia`` is assessed; drafts and unpublished versions stay hidden."""
    if not consortia:
        return Q(pk__in=[])
    assessed = RoundTotal.objects.filter(
        round=OuterRef("pk"),
        version=OuterRef("published_version"),
        subject_kind=SUBJECT_UNIT_KIND[SchemeSubject.CONSORTIA],
        subject_id__in=consortia,
    )
    return Q(
        Exists(assessed),
        consortium__isnull=True,
        published_version__isnull=False,
        scheme__subject=SchemeSubject.CONSORTIA,
    )


@dataclass
class RoundAccess:
    """What the actor may do with a round: manage it, read every version, or read the published one."""

    manage: bool
    all_versions: bool
    sees_ranking: bool
    own_subjects: set[int] | None
    """The member's own subject ids of the round's kind (its institutions, their departments, or its consortium);
    None for overseers."""

    def visible_subjects(self) -> set[int] | None:
        """Subject ids whose rows the actor sees: every one (None) for overseers and when the ranking is shown."""
        return None if self.sees_ranking else self.own_subjects


def round_access(actor: Any, round_: AssessmentRound) -> RoundAccess:
    """The actor's access to a round it already reads (via ``round_list``)."""
    scope = scope_for(actor)
    manage = policies.can_manage_round(actor, round_)
    overseer = (
        manage
        or scope.is_platform_admin
        or bool(
            round_.consortium_id and scope.holds_at_consortium(round_.consortium_id, Role.CONSORTIUM_OFFICE)
        )
    )
    if not overseer:
        code = round_.consortium.region.code if round_.consortium_id else getattr(round_.region, "code", "")
        overseer = bool(code) and scope.covers_region(code, Role.REGULATOR)
    if overseer:
        return RoundAccess(manage=manage, all_versions=True, sees_ranking=True, own_subjects=None)
    sees = round_.consortium_id is not None and ranking_visible(actor, round_.consortium_id)
    own = scope.institutions_with()
    # Subjects of a round are all of one kind; ids of different kinds must not meet.
    kind = SUBJECT_UNIT_KIND[SchemeSubject(round_.scheme.subject)]
    if kind == "institution":
        subjects = set(own)
    elif kind == "department":
        subjects = departments_of_institutions(own)
    elif round_.consortium_id is None:
        # A regulator's round over consortia: each assessed consortium reads its own rows only.
        subjects = assessed_consortia(actor)
    else:
        member = round_.consortium_id and consortia_of_institutions(own).get(round_.consortium_id)
        subjects = {round_.consortium_id} if member else set()
    return RoundAccess(manage=False, all_versions=False, sees_ranking=sees, own_subjects=subjects)


def round_get(actor: Any, public_id: Any) -> AssessmentRound:
    """One round the actor reads, with ``access`` (``RoundAccess``) attached; NotFound otherwise."""
    round_ = _get(round_list(actor), public_id, "round")
    round_.access = round_access(actor, round_)  # type: ignore[attr-defined]
    return round_


def round_versions(round_: AssessmentRound) -> list[int]:
    """The versions the round's reader may open, newest first (0 = the draft, for those who run it)."""
    access: RoundAccess = round_.access  # type: ignore[attr-defined]
    if not access.all_versions:
        return [round_.published_version] if round_.published_version else []
    versions = list(range(round_.version, 0, -1))
    return [*versions, 0] if access.manage else versions


def default_version(round_: AssessmentRound) -> int | None:
    """The version shown first: the latest frozen one (the draft before any freeze), the published one to members."""
    versions = round_versions(round_)
    return versions[0] if versions else None


def _version(round_: AssessmentRound, version: int | None) -> int:
    chosen = default_version(round_) if version is None else version
    if chosen is None or chosen not in round_versions(round_):
        raise NotFound("version")
    return chosen


def round_totals(round_: AssessmentRound, version: int | None = None) -> QuerySet[RoundTotal]:
    """Totals of one version (default: see ``default_version``), by group and rank; a member without the
    ranking sees only its own rows. NotFound for a version the reader may not open."""
    chosen = _version(round_, version)
    totals = RoundTotal.objects.filter(round=round_, version=chosen).order_by(
        "group", F("rank").asc(nulls_last=True), "subject_name"
    )
    own = round_.access.visible_subjects()  # type: ignore[attr-defined]
    return totals if own is None else totals.filter(subject_id__in=sorted(own))


def unjudged_count(round_: AssessmentRound, version: int) -> int:
    """Qualitative items of a version without a judgement (each scored 0 in its totals), for its managers."""
    return RoundResult.objects.filter(round=round_, version=version, is_qualitative=True, verdict="").count()


def round_results(
    round_: AssessmentRound, version: int | None = None, subject_id: int | None = None
) -> QuerySet[RoundResult]:
    """Per-indicator results of one version, scoped like ``round_totals``; optionally of one subject.

    Each row carries ``decimals``, the indicator's display decimals (None once the indicator is gone).
    """
    chosen = _version(round_, version)
    results = (
        RoundResult.objects.filter(round=round_, version=chosen)
        # How many decimals the indicator's values show (display only, so read live): a join, no query.
        .annotate(decimals=F("indicator__decimals"))
        .order_by("group", "subject_name", "indicator_code")
    )
    own = round_.access.visible_subjects()  # type: ignore[attr-defined]
    if own is not None:
        results = results.filter(subject_id__in=sorted(own))
    if subject_id is not None:
        results = results.filter(subject_id=subject_id)
    return results


def round_evidence(round_: AssessmentRound) -> QuerySet[EvidenceFile]:
    """Evidence files of a round: all for overseers, a member's own only."""
    rows = (
        EvidenceFile.objects.filter(round=round_)
        .select_related("indicator", "uploaded_by")
        .order_by("created_at")
    )
    own = round_.access.own_subjects  # type: ignore[attr-defined]
    return rows if own is None else rows.filter(subject_id__in=sorted(own))


def evidence_get(actor: Any, public_id: Any) -> EvidenceFile:
    """An evidence file whose round the actor reads and whose subject it sees; NotFound otherwise."""
    evidence = _get(EvidenceFile.objects.select_related("round"), public_id, "evidence")
    round_ = round_get(actor, evidence.round.public_id)
    own = round_.access.own_subjects  # type: ignore[attr-defined]
    if own is not None and evidence.subject_id not in own:
        raise NotFound("evidence")
    return evidence


def round_judgements(round_: AssessmentRound) -> QuerySet[Judgement]:
    """Current judgements of a round, scoped like ``round_totals``."""
    rows = Judgement.objects.filter(round=round_).select_related("indicator", "judged_by")
    own = round_.access.visible_subjects()  # type: ignore[attr-defined]
    return rows if own is None else rows.filter(subject_id__in=sorted(own))


@dataclass
class Comparison:
    """A round's totals beside those of the same scheme's published round a year earlier."""

    earlier: AssessmentRound | None
    rows: list[dict[str, Any]]


def _year_before(day: datetime.date) -> datetime.date:
    return day.replace(year=day.year - 1)


def year_on_year(actor: Any, round_: AssessmentRound, version: int | None = None) -> Comparison:
    """Compare the round (shown version) with the same scheme's published round for the period a year earlier.

    Rows: subject, score and grade now and then, score change. No earlier
    published round: ``earlier`` is None and the rows carry only today's figures.
    """
    earlier = (
        round_list(actor)
        .filter(
            scheme_id=round_.scheme_id,
            consortium_id=round_.consortium_id,
            region_id=round_.region_id,
            period_start=_year_before(round_.period_start),
            published_version__isnull=False,
        )
        .order_by("-published_at")
        .first()
    )
    before: dict[tuple[str, int], RoundTotal] = {}
    if earlier is not None:
        earlier.access = round_access(actor, earlier)  # type: ignore[attr-defined]
        for total in round_totals(earlier, earlier.published_version):
            before[(total.subject_kind, total.subject_id)] = total
    rows = []
    for total in round_totals(round_, version):
        old = before.get((total.subject_kind, total.subject_id))
        rows.append(
            {
                "subject_name": total.subject_name,
                "group": total.group,
                "score": total.score,
                "grade": total.grade,
                "rank": total.rank,
                "reward": total.reward,
                "previous_score": old.score if old else None,
                "previous_grade": old.grade if old else "",
                "previous_rank": old.rank if old else None,
                "change": (total.score - old.score) if old else None,
            }
        )
    return Comparison(earlier=earlier, rows=rows)


def round_is_open(round_: AssessmentRound) -> bool:
    """Evidence and judgements may still change (not published)."""
    return round_.status != RoundStatus.PUBLISHED


def round_targets(actor: Any) -> tuple[list[Any], list[Any]]:
    """Consortia and regions the actor may open rounds for (consortia: office, regulator, lead unit's self-assessment;
    regions: province, prefecture and county regions a regulator covers)."""
    from yilian.institutions.selectors import consortium_list, regions_in_scope

    if not policies.can_read_schemes(actor):
        raise NotAllowed()
    consortia = [
        consortium
        for consortium in consortium_list(actor)
        if policies.can_create_round(actor, "self", consortium, None)
    ]
    regions = list(regions_in_scope(actor).filter(level__in=["province", "prefecture", "county"])[:200])
    return consortia, regions
