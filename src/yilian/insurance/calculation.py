"""The global budget's arithmetic, free of the database: pool, result, and each member's share.

Everything is Decimal quantized to the cent; every split goes through
``split_to_cent`` (largest remainder), so parts always add up to the whole
to the cent. Selectors gather one ``Aggregates`` from the database; the
settlement service and the what-if page run ``settle`` over it once per
parameter set.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from yilian.institutions.choices import PRIMARY_CATEGORY_PREFIXES, InstitutionCategory
from yilian.insurance.choices import SettlementTier

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
TIERS: tuple[str, ...] = (SettlementTier.LEAD, SettlementTier.TOWNSHIP, SettlementTier.VILLAGE)


def money(value: Decimal | int | str) -> Decimal:
    """``value`` rounded half-up to the cent."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: Any) -> Decimal:
    """A typed or posted number as a finite Decimal; raises ValueError for anything else.

    ``Decimal()`` accepts "NaN", "sNaN" and "Infinity", and a NaN then fails
    every comparison with InvalidOperation (a 500), so every decimal input of
    the app is read through here.
    """
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def split_to_cent(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` (to the cent) in proportion to ``weights`` by the largest-remainder method.

    The parts sum exactly to ``total``. Negative totals are split as their
    absolute value and negated; zero or absent weights split equally.
    Raises ValueError on a negative weight.
    """
    if not weights:
        return []
    if any(weight < 0 for weight in weights):
        raise ValueError("negative weight")
    total = money(total)
    sign = -1 if total < 0 else 1
    cents = int(abs(total) / CENT)
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        weights = [Decimal(1)] * len(weights)
        weight_sum = Decimal(len(weights))
    exact = [Decimal(cents) * weight / weight_sum for weight in weights]
    floors = [int(value.to_integral_value(rounding=ROUND_DOWN)) for value in exact]
    left = cents - sum(floors)
    # Largest fractional remainders get the leftover cents; ties go to the earlier entry (stable order).
    order = sorted(range(len(weights)), key=lambda index: (-(exact[index] - floors[index]), index))
    for index in order[:left]:
        floors[index] += 1
    return [sign * Decimal(value) * CENT for value in floors]


def monthly_pools(pool: Decimal) -> list[Decimal]:
    """The yearly pool as 12 monthly pools: pool / 12 rounded down to the cent, the remainder in December."""
    pool = money(pool)
    month = (pool / 12).quantize(CENT, rounding=ROUND_DOWN)
    return [month] * 11 + [pool - month * 11]


def days_in_month(year: int, month: int) -> int:
    """Days of ``month`` in ``year``."""
    return calendar.monthrange(year, month)[1]


@dataclass(frozen=True)
class Parameters:
    """One settlement rule's parameters (also one column of the what-if page)."""

    name: str
    consortium_share: Decimal
    surplus_retained: Decimal
    overspend_borne: Decimal
    lead_parts: int = 6
    township_parts: int = 3
    village_parts: int = 1
    weighted_by_score: bool = False

    def parts(self) -> dict[str, int]:
        """Tier → whole-number parts."""
        return {
            SettlementTier.LEAD: self.lead_parts,
            SettlementTier.TOWNSHIP: self.township_parts,
            SettlementTier.VILLAGE: self.village_parts,
        }

    def as_dict(self) -> dict[str, str | int | bool]:
        """JSON-ready form (Decimals as strings) for the frozen figures."""
        return {
            "name": self.name,
            "consortium_share": str(self.consortium_share),
            "surplus_retained": str(self.surplus_retained),
            "overspend_borne": str(self.overspend_borne),
            "lead_parts": self.lead_parts,
            "township_parts": self.township_parts,
            "village_parts": self.village_parts,
            "weighted_by_score": self.weighted_by_score,
        }


@dataclass(frozen=True)
class Member:
    """A consortium member as the settlement sees it: its tier (``tier_recorded``: chosen by an officer, not the
    default), in-pool spend, unreasonable amount and score."""

    institution_id: int
    name: str
    tier: str
    spent: Decimal = ZERO
    unreasonable: Decimal = ZERO
    score: Decimal | None = None
    tier_recorded: bool = False


@dataclass(frozen=True)
class Aggregates:
    """Everything a settlement needs from the database for one budget and year.

    ``fund_base`` is Σ headcount × per-capita fund − Σ deductions (before the
    share); ``charged`` is the spend that counts against the pool;
    ``subsidies`` the year's deductible subsidies of completed referrals
    (also charged); ``spent_by_place`` the fund paid by destination.
    """

    fund_base: Decimal
    charged: Decimal
    subsidies: Decimal
    unreasonable: Decimal
    members: tuple[Member, ...]
    spent_by_place: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class ShareOutcome:
    """One member's outcome under one rule."""

    institution_id: int
    name: str
    tier: str
    score: Decimal | None
    amount: Decimal


@dataclass
class Outcome:
    """The result of one rule over one set of aggregates; ``spent`` = ``charged`` (claims) + ``subsidies``."""

    parameters: Parameters
    pool: Decimal
    spent: Decimal
    result: Decimal
    consortium_amount: Decimal
    fund_amount: Decimal
    unreasonable_borne: Decimal
    tier_totals: dict[str, Decimal]
    shares: list[ShareOutcome]
    charged: Decimal = ZERO
    subsidies: Decimal = ZERO

    def as_figures(self, aggregates: Aggregates) -> dict[str, object]:
        """The JSON snapshot kept on a frozen settlement."""
        return {
            "parameters": self.parameters.as_dict(),
            "fund_base": str(aggregates.fund_base),
            "pool": str(self.pool),
            "charged_claims": str(aggregates.charged),
            "subsidies": str(aggregates.subsidies),
            "spent": str(self.spent),
            "spent_by_place": {place: str(amount) for place, amount in aggregates.spent_by_place.items()},
            "unreasonable": str(aggregates.unreasonable),
            "result": str(self.result),
            "consortium_amount": str(self.consortium_amount),
            "fund_amount": str(self.fund_amount),
            "unreasonable_borne": str(self.unreasonable_borne),
            "tier_totals": {tier: str(amount) for tier, amount in self.tier_totals.items()},
        }


def pool_of(fund_base: Decimal, share: Decimal) -> Decimal:
    """Pool B = fund base × the consortium's share, to the cent."""
    return money(fund_base * share)


def _split_by_tiers(
    total: Decimal, members: tuple[Member, ...], parameters: Parameters
) -> dict[int, Decimal]:
    """Split ``total`` among tiers by parts (tiers without members drop out), then within a tier by spend."""
    present = [tier for tier in TIERS if any(member.tier == tier for member in members)]
    parts = parameters.parts()
    tier_amounts = dict(
        zip(present, split_to_cent(total, [Decimal(parts[tier]) for tier in present]), strict=True)
    )
    amounts: dict[int, Decimal] = {}
    for tier in present:
        in_tier = [member for member in members if member.tier == tier]
        spends = [member.spent for member in in_tier]
        # Equal split when nobody in the tier spent anything.
        weights = spends if sum(spends, ZERO) > 0 else [Decimal(1)] * len(in_tier)
        if parameters.weighted_by_score:
            weights = [
                weight * (member.score if member.score is not None else Decimal(100)) / Decimal(100)
                for weight, member in zip(weights, in_tier, strict=True)
            ]
        for member, amount in zip(in_tier, split_to_cent(tier_amounts[tier], weights), strict=True):
            amounts[member.institution_id] = amount
    return amounts


def settle(aggregates: Aggregates, parameters: Parameters) -> Outcome:
    """Settle the year under ``parameters``: R = B − C; a surplus retained × α, an overspend shared by γ.

    Surplus (R ≥ 0): the consortium keeps R × α, split by tier parts and, within
    a tier, by in-pool spend (optionally × score / 100). Overspend (R < 0):
    unreasonable amounts (up to the overrun) are borne by the consortium and
    attributed to the members that incurred them; the reasonable overrun × γ
    is borne by the consortium and split like a surplus; the fund bears the
    rest. Shares sum to ``consortium_amount`` to the cent.
    """
    pool = pool_of(aggregates.fund_base, parameters.consortium_share)
    spent = money(aggregates.charged + aggregates.subsidies)
    result = pool - spent
    members = aggregates.members
    if result >= 0:
        retained = money(result * parameters.surplus_retained)
        amounts = _split_by_tiers(retained, members, parameters) if members else {}
        consortium_amount, fund_amount, unreasonable_borne = retained, ZERO, ZERO
    else:
        overrun = -result
        unreasonable_borne = min(money(aggregates.unreasonable), overrun)
        reasonable_borne = money((overrun - unreasonable_borne) * parameters.overspend_borne)
        consortium_amount = -(unreasonable_borne + reasonable_borne)
        fund_amount = overrun - unreasonable_borne - reasonable_borne
        amounts = _split_by_tiers(-reasonable_borne, members, parameters) if members else {}
        if members and unreasonable_borne:
            weights = [member.unreasonable for member in members]
            for member, amount in zip(members, split_to_cent(-unreasonable_borne, weights), strict=True):
                amounts[member.institution_id] = amounts.get(member.institution_id, ZERO) + amount
    shares = [
        ShareOutcome(
            institution_id=member.institution_id,
            name=member.name,
            tier=member.tier,
            score=member.score,
            amount=amounts.get(member.institution_id, ZERO),
        )
        for member in members
    ]
    tier_totals = {tier: sum((s.amount for s in shares if s.tier == tier), ZERO) for tier in TIERS}
    return Outcome(
        parameters=parameters,
        pool=pool,
        spent=spent,
        result=result,
        consortium_amount=consortium_amount,
        fund_amount=fund_amount,
        unreasonable_borne=unreasonable_borne,
        tier_totals=tier_totals,
        shares=shares,
        charged=money(aggregates.charged),
        subsidies=money(aggregates.subsidies),
    )


def default_tier(category: str, member_role: str) -> str:
    """A member's settlement tier until an insurance officer records one (``MemberTier``).

    The lead → LEAD; village clinics (WS 218 D600) → VILLAGE; other primary
    institutions (B, C, D: community and township health centres, clinics) →
    TOWNSHIP; every other member — a county TCM hospital, a maternal and
    child health hospital, a CDC — is a county-level institution and shares
    the LEAD (county) tier: the seeds split only 牵头医院 : 乡镇 : 村, and a
    county hospital is not a township centre. The officer may choose
    otherwise per member.
    """
    if member_role == "lead":
        return SettlementTier.LEAD
    if category == InstitutionCategory.VILLAGE_CLINIC:
        return SettlementTier.VILLAGE
    if category.startswith(PRIMARY_CATEGORY_PREFIXES):
        return SettlementTier.TOWNSHIP
    return SettlementTier.LEAD


def projected_year_end(cumulative: Decimal, months_elapsed: int) -> Decimal:
    """Year-end spend at the run rate of the months so far (cumulative / months × 12)."""
    if months_elapsed <= 0:
        return ZERO
    return money(cumulative / months_elapsed * 12)
