"""Cost stories of down-referred patients (下转患者费用对比): reads only, scoped by ``insurance.policies``.

The seeds' worked example (``seeds/000_1995ef860dcc38de.txt``, a district lead hospital's consortium
report, section 一 on the two-way referral "直通车") tells one patient's story this way::

    该患者在xxx医院神经内科住院治疗住院费用xxx元(医保报销xx元,患者自付xxx元),病情平稳后于xxx日
    转回xx镇卫生院继续后期康复治疗,在xxx镇卫生院康复治疗期间住院费用共xxx元(医保报销xxx元,患者自付
    xxx元),如该患者一直在xxx医院治疗约需住院费用xxx元(医保报销比例约xx%,xxx元,患者自付xxx元),
    双向转诊后该患者实际产生住院费用为xxx元(医保报销xx元,患者自付xxx元),医保资金节省支出xxx元,
    患者节省费用xxx元。

That is: the cost of the days spent at the township centre had they been spent at the lead hospital
(at the lead hospital's cost and reimbursement ratio), against what the township stay really cost;
the difference is what the fund and the patient saved. The seeds give no formula for "约需", so this
module carries a **working definition** (口径, marked as such on the page):

- Candidates: down-referrals (``direction = down``) of the consortium, completed or closed, sent by
  one of its lead institutions to one of its active members. A story belongs to the month of its
  anchor: the patient's arrival at the primary institution, else the referral's completion.
- Lead-hospital daily cost of the diagnosis: over the lead institutions' inpatient stays discharged
  in the 12 calendar months before the anchor's month whose main diagnosis has the same ICD-10
  category (first three characters), Σ total cost / Σ inpatient days (discharge date − admission
  date, at least 1 per stay), rounded to the cent; the fund share is Σ fund paid / Σ total cost
  (4 decimals). With fewer than ``MIN_CATEGORY_STAYS`` such stays the whole lead hospital's
  figures over the same months are used and the story is flagged (``fallback``).
- Primary stay: the receiving institution's inpatient stay of the same person admitted from 24 hours
  before to 7 days after the anchor (the first such); the day before is tolerated because wards
  register the admission before the referral is marked as arrived.
- Counterfactual (如一直在牵头医院) = primary-stay days × lead daily cost; its fund part = that ×
  fund share; the patient part = the rest.
- Actual = the primary stay's total cost, fund paid and self paid.
- Savings = counterfactual − actual, in total, for the fund and for the patient (Decimal, 0.01).
- A story without a finished primary stay is listed (days from the referral's own arrival and
  completion dates) but carries no money and stays out of the money totals.

Aggregation runs in SQL where the data are large: the lead hospital's costs are summed in one
grouped query (category × discharge month), the primary stays are matched by a correlated
subquery and read in one query. Combining a story's category rate with its days happens in Python
because the rate depends on each story's month and category; the work is one pass over the year's
stories with a fixed number of queries, whatever their number.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from yilian.accounts.selectors import scope_for
from yilian.core.exceptions import NotAllowed, NotFound
from yilian.core.permissions import Role
from yilian.encounters.selectors import (
    encounter_costs,
    first_inpatient_stay_id,
    inpatient_costs_by_month_and_category,
)
from yilian.institutions.selectors import (
    consortia_reached,
    consortium_by_public_id,
    consortium_lead_institution_ids,
    consortium_members,
)
from yilian.insurance import policies
from yilian.referrals.choices import ReferralDirection, ReferralStatus
from yilian.referrals.selectors import consortium_referral_by_public_id, consortium_referrals

CENT = Decimal("0.01")
SHARE = Decimal("0.0001")
ZERO = Decimal("0.00")
MIN_CATEGORY_STAYS = 5
"""Fewer lead-hospital stays of a category than this and the whole hospital's average is used."""
WINDOW_MONTHS = 12
"""Months of lead-hospital stays behind the daily cost."""
MATCH_BEFORE = datetime.timedelta(hours=24)
MATCH_AFTER = datetime.timedelta(days=7)
STORY_STATUSES = (ReferralStatus.COMPLETED, ReferralStatus.CLOSED)

BASIS_STAY = "stay"
"""The story is told from the primary institution's finished inpatient stay."""
BASIS_OPEN = "open"
"""The primary stay has not ended yet: days so far, no money."""
BASIS_REFERRAL = "referral"
"""No primary stay found: days from the referral's own dates, no money."""


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def category_of(code: str) -> str:
    """The ICD-10 category of a diagnosis code: its first three characters, upper case ("I63.9" → "I63")."""
    return (code or "").strip().upper()[:3]


def stay_days(started_at: datetime.datetime, ended_at: datetime.datetime) -> int:
    """Inpatient days of a stay: local discharge date − local admission date, at least 1."""
    start = timezone.localdate(started_at)
    end = timezone.localdate(ended_at)
    return max((end - start).days, 1)


def _month_start(moment: datetime.datetime) -> datetime.date:
    day = timezone.localdate(moment)
    return day.replace(day=1)


def _add_months(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- access ---------------------------------------------------------------------------------------


def cost_story_consortia(actor: Any) -> QuerySet[Any]:
    """Consortia whose cost stories the actor reads (see ``policies.can_view_cost_stories``), by name.

    Budget readers of the consortium or of a region covering it, platform admins, and administrators
    of a lead institution. One query when evaluated.
    """
    scope = scope_for(actor)
    if scope.is_platform_admin:
        return consortia_reached(all_consortia=True)
    return consortia_reached(
        consortium_ids=scope.consortia_with(*policies.BUDGET_READERS),
        region_prefixes=scope.region_prefixes_with(*policies.BUDGET_READERS),
        lead_institution_ids=scope.institutions_with(Role.INSTITUTION_ADMIN),
    )


def may_view_any(actor: Any) -> bool:
    """True when the actor's roles could reach some consortium's cost stories (no query)."""
    scope = scope_for(actor)
    return (
        scope.is_platform_admin
        or bool(scope.consortia_with(*policies.BUDGET_READERS))
        or bool(scope.region_prefixes_with(*policies.BUDGET_READERS))
        or bool(scope.institutions_with(Role.INSTITUTION_ADMIN))
    )


def _lead_ids(consortium: Any) -> set[int]:
    ids = getattr(consortium, "lead_institution_ids", None)
    if not ids:
        ids = consortium_lead_institution_ids(consortium)
        consortium.lead_institution_ids = ids
    return set(ids)


def _require(actor: Any, consortium: Any) -> None:
    """NotFound unless the actor reads the consortium's cost stories (the consortium's leads are loaded)."""
    _lead_ids(consortium)
    if not policies.can_view_cost_stories(actor, consortium):
        raise NotFound("医联体不存在")


def cost_story_consortium_get(actor: Any, public_id: Any) -> Any:
    """The consortium ``public_id`` if the actor reads its cost stories.

    Raises NotAllowed when the actor reads no cost stories at all, NotFound when it cannot read
    this consortium's (or it does not exist).
    """
    if not may_view_any(actor):
        raise NotAllowed("无权查看费用对比")
    consortium = consortium_by_public_id(public_id)
    if consortium is None:
        raise NotFound("医联体不存在")
    _require(actor, consortium)
    return consortium


# --- lead-hospital daily costs --------------------------------------------------------------------


@dataclass(frozen=True)
class LeadRate:
    """The lead hospital's cost per inpatient day and fund share behind one story."""

    category: str
    stays: int
    days: int
    total_cost: Decimal
    fund_paid: Decimal
    fallback: bool
    window_from: datetime.date
    window_to: datetime.date

    @property
    def daily_cost(self) -> Decimal | None:
        """Σ total cost / Σ days, to the cent (None without stays)."""
        return _money(self.total_cost / self.days) if self.days else None

    @property
    def fund_share(self) -> Decimal | None:
        """Σ fund paid / Σ total cost, to 4 decimals (None without cost)."""
        return (
            (self.fund_paid / self.total_cost).quantize(SHARE, rounding=ROUND_HALF_UP)
            if self.total_cost
            else None
        )

    @property
    def fund_share_percent(self) -> Decimal | None:
        """The fund share as a percentage to the hundredth (70.00 for 0.7000)."""
        share = self.fund_share
        return (share * 100).quantize(CENT) if share is not None else None


@dataclass
class _Sums:
    stays: int = 0
    days: int = 0
    total_cost: Decimal = ZERO
    fund_paid: Decimal = ZERO

    def add(self, other: _Sums) -> None:
        self.stays += other.stays
        self.days += other.days
        self.total_cost += other.total_cost
        self.fund_paid += other.fund_paid


class LeadRates:
    """Lead-hospital stays summed per (discharge month, ICD-10 category); answers a story's rate.

    Built from one grouped SQL query over the months the stories need.
    """

    def __init__(self, lead_ids: set[int], first_month: datetime.date, last_month: datetime.date) -> None:
        """Sum the lead institutions' finished inpatient stays discharged in the windows of the months
        ``first_month``..``last_month`` (each month looks back ``WINDOW_MONTHS``). One query."""
        self.by_month: dict[datetime.date, dict[str, _Sums]] = defaultdict(dict)
        if not lead_ids:
            return
        since = _add_months(first_month, -WINDOW_MONTHS)
        stays = inpatient_costs_by_month_and_category(lead_ids, _aware(since), _aware(last_month))
        for row in stays:
            month = row["month"]
            month = (timezone.localdate(month) if isinstance(month, datetime.datetime) else month).replace(
                day=1
            )
            span = row["span_sum"] or datetime.timedelta()
            # A stay discharged the day it began counts one day (Σ max(d, 1) = Σ d + #{d = 0}).
            self.by_month[month][row["category"]] = _Sums(
                stays=row["stays"],
                days=span.days + row["same_day"],
                total_cost=row["cost"] or ZERO,
                fund_paid=row["fund"] or ZERO,
            )

    def rate(self, category: str, month: datetime.date) -> LeadRate:
        """The rate of ``category`` for a story of ``month``: its 12-month window, or the whole hospital's."""
        window_from = _add_months(month, -WINDOW_MONTHS)
        own = _Sums()
        whole = _Sums()
        cursor = window_from
        while cursor < month:
            for name, sums in self.by_month.get(cursor, {}).items():
                whole.add(sums)
                if name == category:
                    own.add(sums)
            cursor = _add_months(cursor, 1)
        chosen, fallback = (own, False) if own.stays >= MIN_CATEGORY_STAYS else (whole, True)
        return LeadRate(
            category=category,
            stays=chosen.stays,
            days=chosen.days,
            total_cost=chosen.total_cost,
            fund_paid=chosen.fund_paid,
            fallback=fallback,
            window_from=window_from,
            window_to=month - datetime.timedelta(days=1),
        )


# --- stories --------------------------------------------------------------------------------------


@dataclass
class CostStory:
    """One down-referred patient's comparison: stayed-at-lead counterfactual against the primary stay."""

    referral_id: int
    public_id: Any
    number: str
    patient_name: str
    diagnosis_code: str
    diagnosis_name: str
    from_institution: str
    to_institution: str
    to_institution_id: int
    anchor: datetime.datetime
    month: datetime.date
    basis: str
    days: int
    rate: LeadRate
    stay_started_at: datetime.datetime | None = None
    stay_ended_at: datetime.datetime | None = None
    actual_total: Decimal | None = None
    actual_fund: Decimal | None = None
    actual_self: Decimal | None = None
    counterfactual_total: Decimal | None = None
    counterfactual_fund: Decimal | None = None
    counterfactual_self: Decimal | None = None
    source_stay: dict[str, Any] | None = None
    consortium: Any = None
    """The story's consortium (set by ``cost_story_get`` only)."""

    @property
    def has_money(self) -> bool:
        """True when both sides of the comparison are known."""
        return self.actual_total is not None and self.counterfactual_total is not None

    @property
    def saving_total(self) -> Decimal | None:
        """Counterfactual − actual total cost."""
        return self.counterfactual_total - self.actual_total if self.has_money else None  # type: ignore[operator]

    @property
    def saving_fund(self) -> Decimal | None:
        """Counterfactual − actual fund payment (医保资金节省支出)."""
        return self.counterfactual_fund - self.actual_fund if self.has_money else None  # type: ignore[operator]

    @property
    def saving_self(self) -> Decimal | None:
        """Counterfactual − actual self payment (患者节省费用)."""
        return self.counterfactual_self - self.actual_self if self.has_money else None  # type: ignore[operator]

    @property
    def fallback(self) -> bool:
        """True when the whole lead hospital's average stood in for the category's."""
        return self.rate.fallback

    @property
    def whole_counterfactual(self) -> dict[str, Decimal] | None:
        """The seeds' "如一直在牵头医院治疗约需": the lead stay before referral plus the counterfactual."""
        if self.source_stay is None or not self.has_money:
            return None
        return {
            "total": self.source_stay["total_cost"] + self.counterfactual_total,
            "fund": self.source_stay["fund_paid"] + self.counterfactual_fund,
            "self": self.source_stay["self_paid"] + self.counterfactual_self,
        }

    @property
    def whole_actual(self) -> dict[str, Decimal] | None:
        """The seeds' "双向转诊后实际产生": the lead stay before referral plus the primary stay."""
        if self.source_stay is None or not self.has_money:
            return None
        return {
            "total": self.source_stay["total_cost"] + self.actual_total,
            "fund": self.source_stay["fund_paid"] + self.actual_fund,
            "self": self.source_stay["self_paid"] + self.actual_self,
        }


@dataclass
class Totals:
    """Counts and sums of a group of stories (a month, a receiving institution, the year)."""

    label: Any = ""
    count: int = 0
    with_money: int = 0
    fallback: int = 0
    counterfactual_total: Decimal = ZERO
    counterfactual_fund: Decimal = ZERO
    counterfactual_self: Decimal = ZERO
    actual_total: Decimal = ZERO
    actual_fund: Decimal = ZERO
    actual_self: Decimal = ZERO
    days: int = 0

    def add(self, story: CostStory) -> None:
        """Count ``story``; add its money when both sides are known."""
        self.count += 1
        self.fallback += int(story.fallback)
        if not story.has_money:
            return
        self.with_money += 1
        self.days += story.days
        self.counterfactual_total += story.counterfactual_total  # type: ignore[operator]
        self.counterfactual_fund += story.counterfactual_fund  # type: ignore[operator]
        self.counterfactual_self += story.counterfactual_self  # type: ignore[operator]
        self.actual_total += story.actual_total  # type: ignore[operator]
        self.actual_fund += story.actual_fund  # type: ignore[operator]
        self.actual_self += story.actual_self  # type: ignore[operator]

    @property
    def saving_total(self) -> Decimal:
        """Σ counterfactual − Σ actual."""
        return self.counterfactual_total - self.actual_total

    @property
    def saving_fund(self) -> Decimal:
        """Fund saved."""
        return self.counterfactual_fund - self.actual_fund

    @property
    def saving_self(self) -> Decimal:
        """Patients saved."""
        return self.counterfactual_self - self.actual_self


@dataclass
class CostStoryReport:
    """A consortium's year: its stories (newest first), monthly totals, totals per receiving member."""

    consortium: Any
    year: int
    stories: list[CostStory] = field(default_factory=list)
    months: list[Totals] = field(default_factory=list)
    institutions: list[Totals] = field(default_factory=list)
    total: Totals = field(default_factory=Totals)


def _candidates(consortium: Any, lead_ids: set[int]) -> QuerySet[Any]:
    """The consortium's story referrals, annotated with their ``anchor`` and matched ``stay_id`` (no query)."""
    # Left lazy: it becomes a subquery of the stories' query (which drops its ordering), not a query of its own.
    members = consortium_members(consortium).values("institution_id")
    anchor = Coalesce("arrived_at", "completed_at", "closed_at")
    stay = first_inpatient_stay_id(
        person_id=OuterRef("person_id"),
        institution_id=OuterRef("to_institution_id"),
        admitted_from=OuterRef("anchor") - MATCH_BEFORE,
        admitted_to=OuterRef("anchor") + MATCH_AFTER,
    )
    return (
        consortium_referrals(
            consortium,
            direction=ReferralDirection.DOWN,
            statuses=STORY_STATUSES,
            from_institution_ids=lead_ids,
            to_institution_ids=members,
        )
        .annotate(anchor=anchor)
        .filter(anchor__isnull=False)
        .annotate(stay_id=Subquery(stay))
    )


_STORY_FIELDS = (
    "pk",
    "public_id",
    "number",
    "person__name",
    "diagnosis_code",
    "diagnosis_name",
    "from_institution__name",
    "to_institution__name",
    "to_institution_id",
    "anchor",
    "arrived_at",
    "completed_at",
    "closed_at",
    "stay_id",
    "encounter_id",
)


def _story(row: dict[str, Any], stay: dict[str, Any] | None, rates: LeadRates) -> CostStory:
    """Tell one story from a referral row, its matched primary stay and the lead rates."""
    anchor = row["anchor"]
    month = _month_start(anchor)
    rate = rates.rate(category_of(row["diagnosis_code"]), month)
    story = CostStory(
        referral_id=row["pk"],
        public_id=row["public_id"],
        number=row["number"],
        patient_name=row["person__name"],
        diagnosis_code=row["diagnosis_code"],
        diagnosis_name=row["diagnosis_name"],
        from_institution=row["from_institution__name"],
        to_institution=row["to_institution__name"],
        to_institution_id=row["to_institution_id"],
        anchor=anchor,
        month=month,
        basis=BASIS_REFERRAL,
        days=1,
        rate=rate,
    )
    if stay is not None and stay["ended_at"] is not None:
        story.basis = BASIS_STAY
        story.stay_started_at, story.stay_ended_at = stay["started_at"], stay["ended_at"]
        story.days = stay_days(stay["started_at"], stay["ended_at"])
        story.actual_total = stay["total_cost"]
        story.actual_fund = stay["fund_paid"]
        story.actual_self = stay["self_paid"]
        if rate.daily_cost is not None:
            story.counterfactual_total = _money(rate.daily_cost * story.days)
            story.counterfactual_fund = _money(story.counterfactual_total * (rate.fund_share or ZERO))
            story.counterfactual_self = story.counterfactual_total - story.counterfactual_fund
    elif stay is not None:
        story.basis = BASIS_OPEN
        story.stay_started_at = stay["started_at"]
        story.days = stay_days(stay["started_at"], timezone.now())
    else:
        end = row["completed_at"] or row["closed_at"] or anchor
        story.days = stay_days(anchor, max(end, anchor))
    return story


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    return _aware(datetime.date(year, 1, 1)), _aware(datetime.date(year + 1, 1, 1))


def cost_story_report(actor: Any, consortium: Any, year: int) -> CostStoryReport:
    """The consortium's cost stories of ``year`` with monthly and per-member totals.

    Raises NotFound when the actor cannot read the consortium's cost stories; a year without stories
    gives zero totals. A fixed number of queries (leads, stories, stays, rates), whatever the stories.
    """
    _require(actor, consortium)
    lead_ids = _lead_ids(consortium)
    start, end = _year_bounds(year)
    rows = list(
        _candidates(consortium, lead_ids)
        .filter(anchor__gte=start, anchor__lt=end)
        .order_by("-anchor", "-pk")
        .values(*_STORY_FIELDS)
    )
    stays = encounter_costs([row["stay_id"] for row in rows if row["stay_id"]])
    rates = LeadRates(lead_ids, datetime.date(year, 1, 1), datetime.date(year, 12, 1)) if rows else None
    report = CostStoryReport(consortium=consortium, year=year)
    report.months = [Totals(label=datetime.date(year, month, 1)) for month in range(1, 13)]
    per_institution: dict[int, Totals] = {}
    for row in rows:
        story = _story(row, stays.get(row["stay_id"]), rates)  # type: ignore[arg-type]
        report.stories.append(story)
        report.months[story.month.month - 1].add(story)
        per_institution.setdefault(story.to_institution_id, Totals(label=story.to_institution)).add(story)
        report.total.add(story)
    report.institutions = sorted(per_institution.values(), key=lambda totals: str(totals.label))
    return report


def stories_of_month(report: CostStoryReport, month: int) -> list[CostStory]:
    """The report's stories of one month (1–12) of its year, newest first (no query)."""
    return [story for story in report.stories if story.month.month == month]


def cost_story_get(actor: Any, public_id: Any) -> CostStory:
    """One down-referral's cost story, with the lead-hospital stay it came from (if recorded).

    Raises NotAllowed when the actor reads no cost stories at all, NotFound when the referral is not
    a story (not a completed/closed down-referral from a lead to a member) or the actor cannot read
    its consortium's stories.
    """
    if not may_view_any(actor):
        raise NotAllowed("无权查看费用对比")
    referral = consortium_referral_by_public_id(public_id, direction=ReferralDirection.DOWN)
    if referral is None:
        raise NotFound("转诊单不存在")
    consortium = referral.consortium
    _require(actor, consortium)
    row = _candidates(consortium, _lead_ids(consortium)).filter(pk=referral.pk).values(*_STORY_FIELDS).first()
    if row is None:
        raise NotFound("转诊单不存在")
    ids = [pk for pk in (row["stay_id"], row["encounter_id"]) if pk]
    stays = encounter_costs(ids)
    month = _month_start(row["anchor"])
    story = _story(row, stays.get(row["stay_id"]), LeadRates(_lead_ids(consortium), month, month))
    story.consortium = consortium
    story.source_stay = stays.get(row["encounter_id"]) if row["encounter_id"] else None
    if story.source_stay is not None and story.source_stay["ended_at"] is not None:
        story.source_stay["days"] = stay_days(story.source_stay["started_at"], story.source_stay["ended_at"])
    else:
        story.source_stay = None
    return story
