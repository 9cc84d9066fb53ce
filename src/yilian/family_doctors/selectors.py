"""Reads of family-doctor contracting, scoped to what the actor may see.

Teams are seen by their institution's administrators, their current members
and (as names and counts only) the consortium office and the regulator.
Contracts and panels — resident names — only by the team's institution
administrators and current members: a lead-hospital specialist sees the
residents of the teams they belong to and nothing else of the township.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from yilian.accounts.models import Membership
from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotFound
from yilian.core.permissions import Role
from yilian.core.search import name_search_q
from yilian.family_doctors import policies
from yilian.family_doctors.choices import ACTIVE_STATUSES, ContractStatus, PriorityGroup, TeamMemberRole
from yilian.family_doctors.models import (
    CareTeam,
    CareTeamMember,
    ContractPriorityGroup,
    ContractTerm,
    FamilyDoctorContract,
    ServicePackage,
)
from yilian.institutions.models import Consortium, ConsortiumMember, Grid, Institution
from yilian.people.models import Person

EXPIRING_DAYS = 30
"""A contract "expires soon" within this many days (the panel filter and the renewal reminder)."""

RENEWAL_WINDOW_DAYS = 90
"""A contract in force may be renewed within this many days before its end."""

ELDERLY_AGE = 65
CHILD_MAX_AGE = 6
# 孕产妇 are women of childbearing age; outside these bounds the group is a slip of the hand. Wide on
# purpose (births at 12 and at 60 are recorded), so that no real case is refused.
PREGNANCY_MIN_AGE = 12
PREGNANCY_MAX_AGE = 60

_ROLES_ATTRIBUTE = "_yilian_care_team_roles"


# Teams -----------------------------------------------------------------------------------------


def current_team_roles(actor: Any) -> dict[int, str]:
    """``{team_id: role}`` of the actor's current memberships of active teams (one query, cached on
    the user object for the request). Memberships count only while the member is still staff of
    their institution, so a doctor who left the hospital loses the panel at once."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {}
    cached = getattr(actor, _ROLES_ATTRIBUTE, None)
    if cached is not None:
        return cached
    staff_of = scope_for(actor).institutions_with()
    rows = CareTeamMember.objects.filter(
        user=actor, left_on__isnull=True, team__is_active=True, institution_id__in=staff_of
    ).values_list("team_id", "role")
    roles = dict(rows)
    setattr(actor, _ROLES_ATTRIBUTE, roles)
    return roles


def forget_team_roles(actor: Any) -> None:
    """Drop the cached memberships (after the actor's own membership changes)."""
    if actor is not None and hasattr(actor, _ROLES_ATTRIBUTE):
        delattr(actor, _ROLES_ATTRIBUTE)


def _oversight_institutions_q(actor: Any, prefix: str = "") -> Q:
    """Institutions whose aggregates the actor reads: members of overseen consortia, regulated regions."""
    condition = Q(pk__in=[])
    consortia = policies.overseen_consortia(actor)
    if consortia:
        members = ConsortiumMember.objects.filter(consortium_id__in=consortia, is_active=True).values(
            "institution_id"
        )
        condition |= Q(**{f"{prefix}institution_id__in": members})
    for region_prefix in policies.regulated_prefixes(actor):
        condition |= Q(**{f"{prefix}institution__region__code__startswith": region_prefix})
    return condition


def team_visible_to(actor: Any) -> QuerySet[CareTeam]:
    """Teams the actor sees: platform admins all; institution admins their institutions'; members their
    teams; the office and regulators the teams of their consortia / regions (counts only)."""
    scope = scope_for(actor)
    teams = CareTeam.objects.select_related("institution", "grid")
    if scope.is_anonymous:
        return teams.none()
    if scope.is_platform_admin:
        return teams
    condition = Q(institution_id__in=policies.administered_institutions(actor)) | Q(
        pk__in=list(current_team_roles(actor))
    )
    if policies.is_oversight(actor):
        condition |= _oversight_institutions_q(actor)
    return teams.filter(condition)


def sees_residents(actor: Any, team: CareTeam) -> bool:
    """True when the actor may see the team's residents (panel, contracts): its institution's
    administrators, its current members, platform admins."""
    scope = scope_for(actor)
    return (
        scope.is_platform_admin
        or team.institution_id in policies.administered_institutions(actor)
        or team.pk in current_team_roles(actor)
    )


def may_sign_for(actor: Any, team: CareTeam) -> bool:
    """True when the actor may sign, renew and terminate the team's contracts."""
    return team.is_active and policies.may_sign_for(actor, team, current_team_roles(actor).get(team.pk))


def signing_teams(actor: Any) -> QuerySet[CareTeam]:
    """Active teams the actor may sign contracts for (the signing form's choices)."""
    scope = scope_for(actor)
    teams = CareTeam.objects.select_related("institution", "grid").filter(is_active=True)
    if scope.is_platform_admin:
        return teams.order_by("institution__name", "name")
    signing = [
        team_id
        for team_id, role in current_team_roles(actor).items()
        if role in policies.SIGNING_MEMBER_ROLES
    ]
    return teams.filter(
        Q(institution_id__in=policies.administered_institutions(actor)) | Q(pk__in=signing)
    ).order_by("institution__name", "name")


def _active_contract_count() -> Subquery:
    return Subquery(
        FamilyDoctorContract.objects.filter(team=OuterRef("pk"), status__in=ACTIVE_STATUSES)
        .order_by()
        .values("team")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def _member_count() -> Subquery:
    return Subquery(
        CareTeamMember.objects.filter(team=OuterRef("pk"), left_on__isnull=True)
        .order_by()
        .values("team")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def _leader_prefetch() -> Prefetch:
    return Prefetch(
        "members",
        queryset=CareTeamMember.objects.filter(left_on__isnull=True, is_leader=True).select_related("user"),
        to_attr="current_leaders",
    )


def team_list(
    actor: Any, *, query: str = "", institution_id: int | None = None, include_inactive: bool = False
) -> QuerySet[CareTeam]:
    """Visible teams with their current member count, contracts in force and leader (3 queries for a
    page: count, rows, leaders)."""
    teams = team_visible_to(actor)
    if not include_inactive:
        teams = teams.filter(is_active=True)
    if query:
        teams = teams.filter(name_search_q(query))
    if institution_id is not None:
        teams = teams.filter(institution_id=institution_id)
    return (
        teams.annotate(
            member_count=Coalesce(_member_count(), 0), active_contracts=Coalesce(_active_contract_count(), 0)
        )
        .prefetch_related(_leader_prefetch())
        .order_by("institution__name", "name", "id")
    )


def team_get_for(actor: Any, public_id: Any) -> CareTeam:
    """One visible team by public id; NotFound otherwise."""
    try:
        return team_visible_to(actor).get(public_id=public_id)
    except (CareTeam.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("care team") from error


def team_members(team: CareTeam, *, include_past: bool = False) -> QuerySet[CareTeamMember]:
    """The team's members, current first (leader first), then the history of those who left."""
    members = team.members.select_related("user", "institution")
    if not include_past:
        members = members.filter(left_on__isnull=True)
    return members.order_by("left_on", "-is_leader", "role", "joined_on", "id")


def _consortium_ids_of(institution_id: int) -> list[int]:
    return list(
        ConsortiumMember.objects.filter(institution_id=institution_id, is_active=True).values_list(
            "consortium_id", flat=True
        )
    )


def team_institutions(actor: Any) -> list[Institution]:
    """Primary institutions whose teams the actor may form (the new-team form's choices)."""
    rows = Institution.objects.select_related("region").order_by("name")
    if not scope_for(actor).is_platform_admin:
        rows = rows.filter(pk__in=policies.administered_institutions(actor))
    return [institution for institution in rows if institution.is_primary][:300]


def grids_for(institution: Institution) -> list[Grid]:
    """Grids a team of the institution may serve: those of its county (the grid plan is per county)."""
    grids = Grid.objects.select_related("region").order_by("code")
    if institution.region_id is None:
        return list(grids[:200])
    return list(grids.filter(region__code__startswith=institution.region.prefix[:6]))


def office_consortia(actor: Any) -> list[Consortium]:
    """Consortia whose service packages the actor manages."""
    consortia = Consortium.objects.order_by("name")
    if scope_for(actor).is_platform_admin:
        return list(consortia)
    return list(consortia.filter(pk__in=policies.overseen_consortia(actor)))


def member_institutions(team: CareTeam) -> QuerySet[Institution]:
    """Institutions whose staff may join the team: the team's own, primary members of its consortia in
    its area (village clinics under the township centre) and the hospitals of its consortia."""
    consortia = _consortium_ids_of(team.institution_id)
    members = ConsortiumMember.objects.filter(consortium_id__in=consortia, is_active=True).values(
        "institution_id"
    )
    area = team.institution.region.prefix if team.institution.region_id else "-"
    return (
        Institution.objects.filter(
            Q(pk=team.institution_id)
            | Q(pk__in=members, category__startswith="A")
            | Q(pk__in=members, region__code__startswith=area)
        )
        .select_related("region")
        .order_by("category", "name")
    )


def member_candidates(team: CareTeam, *, query: str = "", limit: int = 200) -> list[Membership]:
    """Doctors and nurses of the institutions in ``member_institutions`` who are not current members
    (the add-member form's choices; one row per user and institution)."""
    current = (
        team.members.filter(left_on__isnull=True).values("user_id")
        if team.pk
        else CareTeamMember.objects.none().values("user_id")
    )
    rows = (
        Membership.objects.filter(
            institution__in=member_institutions(team),
            role__in=(Role.DOCTOR, Role.NURSE),
            is_active=True,
            user__is_active=True,
        )
        .exclude(user_id__in=current)
        .select_related("user", "institution", "department")
        .order_by("institution__category", "institution__name", "user__full_name", "user__username")
    )
    if query:
        rows = rows.filter(Q(user__full_name__icontains=query) | Q(user__username__icontains=query))
    return list(rows[:limit])


def staff_roles_at(user: Any, institution_id: int) -> set[str]:
    """The user's active roles at an institution (the member checks)."""
    return set(
        Membership.objects.filter(user=user, institution_id=institution_id, is_active=True).values_list(
            "role", flat=True
        )
    )


def same_consortium(first_id: int, second_id: int) -> bool:
    """True when both institutions are active members of one consortium."""
    return ConsortiumMember.objects.filter(
        institution_id=second_id, is_active=True, consortium_id__in=_consortium_ids_of(first_id)
    ).exists()


# Packages --------------------------------------------------------------------------------------


def package_visible_to(actor: Any) -> QuerySet[ServicePackage]:
    """Packages of the consortia the actor's institutions belong to or oversees, and of the consortia in
    a regulator's region (read-only); all for platform admins."""
    scope = scope_for(actor)
    packages = ServicePackage.objects.select_related("consortium")
    if scope.is_anonymous:
        return packages.none()
    if scope.is_platform_admin:
        return packages
    consortia = set(
        ConsortiumMember.objects.filter(
            institution_id__in=scope.institutions_with(), is_active=True
        ).values_list("consortium_id", flat=True)
    ) | policies.overseen_consortia(actor)
    condition = Q(consortium_id__in=consortia)
    for prefix in policies.regulated_prefixes(actor):
        condition |= Q(consortium__region__code__startswith=prefix)
    return packages.filter(condition)


def package_list(
    actor: Any, *, active_only: bool = False, consortium_id: int | None = None
) -> QuerySet[ServicePackage]:
    """Visible packages, the basic one first, with the number of contracts in force on each."""
    packages = package_visible_to(actor)
    if active_only:
        packages = packages.filter(is_active=True)
    if consortium_id is not None:
        packages = packages.filter(consortium_id=consortium_id)
    return packages.annotate(
        active_contracts=Count("contracts", filter=Q(contracts__status__in=ACTIVE_STATUSES))
    ).order_by("consortium__name", "kind", "name")


def package_get_for(actor: Any, public_id: Any) -> ServicePackage:
    """One visible package; NotFound otherwise."""
    try:
        return package_visible_to(actor).get(public_id=public_id)
    except (ServicePackage.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("service package") from error


def packages_for_team(team: CareTeam) -> QuerySet[ServicePackage]:
    """Active packages of the consortia the team's institution belongs to (what its residents may sign)."""
    return ServicePackage.objects.filter(
        consortium_id__in=_consortium_ids_of(team.institution_id), is_active=True
    ).order_by("kind", "name")


# Contracts -------------------------------------------------------------------------------------


def contract_visible_to(actor: Any) -> QuerySet[FamilyDoctorContract]:
    """Contracts whose resident the actor may see: of teams they are a current member of, of the
    institutions they administer; all for platform admins. Oversight roles see none (aggregates only)."""
    scope = scope_for(actor)
    contracts = FamilyDoctorContract.objects.select_related(
        "person", "team", "institution", "package", "signed_by"
    )
    if scope.is_anonymous:
        return contracts.none()
    if scope.is_platform_admin:
        return contracts
    return contracts.filter(
        Q(institution_id__in=policies.administered_institutions(actor))
        | Q(team_id__in=list(current_team_roles(actor)))
    )


@dataclass(frozen=True)
class ContractFilters:
    """Filters of a contract list / team panel."""

    team_id: int | None = None
    status: str = "active"
    group: str = ""
    expiring: bool = False
    query: str = ""
    on: datetime.date | None = None


def _group_prefetch() -> Prefetch:
    return Prefetch("priority_groups", queryset=ContractPriorityGroup.objects.order_by("group"))


def contract_list(actor: Any, filters: ContractFilters | None = None) -> QuerySet[FamilyDoctorContract]:
    """Visible contracts, filtered: ``status`` "active" (in force, the panel), "all" or one status;
    a priority group; expiring within ``EXPIRING_DAYS``; name / pinyin / phone search. Rows come with
    resident, team, package and priority groups (constant queries per page: count, rows, groups)."""
    filters = filters or ContractFilters()
    contracts = contract_visible_to(actor)
    if filters.team_id is not None:
        contracts = contracts.filter(team_id=filters.team_id)
    if filters.status == "active":
        contracts = contracts.filter(status__in=ACTIVE_STATUSES)
    elif filters.status in ContractStatus.values:
        contracts = contracts.filter(status=filters.status)
    if filters.group:
        contracts = contracts.filter(
            Exists(ContractPriorityGroup.objects.filter(contract=OuterRef("pk"), group=filters.group))
        )
    if filters.expiring:
        today = filters.on or timezone.localdate()
        contracts = contracts.filter(
            status__in=ACTIVE_STATUSES, ends_on__lte=today + datetime.timedelta(days=EXPIRING_DAYS)
        )
    if filters.query:
        contracts = contracts.filter(
            name_search_q(filters.query, prefix="person__", extra_fields=("phone",)) | Q(number=filters.query)
        )
    ordering = ["ends_on", "person__name", "id"] if filters.expiring else ["person__name", "id"]
    return contracts.prefetch_related(_group_prefetch()).order_by(*ordering)


def contract_get_for(actor: Any, public_id: Any) -> FamilyDoctorContract:
    """One visible contract with its priority groups; NotFound otherwise."""
    try:
        return contract_visible_to(actor).prefetch_related(_group_prefetch()).get(public_id=public_id)
    except (FamilyDoctorContract.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("contract") from error


def contract_terms(contract: FamilyDoctorContract) -> QuerySet[ContractTerm]:
    """The contract's terms, first signing first."""
    return contract.term_history.select_related("package", "recorded_by").order_by("sequence")


def active_contract_for(person: Any, *, on: datetime.date | None = None) -> FamilyDoctorContract | None:
    """The resident's contract in force on ``on`` (today by default), with its team and institution, or
    None. Public: referrals calls it to give signed residents the green channel and reserved slots.
    Not scoped to an actor: callers decide what they show of it."""
    day = on or timezone.localdate()
    return (
        FamilyDoctorContract.objects.select_related("team", "institution", "package")
        .filter(person=person, status__in=ACTIVE_STATUSES, starts_on__lte=day, ends_on__gte=day)
        .first()
    )


def person_contracts(actor: Any, person: Any) -> list[FamilyDoctorContract]:
    """The resident's contracts the actor may see, newest first (the person page's section)."""
    return list(contract_visible_to(actor).filter(person=person).prefetch_related(_group_prefetch())[:5])


def person_contract_summary(actor: Any, person: Any) -> FamilyDoctorContract | None:
    """The resident's contract in force, for any staff who already see the person (the person page):
    team, institution and end date, no more."""
    if not scope_for(actor).institutions_with() and not scope_for(actor).is_platform_admin:
        return None
    return active_contract_for(person)


def age_on(person: Any, on: datetime.date | None = None) -> int | None:
    """The person's age in whole years on ``on`` (today by default); None without a birth date."""
    if person is None or person.birth_date is None:
        return None
    day = on or timezone.localdate()
    born = person.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def suggested_groups(person: Any, on: datetime.date | None = None) -> list[str]:
    """Priority groups the birth date implies: elderly (65+) and children (0–6)."""
    years = age_on(person, on)
    if years is None:
        return []
    groups = []
    if years >= ELDERLY_AGE:
        groups.append(PriorityGroup.ELDERLY)
    if years <= CHILD_MAX_AGE:
        groups.append(PriorityGroup.CHILDREN)
    return groups


def residents_of_grid(actor: Any, team: CareTeam, *, query: str = "", limit: int = 20) -> list[Person]:
    """Residents of the team's grid matching a name / pinyin / phone search, for a signing member or
    admin of the team (the signing form's finder). Only registered residents of that grid: the finder
    reveals names, so it is limited to those the team may serve."""
    if team.grid_id is None or not query.strip() or not may_sign_for(actor, team):
        return []
    people = Person.objects.filter(home_grid_id=team.grid_id).filter(
        name_search_q(query, extra_fields=("phone",))
    )
    return list(people.order_by("name", "id")[:limit])


# Coverage --------------------------------------------------------------------------------------


@dataclass
class GroupCoverage:
    """One priority group's coverage: signed residents, the group's size where known, the rate."""

    group: str
    label: str
    signed: int
    denominator: int | None
    note: str = ""

    @property
    def rate(self) -> float | None:
        """Signed / denominator, in percent (None without a denominator)."""
        if not self.denominator:
            return None
        return round(100.0 * self.signed / self.denominator, 1)


@dataclass
class CoverageRow:
    """Coverage of one unit (team, institution or consortium)."""

    key: str
    label: str
    institution: str
    residents: int | None
    signed: int
    groups: list[GroupCoverage] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        """Signed residents of all residents of the grid(s), in percent."""
        if not self.residents:
            return None
        return round(100.0 * self.signed / self.residents, 1)


def _chronic_denominators(grid_ids: list[int]) -> dict[int, dict[str, int]] | None:
    """Residents of each grid under hypertension / diabetes management, from the chronic-care registry's
    selector (one query); None when that app is not installed (the rate is then not shown)."""
    try:
        # Imported here: chronic care sits above family doctors (its cases name a care team).
        from yilian.chronic_care.selectors import registered_counts_by_grid
    except ImportError:  # pragma: no cover - a deployment without chronic care
        return None
    return registered_counts_by_grid(grid_ids)


def _grid_denominators(grid_ids: list[int], on: datetime.date) -> dict[int, dict[str, int]]:
    """Per grid: all residents, elderly (65+) and children (0–6) from birth dates (one query)."""
    elderly_born_by = (
        on.replace(year=on.year - ELDERLY_AGE)
        if not (on.month == 2 and on.day == 29)
        else on.replace(year=on.year - ELDERLY_AGE, day=28)
    )
    child_born_after = (
        on.replace(year=on.year - CHILD_MAX_AGE - 1)
        if not (on.month == 2 and on.day == 29)
        else on.replace(year=on.year - CHILD_MAX_AGE - 1, day=28)
    )
    rows = (
        Person.objects.filter(home_grid_id__in=grid_ids)
        .order_by()
        .values("home_grid_id")
        .annotate(
            residents=Count("pk"),
            elderly=Count("pk", filter=Q(birth_date__lte=elderly_born_by)),
            children=Count("pk", filter=Q(birth_date__gt=child_born_after)),
        )
    )
    return {
        row["home_grid_id"]: {
            "residents": row["residents"],
            PriorityGroup.ELDERLY: row["elderly"],
            PriorityGroup.CHILDREN: row["children"],
        }
        for row in rows
    }


def _signed_counts(
    contracts: QuerySet[FamilyDoctorContract], unit: str
) -> tuple[dict[Any, int], dict[tuple[Any, str], int]]:
    """Contracts in force per unit, and per unit and group (two queries)."""
    active = contracts.filter(status__in=ACTIVE_STATUSES).order_by()
    totals = {row[unit]: row["n"] for row in active.values(unit).annotate(n=Count("pk"))}
    groups = {
        (row[f"contract__{unit}"], row["group"]): row["n"]
        for row in ContractPriorityGroup.objects.filter(contract__in=active.values("pk"))
        .order_by()
        .values(f"contract__{unit}", "group")
        .annotate(n=Count("pk"))
    }
    return totals, groups


def coverage(actor: Any, *, by: str = "team", on: datetime.date | None = None) -> list[CoverageRow]:
    """Coverage of priority groups per ``team`` or ``institution`` (or ``consortium``) the actor sees:
    signed residents per group, and a rate where the group's size is known (elderly and children from
    the grid's birth dates; hypertension and diabetes from the chronic-care registry when available).
    Aggregates only, so the office and the regulator read it. A fixed number of queries."""
    day = on or timezone.localdate()
    teams = list(team_visible_to(actor).filter(is_active=True).order_by("institution__name", "name"))
    if not teams:
        return []
    team_ids = [team.pk for team in teams]
    contracts = FamilyDoctorContract.objects.filter(team_id__in=team_ids)
    grid_ids = sorted({team.grid_id for team in teams if team.grid_id})
    denominators = _grid_denominators(grid_ids, day)
    chronic = _chronic_denominators(grid_ids)

    def unit_grids(unit_teams: list[CareTeam]) -> list[int]:
        return sorted({team.grid_id for team in unit_teams if team.grid_id})

    def build(
        key: Any, label: str, institution: str, unit_teams: list[CareTeam], totals: Any, groups: Any
    ) -> CoverageRow:
        grids = unit_grids(unit_teams)
        residents = sum(denominators.get(g, {}).get("residents", 0) for g in grids) if grids else None
        row = CoverageRow(
            key=str(key), label=label, institution=institution, residents=residents, signed=totals.get(key, 0)
        )
        for group in PriorityGroup:
            denominator: int | None = None
            note = ""
            if grids and group in (PriorityGroup.ELDERLY, PriorityGroup.CHILDREN):
                denominator = sum(denominators.get(g, {}).get(group, 0) for g in grids)
            elif grids and group in (PriorityGroup.HYPERTENSION, PriorityGroup.DIABETES):
                if chronic is None:
                    note = "no_registry"
                else:
                    denominator = sum(chronic.get(g, {}).get(group, 0) for g in grids)
            row.groups.append(
                GroupCoverage(
                    group=group.value,
                    label=str(group.label),
                    signed=groups.get((key, group.value), 0),
                    denominator=denominator,
                    note=note,
                )
            )
        return row

    if by == "team":
        totals, groups = _signed_counts(contracts, "team_id")
        return [build(team.pk, team.name, team.institution.name, [team], totals, groups) for team in teams]
    if by == "institution":
        totals, groups = _signed_counts(contracts, "institution_id")
        by_institution: dict[int, list[CareTeam]] = {}
        for team in teams:
            by_institution.setdefault(team.institution_id, []).append(team)
        return [
            build(pk, members[0].institution.name, members[0].institution.name, members, totals, groups)
            for pk, members in by_institution.items()
        ]
    # consortium: the institutions' consortia (grid-form consortia: one per institution)
    memberships = dict(
        ConsortiumMember.objects.filter(
            institution_id__in={team.institution_id for team in teams}, is_active=True, grid_form=True
        ).values_list("institution_id", "consortium_id")
    )
    names = dict(
        ConsortiumMember.objects.filter(consortium_id__in=set(memberships.values()))
        .values_list("consortium_id", "consortium__name")
        .distinct()
    )
    totals_i, groups_i = _signed_counts(contracts, "institution_id")
    by_consortium: dict[int, list[CareTeam]] = {}
    for team in teams:
        consortium_id = memberships.get(team.institution_id)
        if consortium_id is not None:
            by_consortium.setdefault(consortium_id, []).append(team)
    rows = []
    for consortium_id, members in by_consortium.items():
        institutions = {team.institution_id for team in members}
        totals = {consortium_id: sum(totals_i.get(i, 0) for i in institutions)}
        groups: dict[tuple[Any, str], int] = {}
        for (institution_id, group), n in groups_i.items():
            if institution_id in institutions:
                groups[(consortium_id, group)] = groups.get((consortium_id, group), 0) + n
        rows.append(build(consortium_id, names.get(consortium_id, "—"), "", members, totals, groups))
    return rows


def status_counts(actor: Any) -> dict[str, int]:
    """Visible teams' contracts per status (the overview's figures; aggregates only)."""
    teams = team_visible_to(actor).values("pk")
    rows = (
        FamilyDoctorContract.objects.filter(team_id__in=teams)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(ContractStatus.values, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def team_member_label(member: CareTeamMember) -> str:
    """ "Name（role）" for lists ("Name (role)" in English)."""
    name = member.user.full_name or member.user.username
    return gettext("%(name)s（%(title)s）") % {"name": name, "title": TeamMemberRole(member.role).label}


def team_label(team: CareTeam) -> str:
    """A team as offered outside its own pages: its name, then its institution unless the name already
    carries it (team names are often "<institution>家庭医生团队（<leader>团队）"; a second bracket read
    "…（何俊团队）（…卫生院）"). The short name counts too: "麻埠镇中心卫生院家庭医生团队" names 金寨县麻埠镇中心卫生院."""
    institution = team.institution
    if any(name and name in team.name for name in (institution.name, institution.short_name)):
        return team.name
    return f"{team.name} · {institution.name}"


def grid_resident_get(actor: Any, team: CareTeam, public_id: Any) -> Person:
    """A resident of the team's grid for a signing member or admin of the team; NotFound otherwise."""
    if team.grid_id is None or not may_sign_for(actor, team):
        raise NotFound("person")
    try:
        return Person.objects.select_related("home_grid").get(home_grid_id=team.grid_id, public_id=public_id)
    except (Person.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound("person") from error


def active_contracts_of(person_ids: list[int]) -> dict[int, FamilyDoctorContract]:
    """Contracts in force of several residents (the signing finder marks who is already signed)."""
    rows = FamilyDoctorContract.objects.select_related("team").filter(
        person_id__in=person_ids, status__in=ACTIVE_STATUSES
    )
    return {row.person_id: row for row in rows}
