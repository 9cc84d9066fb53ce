"""The demo's year of encounters and claims: calibrated shares, reconciled amounts, determinism, idempotence."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, Q, Sum

from yilian.core.icd10 import parse_icd10
from yilian.demo import content
from yilian.demo.encounters import CLAIM_PREFIX, HIS_PREFIX, YEAR
from yilian.encounters.models import Encounter
from yilian.institutions.choices import InstitutionCategory
from yilian.insurance import selectors as insurance_selectors
from yilian.insurance.choices import ClaimKind, ProviderPlace
from yilian.insurance.models import Claim, GlobalBudget
from yilian.people.models import Person, PersonInstitutionLink

pytestmark = pytest.mark.django_db

POPULATION = "6000"
TINY = ("--persons", "10", "--village-limit", "2", "--referral-months", "0")

PRIMARY = (
    InstitutionCategory.CENTRAL_TOWNSHIP_HEALTH_CENTRE,
    InstitutionCategory.TOWNSHIP_HEALTH_CENTRE,
    InstitutionCategory.VILLAGE_CLINIC,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def seed(*extra: str, population: str = POPULATION) -> None:
    call_command("seed_demo", *TINY, "--encounter-population", population, *extra, stdout=io.StringIO())


def his_year():
    return Encounter.objects.filter(source_record_id__startswith=HIS_PREFIX, started_at__year=YEAR)


def fingerprint() -> tuple:
    """Counts and sums that must not change between identical runs."""
    encounters = his_year().aggregate(n=Count("id"), total=Sum("total_cost"), fund=Sum("fund_paid"))
    claims = Claim.objects.aggregate(n=Count("id"), total=Sum("total_cost"), fund=Sum("fund_paid"))
    kinds = tuple(his_year().values_list("kind").annotate(n=Count("id")).order_by("kind"))
    return (tuple(encounters.values()), tuple(claims.values()), kinds)


def test_shares_fall_in_the_calibrated_bands_and_amounts_reconcile():
    seed()
    catchment = Person.objects.filter(id_number_hash__isnull=True)
    assert catchment.count() == int(POPULATION)
    # The catchment is invisible to grids, coverage and clinicians: no grid, no links.
    assert not catchment.filter(home_grid__isnull=False).exists()
    assert not PersonInstitutionLink.objects.filter(person__in=catchment).exists()

    visits = his_year().exclude(kind="inpatient")
    residents = Person.objects.filter(address_region__code__startswith=content.COUNTY_CODE).count()
    assert 5.0 <= visits.count() / residents <= 6.0
    primary = visits.filter(institution__category__in=PRIMARY).count() / visits.count()
    assert 0.50 <= primary <= 0.60
    tcm = visits.filter(is_tcm=True).count() / visits.count()
    assert 0.10 <= tcm <= 0.20

    admissions = Claim.objects.filter(kind=ClaimKind.INPATIENT, settled_on__year=YEAR)
    in_county = admissions.exclude(provider_place=ProviderPlace.OUT_OF_COUNTY).count() / admissions.count()
    assert 0.85 <= in_county <= 0.90
    out = admissions.filter(provider_place=ProviderPlace.OUT_OF_COUNTY)
    assert not out.filter(provider_region__code__startswith=content.COUNTY_CODE).exists()
    assert set(out.values_list("provider_region__code", flat=True)) <= {
        content.JINAN_CODE,
        content.YUAN_CODE,
        "340100",
    }

    # Cost per stay: county hospital 6–8 k, township 2–3 k.
    lead = (
        his_year()
        .filter(kind="inpatient", institution__name="金寨县人民医院")
        .aggregate(cost=Sum("total_cost"), n=Count("id"))
    )
    assert Decimal(6000) <= lead["cost"] / lead["n"] <= Decimal(8000)
    township = (
        his_year()
        .filter(kind="inpatient", institution__category__in=PRIMARY[:2])
        .aggregate(cost=Sum("total_cost"), n=Count("id"))
    )
    assert Decimal(2000) <= township["cost"] / township["n"] <= Decimal(3000)
    assert his_year().filter(surgery_grade__isnull=False, institution__name="金寨县人民医院").exists()

    # Amounts reconcile row by row, every code is a valid ICD-10 code, claims stay in the year.
    # (Checked in Decimal: SQLite compares decimals as floats.)
    for model in (Encounter, Claim):
        rows = model.objects.values_list("total_cost", "fund_paid", "self_paid")
        assert all(total == fund + own for total, fund, own in rows.iterator())
    for code in his_year().values_list("diagnosis_code", flat=True).distinct():
        parse_icd10(code)
    year_claims = Claim.objects.filter(source_record_id__startswith=f"{CLAIM_PREFIX}{YEAR}")
    assert not year_claims.exclude(settled_on__year=YEAR).exists()
    assert set(year_claims.values_list("provider_place", flat=True)) == set(ProviderPlace.values)
    assert not year_claims.filter(
        Q(provider_place=ProviderPlace.MEMBER) & Q(provider_institution__isnull=True)
    ).exists()
    assert year_claims.filter(
        provider_place=ProviderPlace.IN_COUNTY, provider_institution__name="金寨同康医院"
    ).exists()


def test_budget_ends_with_a_modest_surplus_and_a_realistic_leak():
    seed()
    budget = GlobalBudget.objects.get(year=YEAR)
    assert budget.consortium_share == Decimal("0.95")
    assert set(budget.rules.values_list("name", "is_adopted")) == {
        ("省定方案 6:3:1", True),
        ("原区方案 4:3:3", False),
    }
    assert budget.deductions.count() == 2
    monthly = insurance_selectors.budget_monthly(budget)
    surplus = (monthly.pool - monthly.counted_total) / monthly.pool
    assert Decimal("0") < surplus < Decimal("0.15")
    assert Decimal("0.08") <= monthly.leak_share <= Decimal("0.17")
    # Winter peak: January costs more than June.
    assert monthly.months[0].counted > monthly.months[5].counted


def test_same_seed_gives_the_same_year_and_a_second_run_adds_nothing():
    seed(population="1500")
    first = fingerprint()
    persons = Person.objects.count()
    budgets = GlobalBudget.objects.count()
    seed(population="1500")
    assert fingerprint() == first
    assert Person.objects.count() == persons
    assert GlobalBudget.objects.count() == budgets
    # Regenerating from scratch with the same seed gives the same counts and sums.
    Claim.objects.all().delete()
    GlobalBudget.objects.all().delete()
    Encounter.objects.filter(source_record_id__startswith=HIS_PREFIX).delete()
    Person.objects.filter(id_number_hash__isnull=True, encounters__isnull=True).delete()
    seed(population="1500")
    assert fingerprint() == first
    assert (
        Encounter.objects.values("institution", "source_record_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1, source_record_id__gt="")
        .count()
        == 0
    )


def test_negative_population_is_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_demo", "--encounter-population", "-1", stdout=io.StringIO())
