"""The demo county consortium's insurance configuration: the global budget of the demo year and its rules.

The pool is sized from the county's insured headcount (the registry's
persons plus the catchment population, by scheme) at the per-capita fund
figures written in ``docs/guide/demo-data.md``: resident scheme ≈ 1 070 yuan
raised per head of which ≈ 75 % is pooled fund (800), employee scheme
3 000; 大病保险 (5 %) and 风险调剂金 (3 %) come off before the 95 % share.
With the encounter seeder's calibration the year ends with a surplus of a
few per cent. The budget and rules go through the insurance services with
the demo's insurance officer as actor when that account exists, else they
are written directly with an audit event (a bare database in a test).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count

from yilian.accounts.models import User
from yilian.core.audit import record_event
from yilian.core.exceptions import NotAllowed
from yilian.demo import content
from yilian.institutions.models import Consortium
from yilian.insurance.models import BudgetDeduction, BudgetHeadcount, GlobalBudget, SettlementRule
from yilian.people.choices import InsuranceScheme
from yilian.people.models import Person

PER_CAPITA_FUND: dict[str, Decimal] = {
    InsuranceScheme.RESIDENT: Decimal("800.00"),
    InsuranceScheme.EMPLOYEE: Decimal("3000.00"),
}
"""Pooled fund per insured person and year (resident: ≈ 70 % of the ≈ 1 070 yuan raised; employee: ≈ 3 000)."""

DEDUCTIONS: tuple[tuple[str, Decimal], ...] = (
    ("大病保险", Decimal("0.05")),
    ("风险调剂金", Decimal("0.03")),
)
"""Deductions before the share, as fractions of the gross fund."""

CONSORTIUM_SHARE = Decimal("0.95")
PREPAYMENT_RATE = Decimal("0.95")

RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "省定方案 6:3:1",
        "preset": "6:3:1",
        "lead_parts": 6,
        "township_parts": 3,
        "village_parts": 1,
        "surplus_retained": Decimal("1"),
        "overspend_borne": Decimal("0.5"),
        "is_adopted": True,
    },
    {
        "name": "原区方案 4:3:3",
        "preset": "4:3:3",
        "lead_parts": 4,
        "township_parts": 3,
        "village_parts": 3,
        "surplus_retained": Decimal("1"),
        "overspend_borne": Decimal("0.5"),
        "is_adopted": False,
    },
)
"""The seeds' two ratios: the province's 6 : 3 : 1 (adopted) and the district's former 4 : 3 : 3."""

Log = Callable[[str], None]


def insured_headcounts() -> dict[str, int]:
    """Persons living in the demo county per insurance scheme (resident and employee only)."""
    rows = (
        Person.objects.filter(
            address_region__code__startswith=content.COUNTY_CODE,
            insurance_scheme__in=list(PER_CAPITA_FUND),
        )
        .values("insurance_scheme")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["insurance_scheme"]: row["count"] for row in rows}


def budget_data(year: int, headcounts: dict[str, int]) -> dict[str, Any]:
    """The budget form's data for ``year``: headcounts × per-capita fund, deductions, share and switches."""
    gross = sum((headcounts.get(scheme, 0) * fund for scheme, fund in PER_CAPITA_FUND.items()), Decimal(0))
    return {
        "year": year,
        "consortium_share": CONSORTIUM_SHARE,
        "prepayment_rate": PREPAYMENT_RATE,
        "counts_members": True,
        "counts_in_county_others": True,
        "counts_out_of_county": True,
        "counts_pharmacies": False,
        "notes": "演示数据：参保人数取县内居民数；人均基金、扣除比例见 docs/guide/demo-data.md",
        "headcounts": [
            {"scheme": scheme, "insured_count": headcounts.get(scheme, 0), "per_capita_fund": fund}
            for scheme, fund in PER_CAPITA_FUND.items()
        ],
        "deductions": [
            {"name": name, "amount": (gross * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)}
            for name, share in DEDUCTIONS
        ],
    }


def seed_budget(*, consortium: Consortium, year: int, admin: User, log: Log) -> GlobalBudget:
    """Create the consortium's budget for ``year`` and its two settlement rules unless they exist.

    Idempotent: an existing budget of that year is left as it is (its rules
    are completed if missing). Side effects: rows and audit events.
    """
    budget = GlobalBudget.objects.filter(consortium=consortium, year=year).first()
    officer = User.objects.filter(
        username="insurance", memberships__role="insurance_officer", memberships__is_active=True
    ).first()
    if budget is None:
        data = budget_data(year, insured_headcounts())
        budget = _create_budget(consortium=consortium, data=data, officer=officer, admin=admin)
        log(f"医保总额预算 global budget {year}: created")
    existing = set(budget.rules.values_list("name", flat=True))
    for rule in RULES:
        if rule["name"] not in existing:
            _create_rule(budget=budget, data=rule, officer=officer, admin=admin)
    return budget


def _create_budget(
    *, consortium: Consortium, data: dict[str, Any], officer: User | None, admin: User
) -> GlobalBudget:
    if officer is not None:
        try:
            from yilian.insurance import services

            return services.budget_create(actor=officer, consortium=consortium, data=data)
        except (ImportError, AttributeError, NotAllowed):
            pass
    fields = {key: data[key] for key in data if key not in ("headcounts", "deductions")}
    budget = GlobalBudget.objects.create(consortium=consortium, created_by=officer or admin, **fields)
    BudgetHeadcount.objects.bulk_create(BudgetHeadcount(budget=budget, **row) for row in data["headcounts"])
    BudgetDeduction.objects.bulk_create(BudgetDeduction(budget=budget, **row) for row in data["deductions"])
    record_event(
        actor=officer or admin,
        action="budget.create",
        obj=budget,
        details={"source": "seed-demo", "year": data["year"]},
    )
    return budget


def _create_rule(*, budget: GlobalBudget, data: dict[str, Any], officer: User | None, admin: User) -> None:
    if officer is not None:
        try:
            from yilian.insurance import services

            services.settlement_rule_save(actor=officer, budget=budget, data=data)
            return
        except (ImportError, AttributeError, NotAllowed):
            pass
    fields = {key: value for key, value in data.items() if key != "preset"}
    rule = SettlementRule.objects.create(budget=budget, **fields)
    record_event(
        actor=officer or admin, action="settlement_rule.create", obj=rule, details={"source": "seed-demo"}
    )
