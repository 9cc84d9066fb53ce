"""The shipped indicators computed by the engine on a small fixed data set, against values computed by hand.

The data set (``county``): 霍邱县 with two townships (城关镇 30 000 residents,
河口镇 20 000; the county's own figure 99 999 must never be added to them),
one consortium of the hospital H (lead, departments 内科 and 外科) and the
township health centre T (城关镇), and an outsider health centre O (河口镇)
in the county but in no consortium. Records fall in January–February 2025,
plus one stay in January 2024 for the year-on-year value.

Every expected number below is written literally with its arithmetic.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from yilian.encounters.importing import derive_service_volumes
from yilian.encounters.models import Encounter
from yilian.indicators import evaluation
from yilian.indicators.catalogue import CATALOGUES, install_catalogues
from yilian.indicators.models import DataValue, Indicator, IndicatorValue, UnitValue
from yilian.institutions.tests.factories import DepartmentFactory
from yilian.insurance.choices import ClaimKind, ProviderPlace
from yilian.insurance.tests.factories import ClaimFactory
from yilian.outreach.models import Posting
from yilian.people.tests.factories import person
from yilian.referrals.models import Referral

JAN = datetime.date(2025, 1, 1)
FEB = datetime.date(2025, 2, 1)
MAR = datetime.date(2025, 3, 1)
Q1 = JAN
YEAR = datetime.date(2025, 1, 1)
MONTHS = evaluation.months_between(datetime.date(2024, 1, 1), MAR)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


class County:
    """The fixed data set's ids."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.hospital = world.hospital
        self.township = world.township
        self.outsider = world.outsider
        self.consortium = world.consortium
        self.county = world.regions["county"]
        self.town_a = world.regions["town_a"]
        self.town_b = world.regions["town_b"]
        self.city = world.regions["city"]
        self.medicine = DepartmentFactory(institution=self.hospital, name="内科", specialty="03")
        self.surgery = DepartmentFactory(institution=self.hospital, name="外科", specialty="04")
        self.clinic = {
            institution.pk: DepartmentFactory(institution=institution, name="全科", specialty="02")
            for institution in (self.township, self.outsider)
        }
        self.patient = person("王五")
        self._serial = 0

    def encounter(
        self,
        institution: Any,
        kind: str,
        start: datetime.date,
        *,
        end: datetime.date | None = None,
        department: Any = None,
        cost: int = 0,
        tcm: bool = False,
    ) -> Encounter:
        return Encounter.objects.create(
            person=self.patient,
            institution=institution,
            department=department,
            kind=kind,
            started_at=at(start),
            ended_at=at(end, 15) if end else None,
            diagnosis_code="I10",
            diagnosis_name="高血压",
            is_tcm=tcm,
            total_cost=Decimal(cost),
        )

    def referral(
        self,
        direction: str,
        source: Any,
        target: Any,
        day: datetime.date | None,
        *,
        inside: bool,
        department: Any = None,
        status: str = "submitted",
    ) -> Referral:
        self._serial += 1
        return Referral.objects.create(
            number=f"ZZ{self._serial:08d}",
            status=status,
            direction=direction,
            kind="outpatient",
            person=self.patient,
            from_institution=source,
            from_department=department,
            to_institution=target,
            to_department=self.medicine if target == self.hospital else self.clinic[target.pk],
            inside_consortium=inside,
            consortium=self.consortium if inside else None,
            diagnosis_code="I10",
            diagnosis_name="高血压",
            reason="测试",
            submitted_at=at(day) if day else None,
        )

    def derive_volumes(self) -> None:
        """The monthly volumes an import derives from the encounters (the referral rates' denominators)."""
        months = {
            (institution_id, timezone.localtime(started).date().replace(day=1))
            for institution_id, started in Encounter.objects.values_list("institution_id", "started_at")
        } | {
            (institution_id, timezone.localtime(ended).date().replace(day=1))
            for institution_id, ended in Encounter.objects.filter(ended_at__isnull=False).values_list(
                "institution_id", "ended_at"
            )
        }
        derive_service_volumes(months)

    def posting(
        self, host: Any, start: datetime.date, title: str = "attending_physician", days: int = 365
    ) -> Posting:
        return Posting.objects.create(
            status="active",
            consortium=self.consortium,
            expert=self.world.hospital_doctor,
            home_institution=self.hospital,
            host_institution=host,
            title_at_posting=title,
            planned_start=start,
            planned_end=start + datetime.timedelta(days=days),
            actual_start=start,
        )


@pytest.fixture
def county(world: Any) -> County:
    c = County(world)
    H, T, OUT = c.hospital, c.township, c.outsider
    c.town_a.population, c.town_b.population, c.county.population = 30000, 20000, 99999
    for region in (c.town_a, c.town_b, c.county):
        region.save(update_fields=["population"])
    H.grade = "3"
    H.save(update_fields=["grade"])

    # January 2024: one stay, for the year-on-year value of the cost per stay.
    c.encounter(H, "inpatient", datetime.date(2024, 1, 5), end=datetime.date(2024, 1, 15), cost=4000)

    # H, January: 3 outpatient visits (1 TCM) and 1 emergency in 内科; 3 admissions in 内科,
    # two discharged in January (5 000 + 7 000), one discharged on 2 February (3 000).
    for tcm in (True, False, False):
        c.encounter(H, "outpatient", datetime.date(2025, 1, 6), department=c.medicine, tcm=tcm)
    c.encounter(H, "emergency", datetime.date(2025, 1, 7), department=c.medicine)
    c.encounter(
        H,
        "inpatient",
        datetime.date(2025, 1, 5),
        end=datetime.date(2025, 1, 10),
        department=c.medicine,
        cost=5000,
    )
    c.encounter(
        H,
        "inpatient",
        datetime.date(2025, 1, 8),
        end=datetime.date(2025, 1, 20),
        department=c.medicine,
        cost=7000,
    )
    c.encounter(
        H,
        "inpatient",
        datetime.date(2025, 1, 28),
        end=datetime.date(2025, 2, 2),
        department=c.medicine,
        cost=3000,
    )
    # H, February: 2 outpatient visits in 外科, 1 admission in 外科 discharged in February (9 000).
    for _ in range(2):
        c.encounter(H, "outpatient", datetime.date(2025, 2, 3), department=c.surgery)
    c.encounter(
        H,
        "inpatient",
        datetime.date(2025, 2, 3),
        end=datetime.date(2025, 2, 8),
        department=c.surgery,
        cost=9000,
    )
    # T, January: 4 outpatient visits (2 TCM). February: 3 outpatient visits, 1 stay (2 000).
    for tcm in (True, True, False, False):
        c.encounter(T, "outpatient", datetime.date(2025, 1, 9), tcm=tcm)
    for _ in range(3):
        c.encounter(T, "outpatient", datetime.date(2025, 2, 10))
    c.encounter(T, "inpatient", datetime.date(2025, 2, 10), end=datetime.date(2025, 2, 12), cost=2000)
    # O, January: 2 outpatient visits.
    for _ in range(2):
        c.encounter(OUT, "outpatient", datetime.date(2025, 1, 12))

    # Referrals. January: T→H up ×2 (inside), O→H up (outside), H 内科→T down (inside), and a draft
    # that never left T (not counted). February: H 外科→T down (inside), T→H up (inside).
    c.referral("up", T, H, datetime.date(2025, 1, 10), inside=True)
    c.referral("up", T, H, datetime.date(2025, 1, 10), inside=True)
    c.referral("up", OUT, H, datetime.date(2025, 1, 11), inside=False)
    c.referral("down", H, T, datetime.date(2025, 1, 12), inside=True, department=c.medicine)
    c.referral("up", T, H, None, inside=True, status="draft")
    c.referral("down", H, T, datetime.date(2025, 2, 15), inside=True, department=c.surgery)
    c.referral("up", T, H, datetime.date(2025, 2, 16), inside=True)

    # Claims of the county's insured. January: H stay (total 5 000, fund 3 500), T visit (150, 100),
    # O visit (in county, not a member: 100, 60), a stay out of county (20 000, 12 000), a pharmacy
    # purchase (80, 50). February: H stay (6 000, 4 000).
    def claim(kind: str, place: str, provider: Any, day: datetime.date, total: int, fund: int) -> None:
        ClaimFactory(
            kind=kind,
            provider_place=place,
            provider_institution=provider,
            provider_name=provider.name if provider else "六安市人民医院",
            provider_region=provider.region if provider else c.city,
            started_on=day,
            total_cost=Decimal(total),
            fund_paid=Decimal(fund),
        )

    claim(ClaimKind.INPATIENT, ProviderPlace.MEMBER, H, datetime.date(2025, 1, 20), 5000, 3500)
    claim(ClaimKind.OUTPATIENT, ProviderPlace.MEMBER, T, datetime.date(2025, 1, 9), 150, 100)
    claim(ClaimKind.OUTPATIENT, ProviderPlace.IN_COUNTY, OUT, datetime.date(2025, 1, 12), 100, 60)
    claim(ClaimKind.INPATIENT, ProviderPlace.OUT_OF_COUNTY, None, datetime.date(2025, 1, 22), 20000, 12000)
    claim(ClaimKind.PHARMACY, ProviderPlace.PHARMACY, None, datetime.date(2025, 1, 25), 80, 50)
    claim(ClaimKind.INPATIENT, ProviderPlace.MEMBER, H, datetime.date(2025, 2, 8), 6000, 4000)

    # Postings from H (grade 3) of an attending physician: to T from 15 January (in force at the end
    # of January, February, March), to O from 10 February (in force at the end of February, March).
    c.posting(T, datetime.date(2025, 1, 15))
    c.posting(OUT, datetime.date(2025, 2, 10))

    c.derive_volumes()
    install_catalogues()
    evaluation.refresh(MONTHS)
    return c


def cell(code: str, kind: str, unit_id: int, period_type: str, start: datetime.date) -> IndicatorValue | None:
    return IndicatorValue.objects.filter(
        indicator__code=code, unit_kind=kind, unit_id=unit_id, period_type=period_type, period_start=start
    ).first()


def value(code: str, kind: str, unit_id: int, period_type: str = "month", start: datetime.date = JAN) -> Any:
    found = cell(code, kind, unit_id, period_type, start)
    assert found is not None, f"no value of {code} for {kind}:{unit_id} {period_type} {start}"
    return None if found.value is None else found.value.quantize(Decimal("0.0001"))


def unit_value(
    item: str, kind: str, unit_id: int, period_type: str = "month", start: datetime.date = JAN
) -> Any:
    row = UnitValue.objects.filter(
        item=item, unit_kind=kind, unit_id=unit_id, period_type=period_type, period_start=start
    ).first()
    return None if row is None else row.value.quantize(Decimal("0.0001"))


def d(text: str) -> Decimal:
    return Decimal(text)


def test_encounter_indicators_for_an_institution_the_consortium_and_the_county(county: County) -> None:
    c = county
    H, T, C, K = c.hospital.pk, c.township.pk, c.consortium.pk, c.county.pk
    # Primary-care share of visits = primary visits ÷ visits × 100.
    assert value("ncm2024_07", "institution", T) == d("100.0000")  # 4 ÷ 4
    assert value("ncm2024_07", "institution", H) == d("0.0000")  # 0 ÷ 4: the hospital is not primary care
    assert value("ncm2024_07", "consortium", C) == d("50.0000")  # T 4 ÷ (H 4 + T 4)
    assert value("ncm2024_07", "region", K) == d("60.0000")  # (T 4 + O 2) ÷ (4 + 4 + 2)
    assert value("ncm2024_07", "consortium", C, "month", FEB) == d("60.0000")  # T 3 ÷ (H 2 + T 3)
    assert value("ncm2024_07", "consortium", C, "year", YEAR) == d("53.8462")  # 7 ÷ 13
    assert value("ncm2024_07", "region", K, "year", YEAR) == d("60.0000")  # 9 ÷ 15
    assert value("seed_primary_care_share", "region", K, "year", YEAR) == d("60.0000")  # same formula
    # TCM share = TCM visits ÷ visits × 100.
    assert value("ncm2024_12", "consortium", C) == d("37.5000")  # (H 1 + T 2) ÷ 8
    assert value("ncm2024_12", "region", K) == d("30.0000")  # 3 ÷ 10
    assert value("ncm2024_12", "consortium", C, "year", YEAR) == d("23.0769")  # 3 ÷ 13
    # Cost per stay = inpatient cost of discharges ÷ discharges (by discharge date).
    assert value("seed_cost_per_stay", "institution", H) == d("6000.0000")  # (5 000 + 7 000) ÷ 2
    assert value("seed_cost_per_stay", "institution", H, "month", FEB) == d(
        "6000.0000"
    )  # (3 000 + 9 000) ÷ 2
    assert value("seed_cost_per_stay", "consortium", C, "month", FEB) == d(
        "4666.6667"
    )  # (12 000 + T 2 000) ÷ 3
    assert value("seed_cost_per_stay", "consortium", C, "year", YEAR) == d("5200.0000")  # 26 000 ÷ 5
    assert value("seed_cost_per_stay", "region", K, "year", YEAR) == d("5200.0000")  # O has no stays
    # The same period a year before: January 2024, 4 000 ÷ 1.
    assert cell("seed_cost_per_stay", "institution", H, "month", JAN).previous_value == Decimal("4000")
    assert cell("seed_cost_per_stay", "institution", H, "year", YEAR).previous_value == Decimal("4000")
    assert cell("seed_cost_per_stay", "institution", H, "month", FEB).previous_value is None


def test_refreshing_the_year_before_updates_or_clears_the_previous_values_that_follow(county: County) -> None:
    c = county
    january_2024 = datetime.date(2024, 1, 1)
    stay = Encounter.objects.get(started_at__year=2024)
    Encounter.objects.filter(pk=stay.pk).update(total_cost=Decimal(5000))
    evaluation.refresh([january_2024], institution_ids=[c.hospital.pk])
    assert cell("seed_cost_per_stay", "institution", c.hospital.pk, "month", JAN).previous_value == Decimal(
        "5000"
    )
    incremental = _rows("indicator")
    evaluation.refresh(MONTHS)
    assert _rows("indicator") == incremental
    # Without the stay the cell of January 2024 is gone, and so is the value that pointed at it.
    stay.delete()
    evaluation.refresh([january_2024], institution_ids=[c.hospital.pk])
    assert cell("seed_cost_per_stay", "institution", c.hospital.pk, "month", JAN).previous_value is None
    assert cell("seed_cost_per_stay", "institution", c.hospital.pk, "year", YEAR).previous_value is None


def test_referral_indicators(county: County) -> None:
    c = county
    H, T, OUT, C, K = c.hospital.pk, c.township.pk, c.outsider.pk, c.consortium.pk, c.county.pk
    # Up-referral rate = up-referrals ÷ (visits + admissions) × 100; the draft is not counted.
    assert value("seed_up_referral_rate", "institution", T) == d("50.0000")  # 2 ÷ (4 + 0)
    assert value("seed_up_referral_rate", "institution", OUT) == d("50.0000")  # 1 ÷ (2 + 0)
    assert value("seed_up_referral_rate", "institution", H) == d("0.0000")  # 0 ÷ (4 + 3)
    assert value("seed_up_referral_rate", "consortium", C) == d("18.1818")  # 2 ÷ (8 + 3)
    assert value("seed_up_referral_rate", "region", K) == d("23.0769")  # 3 ÷ (10 + 3)
    assert value("seed_up_referral_rate", "consortium", C, "year", YEAR) == d("16.6667")  # 3 ÷ (13 + 5)
    # Down-referral rate of a department = its down-referrals ÷ its discharges × 100.
    assert value("seed_down_referral_rate", "department", c.medicine.pk) == d("50.0000")  # 1 ÷ 2
    assert value("seed_down_referral_rate", "department", c.medicine.pk, "month", FEB) == d("0.0000")  # 0 ÷ 1
    assert value("seed_down_referral_rate", "department", c.surgery.pk, "month", FEB) == d(
        "100.0000"
    )  # 1 ÷ 1
    assert value("seed_down_referral_rate", "department", c.medicine.pk, "year", YEAR) == d(
        "33.3333"
    )  # 1 ÷ 3
    assert value("seed_down_referral_rate", "institution", H) == d("50.0000")  # 1 ÷ 2
    # Departments' discharges only: T's stay has no department. 2 ÷ (内科 2 + 外科 1 + 内科 1 in Feb).
    assert value("seed_down_referral_rate", "consortium", C, "year", YEAR) == d("50.0000")
    # Two-way ratio = down ÷ up.
    assert value("seed_two_way_ratio", "consortium", C) == d("0.5000")  # 1 ÷ 2 (O is no member)
    assert value("seed_two_way_ratio", "region", K) == d("0.3333")  # 1 ÷ 3
    assert value("seed_two_way_ratio", "consortium", C, "year", YEAR) == d("0.6667")  # 2 ÷ 3
    # Inside share = referrals inside the consortium ÷ referrals issued × 100.
    assert value("seed_inside_share", "consortium", C) == d("100.0000")  # 3 ÷ 3
    assert value("seed_inside_share", "region", K) == d("75.0000")  # 3 ÷ 4
    assert value("seed_inside_share", "region", K, "year", YEAR) == d("83.3333")  # 5 ÷ 6
    # Department values exist only for indicators whose every item has departments.
    assert not IndicatorValue.objects.filter(indicator__code="ncm2024_08", unit_kind="department").exists()


def test_claim_indicators_are_regional(county: County) -> None:
    c = county
    C, K = c.consortium.pk, c.county.pk
    for kind, unit in (("region", K), ("consortium", C), ("region", c.city.pk)):
        # Fund in county (no pharmacy) ÷ fund without pharmacy: (3 500 + 100 + 60) ÷ (3 660 + 12 000).
        assert value("ncm2024_08", kind, unit) == d("23.3716")
        # Primary institutions in county ÷ fund in county: (100 + 60) ÷ 3 660.
        assert value("ncm2024_09", kind, unit) == d("4.3716")
        # In-county inpatient cost ÷ in-county admissions: 5 000 ÷ 1.
        assert value("ncm2024_10", kind, unit) == d("5000.0000")
        # In-county admissions ÷ admissions: 1 ÷ 2; out of county 1 ÷ 2.
        assert value("ncm2024_11", kind, unit) == d("50.0000")
        assert value("seed_out_of_region_admissions", kind, unit) == d("50.0000")
    # The year: in county 7 660 ÷ 19 660; cost (5 000 + 6 000) ÷ 2; admissions in county 2 ÷ 3.
    assert value("ncm2024_08", "region", K, "year", YEAR) == d("38.9624")
    assert value("ncm2024_09", "region", K, "year", YEAR) == d("2.0888")  # 160 ÷ 7 660
    assert value("ncm2024_10", "region", K, "year", YEAR) == d("5500.0000")
    assert value("ncm2024_11", "region", K, "year", YEAR) == d("66.6667")
    assert value("seed_out_of_region_admissions", "region", K, "year", YEAR) == d("33.3333")
    # Claims belong to the insured's region, never to an institution.
    assert not IndicatorValue.objects.filter(indicator__code="ncm2024_08", unit_kind="institution").exists()
    # The townships hold no claims (the insured region is the county).
    assert cell("ncm2024_08", "region", c.town_a.pk, "month", JAN) is None


def test_population_is_summed_from_townships_and_averaged_over_months(county: County) -> None:
    c = county
    assert unit_value("population", "region", c.town_a.pk) == d("30000.0000")
    assert unit_value("population", "region", c.county.pk) == d("50000.0000")  # 30 000 + 20 000, not 99 999
    assert unit_value("population", "region", c.city.pk) == d("50000.0000")
    assert unit_value("population", "consortium", c.consortium.pk) == d(
        "50000.0000"
    )  # the consortium's county
    assert unit_value("population", "region", c.county.pk, "year", YEAR) == d("50000.0000")  # an average
    assert unit_value("population", "institution", c.township.pk) is None
    # Senior physicians posted to primary care per 10 000 residents (annual; stocks averaged over months).
    # Consortium: the posting to T, in force at the end of January, February, March → 1 ÷ 50 000 × 10 000.
    assert value("ncm2024_04", "consortium", c.consortium.pk, "year", YEAR) == d("0.2000")
    # County: T (1, 1, 1) + O (0, 1, 1) → average 5/3 ÷ 50 000 × 10 000.
    assert value("ncm2024_04", "region", c.county.pk, "year", YEAR) == d("0.3333")
    # 城关镇: 1 ÷ 30 000 × 10 000. An institution has no population: no value.
    assert value("ncm2024_04", "region", c.town_a.pk, "year", YEAR) == d("0.3333")
    assert value("ncm2024_04", "institution", c.township.pk, "year", YEAR) is None
    # Annual indicators have no monthly values.
    assert cell("ncm2024_04", "region", c.county.pk, "month", JAN) is None


def test_the_postings_received_belong_to_the_receiving_member(county: County) -> None:
    c = county
    H, T, OUT, C, K = c.hospital.pk, c.township.pk, c.outsider.pk, c.consortium.pk, c.county.pk
    # H posts an attending physician to T from 15 January and to O from 10 February (see ``county``).
    # T received one, in force at the end of January, February and March; the sender H counts none.
    assert value("seed_postings_received", "institution", T) == d("1.0000")
    assert value("seed_postings_received", "institution", T, "month", FEB) == d("1.0000")
    assert value("seed_postings_received", "institution", T, "year", YEAR) == d("1.0000")
    assert not IndicatorValue.objects.filter(
        indicator__code="seed_postings_received", unit_kind="institution", unit_id=H, value__gt=0
    ).exists()
    # O: none at the end of January, one at the end of February and March → Q1 average 2/3.
    assert value("seed_postings_received", "institution", OUT, "month", FEB) == d("1.0000")
    assert value("seed_postings_received", "institution", OUT, "quarter", Q1) == d("0.6667")
    # The consortium (H, T) has T's one; the county T's and O's: 1 + 0, then 1 + 1 → Q1 (1 + 2 + 2) / 3.
    assert value("seed_postings_received", "consortium", C, "month", FEB) == d("1.0000")
    assert value("seed_postings_received", "region", K, "month", JAN) == d("1.0000")
    assert value("seed_postings_received", "region", K, "month", FEB) == d("2.0000")
    assert value("seed_postings_received", "region", K, "quarter", Q1) == d("1.6667")


def test_only_long_term_postings_count_as_posted(county: County) -> None:
    # 派驻 counts postings of at least 183 days (actual end, else planned end), as the outreach
    # report's indicator does: a 182-day posting is outreach, not a posting; a 183-day one counts.
    c = county
    T = c.township.pk
    c.posting(c.township, datetime.date(2025, 2, 1), days=181)  # 1 February – 1 August: 182 days
    evaluation.refresh(MONTHS)
    assert value("seed_postings_received", "institution", T, "month", FEB) == d("1.0000")
    c.posting(c.township, datetime.date(2025, 2, 1), days=182)  # 1 February – 2 August: 183 days
    evaluation.refresh(MONTHS)
    assert value("seed_postings_received", "institution", T, "month", FEB) == d("2.0000")
    assert value("seed_postings_received", "institution", T, "month", JAN) == d("1.0000")


def test_a_stock_averages_over_every_month_of_the_period_including_empty_ones(county: County) -> None:
    assert unit_value("outreach_postings", "institution", county.outsider.pk, "quarter", Q1) == d("0.6667")


def _rows(kind: str) -> list[tuple[Any, ...]]:
    if kind == "indicator":
        return sorted(
            IndicatorValue.objects.values_list(
                "indicator__code",
                "unit_kind",
                "unit_id",
                "period_type",
                "period_start",
                "numerator",
                "denominator",
                "value",
                "previous_value",
            )
        )
    if kind == "unit":
        return sorted(
            UnitValue.objects.values_list(
                "item", "unit_kind", "unit_id", "period_type", "period_start", "value"
            )
        )
    return sorted(
        DataValue.objects.values_list(
            "item", "month", "region_id", "institution_id", "department_id", "value"
        ),
        key=lambda row: tuple("" if v is None else str(v) for v in row),
    )


def _shipped_quantitative() -> list[Indicator]:
    codes = [spec["code"] for catalogue in CATALOGUES for spec in catalogue["indicators"]]
    return list(Indicator.objects.filter(code__in=codes, kind="quantitative"))


def test_every_shipped_quantitative_indicator_has_county_values(county: County) -> None:
    missing = [
        indicator.code
        for indicator in _shipped_quantitative()
        if not IndicatorValue.objects.filter(
            indicator=indicator, unit_kind="region", unit_id=county.county.pk
        ).exists()
    ]
    # Nothing in the data set feeds shared centres, recognitions, teleconsultations or techniques.
    assert sorted(missing) == [
        "ncm2024_05a",
        "ncm2024_05b",
        "ncm2024_13",
        "seed_duplicates_avoided_saving",
        "seed_outreach_visits",
        "seed_recognition_rate",
        "seed_reports_on_time",
        "seed_shared_centre_orders",
        "seed_techniques",
        "seed_tele_kept_local",
        "seed_teleconsultations",
    ]


def test_the_consortium_and_the_county_sum_their_members_numerators_and_denominators(county: County) -> None:
    c = county
    members = {c.hospital.pk, c.township.pk}
    everyone = members | {c.outsider.pk}
    checked = 0
    for indicator in _shipped_quantitative():
        for month in (JAN, FEB):
            parts = IndicatorValue.objects.filter(
                indicator=indicator, unit_kind="institution", period_type="month", period_start=month
            )
            if not parts.exists():
                continue
            for kind, unit, ids in (
                ("consortium", c.consortium.pk, members),
                ("region", c.county.pk, everyone),
            ):
                whole = cell(indicator.code, kind, unit, "month", month)
                chosen = [p for p in parts if p.unit_id in ids]
                if not chosen:
                    continue
                assert whole is not None, (indicator.code, kind, month)
                if indicator.code == "ncm2024_04":
                    continue  # the denominator is regional: checked in the population test
                assert whole.numerator == sum(p.numerator for p in chosen), (indicator.code, kind, month)
                if indicator.denominator:
                    assert whole.denominator == sum(p.denominator for p in chosen), (
                        indicator.code,
                        kind,
                        month,
                    )
                checked += 1
    assert checked >= 20


def test_the_year_sums_the_months_of_a_flow_and_averages_a_stock(county: County) -> None:
    c = county
    for item in ("encounters_visits", "encounters_discharges", "referrals_up", "claims_fund_paid"):
        for kind, unit in (("consortium", c.consortium.pk), ("region", c.county.pk)):
            months = UnitValue.objects.filter(
                item=item, unit_kind=kind, unit_id=unit, period_type="month", period_start__year=2025
            )
            assert (
                sum(m.value for m in months)
                == UnitValue.objects.get(
                    item=item, unit_kind=kind, unit_id=unit, period_type="year", period_start=YEAR
                ).value
            )
    # Postings in the county: 1 at the end of January, 2 at the end of February and March → 5/3.
    assert unit_value("outreach_postings", "region", c.county.pk, "month", JAN) == d("1.0000")
    assert unit_value("outreach_postings", "region", c.county.pk, "month", FEB) == d("2.0000")
    assert unit_value("outreach_postings", "region", c.county.pk, "quarter", Q1) == d("1.6667")
    assert unit_value("encounters_visits", "region", c.county.pk, "quarter", Q1) == d("15.0000")  # 10 + 5


def test_incremental_refresh_after_new_records_gives_the_tables_of_a_full_refresh(county: County) -> None:
    c = county
    # New records in February: a TCM visit at T and an up-referral from T to H (both ends are stale).
    c.encounter(c.township, "outpatient", datetime.date(2025, 2, 20), tcm=True)
    c.referral("up", c.township, c.hospital, datetime.date(2025, 2, 21), inside=True)
    c.derive_volumes()
    evaluation.refresh([FEB], institution_ids=[c.township.pk, c.hospital.pk])
    incremental = {kind: _rows(kind) for kind in ("data", "unit", "indicator")}
    # T February: 4 primary visits of 6 at members → 66.6667; up-referrals T 2 ÷ (4 + 1).
    assert value("ncm2024_07", "consortium", c.consortium.pk, "month", FEB) == d("66.6667")
    assert value("seed_up_referral_rate", "institution", c.township.pk, "month", FEB) == d("40.0000")
    evaluation.refresh(MONTHS)
    full = {kind: _rows(kind) for kind in ("data", "unit", "indicator")}
    for kind in full:
        assert incremental[kind] == full[kind], kind


def test_a_refresh_that_fails_midway_leaves_the_old_figures(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = county
    before = {kind: _rows(kind) for kind in ("data", "unit", "indicator")}
    c.encounter(c.township, "outpatient", datetime.date(2025, 1, 20))

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(evaluation, "compute_indicator_values", broken)
    with pytest.raises(RuntimeError):
        evaluation.refresh(MONTHS)
    after = {kind: _rows(kind) for kind in ("data", "unit", "indicator")}
    for kind in before:
        assert after[kind] == before[kind], kind
    assert value("ncm2024_07", "institution", c.township.pk) == d("100.0000")
