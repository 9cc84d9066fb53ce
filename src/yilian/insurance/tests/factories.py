"""Factories for claims, global budgets and settlement rules (also used by the cost-story tests)."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

import factory

from yilian.institutions.tests.factories import region_tree
from yilian.insurance.choices import ClaimKind, ProviderPlace
from yilian.insurance.models import BudgetDeduction, BudgetHeadcount, Claim, GlobalBudget, SettlementRule
from yilian.people.tests.factories import person

_claim_numbers = itertools.count(1)


def _county() -> Any:
    return region_tree()["county"]


class ClaimFactory(factory.django.DjangoModelFactory):
    """A member-hospital outpatient claim of a 霍邱县 resident; pass ``provider_institution`` etc. to vary."""

    class Meta:
        model = Claim

    source_record_id = factory.LazyFunction(lambda: f"JS{next(_claim_numbers):010d}")
    person = factory.LazyFunction(lambda: person("李四"))
    scheme = "resident"
    insured_region = factory.LazyFunction(_county)
    kind = ClaimKind.OUTPATIENT
    provider_institution = None
    provider_name = factory.LazyAttribute(
        lambda o: o.provider_institution.name if o.provider_institution else "霍邱县人民医院"
    )
    provider_region = factory.LazyAttribute(
        lambda o: o.provider_institution.region if o.provider_institution else o.insured_region
    )
    provider_place = ProviderPlace.MEMBER
    started_on = datetime.date(2026, 3, 10)
    ended_on = factory.LazyAttribute(lambda o: o.started_on)
    settled_on = factory.LazyAttribute(lambda o: o.ended_on)
    total_cost = Decimal("1000.00")
    fund_paid = Decimal("700.00")
    self_paid = factory.LazyAttribute(lambda o: o.total_cost - o.fund_paid)


class GlobalBudgetFactory(factory.django.DjangoModelFactory):
    """A budget for 2026 with one headcount row (10 000 insured × 1 000 yuan) unless ``headcounts=False``."""

    class Meta:
        model = GlobalBudget
        skip_postgeneration_save = True

    consortium = None  # required: pass the consortium
    year = 2026
    consortium_share = Decimal("0.95")
    prepayment_rate = Decimal("0.95")

    @factory.post_generation
    def headcounts(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create or extracted is False:
            return
        for scheme, count, fund in extracted or [("resident", 10000, Decimal("1000.00"))]:
            BudgetHeadcount.objects.create(
                budget=self, scheme=scheme, insured_count=count, per_capita_fund=fund
            )

    @factory.post_generation
    def deductions(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create or not extracted:
            return
        for name, amount in extracted:
            BudgetDeduction.objects.create(budget=self, name=name, amount=amount)


class SettlementRuleFactory(factory.django.DjangoModelFactory):
    """The default rule: α = 1, γ = 0.5, 6 : 3 : 1."""

    class Meta:
        model = SettlementRule

    budget = None  # required: pass the budget
    name = factory.Sequence(lambda n: f"方案{n + 1}")
    surplus_retained = Decimal("1")
    overspend_borne = Decimal("0.5")
    lead_parts = 6
    township_parts = 3
    village_parts = 1


class InsuranceWorld:
    """The shared county plus a village clinic member, an insurance officer, a budget, a rule and claims.

    Claims (2026, fund paid): members 300 000 in March (hospital 200 000,
    township 80 000, village 20 000); 40 000 out of county (合肥) in April;
    10 000 at the outsider (in county) in April; 5 000 at a pharmacy.
    Pool = 10 000 × 1 000 × 0.95 = 9 500 000 (surplus).
    """

    def __init__(self, world: Any) -> None:
        from yilian.accounts.tests.factories import user_with_role
        from yilian.core.permissions import Role
        from yilian.institutions.tests.factories import ConsortiumMemberFactory, InstitutionFactory, region

        self.world = world
        county = world.regions["county"]
        self.village = InstitutionFactory(
            name="东湖村卫生室", region=world.regions["village_a1"], category="D600"
        )
        ConsortiumMemberFactory(consortium=world.consortium, institution=self.village)
        self.officer = user_with_role(Role.INSURANCE_OFFICER, username="insurance_officer", region=county)
        self.consortium_officer = user_with_role(
            Role.INSURANCE_OFFICER, username="consortium_insurance", consortium=world.consortium
        )
        self.budget = GlobalBudgetFactory(consortium=world.consortium)
        self.rule = SettlementRuleFactory(budget=self.budget, name="默认6:3:1", is_adopted=True)
        self.rule_433 = SettlementRuleFactory(
            budget=self.budget, name="4:3:3", lead_parts=4, township_parts=3, village_parts=3
        )
        self.patient = person("王五")
        hefei = region("340100", "合肥市", "prefecture", world.regions["province"])
        march = datetime.date(2026, 3, 15)
        april = datetime.date(2026, 4, 15)
        self.claims = [
            ClaimFactory(
                person=self.patient,
                provider_institution=world.hospital,
                fund_paid=Decimal("200000"),
                total_cost=Decimal("250000"),
                kind=ClaimKind.INPATIENT,
                started_on=march,
            ),
            ClaimFactory(
                person=self.patient,
                provider_institution=world.township,
                fund_paid=Decimal("80000"),
                total_cost=Decimal("100000"),
                started_on=march,
            ),
            ClaimFactory(
                person=self.patient,
                provider_institution=self.village,
                fund_paid=Decimal("20000"),
                total_cost=Decimal("25000"),
                started_on=march,
            ),
            ClaimFactory(
                person=self.patient,
                provider_name="安徽医科大学第一附属医院",
                provider_region=hefei,
                provider_place=ProviderPlace.OUT_OF_COUNTY,
                fund_paid=Decimal("40000"),
                total_cost=Decimal("60000"),
                kind=ClaimKind.INPATIENT,
                started_on=april,
            ),
            ClaimFactory(
                person=self.patient,
                provider_institution=world.outsider,
                provider_place=ProviderPlace.IN_COUNTY,
                fund_paid=Decimal("10000"),
                total_cost=Decimal("15000"),
                started_on=april,
            ),
            ClaimFactory(
                person=self.patient,
                provider_name="霍邱县百姓大药房",
                provider_place=ProviderPlace.PHARMACY,
                kind=ClaimKind.PHARMACY,
                fund_paid=Decimal("5000"),
                total_cost=Decimal("5000"),
                started_on=april,
            ),
        ]
