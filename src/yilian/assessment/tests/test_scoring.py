"""Scoring arithmetic: target attainment by direction, bands, ranks with ties, grades by bands and quartiles."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from yilian.assessment import scoring

LEGEND = [
    {"from": None, "to": "5", "color": "red"},
    {"from": "5", "to": "10", "color": "yellow"},
    {"from": "10", "to": None, "color": "green"},
]


@pytest.mark.parametrize(
    ("value", "target", "direction", "share"),
    [
        (D(12), D(10), "higher", D(1)),  # capped
        (D(8), D(10), "higher", D("0.8")),
        (D(0), D(10), "higher", D(0)),
        (D(5), D(10), "lower", D(1)),
        (D(20), D(10), "lower", D("0.5")),
        (D(0), D(10), "lower", D(1)),
        (None, D(10), "higher", D(0)),
        (D(3), None, "higher", D(1)),
        (D(3), D(10), "neutral", D(1)),
    ],
)
def test_target_share(value, target, direction, share):
    assert scoring.target_share(value, target, direction) == share


def test_points_rounds_and_clamps():
    assert scoring.points(D(80), D("0.8")) == D("64.00")
    assert scoring.points(D(10), D(3) / D(7)) == D("4.29")
    assert scoring.points(D(10), D(2)) == D("10.00")
    assert scoring.points(D(10), D(-1)) == D("0.00")


@pytest.mark.parametrize(
    ("value", "share"), [(D(4), D(0)), (D(5), D("0.5")), (D("9.99"), D("0.5")), (D(10), D(1)), (None, D(0))]
)
def test_band_share_from_legend(value, share):
    assert scoring.band_share(value, [], LEGEND) == share


def test_explicit_bands_win_over_legend():
    bands = [{"from": "0", "to": "50", "share": "0.2"}, {"from": "50", "to": None, "share": "1"}]
    assert scoring.band_share(D(30), bands, LEGEND) == D("0.2")
    assert scoring.band_share(D(-1), bands, LEGEND) == D(0)  # outside every band


def test_ranks_with_ties_and_direction():
    values = {"a": D(10), "b": D(12), "c": D(10), "d": None, "e": D(3)}
    assert scoring.ranks(values) == {"a": 2, "b": 1, "c": 2, "d": None, "e": 4}
    assert scoring.ranks(values, "lower") == {"a": 2, "b": 4, "c": 2, "d": None, "e": 1}


def test_rank_share():
    assert scoring.rank_share(1, 4) == D(1)
    assert scoring.rank_share(4, 4) == D("0.25")
    assert scoring.rank_share(None, 4) == D(0)


@pytest.mark.parametrize(
    ("score", "grade"),
    [(D(95), "excellent"), (D(90), "excellent"), (D("89.99"), "good"), (D(60), "fair"), (D(10), "poor")],
)
def test_grade_by_bands(score, grade):
    assert scoring.grade_by_bands(score, {"excellent": "90", "good": "80", "fair": "60"}) == grade


def test_grade_by_quartile_with_ties():
    grades = [scoring.grade_by_quartile(rank, 8) for rank in (1, 2, 3, 3, 5, 6, 7, 8)]
    assert grades == ["excellent", "excellent", "good", "good", "fair", "fair", "poor", "poor"]
    assert scoring.grade_by_quartile(None, 8) == "poor"
    assert scoring.grade_by_quartile(1, 1) == "excellent"


@pytest.mark.parametrize(
    ("value", "points"),
    [
        # Values are per cent already (factor 100): 2 up-referrals of 9,431 visits = 0.021207 %.
        (D("0.021207"), D("40.00")),
        (D("0.349621"), D("40.00")),
        (D("3.99"), D("40.00")),
        (D("4"), D("20.00")),
        (D("5.5"), D("20.00")),
        (D("6"), D("0.00")),
        (None, D("0.00")),
    ],
)
def test_up_referral_rate_scored_by_its_shipped_legend(value, points):
    """The walkthrough's "every unit gets 40": per cent against per-cent thresholds, correctly compared.

    The shipped legend (0–2 优 and 2–4 良 green, 4–6 中 yellow, 6+ 差 red) gives
    the whole weight under 4 %: a demo county referring up under 0.5 % of its
    visits gets full marks everywhere. Not a unit mix-up: the demo's own
    scheme bands its members instead (``demo.assessment.UP_RATE_BANDS``).
    """
    from yilian.indicators.catalogue import _UP_RATE_LEGEND

    assert scoring.points(D(40), scoring.band_share(value, [], _UP_RATE_LEGEND)) == points


@pytest.mark.parametrize(
    ("value", "points"),
    [
        (D("0"), D("40.00")),
        (D("0.021207"), D("40.00")),
        (D("0.063492"), D("30.00")),
        (D("0.155703"), D("20.00")),
        (D("0.349621"), D("10.00")),
    ],
)
def test_demo_up_referral_bands_spread_the_demo_county(value, points):
    from yilian.demo.assessment import UP_RATE_BANDS

    assert scoring.points(D(40), scoring.band_share(value, UP_RATE_BANDS, [])) == points
