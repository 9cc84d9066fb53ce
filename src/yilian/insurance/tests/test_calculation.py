"""The budget arithmetic: pools, surplus and overspend under 6:3:1 and 4:3:3, sums to the cent."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from yilian.insurance.calculation import (
    Aggregates,
    Member,
    Parameters,
    default_tier,
    monthly_pools,
    settle,
    split_to_cent,
)

D = Decimal
RULE_631 = Parameters("6:3:1", D("0.95"), D("1"), D("0.5"), 6, 3, 1)
RULE_433 = Parameters("4:3:3", D("0.95"), D("1"), D("0.5"), 4, 3, 3)


def members(unreasonable: Decimal = Decimal(0)) -> tuple[Member, ...]:
    return (
        Member(1, "县医院", "lead", D("600000.00"), unreasonable),
        Member(2, "城关镇卫生院", "township", D("300000.00")),
        Member(3, "河口镇卫生院", "township", D("100000.00")),
        Member(4, "东湖村卫生室", "village", D("0")),
        Member(5, "西湖村卫生室", "village", D("0")),
    )


def aggregates(charged: str, unreasonable: str = "0", subsidies: str = "0") -> Aggregates:
    return Aggregates(
        fund_base=D("1000000.00"),
        charged=D(charged),
        subsidies=D(subsidies),
        unreasonable=D(unreasonable),
        members=members(D(unreasonable)),
    )


def test_surplus_under_6_3_1():
    outcome = settle(aggregates("850000.00"), RULE_631)
    assert outcome.pool == D("950000.00")
    assert outcome.result == D("100000.00")
    assert outcome.consortium_amount == D("100000.00")
    by_id = {share.institution_id: share.amount for share in outcome.shares}
    assert by_id[1] == D("60000.00")
    assert by_id[2] == D("22500.00") and by_id[3] == D("7500.00")
    # Nobody in the village tier spent anything: equal split.
    assert by_id[4] == by_id[5] == D("5000.00")


def test_surplus_under_4_3_3_gives_the_lead_less():
    outcome = settle(aggregates("850000.00"), RULE_433)
    assert outcome.tier_totals == {"lead": D("40000.00"), "township": D("30000.00"), "village": D("30000.00")}


def test_subsidies_count_against_the_pool():
    outcome = settle(aggregates("850000.00", subsidies="1234.56"), RULE_631)
    assert outcome.spent == D("851234.56")
    assert outcome.result == D("98765.44")
    assert sum(share.amount for share in outcome.shares) == outcome.consortium_amount


def test_alpha_keeps_only_part_of_the_surplus():
    rule = Parameters("半留", D("0.95"), D("0.6"), D("0.5"))
    outcome = settle(aggregates("850000.00"), rule)
    assert outcome.consortium_amount == D("60000.00")


def test_overspend_split_by_gamma_with_unreasonable_items_on_the_consortium():
    outcome = settle(aggregates("1050000.00", unreasonable="20000.00"), RULE_631)
    assert outcome.result == D("-100000.00")
    # 20 000 unreasonable + (80 000 × 0.5) reasonable.
    assert outcome.consortium_amount == D("-60000.00")
    assert outcome.fund_amount == D("40000.00")
    by_id = {share.institution_id: share.amount for share in outcome.shares}
    assert by_id[1] == D("-20000.00") + D("-24000.00")
    assert sum(by_id.values()) == D("-60000.00")


def test_unreasonable_beyond_the_overrun_is_capped():
    outcome = settle(aggregates("960000.00", unreasonable="50000.00"), RULE_631)
    assert outcome.consortium_amount == D("-10000.00")
    assert outcome.fund_amount == D("0.00")


def test_score_weighting_moves_money_within_a_tier():
    base = members()
    scored = (
        base[0],
        Member(2, "甲", "township", D("100"), score=D("90")),
        Member(3, "乙", "township", D("100"), score=D("60")),
    )
    rule = Parameters("加权", D("0.95"), D("1"), D("0.5"), 6, 3, 1, weighted_by_score=True)
    outcome = settle(Aggregates(D("1000000"), D("850000"), D("0"), D("0"), scored), rule)
    by_id = {share.institution_id: share.amount for share in outcome.shares}
    assert by_id[2] > by_id[3]
    assert by_id[2] + by_id[3] == outcome.tier_totals["township"]
    # No village members: their parts drop out, lead : township = 6 : 3.
    assert outcome.tier_totals["lead"] == D("66666.67")


def test_split_to_cent_is_exact_and_handles_negative_and_zero():
    assert split_to_cent(D("0.10"), [D(1), D(1), D(1)]) == [D("0.04"), D("0.03"), D("0.03")]
    assert split_to_cent(D("-0.10"), [D(1), D(1), D(1)]) == [D("-0.04"), D("-0.03"), D("-0.03")]
    assert split_to_cent(D("5"), [D(0), D(0)]) == [D("2.50"), D("2.50")]
    with pytest.raises(ValueError):
        split_to_cent(D("1"), [D(-1)])


def test_property_shares_always_sum_to_the_total():
    generator = random.Random(6)
    for _ in range(400):
        count = generator.randint(1, 9)
        group = tuple(
            Member(
                index,
                f"m{index}",
                generator.choice(["lead", "township", "village"]),
                D(generator.randint(0, 10**7)) / 100,
                D(generator.randint(0, 10**5)) / 100,
                D(generator.randint(0, 100)),
            )
            for index in range(count)
        )
        agg = Aggregates(
            fund_base=D(generator.randint(0, 10**9)) / 100,
            charged=D(generator.randint(0, 10**9)) / 100,
            subsidies=D(generator.randint(0, 10**6)) / 100,
            unreasonable=sum((m.unreasonable for m in group), D(0)),
            members=group,
        )
        rule = Parameters(
            "r",
            D(generator.randint(0, 100)) / 100,
            D(generator.randint(0, 100)) / 100,
            D(generator.randint(0, 100)) / 100,
            generator.randint(0, 9),
            generator.randint(0, 9),
            generator.randint(0, 9),
            generator.random() < 0.5,
        )
        outcome = settle(agg, rule)
        assert sum((share.amount for share in outcome.shares), D(0)) == outcome.consortium_amount
        if outcome.result < 0:
            assert -outcome.result == outcome.fund_amount - outcome.consortium_amount
        assert all(amount.as_tuple().exponent == -2 for amount in (outcome.pool, outcome.consortium_amount))


def test_property_monthly_pools_sum_to_the_pool():
    generator = random.Random(12)
    for _ in range(300):
        pool = D(generator.randint(0, 10**10)) / 100
        months = monthly_pools(pool)
        assert len(months) == 12 and sum(months) == pool
        assert months[11] >= months[0]


def test_default_tiers_from_role_and_category():
    assert default_tier("A100", "lead") == "lead"
    assert default_tier("D600", "member") == "village"
    assert default_tier("C210", "member") == "township"
    assert default_tier("B100", "sub_lead") == "township"
    # County-level members are not township centres: a TCM hospital, an MCH hospital, a CDC.
    assert default_tier("A210", "sub_lead") == "lead"
    assert default_tier("G100", "member") == "lead"
    assert default_tier("J100", "member") == "lead"
