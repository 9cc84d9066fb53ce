"""Cost stories of down-referred patients: the worked example to the cent, the fallback, who sees what,
bad input, and query counts that do not grow with the number of stories."""

from __future__ import annotations

import datetime
import io
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from yilian.accounts.tests.factories import user_with_role
from yilian.core.api.testing import api_client
from yilian.core.permissions import Role
from yilian.encounters.choices import EncounterKind
from yilian.encounters.models import Encounter
from yilian.institutions.tests.factories import ConsortiumFactory, DepartmentFactory, HospitalFactory
from yilian.insurance import cost_stories
from yilian.people.tests.factories import person
from yilian.referrals.choices import ReferralDirection, ReferralStatus
from yilian.referrals.models import Referral

D = Decimal
_numbers = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 10) -> datetime.datetime:
    """An aware local (Asia/Shanghai) moment."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


def stay(
    who: Any,
    institution: Any,
    start: datetime.datetime,
    end: datetime.datetime | None,
    code: str,
    total: str,
    fund: str,
    own: str = "0",
) -> Encounter:
    """An inpatient stay with its costs."""
    return Encounter.objects.create(
        person=who,
        institution=institution,
        kind=EncounterKind.INPATIENT,
        started_at=start,
        ended_at=end,
        diagnosis_code=code,
        diagnosis_name="诊断",
        total_cost=D(total),
        fund_paid=D(fund),
        self_paid=D(own),
    )


def down_referral(
    world: Any, who: Any, department: Any, code: str, arrived: datetime.datetime, **extra: Any
) -> Referral:
    """A completed down-referral from the lead hospital to the township centre."""
    data: dict[str, Any] = {
        "number": f"ZZ{next(_numbers):08d}",
        "status": ReferralStatus.COMPLETED,
        "direction": ReferralDirection.DOWN,
        "kind": "admission",
        "consortium": world.consortium,
        "inside_consortium": True,
        "person": who,
        "from_institution": world.hospital,
        "to_institution": world.township,
        "to_department": department,
        "diagnosis_code": code,
        "diagnosis_name": "脑梗死" if code.startswith("I63") else "阑尾炎",
        "reason": "恢复期康复",
        "arrived_at": arrived,
        "completed_at": arrived + datetime.timedelta(days=20),
    }
    data.update(extra)
    return Referral.objects.create(**data)


class Story:
    """The worked example.

    Lead hospital, stays discharged March 2025 – February 2026 (the window of a March 2026 story):
    five I63 stays, 40 days, 48 000.00 yuan, fund 33 600.00 → 1 200.00 a day, fund share 0.7000;
    two J18 stays, 2 + 1 (same-day) days, 3 500.00 + 500.00, fund 1 800.00 + 300.00. Stays
    outside the window (discharged February 2025 and in March 2026) must not count.

    Patient A (I63.9), arrived at the township centre 10 March 2026 10:00; township stay admitted
    09:00 that day (an hour before: tolerated), discharged 24 March: 14 days, 4 200.00 (fund
    3 570.00, self 630.00). Counterfactual 14 × 1 200.00 = 16 800.00, fund × 0.7 = 11 760.00,
    self 5 040.00. Savings 12 600.00; fund 8 190.00; patient 4 410.00. A's lead stay before the
    referral: 20 February – 10 March, 30 000.00 (fund 21 000.00, self 9 000.00).

    Patient B (K35.8, no K35 stays at the lead): whole-hospital fallback, 43 days, 52 000.00, fund
    35 700.00 → 1 209.30 a day, share 0.6865; township stay 6–11 March, 5 days, 1 500.00 (fund
    1 200.00, self 300.00). Counterfactual 6 046.50, fund 4 150.92, self 1 895.58. Savings
    4 546.50; fund 2 950.92; patient 1 595.58.

    Patient C: arrived in May, no township stay: counted, no money.
    """

    def __init__(self, world: Any) -> None:
        self.world = world
        hospital, township = world.hospital, world.township
        self.ward = DepartmentFactory(institution=township, name="康复病区", specialty="21")
        others = [person(f"病人{n}") for n in range(8)]
        for n, (days, total, fund) in enumerate(
            [
                (10, "12000", "8400"),
                (8, "9600", "6720"),
                (12, "13200", "9240"),
                (6, "7800", "5460"),
                (4, "5400", "3780"),
            ]
        ):
            start = at(2025, 4 + n, 3)
            stay(others[n], hospital, start, start + datetime.timedelta(days=days), "I63.9", total, fund)
        stay(others[5], hospital, at(2025, 11, 1), at(2025, 11, 3), "J18.0", "3500", "1800")
        stay(others[6], hospital, at(2026, 1, 5, 8), at(2026, 1, 5, 18), "J18.9", "500", "300")
        # Outside the window: discharged before March 2025 and in March 2026 itself.
        stay(others[7], hospital, at(2025, 2, 1), at(2025, 2, 20), "I63.0", "99999", "99999")
        stay(others[7], hospital, at(2026, 3, 1), at(2026, 3, 15), "I63.0", "88888", "88888")
        # Not the lead hospital, and an outpatient visit: never in the rate.
        stay(others[7], township, at(2025, 6, 1), at(2025, 6, 9), "I63.0", "77777", "77777")
        Encounter.objects.create(
            person=others[7],
            institution=hospital,
            kind=EncounterKind.OUTPATIENT,
            started_at=at(2025, 7, 1),
            ended_at=at(2025, 7, 1, 11),
            diagnosis_code="I63.0",
            diagnosis_name="门诊",
            total_cost=D("66666"),
        )

        self.patient_a = person("张大山")
        source = stay(
            self.patient_a, hospital, at(2026, 2, 20), at(2026, 3, 10, 9), "I63.9", "30000", "21000", "9000"
        )
        self.a = down_referral(world, self.patient_a, self.ward, "I63.9", at(2026, 3, 10), encounter=source)
        stay(self.patient_a, township, at(2026, 3, 10, 9), at(2026, 3, 24), "I63.9", "4200", "3570", "630")

        self.patient_b = person("李小河")
        self.b = down_referral(world, self.patient_b, self.ward, "K35.8", at(2026, 3, 6, 8))
        stay(self.patient_b, township, at(2026, 3, 6, 9), at(2026, 3, 11, 9), "K35.8", "1500", "1200", "300")
        # A later stay of B's at the township is outside the 7-day window and must not be matched.
        stay(self.patient_b, township, at(2026, 3, 20), at(2026, 3, 30), "K35.8", "9999", "9999")

        self.patient_c = person("王五")
        self.c = down_referral(
            world, self.patient_c, self.ward, "I63.9", at(2026, 5, 2), completed_at=at(2026, 5, 9)
        )

        # Not stories: still open, an up-referral, another year.
        down_referral(
            world, person("赵六"), self.ward, "I63.9", at(2026, 3, 12), status=ReferralStatus.ARRIVED
        )
        down_referral(
            world,
            person("钱七"),
            DepartmentFactory(institution=hospital, name="神经内科"),
            "I63.9",
            at(2026, 3, 12),
            direction=ReferralDirection.UP,
            from_institution=township,
            to_institution=hospital,
        )
        down_referral(world, person("孙八"), self.ward, "I63.9", at(2025, 12, 31, 12))


@pytest.fixture
def story(world: Any) -> Story:
    """The worked example."""
    return Story(world)


def test_worked_example_to_the_cent(story: Story) -> None:
    report = cost_stories.cost_story_report(story.world.admin, story.world.consortium, 2026)
    assert [s.number for s in report.stories] == [story.c.number, story.a.number, story.b.number]
    a, b = report.stories[1], report.stories[2]

    assert a.basis == cost_stories.BASIS_STAY and not a.fallback
    assert (a.rate.category, a.rate.stays, a.rate.days) == ("I63", 5, 40)
    assert (a.rate.daily_cost, a.rate.fund_share) == (D("1200.00"), D("0.7000"))
    assert a.days == 14
    assert (a.counterfactual_total, a.counterfactual_fund, a.counterfactual_self) == (
        D("16800.00"),
        D("11760.00"),
        D("5040.00"),
    )
    assert (a.actual_total, a.actual_fund, a.actual_self) == (D("4200.00"), D("3570.00"), D("630.00"))
    assert (a.saving_total, a.saving_fund, a.saving_self) == (D("12600.00"), D("8190.00"), D("4410.00"))

    assert b.fallback and (b.rate.stays, b.rate.days) == (7, 43)
    assert (b.rate.daily_cost, b.rate.fund_share) == (D("1209.30"), D("0.6865"))
    assert b.days == 5
    assert (b.counterfactual_total, b.counterfactual_fund, b.counterfactual_self) == (
        D("6046.50"),
        D("4150.92"),
        D("1895.58"),
    )
    assert (b.saving_total, b.saving_fund, b.saving_self) == (D("4546.50"), D("2950.92"), D("1595.58"))

    c = report.stories[0]
    assert c.basis == cost_stories.BASIS_REFERRAL and not c.has_money and c.days == 7

    march, may = report.months[2], report.months[4]
    assert (march.count, march.with_money, march.fallback) == (2, 2, 1)
    assert march.counterfactual_total == D("22846.50") and march.actual_total == D("5700.00")
    assert (march.saving_total, march.saving_fund, march.saving_self) == (
        D("17146.50"),
        D("11140.92"),
        D("6005.58"),
    )
    assert (may.count, may.with_money, may.saving_total) == (1, 0, D("0.00"))
    assert sum(m.count for m in report.months) == report.total.count == 3
    assert report.total.saving_fund == D("11140.92")
    [township] = report.institutions
    assert township.label == story.world.township.name and township.saving_self == D("6005.58")


def test_detail_lays_out_the_whole_episode(story: Story) -> None:
    detail = cost_stories.cost_story_get(story.world.office, story.a.public_id)
    assert detail.source_stay is not None and detail.source_stay["days"] == 18
    assert detail.whole_counterfactual == {
        "total": D("46800.00"),
        "fund": D("32760.00"),
        "self": D("14040.00"),
    }
    assert detail.whole_actual == {"total": D("34200.00"), "fund": D("24570.00"), "self": D("9630.00")}
    assert detail.saving_fund == D("8190.00")
    assert detail.rate.fund_share_percent == D("70.00")


def test_open_primary_stay_has_no_money(story: Story) -> None:
    Encounter.objects.filter(person=story.patient_a, institution=story.world.township).update(ended_at=None)
    detail = cost_stories.cost_story_get(story.world.admin, story.a.public_id)
    assert detail.basis == cost_stories.BASIS_OPEN and detail.saving_total is None


def test_rate_counts_same_day_stay_as_one_day(world: Any) -> None:
    who = person("周九")
    for _ in range(5):
        stay(who, world.hospital, at(2025, 5, 1, 8), at(2025, 5, 1, 20), "N39.0", "300", "150")
    rates = cost_stories.LeadRates({world.hospital.pk}, datetime.date(2026, 1, 1), datetime.date(2026, 1, 1))
    rate = rates.rate("N39", datetime.date(2026, 1, 1))
    assert (rate.stays, rate.days, rate.daily_cost, rate.fallback) == (5, 5, D("300.00"), False)


def test_no_lead_stays_gives_no_money(world: Any) -> None:
    ward = DepartmentFactory(institution=world.township, name="康复病区")
    who = person("吴十")
    referral = down_referral(world, who, ward, "I63.9", at(2026, 3, 10))
    stay(who, world.township, at(2026, 3, 10), at(2026, 3, 12), "I63.9", "600", "500", "100")
    detail = cost_stories.cost_story_get(world.admin, referral.public_id)
    assert detail.fallback and detail.rate.daily_cost is None and not detail.has_money


# --- pages --------------------------------------------------------------------------------------------


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _list_url(story: Story, year: int = 2026) -> str:
    return f"{reverse('insurance:cost_stories')}?consortium={story.world.consortium.public_id}&year={year}"


VIEWERS = ["admin", "regulator", "office", "hospital_admin"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("regulator", 200),
        ("office", 200),
        ("hospital_admin", 200),
        ("township_admin", 403),
        ("hospital_doctor", 403),
        ("outsider_doctor", 403),
        ("stranger", 403),
        ("anonymous", 302),
    ],
)
def test_list_page_matrix(story: Story, who: str, status: int) -> None:
    response = _client(story.world.users()[who]).get(_list_url(story))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "张*" in body and "张大山" not in body
        assert "8190.00" in body and "17146.50" in body and "口径说明" in body


def test_consortium_insurance_officer_reads(story: Story) -> None:
    officer = user_with_role(Role.INSURANCE_OFFICER, username="ins", consortium=story.world.consortium)
    assert _client(officer).get(_list_url(story)).status_code == 200


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("regulator", 200),
        ("office", 200),
        ("hospital_admin", 200),
        ("township_admin", 404),
        ("hospital_doctor", 403),
        ("stranger", 403),
        ("anonymous", 302),
    ],
)
def test_detail_page_matrix(story: Story, who: str, status: int) -> None:
    url = reverse("insurance:cost_story_detail", args=[story.a.public_id])
    response = _client(story.world.users()[who]).get(url)
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "医保资金节省支出 8190.00 元" in body and "张*" in body and "张大山" not in body


def test_other_consortium_is_not_found(story: Story) -> None:
    other = ConsortiumFactory(
        name="别的医共体", region=story.world.regions["county"], lead=HospitalFactory(name="别院")
    )
    url = f"{reverse('insurance:cost_stories')}?consortium={other.public_id}&year=2026"
    assert _client(story.world.hospital_admin).get(url).status_code == 404
    # The regulator's county covers it.
    assert _client(story.world.regulator).get(url).status_code == 200


def test_bad_input(story: Story) -> None:
    client = _client(story.world.office)
    assert client.get(reverse("insurance:cost_story_detail", args=["nope"])).status_code == 404
    # Not a story: an open down-referral.
    open_one = Referral.objects.get(status=ReferralStatus.ARRIVED)
    assert client.get(reverse("insurance:cost_story_detail", args=[open_one.public_id])).status_code == 404
    bad_year = f"{reverse('insurance:cost_stories')}?consortium={story.world.consortium.public_id}&year=abc"
    response = client.get(bad_year)
    assert response.status_code == 200 and response.context["report"] is None
    assert client.get(f"{reverse('insurance:cost_stories')}?consortium=xyz").status_code == 404


def test_month_filter_lists_that_month_only(story: Story) -> None:
    response = _client(story.world.office).get(_list_url(story) + "&month=3")
    assert [s.number for s in response.context["page_obj"]] == [story.a.number, story.b.number]
    assert response.context["report"].total.count == 3
    body = (
        api_client(story.world.office)
        .get(f"/api/v1/cost-stories?consortium={story.world.consortium.public_id}&year=2026&month=5")
        .json()
    )
    assert body["count"] == 1 and body["results"][0]["number"] == story.c.number
    assert (
        api_client(story.world.office)
        .get(f"/api/v1/cost-stories?consortium={story.world.consortium.public_id}&year=2026&month=13")
        .status_code
        == 400
    )


def test_default_filter_and_empty_year(story: Story) -> None:
    response = _client(story.world.office).get(_list_url(story, 2019))
    assert response.status_code == 200 and response.context["report"].total.count == 0
    assert _client(story.world.office).get(reverse("insurance:cost_stories")).status_code == 200


def test_excel_export(story: Story) -> None:
    url = (
        reverse("insurance:cost_stories_export") + f"?consortium={story.world.consortium.public_id}&year=2026"
    )
    response = _client(story.world.office).get(url)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    monthly = workbook.worksheets[0]
    march = next(row for row in monthly.iter_rows(values_only=True) if row[0] == "2026-03")
    assert march[1] == 2 and march[-2] == pytest.approx(11140.92)
    names = [row[2] for row in workbook.worksheets[2].iter_rows(min_row=2, values_only=True)]
    assert "张**" in names and "张大山" not in names
    assert _client(story.world.township_admin).get(url).status_code == 403


def _more_stories(story: Story, count: int) -> None:
    for n in range(count):
        who = person(f"加{n}")
        down_referral(story.world, who, story.ward, "I63.9", at(2026, 6, 1 + n))
        stay(who, story.world.township, at(2026, 6, 1 + n), at(2026, 6, 5 + n), "I63.9", "800", "600", "200")


def _queries(call: Any) -> int:
    with CaptureQueriesContext(connection) as context:
        call()
    return len(context.captured_queries)


def test_list_page_queries_constant(story: Story, django_assert_max_num_queries: Any) -> None:
    client = _client(story.world.office)
    url = _list_url(story)
    before = _queries(lambda: client.get(url))
    # Session, user, scope, consortia, leads, stories, stays, lead rates (9 when written).
    assert before <= 10
    _more_stories(story, 6)
    with django_assert_max_num_queries(before):
        assert client.get(url).status_code == 200


# --- API ------------------------------------------------------------------------------------------------


def test_api_report(story: Story) -> None:
    url = f"/api/v1/cost-stories?consortium={story.world.consortium.public_id}&year=2026&page_size=2"
    response = api_client(story.world.office).get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert body["months"][2]["saving_fund"] == "11140.92"
    assert body["total"]["count"] == 3
    first = body["results"][1]
    assert first["patient"] == "张**"
    assert first["saving_self"] == "4410.00" and first["fallback"] is False


def test_api_detail(story: Story) -> None:
    response = api_client(story.world.hospital_admin).get(f"/api/v1/cost-stories/{story.b.public_id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rate"]["fallback"] is True and body["rate"]["daily_cost"] == "1209.30"
    assert body["saving_fund"] == "2950.92" and body["source_stay"] is None


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("regulator", 200),
        ("township_admin", 404),
        ("hospital_doctor", 403),
        ("stranger", 403),
        ("anonymous", 401),
    ],
)
def test_api_matrix(story: Story, who: str, status: int) -> None:
    url = f"/api/v1/cost-stories?consortium={story.world.consortium.public_id}&year=2026"
    assert api_client(story.world.users()[who]).get(url).status_code == status


def test_api_bad_input(story: Story) -> None:
    client = api_client(story.world.office)
    assert client.get("/api/v1/cost-stories?year=2026").status_code == 400
    assert (
        client.get(f"/api/v1/cost-stories?consortium={story.world.consortium.public_id}&year=x").status_code
        == 400
    )
    assert client.get("/api/v1/cost-stories/not-a-uuid").status_code == 404


def test_api_queries_constant(story: Story, django_assert_max_num_queries: Any) -> None:
    client = api_client(story.world.office)
    url = f"/api/v1/cost-stories?consortium={story.world.consortium.public_id}&year=2026"
    before = _queries(lambda: client.get(url))
    assert before <= 8  # 7 when written: token, user, scope, consortium, leads, stories, stays, rates
    _more_stories(story, 6)
    with django_assert_max_num_queries(before):
        assert client.get(url).status_code == 200


def test_detail_queries_bounded(story: Story, django_assert_max_num_queries: Any) -> None:
    page = _client(story.world.office)
    url = reverse("insurance:cost_story_detail", args=[story.a.public_id])
    with django_assert_max_num_queries(10):
        assert page.get(url).status_code == 200
    client = api_client(story.world.office)
    with django_assert_max_num_queries(8):
        assert client.get(f"/api/v1/cost-stories/{story.a.public_id}").status_code == 200
