"""Reads of insurance: budgets, their monthly figures, settlement aggregates, settlements and claims.

Every read is scoped by ``yilian.insurance.policies``. Aggregates run in SQL
(values / annotate / TruncMonth), never as Python loops over claims.
"""

from __future__ import annotations

import datetime
import operator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, Max, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import ExtractMonth
from django.utils.translation import gettext as _

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotAllowed, NotFound
from yilian.core.permissions import Role
from yilian.institutions.choices import MemberRole
from yilian.institutions.selectors import (
    active_members_by_institution_name,
    consortia_reached,
    consortium_lead_institution_ids,
    consortium_region_ids,
    memberships_of_institutions,
)
from yilian.insurance import calculation, policies
from yilian.insurance.calculation import ZERO, money
from yilian.insurance.choices import ProviderPlace, SettlementStatus, SettlementTier
from yilian.insurance.models import Claim, GlobalBudget, Settlement, SettlementRule, SettlementShare

ACCESS_MANAGE = "manage"
ACCESS_READ = "read"
ACCESS_MEMBER = "member"


# --- access ---------------------------------------------------------------------------------------


def budget_access(actor: Any, budget: GlobalBudget) -> str | None:
    """How far ``actor`` reaches into ``budget``: manage, read (everything), member (own share), or None."""
    consortium = budget.consortium
    if policies.can_manage_budget(actor, consortium):
        return ACCESS_MANAGE
    if not getattr(consortium, "lead_institution_ids", None):
        consortium.lead_institution_ids = consortium_lead_institution_ids(consortium)  # type: ignore[attr-defined]
    if policies.can_read_budget(actor, consortium):
        return ACCESS_READ
    own = policies.member_admin_institutions(actor)
    if own and memberships_of_institutions(consortium.pk, own).exists():
        return ACCESS_MEMBER
    return None


def budget_list(actor: Any) -> QuerySet[GlobalBudget]:
    """Budgets the actor may see: readers of the consortium or region, lead and member administrators.

    Each budget carries ``reads_all``: False where the actor is only a member's administrator, who
    may not open the budget page (its headcounts, deductions and notes), only the list's row.
    """
    scope = scope_for(actor)
    budgets = GlobalBudget.objects.select_related("consortium", "consortium__region")
    if scope.is_platform_admin:
        return budgets.annotate(reads_all=Value(True))
    readers = Q(consortium_id__in=scope.consortia_with(*policies.BUDGET_READERS))
    for prefix in scope.region_prefixes_with(*policies.BUDGET_READERS):
        readers |= Q(consortium__region__code__startswith=prefix)
    condition, reads_all = readers, readers
    own = policies.member_admin_institutions(actor)
    if own:
        memberships = memberships_of_institutions(OuterRef("consortium_id"), own)
        condition = readers | Exists(memberships)
        reads_all = readers | Exists(memberships.filter(role=MemberRole.LEAD, is_active=True))
    return budgets.filter(condition).annotate(
        reads_all=ExpressionWrapper(reads_all, output_field=BooleanField())
    )


def budget_get(actor: Any, public_id: Any, *, level: str = ACCESS_READ) -> GlobalBudget:
    """One budget the actor reaches at ``level`` (manage > read > member).

    Raises NotFound when the actor cannot see it at all, NotAllowed when the
    access is lower than ``level``. The access is kept on ``budget.access``.
    """
    budget = (
        GlobalBudget.objects.select_related("consortium", "consortium__region")
        .filter(public_id=public_id)
        .first()
    )
    if budget is None:
        raise NotFound(_("预算不存在"))
    access = budget_access(actor, budget)
    if access is None:
        raise NotFound(_("预算不存在"))
    ranks = {ACCESS_MEMBER: 1, ACCESS_READ: 2, ACCESS_MANAGE: 3}
    if ranks[access] < ranks[level]:
        raise NotAllowed(_("无权查看或操作该预算"))
    budget.access = access  # type: ignore[attr-defined]
    return budget


def consortia_for_budget(actor: Any) -> QuerySet[Any]:
    """Consortia whose budget the actor may configure (insurance officers of the consortium or its region)."""
    scope = scope_for(actor)
    return consortia_reached(
        consortium_ids=scope.consortia_with(*policies.BUDGET_MANAGERS),
        region_prefixes=scope.region_prefixes_with(*policies.BUDGET_MANAGERS),
    )


# --- the budget's figures ---------------------------------------------------------------------------


def _year_claims(budget: GlobalBudget) -> QuerySet[Claim]:
    """Claims of the consortium's county's insured settled in the budget's year."""
    return Claim.objects.filter(
        insured_region_id=budget.consortium.region_id,
        settled_on__gte=datetime.date(budget.year, 1, 1),
        settled_on__lte=datetime.date(budget.year, 12, 31),
    )


def counted_places(budget: GlobalBudget) -> list[str]:
    """The provider places whose fund payments count against the pool, per the budget's switches."""
    switches = (
        (budget.counts_members, ProviderPlace.MEMBER),
        (budget.counts_in_county_others, ProviderPlace.IN_COUNTY),
        (budget.counts_out_of_county, ProviderPlace.OUT_OF_COUNTY),
        (budget.counts_pharmacies, ProviderPlace.PHARMACY),
    )
    return [place for on, place in switches if on]


def fund_base(budget: GlobalBudget) -> Decimal:
    """Σ headcount × per-capita fund − Σ deductions (two queries)."""
    gross = sum(
        (row.insured_count * row.per_capita_fund for row in budget.headcounts.all()),
        Decimal("0"),
    )
    deducted = budget.deductions.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return money(gross - deducted)


def budget_pool(budget: GlobalBudget) -> Decimal:
    """The consortium's pool B for the year."""
    return calculation.pool_of(fund_base(budget), budget.consortium_share)


@dataclass
class MonthRow:
    """One month of the budget page (money in yuan, to the cent)."""

    month: int
    pool: Decimal
    members: Decimal
    in_county: Decimal
    out_of_county: Decimal
    pharmacy: Decimal
    counted: Decimal
    remaining: Decimal
    cumulative_pool: Decimal
    cumulative_counted: Decimal
    prepayment: Decimal
    withheld: Decimal
    leak_share: Decimal | None
    subsidies: Decimal = ZERO
    cumulative_subsidies: Decimal = ZERO

    @property
    def charged(self) -> Decimal:
        """What the month charges against the pool: the counted fund payments plus the month's subsidies."""
        return self.counted + self.subsidies

    @property
    def cumulative_charged(self) -> Decimal:
        """Counted fund payments and subsidies so far."""
        return self.cumulative_counted + self.cumulative_subsidies

    @property
    def cumulative_remaining(self) -> Decimal:
        """Pool so far minus everything charged so far (December's equals the budget's headline result)."""
        return self.cumulative_pool - self.cumulative_charged

    @property
    def outside(self) -> Decimal:
        """Spend outside the consortium (in-county others, out of county, pharmacies)."""
        return self.in_county + self.out_of_county + self.pharmacy

    def as_figures(self) -> dict[str, Any]:
        """JSON-ready form (Decimals as strings) kept in a frozen settlement's ``figures["monthly"]``."""
        return {
            name: (value if name == "month" or value is None else str(value))
            for name, value in ((name, getattr(self, name)) for name in MONTH_FIELDS)
        }

    @classmethod
    def from_figures(cls, figures: dict[str, Any]) -> MonthRow:
        """A month as kept by ``as_figures``."""
        values: dict[str, Any] = {}
        for name in MONTH_FIELDS:
            value = figures.get(name)
            if name == "month":
                values[name] = int(value)  # type: ignore[arg-type]
            elif name == "leak_share":
                values[name] = None if value is None else Decimal(str(value))
            else:
                values[name] = Decimal(str(value if value is not None else "0"))
        return cls(**values)


MONTH_FIELDS = (
    "month",
    "pool",
    "members",
    "in_county",
    "out_of_county",
    "pharmacy",
    "counted",
    "remaining",
    "cumulative_pool",
    "cumulative_counted",
    "prepayment",
    "withheld",
    "leak_share",
    "subsidies",
    "cumulative_subsidies",
)


@dataclass
class BudgetMonthly:
    """The budget page: monthly rows, totals, the out-of-county destinations and the projection.

    ``counted_total`` is the counted fund payments (claims) only; ``subsidies``
    the year's deductible subsidies, which the settlement and the what-if
    charge too (``spent_total``).
    """

    budget: GlobalBudget
    pool: Decimal
    months: list[MonthRow]
    counted_total: Decimal
    out_of_county_total: Decimal
    leak_share: Decimal | None
    projected_year_end: Decimal
    projected_result: Decimal
    months_elapsed: int
    subsidies: Decimal = ZERO
    out_of_county_by_region: list[dict[str, Any]] = field(default_factory=list)
    out_of_county_by_institution: list[dict[str, Any]] = field(default_factory=list)
    in_county_by_institution: list[dict[str, Any]] = field(default_factory=list)

    @property
    def spent_total(self) -> Decimal:
        """Counted fund payments so far plus the year's deductible subsidies: what the settlement charges."""
        return self.counted_total + self.subsidies

    @property
    def result_to_date(self) -> Decimal:
        """Pool minus everything charged so far (the what-if's and the settlement's result at today's data)."""
        return self.pool - self.spent_total

    def as_figures(self) -> dict[str, Any]:
        """The months and the places counted, JSON-ready, as a frozen settlement keeps them."""
        return {
            "counted_places": counted_places(self.budget),
            "prepayment_rate": str(self.budget.prepayment_rate),
            "months": [row.as_figures() for row in self.months],
        }


def _to_cents(rows: Any, *names: str) -> list[dict[str, Any]]:
    """Rows whose sums (``paid`` unless named) are each made money, to the cent: SQLite sums decimals as
    floats and hands back fifteen digits (846722.650000000001)."""
    names = names or ("paid",)
    return [{**row, **{name: money(row[name] or ZERO) for name in names}} for row in rows]


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.0001")) if whole else None


def budget_monthly(
    budget: GlobalBudget, *, today: datetime.date | None = None, destinations: bool = True
) -> BudgetMonthly:
    """Per month: pool (B/12, the cent remainder in December), spend by place, subsidies, counted, remaining,
    pre-payment.

    ``counted`` is the fund payments of the places the budget's switches
    count; ``subsidies`` the deductible subsidies of referrals completed that
    month. Both are charged against the pool, so ``remaining`` = pool −
    counted − subsidies and December's cumulative remaining equals
    ``result_to_date``.

    Pre-payment is ``prepayment_rate`` × the fund's payments to members that
    month (their actual cost to the fund); the rest is withheld until the
    assessment. The projection runs the months so far (to ``today``) at
    their rate to December and adds the deductible subsidies of completed
    referrals so far, which the settlement charges against the pool too.
    A fixed number of queries whatever the number of claims; without
    ``destinations`` (the settlement's freeze) the destination lists are left
    empty and their three queries not run.
    """
    pool = budget_pool(budget)
    pools = calculation.monthly_pools(pool)
    claims = _year_claims(budget)
    by_month: dict[int, dict[str, Decimal]] = {month: {} for month in range(1, 13)}
    for row in (
        claims.annotate(month=ExtractMonth("settled_on"))
        .values("month", "provider_place")
        .annotate(paid=Sum("fund_paid"))
        .order_by()
    ):
        by_month[row["month"]][row["provider_place"]] = row["paid"] or ZERO
    counted = set(counted_places(budget))
    subsidies_by_month = year_subsidies_by_month(budget)
    rows: list[MonthRow] = []
    cumulative_pool = cumulative_counted = cumulative_subsidies = ZERO
    for month in range(1, 13):
        paid = by_month[month]
        month_counted = sum((paid.get(place, ZERO) for place in counted), ZERO)
        month_subsidies = subsidies_by_month.get(month, ZERO)
        cumulative_pool += pools[month - 1]
        cumulative_counted += month_counted
        cumulative_subsidies += month_subsidies
        prepayment = money(paid.get(ProviderPlace.MEMBER, ZERO) * budget.prepayment_rate)
        out = paid.get(ProviderPlace.OUT_OF_COUNTY, ZERO) if ProviderPlace.OUT_OF_COUNTY in counted else ZERO
        rows.append(
            MonthRow(
                month=month,
                pool=pools[month - 1],
                members=money(paid.get(ProviderPlace.MEMBER, ZERO)),
                in_county=money(paid.get(ProviderPlace.IN_COUNTY, ZERO)),
                out_of_county=money(paid.get(ProviderPlace.OUT_OF_COUNTY, ZERO)),
                pharmacy=money(paid.get(ProviderPlace.PHARMACY, ZERO)),
                counted=money(month_counted),
                remaining=pools[month - 1] - money(month_counted) - month_subsidies,
                cumulative_pool=cumulative_pool,
                cumulative_counted=money(cumulative_counted),
                prepayment=prepayment,
                withheld=money(paid.get(ProviderPlace.MEMBER, ZERO)) - prepayment,
                leak_share=_ratio(out, month_counted),
                subsidies=month_subsidies,
                cumulative_subsidies=cumulative_subsidies,
            )
        )
    today = today or datetime.date.today()
    if today.year > budget.year:
        elapsed = 12
    elif today.year < budget.year:
        elapsed = 0
    else:
        elapsed = max(today.month - 1, 0) or 1  # the current month is partial; use it only in January
    # Months with data after ``today`` still count (imported ahead of the calendar, e.g. demo data).
    last_with_data = max((month for month in range(1, 13) if by_month[month]), default=0)
    elapsed = max(elapsed, last_with_data)
    counted_so_far = sum((row.counted for row in rows[:elapsed]), ZERO)
    subsidies = cumulative_subsidies
    projected = calculation.projected_year_end(counted_so_far, elapsed) + subsidies
    counted_total = money(cumulative_counted)
    out_total = (
        sum((row.out_of_county for row in rows), ZERO) if ProviderPlace.OUT_OF_COUNTY in counted else ZERO
    )
    monthly = BudgetMonthly(
        budget=budget,
        pool=pool,
        months=rows,
        counted_total=counted_total,
        out_of_county_total=out_total,
        leak_share=_ratio(out_total, counted_total),
        projected_year_end=projected,
        projected_result=pool - projected,
        months_elapsed=elapsed,
        subsidies=subsidies,
    )
    if not destinations:
        return monthly
    out_claims = claims.filter(provider_place=ProviderPlace.OUT_OF_COUNTY)
    monthly.out_of_county_by_region = _to_cents(
        out_claims.values("provider_region__code", "provider_region__name")
        .annotate(paid=Sum("fund_paid"))
        .order_by("-paid")[:20]
    )
    monthly.out_of_county_by_institution = _to_cents(
        out_claims.values("provider_name").annotate(paid=Sum("fund_paid")).order_by("-paid")[:20]
    )
    monthly.in_county_by_institution = _to_cents(
        claims.filter(provider_place=ProviderPlace.IN_COUNTY)
        .values("provider_name")
        .annotate(paid=Sum("fund_paid"))
        .order_by("-paid")[:20]
    )
    return monthly


def year_subsidies_by_month(budget: GlobalBudget) -> dict[int, Decimal]:
    """The deductible subsidies of the consortium's referrals completed in each month of the budget's year.

    ``subsidy_report`` is per month (local dates); the twelve months are
    OR-ed into one query grouped by the (local) completion month. Months
    without subsidies are absent.
    """
    from yilian.referrals.selectors import subsidy_report

    months = [
        subsidy_report(budget.consortium, datetime.date(budget.year, month, 1)) for month in range(1, 13)
    ]
    rows = (
        reduce(operator.or_, months)
        .annotate(month=ExtractMonth("completed_at"))
        .values("month")
        .annotate(total=Sum("subsidy_amount"))
        .order_by()
    )
    return {row["month"]: money(row["total"] or ZERO) for row in rows}


def year_subsidies(budget: GlobalBudget) -> Decimal:
    """The year's deductible subsidies of the consortium's completed referrals (via the referral selectors)."""
    return sum(year_subsidies_by_month(budget).values(), ZERO)


@dataclass
class MemberTierRow:
    """One active member of a budget's consortium and its settlement tier: the default, the recorded choice."""

    institution_id: int
    institution_public_id: Any
    name: str
    category: str
    role: str
    default_tier: str
    recorded_tier: str = ""
    decided_by: Any = None
    decided_at: datetime.datetime | None = None

    @property
    def recorded(self) -> bool:
        """True when an insurance officer chose the tier (even if it equals the default)."""
        return bool(self.recorded_tier)

    @property
    def tier(self) -> str:
        """The tier the settlement uses: the recorded one, else the default."""
        return self.recorded_tier or self.default_tier


def member_tiers(budget: GlobalBudget) -> list[MemberTierRow]:
    """The active members of the budget's consortium with the tier each settles in (two queries).

    Ordered as the split reads: the lead first, then the members whose default tier is the lead's,
    the township tier's, the village tier's, each by name (a county consortium lists hundreds of
    village clinics; the few members an officer may move come first).

    Unscoped: callers reach ``budget`` through ``budget_get`` (read level for
    the page and the API, manage level for changes).
    """
    recorded = {row.institution_id: row for row in budget.member_tiers.select_related("decided_by")}
    rows = []
    for member in active_members_by_institution_name(budget.consortium):
        choice = recorded.get(member.institution_id)
        rows.append(
            MemberTierRow(
                institution_id=member.institution_id,
                institution_public_id=member.institution.public_id,
                name=member.institution.name,
                category=member.institution.category,
                role=member.role,
                default_tier=calculation.default_tier(member.institution.category, member.role),
                recorded_tier=choice.tier if choice else "",
                decided_by=choice.decided_by if choice else None,
                decided_at=choice.updated_at if choice else None,
            )
        )
    order = list(SettlementTier.values)
    rows.sort(
        key=lambda row: (row.role != "lead", order.index(row.default_tier))
    )  # stable: names stay sorted
    return rows


def settlement_aggregates(
    budget: GlobalBudget, scores: dict[int, Decimal] | None = None
) -> calculation.Aggregates:
    """One set of aggregates for settling ``budget`` under any rule (fund base, charges, subsidies, members)."""
    claims = _year_claims(budget)
    by_place = {
        row["provider_place"]: money(row["paid"] or ZERO)
        for row in claims.values("provider_place").annotate(paid=Sum("fund_paid")).order_by()
    }
    counted = counted_places(budget)
    charged = sum((by_place.get(place, ZERO) for place in counted), ZERO)
    by_member, unreasonable = member_claim_totals(budget)
    members = []
    for member in member_tiers(budget):
        spent, member_unreasonable = by_member.get(member.institution_id, (ZERO, ZERO))
        members.append(
            calculation.Member(
                institution_id=member.institution_id,
                name=member.name,
                tier=member.tier,
                spent=spent,
                unreasonable=member_unreasonable,
                score=(scores or {}).get(member.institution_id),
                tier_recorded=member.recorded,
            )
        )
    return calculation.Aggregates(
        fund_base=fund_base(budget),
        charged=money(charged),
        subsidies=year_subsidies(budget),
        unreasonable=unreasonable,
        members=tuple(members),
        spent_by_place=by_place,
    )


def member_claim_totals(budget: GlobalBudget) -> tuple[dict[int, tuple[Decimal, Decimal]], Decimal]:
    """Per member institution, the fund paid and the unreasonable amount of the year's claims at it; and the
    unreasonable amount of all counted claims (two queries).

    What the members' shares are computed from. The freeze reads it a second time, after the months, so
    money moved between members while it computed (the total unchanged) is caught too.
    """
    claims = _year_claims(budget)
    by_member = {
        row["provider_institution_id"]: (money(row["paid"] or ZERO), money(row["unreasonable"] or ZERO))
        for row in claims.filter(provider_place=ProviderPlace.MEMBER, provider_institution__isnull=False)
        .values("provider_institution_id")
        .annotate(paid=Sum("fund_paid"), unreasonable=Sum("unreasonable_amount"))
        .order_by()
    }
    unreasonable = (
        claims.filter(provider_place__in=counted_places(budget)).aggregate(total=Sum("unreasonable_amount"))[
            "total"
        ]
        or ZERO
    )
    return by_member, money(unreasonable)


def whatif_compare(
    budget: GlobalBudget, rules: list[calculation.Parameters], scores: dict[int, Decimal] | None = None
) -> list[calculation.Outcome]:
    """Each rule's outcome over one set of aggregates (the queries run once for all rules)."""
    aggregates = settlement_aggregates(budget, scores)
    return [calculation.settle(aggregates, rule) for rule in rules]


def rule_parameters(rule: SettlementRule) -> calculation.Parameters:
    """A stored rule as calculation parameters (the share comes from its budget)."""
    return calculation.Parameters(
        name=rule.name,
        consortium_share=rule.budget.consortium_share,
        surplus_retained=rule.surplus_retained,
        overspend_borne=rule.overspend_borne,
        lead_parts=rule.lead_parts,
        township_parts=rule.township_parts,
        village_parts=rule.village_parts,
        weighted_by_score=rule.weighted_by_score,
    )


def rule_list(budget: GlobalBudget) -> QuerySet[SettlementRule]:
    """The budget's settlement rules, the adopted one first."""
    return budget.rules.select_related("budget").all()


def rule_get(budget: GlobalBudget, public_id: Any) -> SettlementRule:
    """One rule of ``budget``; raises NotFound."""
    rule = budget.rules.select_related("budget").filter(public_id=public_id).first()
    if rule is None:
        raise NotFound(_("结算方案不存在"))
    return rule


# --- settlements ------------------------------------------------------------------------------------


def settlement_list(budget: GlobalBudget) -> QuerySet[Settlement]:
    """The budget's frozen settlements, newest version first."""
    return budget.settlements.select_related("frozen_by", "reopened_by").order_by("-version")


def settlement_get(actor: Any, public_id: Any) -> Settlement:
    """One settlement the actor may see; ``settlement.access`` tells whether only own shares are shown.

    Raises NotFound.
    """
    settlement = (
        Settlement.objects.select_related(
            "budget", "budget__consortium", "budget__consortium__region", "frozen_by", "reopened_by"
        )
        .filter(public_id=public_id)
        .first()
    )
    if settlement is None:
        raise NotFound(_("结算不存在"))
    access = budget_access(actor, settlement.budget)
    if access is None:
        raise NotFound(_("结算不存在"))
    settlement.access = access  # type: ignore[attr-defined]
    return settlement


def latest_settlement(budget: GlobalBudget) -> Settlement | None:
    """The budget's latest settlement version, in force or reopened, or None (one query)."""
    return budget.settlements.select_related("reopened_by").order_by("-version").first()


def frozen_settlement(budget: GlobalBudget, latest: Settlement | None = None) -> Settlement | None:
    """The settlement in force — the budget's latest version unless an insurance officer reopened it — or None:
    while one is in force, the figures that shape the year's settlement (year, rates, switches, headcounts,
    deductions, members' tiers) are settled (one query unless ``latest`` is passed)."""
    latest = latest if latest is not None else latest_settlement(budget)
    return None if latest is None or latest.is_reopened else latest


def reopened_settlement(budget: GlobalBudget, latest: Settlement | None = None) -> Settlement | None:
    """The budget's latest version when it was reopened for a correction (not yet frozen again), else None."""
    latest = latest if latest is not None else latest_settlement(budget)
    return latest if latest is not None and latest.is_reopened else None


def settlement_status(settlement: Settlement, latest_version: int) -> str:
    """``SettlementStatus`` of a version, given its budget's latest version number."""
    if settlement.is_reopened:
        return SettlementStatus.REOPENED
    if settlement.version < latest_version:
        return SettlementStatus.SUPERSEDED
    return SettlementStatus.IN_FORCE


@dataclass(frozen=True)
class Supersession:
    """What replaced a superseded version: the next version's number and freeze time, and the latest version."""

    version: int
    frozen_at: datetime.datetime
    latest_version: int


def settlement_supersession(settlement: Settlement) -> Supersession | None:
    """The version that replaced ``settlement`` (the next one frozen of its budget), or None while it is the
    latest; its reports print it so an old file says it is not the settlement in force (one query)."""
    later = list(
        Settlement.objects.filter(budget_id=settlement.budget_id, version__gt=settlement.version)
        .order_by("version")
        .values_list("version", "frozen_at")
    )
    if not later:
        return None
    return Supersession(version=later[0][0], frozen_at=later[0][1], latest_version=later[-1][0])


def latest_version(budget: GlobalBudget) -> int:
    """The number of the budget's latest settlement version (0 when none is frozen)."""
    return budget.settlements.aggregate(latest=Max("version"))["latest"] or 0


def settlement_is_full(settlement: Settlement) -> bool:
    """True when the reader of ``settlement`` sees the whole report (budget readers); False for a member
    administrator, who sees what the settlement page shows them: the header, the versions list's pool,
    spend and result, and their own institutions' shares."""
    return getattr(settlement, "access", None) != ACCESS_MEMBER


def tiers_recorded(settlement: Settlement) -> set[int]:
    """Institutions whose tier an insurance officer had chosen when ``settlement`` was frozen (the rest took
    the default; settlements frozen before tiers could be chosen have none)."""
    return {int(key) for key in settlement.figures.get("tiers_recorded", [])}


@dataclass
class SettlementMonthly:
    """A settlement's monthly table: the months and the places counted as kept at freeze (``recorded``), or,
    for a version frozen before they were kept, today's figures of its budget, which the reports say."""

    months: list[MonthRow]
    counted_places: list[str]
    recorded: bool


def settlement_monthly(settlement: Settlement) -> SettlementMonthly:
    """The months of ``settlement`` as frozen (no query); for an older version without them, today's months
    of its budget (the budget page's queries, without the destinations)."""
    if settlement.monthly_recorded:
        kept = settlement.figures["monthly"]
        return SettlementMonthly(
            months=[MonthRow.from_figures(row) for row in kept.get("months", [])],
            counted_places=[str(place) for place in kept.get("counted_places", [])],
            recorded=True,
        )
    live = budget_monthly(settlement.budget, destinations=False)
    return SettlementMonthly(
        months=live.months, counted_places=counted_places(settlement.budget), recorded=False
    )


def settlement_shares(actor: Any, settlement: Settlement) -> QuerySet[SettlementShare]:
    """The shares the actor may read: all for budget readers, own institutions only for member administrators."""
    shares = settlement.shares.select_related("institution").order_by("tier", "-amount", "institution_id")
    if getattr(settlement, "access", None) == ACCESS_MEMBER:
        return shares.filter(institution_id__in=policies.member_admin_institutions(actor))
    return shares


# --- claims -----------------------------------------------------------------------------------------


@dataclass
class ClaimFilters:
    """Filters of the claim list and aggregates."""

    year: int | None = None
    month: int | None = None
    place: str = ""
    kind: str = ""
    provider: str = ""


def _filtered(claims: QuerySet[Claim], filters: ClaimFilters) -> QuerySet[Claim]:
    if filters.year:
        claims = claims.filter(settled_on__year=filters.year)
    if filters.month:
        claims = claims.filter(settled_on__month=filters.month)
    if filters.place:
        claims = claims.filter(provider_place=filters.place)
    if filters.kind:
        claims = claims.filter(kind=filters.kind)
    if filters.provider:
        claims = claims.filter(provider_name__icontains=filters.provider)
    return claims


def can_read_any_claim_rows(actor: Any) -> bool:
    """True when the actor reads claim rows of some county (cached scope only)."""
    scope = scope_for(actor)
    return not scope.is_platform_admin and bool(policies.claim_row_region_prefixes(actor))


def can_mark_unreasonable(actor: Any) -> bool:
    """True when the actor is an insurance officer of some region (marks unreasonable amounts; cached scope)."""
    scope = scope_for(actor)
    return not scope.is_platform_admin and bool(scope.region_prefixes_with(Role.INSURANCE_OFFICER))


def claims_visible_to(actor: Any, filters: ClaimFilters | None = None) -> QuerySet[Claim]:
    """Claim rows of the counties whose rows the actor reads; raises NotAllowed for everyone else."""
    prefixes = policies.claim_row_region_prefixes(actor)
    if scope_for(actor).is_platform_admin or not prefixes:
        raise NotAllowed(_("结算明细含个人信息，仅医保与监管人员可查看"))
    condition = Q()
    for prefix in prefixes:
        condition |= Q(insured_region__code__startswith=prefix)
    claims = Claim.objects.filter(condition).select_related("person", "insured_region", "provider_region")
    return _filtered(claims, filters or ClaimFilters())


def _aggregate_condition(actor: Any) -> Q | None:
    """Counties whose claim aggregates the actor reads: row readers' and budget readers' consortia's regions."""
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return Q()
    prefixes = set(policies.claim_row_region_prefixes(actor)) | scope.region_prefixes_with(
        *policies.BUDGET_READERS
    )
    consortium_ids = scope.consortia_with(*policies.BUDGET_READERS)
    institutions = scope.institutions_with(Role.INSTITUTION_ADMIN)
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= Q(insured_region__code__startswith=prefix)
    region_ids = (
        consortium_region_ids(consortium_ids=consortium_ids, member_institution_ids=institutions)
        if consortium_ids or institutions
        else set()
    )
    if region_ids:
        condition |= Q(insured_region_id__in=region_ids)
    if not prefixes and not region_ids:
        return None
    return condition


def claim_aggregates(actor: Any, filters: ClaimFilters | None = None) -> list[dict[str, Any]]:
    """Claim totals by month and place (no personal data) for anyone with a consortium or county in reach.

    Raises NotAllowed when the actor reaches no county.
    """
    condition = _aggregate_condition(actor)
    if condition is None:
        raise NotAllowed(_("无权查看医保结算汇总"))
    claims = _filtered(Claim.objects.filter(condition), filters or ClaimFilters())
    return _to_cents(
        claims.annotate(month=ExtractMonth("settled_on"))
        .values("settled_on__year", "month", "provider_place")
        .annotate(
            total_cost=Sum("total_cost"),
            fund_paid=Sum("fund_paid"),
            self_paid=Sum("self_paid"),
            unreasonable=Sum("unreasonable_amount"),
        )
        .order_by("settled_on__year", "month", "provider_place"),
        "total_cost",
        "fund_paid",
        "self_paid",
        "unreasonable",
    )


def claim_get_for_marking(actor: Any, source_record_id: str) -> Claim:
    """A claim row the actor reads, by its settlement number (for marking an unreasonable amount); raises NotFound."""
    claim = claims_visible_to(actor).filter(source_record_id=source_record_id).first()
    if claim is None:
        raise NotFound(_("结算记录不存在"))
    return claim
