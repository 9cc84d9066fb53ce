"""Reads of the registry, scoped by ``policies``. Adapters call these, never the ORM directly."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotAllowed, NotFound
from yilian.core.permissions import Role
from yilian.core.search import name_search_q
from yilian.institutions import policies
from yilian.institutions.choices import GRID_CONSORTIUM_TYPES, MemberRole, RegionLevel
from yilian.institutions.models import (
    Agreement,
    Consortium,
    ConsortiumMember,
    Department,
    Grid,
    GridArea,
    GridAssignment,
    Institution,
    ManagementBody,
    Region,
)

REGISTRY_GENERATION = "institutions.registry"
"""The ``core.generations`` name bumped by registry writes that pages built on the registry show:
consortia, their members, institutions, regions and their outlines (not departments or grids)."""


def _require_reader(actor: Any) -> None:
    if not policies.can_view_registry(actor):
        raise NotAllowed("registry")


def _get(queryset: QuerySet[Any], **lookup: Any) -> Any:
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound(queryset.model._meta.model_name) from error


# Regions -------------------------------------------------------------------


def region_list(
    actor: Any, *, query: str = "", level: str = "", parent_code: str = "", within: str = ""
) -> QuerySet[Region]:
    """Regions, searchable by name/pinyin/code, filterable by level, parent and subtree prefix."""
    _require_reader(actor)
    regions = Region.objects.select_related("parent")
    if query:
        regions = regions.filter(name_search_q(query) | Q(code__startswith=query))
    if level:
        regions = regions.filter(level=level)
    if parent_code:
        regions = regions.filter(parent__code=parent_code)
    if within:
        regions = regions.filter(code__startswith=within)
    return regions.order_by("code")


def region_get(actor: Any, code: str) -> Region:
    """One region by code."""
    _require_reader(actor)
    return _get(Region.objects.select_related("parent"), code=code)


def region_children(actor: Any, region: Region) -> QuerySet[Region]:
    """Direct children of a region with their child counts."""
    _require_reader(actor)
    return region.children.annotate(child_count=Count("children")).order_by("code")


def region_ancestors(region: Region) -> list[Region]:
    """The region's ancestors from the top down (one query per level; at most four)."""
    chain: list[Region] = []
    current = region.parent
    while current is not None:
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


# Institutions --------------------------------------------------------------


def institution_list(
    actor: Any,
    *,
    query: str = "",
    category: str = "",
    within: str = "",
    status: str = "",
    consortium: Consortium | None = None,
    primary: bool | None = None,
) -> QuerySet[Institution]:
    """Institutions, searchable by name, pinyin initials ("xrmyy") or credit code."""
    _require_reader(actor)
    institutions = Institution.objects.select_related("region")
    if query:
        institutions = institutions.filter(name_search_q(query, extra_fields=("credit_code", "short_name")))
    if category:
        institutions = institutions.filter(category=category)
    if within:
        institutions = institutions.filter(region__code__startswith=within)
    if status:
        institutions = institutions.filter(status=status)
    if consortium is not None:
        institutions = institutions.filter(
            consortium_memberships__consortium=consortium, consortium_memberships__is_active=True
        )
    if primary is not None:
        primary_q = Q(category__startswith="B") | Q(category__startswith="C") | Q(category__startswith="D")
        institutions = institutions.filter(primary_q if primary else ~primary_q)
    return institutions.order_by("region__code", "name")


def institution_get(actor: Any, public_id: Any) -> Institution:
    """One institution by public id (its profile is registry data every user reads)."""
    _require_reader(actor)
    return _get(Institution.objects.select_related("region", "region__parent"), public_id=public_id)


def institution_consortia(institution: Institution) -> QuerySet[ConsortiumMember]:
    """The institution's consortium memberships, current first, then history."""
    return (
        ConsortiumMember.objects.filter(institution=institution)
        .select_related("consortium", "parent__institution")
        .order_by("-is_active", "-joined_on")
    )


def department_list(
    actor: Any, institution: Institution, *, include_inactive: bool = False
) -> QuerySet[Department]:
    """Departments of an institution."""
    _require_reader(actor)
    departments = institution.departments.all()
    if not include_inactive:
        departments = departments.filter(is_active=True)
    return departments.order_by("code", "name")


def department_get(actor: Any, public_id: Any) -> Department:
    """One department by public id."""
    _require_reader(actor)
    return _get(Department.objects.select_related("institution"), public_id=public_id)


# Consortia -----------------------------------------------------------------


def consortium_list(
    actor: Any, *, query: str = "", type: str = "", within: str = "", status: str = ""
) -> QuerySet[Consortium]:
    """Consortia with their active member count and lead institutions."""
    _require_reader(actor)
    consortia = Consortium.objects.select_related("region").annotate(
        member_count=Count("members", filter=Q(members__is_active=True), distinct=True)
    )
    if query:
        consortia = consortia.filter(name_search_q(query))
    if type:
        consortia = consortia.filter(type=type)
    if within:
        consortia = consortia.filter(region__code__startswith=within)
    if status:
        consortia = consortia.filter(status=status)
    leads = ConsortiumMember.objects.filter(is_active=True, role="lead").select_related("institution")
    return consortia.prefetch_related(Prefetch("members", queryset=leads, to_attr="lead_members")).order_by(
        "region__code", "name"
    )


def consortium_get(actor: Any, public_id: Any) -> Consortium:
    """One consortium by public id."""
    _require_reader(actor)
    return _get(Consortium.objects.select_related("region"), public_id=public_id)


def consortium_members(
    consortium: Consortium, *, include_history: bool = False
) -> QuerySet[ConsortiumMember]:
    """Members of a consortium (active only unless ``include_history``), leads first."""
    members = ConsortiumMember.objects.filter(consortium=consortium).select_related(
        "institution", "institution__region", "parent__institution"
    )
    if not include_history:
        members = members.filter(is_active=True)
    return members.order_by("-is_active", "role", "institution__region__code", "institution__name")


def consortium_lead_institution_ids(consortium: Consortium) -> set[int]:
    """Ids of the consortium's active lead institutions (牵头医院). One query."""
    return set(
        ConsortiumMember.objects.filter(
            consortium=consortium, role=MemberRole.LEAD, is_active=True
        ).values_list("institution_id", flat=True)
    )


def consortium_by_public_id(public_id: Any) -> Consortium | None:
    """The consortium ``public_id`` with its region, or None when there is none.

    Unscoped, for apps whose own policy decides who reads the consortium (they 404 on None).
    Raises ValidationError when ``public_id`` is not a UUID. One query.
    """
    return Consortium.objects.select_related("region").filter(public_id=public_id).first()


def consortia_reached(
    *,
    all_consortia: bool = False,
    consortium_ids: set[int] | None = None,
    region_prefixes: set[str] | None = None,
    lead_institution_ids: set[int] | None = None,
) -> QuerySet[Consortium]:
    """Consortia with their region, by name, that a caller's own policy grants.

    Every consortium when ``all_consortia``; otherwise those in ``consortium_ids``, those whose
    region's GB/T 2260 code starts with one of ``region_prefixes`` and those with an active lead
    member among ``lead_institution_ids``. No scoping here: the caller passes what its policy
    grants. One query when evaluated, none when nothing is granted.
    """
    consortia = Consortium.objects.select_related("region").order_by("name")
    if all_consortia:
        return consortia
    condition = Q(pk__in=consortium_ids or set())
    for prefix in region_prefixes or set():
        condition |= Q(region__code__startswith=prefix)
    if lead_institution_ids:
        condition |= Q(
            pk__in=ConsortiumMember.objects.filter(
                role=MemberRole.LEAD, is_active=True, institution_id__in=lead_institution_ids
            ).values("consortium_id")
        )
    return consortia.filter(condition)


def memberships_of_institutions(consortium_id: Any, institution_ids: set[int]) -> QuerySet[ConsortiumMember]:
    """Memberships, active or past, of the institutions ``institution_ids`` in the consortium ``consortium_id``.

    ``consortium_id`` may be an expression (``OuterRef("consortium_id")``) so the caller wraps the
    result in ``Exists``; ``.exists()`` answers for one consortium. Unscoped: the caller's policy
    decides who asks. No query until evaluated.
    """
    return ConsortiumMember.objects.filter(consortium_id=consortium_id, institution_id__in=institution_ids)


def active_members_by_institution_name(consortium: Consortium) -> QuerySet[ConsortiumMember]:
    """The consortium's active members with their institution, by institution name then id.

    Unscoped, for apps that apply their own policy (insurance settles every member of a budget's
    consortium). One query when evaluated.
    """
    return (
        ConsortiumMember.objects.filter(consortium=consortium, is_active=True)
        .select_related("institution")
        .order_by("institution__name", "institution_id")
    )


def consortium_region_ids(*, consortium_ids: set[int], member_institution_ids: set[int]) -> set[int | None]:
    """Region ids of the consortia ``consortium_ids`` and of every consortium one of
    ``member_institution_ids`` is a member of, active or past (None for a consortium without region).

    Unscoped: the caller passes what its policy grants. One query.
    """
    return set(
        Consortium.objects.filter(
            Q(pk__in=consortium_ids) | Q(members__institution_id__in=member_institution_ids)
        ).values_list("region_id", flat=True)
    )


def region_id_by_code(code: str) -> int | None:
    """The id of the region whose GB/T 2260 code is ``code``, or None. Unscoped (for importers). One query."""
    return Region.objects.filter(code=code).values_list("id", flat=True).first()


def institution_id_by_credit_code(credit_code: str) -> int | None:
    """The id of the institution registered under the unified social credit code ``credit_code``, or None.

    Unscoped (for importers). One query.
    """
    return Institution.objects.filter(credit_code=credit_code).values_list("id", flat=True).first()


def member_consortium_region_prefixes(institution_id: int) -> tuple[str, ...]:
    """The region prefixes of the consortia the institution is an active member of, one per membership
    (None for a consortium without region). Unscoped (for importers). One query.
    """
    return tuple(
        ConsortiumMember.objects.filter(institution_id=institution_id, is_active=True).values_list(
            "consortium__region__prefix", flat=True
        )
    )


@dataclass
class MemberNode:
    """A member in the consortium's lead → sub-lead → member tree."""

    member: ConsortiumMember
    children: list[MemberNode]

    @property
    def leading_children(self) -> list[MemberNode]:
        """Children that lead others (sub-leads), shown unfolded."""
        return [node for node in self.children if node.member.role != "member"]

    @property
    def member_children(self) -> list[MemberNode]:
        """Plain member children, which the page may fold when there are many."""
        return [node for node in self.children if node.member.role == "member"]


def consortium_member_tree(consortium: Consortium) -> list[MemberNode]:
    """Active members as a tree under their parents (one query)."""
    members = list(consortium_members(consortium))
    nodes = {member.pk: MemberNode(member, []) for member in members}
    roots: list[MemberNode] = []
    for member in members:
        parent = nodes.get(member.parent_id) if member.parent_id else None
        (parent.children if parent else roots).append(nodes[member.pk])
    return roots


def consortium_member_get(actor: Any, public_id: Any) -> ConsortiumMember:
    """One membership row by public id."""
    _require_reader(actor)
    return _get(
        ConsortiumMember.objects.select_related("consortium", "consortium__region", "institution", "parent"),
        public_id=public_id,
    )


def management_body_list(consortium: Consortium) -> QuerySet[ManagementBody]:
    """The consortium's governing bodies."""
    return consortium.management_bodies.select_related("host_institution").order_by("kind", "name")


def agreement_list(actor: Any, consortium: Consortium) -> QuerySet[Agreement]:
    """Agreements of a consortium (metadata is registry data; files are checked separately)."""
    _require_reader(actor)
    return (
        consortium.agreements.prefetch_related("parties")
        .select_related("uploaded_by")
        .order_by("-effective_from", "title")
    )


def agreement_get_for_download(actor: Any, public_id: Any) -> Agreement:
    """An agreement whose file the actor may download; NotFound for everyone else."""
    _require_reader(actor)
    agreement = _get(
        Agreement.objects.select_related("consortium", "consortium__region"), public_id=public_id
    )
    member_ids = set(
        ConsortiumMember.objects.filter(consortium=agreement.consortium, is_active=True).values_list(
            "institution_id", flat=True
        )
    )
    if not policies.can_view_agreement_files(actor, agreement.consortium, member_ids):
        raise NotFound("agreement")
    return agreement


# Grids ---------------------------------------------------------------------


def grid_list(
    actor: Any, *, query: str = "", within: str = "", consortium: Consortium | None = None
) -> QuerySet[Grid]:
    """Grids with their current consortium and area count."""
    _require_reader(actor)
    current = GridAssignment.objects.filter(is_current=True).select_related("consortium")
    grids = (
        Grid.objects.select_related("region")
        .annotate(area_count=Count("area_links", distinct=True))
        .prefetch_related(Prefetch("assignments", queryset=current, to_attr="current_assignments"))
    )
    if query:
        grids = grids.filter(name_search_q(query, extra_fields=("code",)))
    if within:
        grids = grids.filter(region__code__startswith=within)
    if consortium is not None:
        grids = grids.filter(assignments__consortium=consortium, assignments__is_current=True)
    return grids.order_by("region__code", "code")


def grid_get(actor: Any, public_id: Any) -> Grid:
    """One grid by public id."""
    _require_reader(actor)
    return _get(Grid.objects.select_related("region"), public_id=public_id)


COUNTY_CODE_LENGTH = 6
"""A county's GB/T 2260 code is six digits, and its townships' and villages' codes start with it."""


def county_prefix(region: Region) -> str:
    """The code prefix of the county ``region`` lies in, or of ``region`` itself above county level.

    A township or village lies in the county whose code is the first six digits of its own; a
    province or prefecture has no single county, so its whole subtree is meant. No query.
    """
    if region.level in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        return region.code[:COUNTY_CODE_LENGTH]
    return region.prefix


def grids_in_areas(prefixes: Iterable[str]) -> QuerySet[Grid]:
    """Grids planned under one of the GB/T 2260 ``prefixes`` or covering a township or village under one, by code.

    A city group's grid is planned for the prefecture but covers a county's townships, so it belongs
    to that county too. None when ``prefixes`` is empty. Unscoped: grids are registry data every user
    reads. No query until evaluated.
    """
    prefixes = set(prefixes)
    if not prefixes:
        return Grid.objects.none()
    covering = GridArea.objects.filter(grid=OuterRef("pk")).filter(_prefixed("area__code", prefixes))
    return (
        Grid.objects.select_related("region")
        .filter(_prefixed("region__code", prefixes) | Exists(covering))
        .order_by("region__code", "code")
    )


def institution_county_prefixes(institutions: QuerySet[Institution]) -> set[str]:
    """``county_prefix`` of each of the institutions' regions (one query)."""
    return {
        county_prefix(Region(code=code, level=level, prefix=prefix))
        for code, level, prefix in institutions.order_by()
        .values_list("region__code", "region__level", "region__prefix")
        .distinct()
    }


def grid_areas(grid: Grid) -> QuerySet[Region]:
    """The townships and villages a grid covers."""
    return Region.objects.filter(grid_link__grid=grid).select_related("parent").order_by("code")


def grid_assignment_history(grid: Grid) -> QuerySet[GridAssignment]:
    """Every consortium that has served the grid, newest first."""
    return grid.assignments.select_related("consortium").order_by("-is_current", "-assigned_from", "-id")


def grid_current_consortium(grid: Grid) -> Consortium | None:
    """The consortium serving the grid now, if any."""
    assignment = grid.assignments.filter(is_current=True).select_related("consortium").first()
    return assignment.consortium if assignment else None


@dataclass
class Coverage:
    """A region's coverage report: areas in no grid, institutions in no consortium."""

    region: Region
    township_count: int
    village_count: int
    uncovered_townships: list[Region]
    uncovered_villages: list[Region]
    grid_count: int
    unassigned_grids: list[Grid]
    institution_count: int
    institutions_without_consortium: list[Institution]

    @property
    def covered_share(self) -> float:
        """Share of townships and villages covered by a grid, 0..1."""
        total = self.township_count + self.village_count
        uncovered = len(self.uncovered_townships) + len(self.uncovered_villages)
        return 1.0 if total == 0 else (total - uncovered) / total


def coverage_report(actor: Any, region: Region) -> Coverage:
    """Which townships and villages under ``region`` belong to no grid, and which institutions to no consortium.

    A village counts as covered when it or its township is in a grid.
    Raises NotAllowed for anyone but the region's regulators and platform admins.
    """
    if not policies.can_plan_grids(actor, region) or not policies.can_view_coverage(actor):
        raise NotAllowed("coverage")
    within = region.prefix
    areas = Region.objects.filter(
        code__startswith=within, level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]
    )
    covered_codes = set(
        GridArea.objects.filter(area__code__startswith=within).values_list("area__code", flat=True)
    )
    townships: list[Region] = []
    villages: list[Region] = []
    township_count = village_count = 0
    for area in areas.only("code", "name", "level", "parent_id").order_by("code"):
        if area.level == RegionLevel.TOWNSHIP:
            township_count += 1
            if area.code not in covered_codes:
                townships.append(area)
        else:
            village_count += 1
            if area.code not in covered_codes and area.code[:9] not in covered_codes:
                villages.append(area)
    in_consortium = ConsortiumMember.objects.filter(institution=OuterRef("pk"), is_active=True)
    institutions = Institution.objects.filter(region__code__startswith=within, status="active")
    grids = grid_list(actor, within=within)
    return Coverage(
        region=region,
        township_count=township_count,
        village_count=village_count,
        uncovered_townships=townships,
        uncovered_villages=villages,
        grid_count=grids.count(),
        unassigned_grids=[grid for grid in grids if not grid.current_assignments],
        institution_count=institutions.count(),
        institutions_without_consortium=list(
            institutions.filter(~Exists(in_consortium))
            .select_related("region")
            .order_by("region__code", "name")
        ),
    )


# Choices offered by forms ----------------------------------------------------

UPPER_LEVELS = (RegionLevel.PROVINCE, RegionLevel.PREFECTURE, RegionLevel.COUNTY)
AREA_LEVELS = (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)
PICKER_LIMIT = 50
"""How many institutions a picker offers at once (the search box narrows them)."""


def upper_regions(actor: Any) -> QuerySet[Region]:
    """Province, prefecture and county regions, plain rows for a select."""
    return (
        region_list(actor)
        .filter(level__in=UPPER_LEVELS)
        .select_related(None)
        .only("code", "name", "level", "prefix")
    )


def regions_in_scope(actor: Any) -> QuerySet[Region]:
    """Regions where the actor may register institutions and plan grids: all for platform admins,
    their regions' subtrees for regulators, none for anyone else."""
    regions = region_list(actor)
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return regions
    prefixes = scope.region_prefixes_with(Role.REGULATOR)
    if not prefixes:
        return regions.none()
    condition = Q()
    for prefix in prefixes:
        condition |= Q(code__startswith=prefix)
    return regions.filter(condition)


def coverage_regions(actor: Any) -> list[Region]:
    """Upper regions the actor may see a coverage report for (one query)."""
    regions = upper_regions(actor)
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return list(regions)
    prefixes = tuple(scope.region_prefixes_with(Role.REGULATOR))
    return [region for region in regions if prefixes and region.code.startswith(prefixes)]


def plannable_regions(actor: Any) -> QuerySet[Region]:
    """Prefecture and county regions where the actor may plan grids."""
    return regions_in_scope(actor).filter(level__in=(RegionLevel.PREFECTURE, RegionLevel.COUNTY))


def grid_area_choices(actor: Any, region: Region) -> list[Region]:
    """Townships and villages under a region, each with the grid it already belongs to (one query)."""
    return list(
        region_list(actor, within=region.prefix)
        .filter(level__in=AREA_LEVELS)
        .select_related("grid_link__grid")
    )


def grid_serving_consortia(actor: Any) -> QuerySet[Consortium]:
    """Consortia that may serve grids (city groups and county communities), plain rows for a select."""
    return (
        consortium_list(actor)
        .filter(type__in=GRID_CONSORTIUM_TYPES)
        .prefetch_related(None)
        .only("public_id", "name", "region__code")
    )


def parent_choices(
    consortium: Consortium, exclude: ConsortiumMember | None = None
) -> QuerySet[ConsortiumMember]:
    """Active leads and sub-leads of the consortium: the possible parents of a member."""
    members = consortium_members(consortium).filter(role__in=[MemberRole.LEAD, MemberRole.SUB_LEAD])
    if exclude is not None:
        members = members.exclude(pk=exclude.pk)
    return members


def picker_options(actor: Any, query: str = "", within: str = "") -> list[Institution]:
    """Active institutions matching ``query`` (name, pinyin initials, credit code), at most PICKER_LIMIT."""
    return list(institution_list(actor, query=query, within=within, status="active")[:PICKER_LIMIT])


@dataclass(frozen=True)
class OrganisationStructure:
    """The registry as plain ids for engines that roll figures up (no scoping: callers aggregate, never show rows).

    ``regions`` maps region id → (code, level, parent id); ``institutions`` maps
    institution id → region id; ``memberships`` lists (consortium id,
    institution id) of active members; ``consortium_regions`` maps consortium
    id → its region id; ``grid_areas`` lists (grid id, region id).
    """

    regions: dict[int, tuple[str, str, int | None]]
    institutions: dict[int, int]
    memberships: list[tuple[int, int]]
    consortium_regions: dict[int, int | None]
    grid_areas: list[tuple[int, int]]


def organisation_structure() -> OrganisationStructure:
    """Every region, institution, active membership and grid area as ids, in five queries."""
    return OrganisationStructure(
        regions={
            pk: (code, level, parent)
            for pk, code, level, parent in Region.objects.values_list("pk", "code", "level", "parent_id")
        },
        institutions=dict(Institution.objects.values_list("pk", "region_id")),
        memberships=list(
            ConsortiumMember.objects.filter(is_active=True).values_list("consortium_id", "institution_id")
        ),
        consortium_regions=dict(Consortium.objects.values_list("pk", "region_id")),
        grid_areas=list(GridArea.objects.values_list("grid_id", "area_id")),
    )


def _ids(queryset: QuerySet[Any]) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


UNIT_KINDS = ("region", "institution", "department", "consortium", "grid")
"""The kinds of unit engines show aggregates of, in the order ``unit_ids_*`` fill them."""


def unit_ids_under_regions(prefixes: set[str], kinds: Iterable[str] = UNIT_KINDS) -> dict[str, set[int]]:
    """Ids of the regions, institutions, departments, consortia and grids under GB/T 2260 ``prefixes``.

    For engines that show aggregates: no scoping here, the caller passes the
    prefixes its policy grants. Only ``kinds`` are looked up (a query each);
    the others come back empty.
    """
    wanted = set(kinds)
    found: dict[str, set[int]] = {kind: set() for kind in UNIT_KINDS}
    if not prefixes:
        return found
    institutions = Institution.objects.filter(_prefixed("region__code", prefixes))
    if "region" in wanted:
        found["region"] = region_ids_under(prefixes)
    if "institution" in wanted:
        found["institution"] = _ids(institutions)
    if "department" in wanted:
        found["department"] = _ids(Department.objects.filter(institution__in=institutions))
    if "consortium" in wanted:
        found["consortium"] = _ids(Consortium.objects.filter(_prefixed("region__code", prefixes)))
    if "grid" in wanted:
        found["grid"] = _ids(Grid.objects.filter(_prefixed("region__code", prefixes)))
    return found


def _prefixed(path: str, prefixes: set[str]) -> Q:
    condition = Q()
    for prefix in prefixes:
        condition |= Q(**{f"{path}__startswith": prefix})
    return condition


def unit_ids_of_consortia(consortium_ids: set[int], kinds: Iterable[str] = UNIT_KINDS) -> dict[str, set[int]]:
    """Ids of the consortia, their active members, the members' departments, their current grids and their area.

    Only ``kinds`` are looked up (a query each, two for the area's regions);
    the others come back empty, but for the consortia themselves.
    """
    wanted = set(kinds)
    found: dict[str, set[int]] = {kind: set() for kind in UNIT_KINDS}
    if not consortium_ids:
        return found
    members = ConsortiumMember.objects.filter(consortium_id__in=consortium_ids, is_active=True)
    found["consortium"] = set(consortium_ids)
    if "institution" in wanted:
        found["institution"] = set(members.values_list("institution_id", flat=True))
    if "department" in wanted:
        # A subquery rather than the member ids: an IN list of hundreds of ids costs more to send and plan.
        found["department"] = _ids(
            Department.objects.filter(institution_id__in=members.values("institution_id"))
        )
    if "region" in wanted:
        found["region"] = region_ids_under(consortium_region_prefixes(consortium_ids))
    if "grid" in wanted:
        found["grid"] = set(
            GridAssignment.objects.filter(consortium_id__in=consortium_ids, is_current=True).values_list(
                "grid_id", flat=True
            )
        )
    return found


def consortium_region_prefixes(consortium_ids: set[int]) -> set[str]:
    """The GB/T 2260 prefixes of the consortia's areas (one query): their area is every region under them."""
    if not consortium_ids:
        return set()
    return set(
        Consortium.objects.filter(pk__in=consortium_ids, region__isnull=False).values_list(
            "region__prefix", flat=True
        )
    )


def region_ids_under(prefixes: set[str]) -> set[int]:
    """Ids of the regions whose GB/T 2260 code starts with one of ``prefixes`` (one query; none when empty)."""
    return _ids(Region.objects.filter(_prefixed("code", prefixes))) if prefixes else set()


def consortia_of_institutions(institution_ids: set[int]) -> dict[int, set[int]]:
    """Consortium id → the given institutions that are its active members."""
    found: dict[int, set[int]] = {}
    for consortium_id, institution_id in ConsortiumMember.objects.filter(
        institution_id__in=institution_ids, is_active=True
    ).values_list("consortium_id", "institution_id"):
        found.setdefault(consortium_id, set()).add(institution_id)
    return found


def departments_of_institutions(institution_ids: set[int]) -> set[int]:
    """Ids of the departments of ``institution_ids``."""
    return _ids(Department.objects.filter(institution_id__in=institution_ids))


def unit_names(kind: str, ids: set[int]) -> dict[int, str]:
    """Display names of units of ``kind`` (institution, department, consortium, grid, region) by id."""
    if kind == "department":
        return {
            pk: f"{institution}·{name}"
            for pk, name, institution in Department.objects.filter(pk__in=ids).values_list(
                "pk", "name", "institution__short_name"
            )
        }
    model = {"institution": Institution, "consortium": Consortium, "grid": Grid, "region": Region}[kind]
    return dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))
