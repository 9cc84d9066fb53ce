"""The consortium cockpit and the regulator's view: who sees what, the figures, the map JSON, queries, Excel."""

from __future__ import annotations

import datetime
import html
import io
import json
import re
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from yilian.accounts.models import Membership
from yilian.accounts.tests.factories import user_with_role
from yilian.cockpit import caching, views
from yilian.core import generations
from yilian.core.permissions import Role
from yilian.indicators import services as indicator_services
from yilian.indicators.models import Indicator, IndicatorCatalogue, IndicatorValue, RankingPolicy
from yilian.indicators.selectors import FIGURES_GENERATION
from yilian.institutions import services as registry_services
from yilian.institutions.models import Region, RegionBoundary
from yilian.institutions.tests.factories import (
    ConsortiumFactory,
    ConsortiumMemberFactory,
    InstitutionFactory,
)

pytestmark = pytest.mark.django_db

YEAR = datetime.date(2025, 1, 1)
LEGEND = [
    {"from": "60", "to": None, "color": "green", "label": "达标"},
    {"from": "40", "to": "60", "color": "yellow", "label": "接近"},
    {"from": None, "to": "40", "color": "red", "label": "未达标"},
]


def square(lon: float, lat: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def indicator(code: str, order: int, **extra: Any) -> Indicator:
    catalogue = IndicatorCatalogue.objects.get_or_create(code="cockpit-test", defaults={"name": "测试"})[0]
    fields = {"name": f"指标{code}", "unit": "%", "decimals": 1, "legend": LEGEND, "target": Decimal(60)}
    fields.update(extra)
    return Indicator.objects.create(catalogue=catalogue, code=code, sort_order=order, **fields)


def value(
    ind: Indicator,
    kind: str,
    unit_id: int,
    number: str,
    *,
    start: datetime.date = YEAR,
    period_type: str = "year",
    previous: str | None = None,
) -> IndicatorValue:
    return IndicatorValue.objects.create(
        indicator=ind,
        unit_kind=kind,
        unit_id=unit_id,
        period_type=period_type,
        period_start=start,
        year=start.year,
        number=1 if period_type == "year" else start.month,
        numerator=Decimal(number),
        denominator=Decimal(100),
        value=Decimal(number),
        previous_value=None if previous is None else Decimal(previous),
    )


@pytest.fixture
def figures(world: Any) -> dict[str, Any]:
    """Two indicators with yearly figures for the consortium, both members and both townships, and monthly ones."""
    share = indicator("primary_share", 1)
    cost = indicator("cost_growth", 2, direction="lower", legend=[], target=None, unit="元")
    for ind, own, hospital, township, town_a, town_b in (
        (share, "65.04", "30", "70.5", "72", "35"),
        (cost, "5", "7", "3", "2", "9"),
    ):
        value(ind, "consortium", world.consortium.pk, own, previous="60")
        value(ind, "institution", world.hospital.pk, hospital)
        value(ind, "institution", world.township.pk, township)
        value(ind, "region", world.regions["town_a"].pk, town_a)
        value(ind, "region", world.regions["town_b"].pk, town_b)
    for month in range(1, 13):
        value(
            share,
            "consortium",
            world.consortium.pk,
            str(50 + month),
            start=datetime.date(2025, month, 1),
            period_type="month",
        )
    RegionBoundary.objects.create(region=Region.objects.get(code="341522100"), geometry=square(116.1, 32.3))
    RegionBoundary.objects.create(region=Region.objects.get(code="341522101"), geometry=square(116.2, 32.3))
    return {"share": share, "cost": cost}


def page_json(response: Any) -> dict[str, Any]:
    match = re.search(
        rb'<script id="cockpit-data" type="application/json">(.*?)</script>', response.content, re.S
    )
    assert match, "chart data missing"
    return json.loads(match.group(1))


def get(client: Any, user: Any, url: str, **params: Any) -> Any:
    if user is not None:
        client.force_login(user)
    return client.get(url, params)


# --- authorization ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("stranger", 403),
        ("outsider_doctor", 403),  # a role, but in no consortium
        ("township_admin", 200),
        ("hospital_admin", 200),
        ("hospital_doctor", 200),
        ("office", 200),
        ("regulator", 200),
        ("admin", 200),
    ],
)
def test_who_opens_the_cockpit(client: Any, world: Any, figures: Any, who: str, status: int) -> None:
    response = get(client, world.users()[who], "/cockpit/")
    assert response.status_code == status
    if status == 200:
        assert world.consortium.name in response.content.decode()


def test_another_consortiums_office_and_another_regions_regulator_get_nothing(
    client: Any, world: Any, figures: Any
) -> None:
    other = ConsortiumFactory(
        name="裕安区医共体",
        region=world.regions["district"],
        lead=InstitutionFactory(region=world.regions["district"]),
    )
    office = user_with_role(Role.CONSORTIUM_OFFICE, username="other_office", consortium=other)
    response = get(client, office, "/cockpit/", consortium=str(world.consortium.public_id))
    assert response.status_code == 404
    own = get(client, office, "/cockpit/")
    assert own.status_code == 200 and world.consortium.name not in own.content.decode()
    regulator = user_with_role(Role.REGULATOR, username="other_regulator", region=world.regions["district"])
    assert get(client, regulator, "/cockpit/", consortium=str(world.consortium.public_id)).status_code == 404
    assert get(client, regulator, "/cockpit/regulator/", region="341522").status_code == 404
    assert "霍邱" not in get(client, regulator, "/cockpit/regulator/").content.decode()


def test_a_member_sees_only_units_it_may(client: Any, world: Any, figures: Any) -> None:
    RankingPolicy.objects.create(
        consortium=world.consortium, members_see_ranking=True, members_see_others_values=False
    )
    assert (
        get(client, world.township_admin, "/cockpit/", unit=f"institution:{world.hospital.pk}").status_code
        == 404
    )
    response = get(client, world.township_admin, "/cockpit/", unit=f"institution:{world.township.pk}")
    assert response.status_code == 200
    assert "70.5" in response.content.decode()


def test_ranking_hidden_from_members_when_the_consortium_says_so(
    client: Any, world: Any, figures: Any
) -> None:
    RankingPolicy.objects.create(
        consortium=world.consortium, members_see_ranking=False, members_see_others_values=False
    )
    body = get(client, world.township_admin, "/cockpit/").content.decode()
    assert "本医联体未向成员单位公开排名" in body
    assert 'data-testid="cockpit-ranking"' not in body
    office = get(client, world.office, "/cockpit/").content.decode()
    assert 'data-testid="cockpit-ranking"' in office and "30.0" in office


def test_ranking_shown_with_others_values_hidden(client: Any, world: Any, figures: Any) -> None:
    RankingPolicy.objects.create(
        consortium=world.consortium, members_see_ranking=True, members_see_others_values=False
    )
    response = get(client, world.township_admin, "/cockpit/")
    view = response.context["view"]
    share = next(ranking for ranking in view.rankings if ranking.indicator.code == "primary_share")
    assert [(row.rank, row.name, row.value) for row in share.rows] == [
        (1, world.township.name, Decimal("70.5")),
        (2, world.hospital.name, None),
    ]
    assert "不公开" in response.content.decode()
    assert not any(
        row["value"] is not None for row in page_json(response)["map"]["rows"]
    )  # no region figures


# --- figures --------------------------------------------------------------------------------------------------


def test_cards_rankings_and_trend(client: Any, world: Any, figures: Any) -> None:
    response = get(client, world.office, "/cockpit/")
    view = response.context["view"]
    assert view.period.period_type == "year" and view.period.start == YEAR
    share, cost = view.cards
    assert (share.value, share.colour, share.change, share.improved) == (
        Decimal("65.0"),
        "green",
        Decimal("5.0"),
        True,
    )
    assert (cost.value, cost.change, cost.improved) == (
        Decimal("5.0"),
        Decimal("-55.0"),
        True,
    )  # lower is better
    cost_ranking = next(ranking for ranking in view.rankings if ranking.indicator.code == "cost_growth")
    assert [row.name for row in cost_ranking.rows] == [world.township.name, world.hospital.name]
    trend = page_json(response)["trend"]
    assert trend["months"][0] == "2025-01" and trend["months"][-1] == "2025-12"
    assert trend["series"][0]["values"] == [float(50 + month) for month in range(1, 13)]
    assert trend["series"][1]["values"] == [None] * 12


def test_the_map_json_matches_the_values(client: Any, world: Any, figures: Any) -> None:
    data = page_json(get(client, world.office, "/cockpit/", map="primary_share"))["map"]
    assert [feature["properties"]["code"] for feature in data["geojson"]["features"]] == [
        "341522100",
        "341522101",
    ]
    assert data["geojson"]["features"][0]["geometry"] == square(116.1, 32.3)
    assert [(row["name"], row["value"], row["colour"]) for row in data["rows"]] == [
        ("城关镇", 72.0, "green"),
        ("河口镇", 35.0, "red"),
    ]
    assert (data["min"], data["max"]) == (35.0, 72.0)
    other = page_json(get(client, world.office, "/cockpit/", map="cost_growth"))["map"]
    assert [row["value"] for row in other["rows"]] == [2.0, 9.0] and other["higher_is_better"] is False


def test_choosing_a_period_and_a_month(client: Any, world: Any, figures: Any) -> None:
    view = get(client, world.office, "/cockpit/", period_type="month", period="2025-03-01").context["view"]
    assert view.period.label == "2025-03"
    assert view.cards[0].value == Decimal("53.0")
    assert len(view.periods) == 12
    fallback = get(client, world.office, "/cockpit/", period_type="quarter", period="garbage").context["view"]
    assert fallback.period.period_type == "year"


def test_empty_state_links_assessors_to_a_refresh(client: Any, world: Any) -> None:
    indicator("primary_share", 1)
    office = get(client, world.office, "/cockpit/").content.decode()
    assert 'data-testid="cockpit-empty"' in office
    member = get(client, world.township_admin, "/cockpit/").content.decode()
    assert 'data-testid="cockpit-empty"' in member and 'data-testid="cockpit-refresh"' not in member


def count_queries(client: Any, url: str = "/cockpit/", **params: Any) -> tuple[int, bool]:
    """Queries of one request, and whether its content came from the figures cache."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
        assert response.status_code == 200
    return len(queries), response.context["view"].from_cache


def test_query_count_does_not_grow_with_members_indicators_or_townships(
    client: Any, world: Any, figures: Any
) -> None:
    client.force_login(world.office)
    client.get("/cockpit/")  # the session; the content and the body are now in the figures cache

    warm, from_cache = count_queries(client)
    assert from_cache
    generations.bump(FIGURES_GENERATION)  # what every refresh does
    cold, from_cache = count_queries(client)
    assert not from_cache
    for number in range(4):
        member = InstitutionFactory(region=world.regions["town_b"])
        ConsortiumMemberFactory(consortium=world.consortium, institution=member)
        extra = indicator(f"extra_{number}", 10 + number)
        value(extra, "institution", member.pk, "50")
        value(extra, "consortium", world.consortium.pk, "50")
    assert count_queries(client) == (cold, False)  # new members: a new reach, so new content
    assert count_queries(client) == (warm, True)
    # session, user, scope, visible units (members, the area's prefix: the area's hundreds of regions are
    # not read to sign the reach), consortia, generation, content, body, the notification badge
    assert warm == 10
    # and on a new generation: members, indicators, periods, cards, trend, ranking, the regions the office
    # sees, map regions, map values, then storing the content and the body (the database cache's count,
    # savepoint, lookup, insert, release)
    assert cold == warm + 9 + 2 * 5


def test_the_excel_export_holds_every_table(client: Any, world: Any, figures: Any) -> None:
    response = get(client, world.office, "/cockpit/export.xlsx", map="primary_share")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["关键指标", "趋势", "成员排名", "地图"]
    cards = list(book["关键指标"].iter_rows(values_only=True))
    assert ("primary_share", "指标primary_share", "%", 65.0, 60, "绿", 60, 5) in cards
    ranking = list(book["成员排名"].iter_rows(values_only=True))
    assert ("指标primary_share", 1, world.township.name, 70.5, "绿") in ranking
    assert ("341522101", "河口镇", 35, "红") in list(book["地图"].iter_rows(values_only=True))
    assert get(client, world.stranger, "/cockpit/export.xlsx").status_code == 403


# --- the regulator's view -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("stranger", 403),
        ("office", 403),
        ("hospital_admin", 403),
        ("regulator", 200),
        ("admin", 200),
    ],
)
def test_who_opens_the_regulator_view(client: Any, world: Any, figures: Any, who: str, status: int) -> None:
    assert get(client, world.users()[who], "/cockpit/regulator/").status_code == status


def test_the_regulator_view_compares_consortia_and_maps_the_townships(
    client: Any, world: Any, figures: Any
) -> None:
    second = ConsortiumFactory(
        name="霍邱县中医院医共体",
        region=world.regions["county"],
        lead=InstitutionFactory(region=world.regions["county"]),
    )
    value(figures["share"], "consortium", second.pk, "45")
    client.force_login(world.regulator)
    client.get("/cockpit/regulator/")
    params = {"region": "341522", "indicator": "primary_share"}
    cold, from_cache = count_queries(
        client, "/cockpit/regulator/", **params
    )  # these filters: computed, stored
    assert not from_cache and cold <= 30
    warm, from_cache = count_queries(client, "/cockpit/regulator/", **params)
    # session, user, scope, regions, visible units (the region's consortia; its regions are signed by
    # their prefix, not read), consortia, generation, content, body, notifications
    assert from_cache and warm == 10
    response = client.get("/cockpit/regulator/", params)
    view = response.context["view"]
    assert [(row.consortium.name, row.cards[0].value) for row in view.rows] == [
        (second.name, Decimal("45.0")),
        (world.consortium.name, Decimal("65.0")),
    ]
    data = page_json(response)
    assert data["bar"]["values"] == [45.0, 65.0] and data["bar"]["colours"] == ["yellow", "green"]
    assert [row["value"] for row in data["map"]["rows"]] == [72.0, 35.0]
    export = client.get("/cockpit/regulator/export.xlsx", {"region": "341522"})
    rows = list(load_workbook(io.BytesIO(export.content))["医联体对比"].iter_rows(values_only=True))
    assert (world.consortium.name, 65, 5) in rows


def test_a_long_ranking_shows_its_head_tail_and_the_actors_own_row() -> None:
    from yilian.cockpit.selectors import Ranking, RankRow

    rows = [
        RankRow(rank=n, unit_id=n, name=str(n), value=Decimal(n), colour="", own=n == 16)
        for n in range(1, 31)
    ]
    shown = Ranking(indicator=Indicator(code="x"), rows=rows).display_rows
    assert [row.rank if row else None for row in shown] == [*range(1, 11), None, 16, None, *range(26, 31)]
    assert len(Ranking(indicator=Indicator(code="x"), rows=rows[:20]).display_rows) == 20


def test_key_indicators_come_from_the_shipped_headline_codes_or_the_setting(
    client: Any, world: Any, figures: Any, settings: Any
) -> None:
    headline = indicator("ncm2024_07", 50)
    value(headline, "consortium", world.consortium.pk, "61")
    view = get(client, world.office, "/cockpit/").context["view"]
    assert [card.indicator.code for card in view.cards] == ["ncm2024_07"]
    settings.COCKPIT_KEY_INDICATORS = ["cost_growth", "primary_share"]
    view = get(client, world.office, "/cockpit/").context["view"]
    assert [card.indicator.code for card in view.cards] == ["cost_growth", "primary_share"]


def test_the_default_period_is_the_latest_complete_one() -> None:
    from django.utils import timezone

    from yilian.cockpit.selectors import _choose_period

    year = timezone.localdate().year
    running, last = datetime.date(year, 1, 1), datetime.date(year - 1, 1, 1)
    available = [("year", running), ("year", last), ("month", datetime.date(year - 1, 12, 1))]
    assert _choose_period(available, "", "").start == last  # this year is still running
    assert _choose_period(available, "year", running.isoformat()).start == running  # unless asked for
    assert _choose_period([("year", running)], "", "").start == running  # or nothing else has figures
    assert _choose_period(available, "month", "").start == datetime.date(year - 1, 12, 1)


# --- the figures cache ----------------------------------------------------------------------------------------


def test_readers_with_different_reach_never_share_an_entry(client: Any, world: Any, figures: Any) -> None:
    RankingPolicy.objects.create(
        consortium=world.consortium, members_see_ranking=True, members_see_others_values=False
    )
    office = get(client, world.office, "/cockpit/").context["view"]
    assert get(client, world.office, "/cockpit/", unit=f"institution:{world.hospital.pk}").status_code == 200
    response = get(client, world.township_admin, "/cockpit/")
    member = response.context["view"]
    assert member.cache_key != office.cache_key and member.page_key != office.page_key
    assert not member.from_cache  # computed for the member's own reach, not taken from the office's entry
    share = next(ranking for ranking in member.rankings if ranking.indicator.code == "primary_share")
    assert [(row.name, row.value) for row in share.rows] == [
        (world.township.name, Decimal("70.5")),
        (world.hospital.name, None),
    ]
    assert "不公开" in response.content.decode()
    # The office's entry for the hospital as a unit exists; the member still may not open it.
    assert (
        get(client, world.township_admin, "/cockpit/", unit=f"institution:{world.hospital.pk}").status_code
        == 404
    )
    # Readers who see the same units share one entry: the hospital's administrator and its doctor.
    first = get(client, world.hospital_admin, "/cockpit/").context["view"]
    second = get(client, world.hospital_doctor, "/cockpit/").context["view"]
    assert (second.cache_key, second.page_key) == (first.cache_key, first.page_key)
    assert not first.from_cache and second.from_cache


def test_a_warm_cache_opens_nothing_out_of_reach(client: Any, world: Any, figures: Any) -> None:
    consortium = str(world.consortium.public_id)
    assert get(client, world.office, "/cockpit/", consortium=consortium).status_code == 200
    other = ConsortiumFactory(
        name="裕安区医共体",
        region=world.regions["district"],
        lead=InstitutionFactory(region=world.regions["district"]),
    )
    other_office = user_with_role(Role.CONSORTIUM_OFFICE, username="other_office", consortium=other)
    assert get(client, other_office, "/cockpit/", consortium=consortium).status_code == 404
    assert get(client, world.outsider_doctor, "/cockpit/", consortium=consortium).status_code == 403
    # The office's own role ends: its entries are still there, its page is not.
    Membership.objects.filter(user=world.office).update(is_active=False)
    assert get(client, world.office, "/cockpit/", consortium=consortium).status_code == 403


def test_the_cached_body_holds_nothing_of_the_user(client: Any, world: Any, figures: Any) -> None:
    response = get(client, world.township_admin, "/cockpit/")
    key = views.body_key(response.context["view"].page_key, "cockpit/cockpit_body.html")
    body = caching.figures_cache().get(key)
    assert world.township.name in body and 'data-testid="cockpit-cards"' in body
    page = response.content.decode()
    assert world.township_admin.full_name in page and "csrfmiddlewaretoken" in page  # the shell has both
    assert world.township_admin.full_name not in body and "csrfmiddlewaretoken" not in body


def test_edits_of_indicators_and_of_the_registry_reach_a_warm_page(
    client: Any, world: Any, figures: Any
) -> None:
    assert get(client, world.office, "/cockpit/").context["view"].from_cache is False
    assert get(client, world.office, "/cockpit/").context["view"].from_cache is True
    indicator_services.indicator_update(
        actor=world.regulator, indicator=figures["share"], name="基层诊疗占比"
    )
    response = get(client, world.office, "/cockpit/")
    assert not response.context["view"].from_cache and "基层诊疗占比" in response.content.decode()
    registry_services.institution_update(
        actor=world.admin, institution=world.township, name="霍邱县城关镇中心卫生院"
    )
    response = get(client, world.office, "/cockpit/")
    assert not response.context["view"].from_cache and "霍邱县城关镇中心卫生院" in response.content.decode()


def test_the_page_works_while_its_cache_is_down(
    client: Any, world: Any, figures: Any, monkeypatch: Any
) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache unreachable")

    cache = caching.figures_cache()
    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    response = get(client, world.office, "/cockpit/")
    assert response.status_code == 200 and "65.0" in response.content.decode()
    assert not response.context["view"].from_cache


def test_garbage_filters_make_no_entries_of_their_own(client: Any, world: Any, figures: Any) -> None:
    plain = get(client, world.office, "/cockpit/").context["view"]
    garbage = get(client, world.office, "/cockpit/", period_type="decade", period="soon").context["view"]
    assert garbage.cache_key == plain.cache_key and garbage.from_cache
    chosen = get(client, world.office, "/cockpit/", period_type="year", period="2025-01-01").context["view"]
    assert chosen.cache_key != plain.cache_key and chosen.period == plain.period


def test_a_release_that_changes_the_body_template_renders_it_afresh(
    client: Any, world: Any, figures: Any, monkeypatch: Any
) -> None:
    """The figures did not change, so no generation replaces the cached bodies: the template's own digest
    in the key keeps a deployment from serving the markup of the release before it."""
    page_key = get(client, world.office, "/cockpit/").context["view"].page_key
    before = views.body_key(page_key, "cockpit/cockpit_body.html")
    assert caching.figures_cache().get(before)
    views._template_digest.cache_clear()
    real = views.get_template

    def edited(name: str) -> Any:
        source = real(name).template.source + "<!-- edited -->"
        return SimpleNamespace(template=SimpleNamespace(source=source))

    monkeypatch.setattr(views, "get_template", edited)
    try:
        after = views.body_key(page_key, "cockpit/cockpit_body.html")
        assert after != before and caching.figures_cache().get(after) is None
        get(client, world.office, "/cockpit/")
        assert caching.figures_cache().get(after)
    finally:
        views._template_digest.cache_clear()


# --- the period filter, the map's colours and legend, the trend's axis, the drill-down links ---------------


def test_a_period_of_another_type_is_no_choice_the_type_opens_on_its_latest(
    client: Any, world: Any, figures: Any
) -> None:
    # The form's period list was the years' (period_for=year) when the type became "month": the year 2025's
    # start is then no choice of January 2025, the months open on their latest complete month.
    view = get(
        client, world.office, "/cockpit/", period_type="month", period="2025-01-01", period_for="year"
    ).context["view"]
    assert view.period.label == "2025-12"
    # a month chosen from the months' own list is kept, and links without period_for still work
    assert (
        get(client, world.office, "/cockpit/", period_type="month", period="2025-03-01", period_for="month")
        .context["view"]
        .period.label
        == "2025-03"
    )
    assert get(client, world.office, "/cockpit/", period_type="month", period="2025-03-01").context[
        "view"
    ].period.label == ("2025-03")


def test_the_period_list_of_every_type_is_in_the_page(client: Any, world: Any, figures: Any) -> None:
    response = get(client, world.office, "/cockpit/")
    periods = page_json(response)["periods"]
    assert set(periods) == {"year", "month"}
    assert periods["year"] == {"default": "2025-01-01", "options": [["2025-01-01", "2025"]]}
    assert periods["month"]["default"] == "2025-12-01"
    assert (
        periods["month"]["options"][0] == ["2025-12-01", "2025-12"] and len(periods["month"]["options"]) == 12
    )
    assert '<input type="hidden" name="period_for" value="year">' in response.content.decode()
    regulator = get(client, world.regulator, "/cockpit/regulator/")
    assert set(page_json(regulator)["periods"]) == {"year", "month"}


def test_the_map_colours_each_region_by_the_tiles_rule_and_shows_a_translated_legend(
    client: Any, world: Any, figures: Any
) -> None:
    # 60 is where the green band starts and the yellow one ends: the first band listed holds it, on the
    # tile, in the ranking and on the map alike (the map no longer decides colours in the browser).
    IndicatorValue.objects.filter(indicator=figures["share"], unit_kind="region").update(value=Decimal(60))
    IndicatorValue.objects.filter(
        indicator=figures["share"], unit_kind="consortium", period_type="year"
    ).update(value=Decimal(60))
    generations.bump(FIGURES_GENERATION)
    response = get(client, world.office, "/cockpit/", map="primary_share")
    card = response.context["view"].cards[0]
    data = page_json(response)["map"]
    assert card.colour == "green"
    assert [(row["colour"], row["band"]) for row in data["rows"]] == [("green", "达标"), ("green", "达标")]
    assert 'data-testid="cockpit-map-legend"' in response.content.decode()
    english = client.get("/cockpit/", {"map": "primary_share"}, HTTP_ACCEPT_LANGUAGE="en")
    legend = page_json(english)["map"]["legend"]
    assert [band["label"] for band in legend] == ["Met", "Near", "Not met"]
    assert [band["bounds"] for band in legend] == ["≥ 60", "40–60", "≤ 40"]
    assert [row["band"] for row in page_json(english)["map"]["rows"]] == ["Met", "Met"]
    body = english.content.decode()
    assert "Not met" in body and "未达标" not in body


def test_a_share_in_percent_is_drawn_on_a_0_to_100_axis(client: Any, world: Any, figures: Any) -> None:
    series = page_json(get(client, world.office, "/cockpit/"))["trend"]["series"]
    share, cost = series
    assert (share["y_min"], share["y_max"]) == (0.0, 100.0)
    assert (cost["y_min"], cost["y_max"]) == (None, None)  # 元: scaled to its values
    IndicatorValue.objects.filter(
        indicator=figures["share"], period_type="month", period_start=datetime.date(2025, 6, 1)
    ).update(value=Decimal(140))
    generations.bump(FIGURES_GENERATION)
    share = page_json(get(client, world.office, "/cockpit/"))["trend"]["series"][0]
    assert (share["y_min"], share["y_max"]) == (None, None)  # a "%" above 100 (a growth): no fixed axis


def _links(body: str, testid: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(rf'<a href="([^"]+)" data-testid="{testid}"', body)]


def test_tiles_and_ranking_rows_link_to_the_figures_the_reader_may_open(
    client: Any, world: Any, figures: Any
) -> None:
    response = get(client, world.office, "/cockpit/")
    body = response.content.decode()
    parts = _links(body, "cockpit-card-parts")
    assert len(parts) == 2
    assert f"unit_kind=consortium&unit={world.consortium.public_id}" in parts[0]
    assert (
        f"indicator={figures['share'].public_id}" in parts[0]
        and "period_type=year&period=2025-01-01" in parts[0]
    )
    rows = _links(body, "cockpit-ranking-drill")
    assert len(rows) == 4  # two members in two rankings
    for url in parts + _links(body, "cockpit-card-figures") + rows:
        assert client.get(url).status_code == 200, url
    # a member that may not see the other members' values gets a link to its own row only
    RankingPolicy.objects.create(
        consortium=world.consortium, members_see_ranking=True, members_see_others_values=False
    )
    member = get(client, world.township_admin, "/cockpit/").content.decode()
    rows = _links(member, "cockpit-ranking-drill")
    assert rows and all(f"unit={world.township.public_id}" in url for url in rows)
    for url in rows + _links(member, "cockpit-card-parts"):
        assert client.get(url).status_code == 200, url
    # the hospital's row has no link: its parts page would answer 404 to this member
    hospital = [url for url in _links(body, "cockpit-ranking-drill") if str(world.hospital.public_id) in url]
    assert hospital and str(world.hospital.public_id) not in "".join(rows)
    assert client.get(hospital[0]).status_code == 404


def test_english_readers_see_english_indicator_names_and_a_warm_cache_keeps_languages_apart(
    client: Any, world: Any, figures: Any
) -> None:
    # "cost_growth" has no English name, as an indicator an office typed in may not: it stays Chinese.
    Indicator.objects.filter(pk=figures["share"].pk).update(name_en="Primary share")
    generations.bump(FIGURES_GENERATION)
    client.force_login(world.office)
    for _round in range(2):  # the second round is served from the cache
        chinese = client.get("/cockpit/", {"map": "primary_share"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        english = client.get("/cockpit/", {"map": "primary_share"}, HTTP_ACCEPT_LANGUAGE="en")
        assert "指标primary_share" in chinese.content.decode()
        assert "Primary share" not in chinese.content.decode()
        body = english.content.decode()
        assert "Primary share" in body and "指标primary_share" not in body
        assert "指标cost_growth" in body
        data = page_json(english)
        assert data["map"]["indicator"]["name"] == "Primary share"
        assert page_json(chinese)["map"]["indicator"]["name"] == "指标primary_share"
    assert english.context["view"].from_cache
    export = client.get("/cockpit/export.xlsx", {"map": "primary_share"}, HTTP_ACCEPT_LANGUAGE="en")
    book = load_workbook(io.BytesIO(export.content))
    cells = {cell for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row}
    assert "Primary share" in cells and "指标primary_share" not in cells and "指标cost_growth" in cells


def test_the_regulator_view_names_indicators_in_english_for_english_readers(
    client: Any, world: Any, figures: Any
) -> None:
    Indicator.objects.filter(pk=figures["share"].pk).update(name_en="Primary share")
    generations.bump(FIGURES_GENERATION)
    client.force_login(world.regulator)
    params = {"region": "341522", "indicator": "primary_share"}
    chinese = client.get("/cockpit/regulator/", params, HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.get("/cockpit/regulator/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert "指标primary_share" in chinese.content.decode()
    body = english.content.decode()
    assert "Primary share" in body and "指标primary_share" not in body and "指标cost_growth" in body
    assert page_json(english)["bar"]["indicator"]["name"] == "Primary share"
    export = client.get("/cockpit/regulator/export.xlsx", {"region": "341522"}, HTTP_ACCEPT_LANGUAGE="en")
    rows = list(load_workbook(io.BytesIO(export.content)).worksheets[0].iter_rows(values_only=True))
    assert any(row[1:] == ("Primary share", "指标cost_growth") for row in rows)


def test_units_read_in_the_readers_language_on_the_cards_charts_and_exports(
    client: Any, world: Any, figures: Any
) -> None:
    client.force_login(world.office)
    for _round in range(2):  # the second round is served from the cache
        english = client.get("/cockpit/", {"map": "cost_growth"}, HTTP_ACCEPT_LANGUAGE="en")
        chinese = client.get("/cockpit/", {"map": "cost_growth"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert '<small class="small"> yuan</small>' in english.content.decode()
        assert '<small class="small"> 元</small>' in chinese.content.decode()
        assert [series["unit"] for series in page_json(english)["trend"]["series"]] == ["%", "yuan"]
        assert page_json(english)["map"]["indicator"]["unit"] == "yuan"
        assert page_json(chinese)["map"]["indicator"]["unit"] == "元"
    assert english.context["view"].from_cache
    export = client.get("/cockpit/export.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    cards = list(load_workbook(io.BytesIO(export.content)).worksheets[0].iter_rows(values_only=True))
    assert any(row[:3] == ("cost_growth", "指标cost_growth", "yuan") for row in cards)
    client.force_login(world.regulator)
    params = {"region": "341522", "indicator": "cost_growth"}
    regulator = client.get("/cockpit/regulator/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert "指标cost_growth (yuan)" in regulator.content.decode()
    assert "（yuan）" not in regulator.content.decode()
    assert page_json(regulator)["bar"]["indicator"]["unit"] == "yuan"


def test_the_charts_punctuate_in_the_readers_language(client: Any, world: Any, figures: Any) -> None:
    """Chart titles (name and unit) and the map's tooltip (band) use the page language's brackets."""
    client.force_login(world.office)
    english = page_json(client.get("/cockpit/", HTTP_ACCEPT_LANGUAGE="en"))["labels"]
    chinese = page_json(client.get("/cockpit/", HTTP_ACCEPT_LANGUAGE="zh-hans"))["labels"]
    assert english == {"with_unit": "%(name)s (%(unit)s)", "band": " (%(band)s)", "colon": ": "}
    assert chinese == {"with_unit": "%(name)s（%(unit)s）", "band": "（%(band)s）", "colon": "："}
    client.force_login(world.regulator)
    regulator = client.get("/cockpit/regulator/", {"region": "341522"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page_json(regulator)["labels"] == english
    regulator = client.get("/cockpit/regulator/", {"region": "341522"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "指标cost_growth（元）" in regulator.content.decode()
