"""The formula parser: precedence, unary minus, positioned errors, and SQL that computes what evaluate computes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from yilian.indicators import expressions
from yilian.indicators.expressions import Binary, ExpressionError, Item, Negative, Number

KNOWN = {"a", "b", "c", "referrals_up", "encounters_visits"}


def _value(text: str, **values: int) -> Decimal | None:
    return expressions.evaluate(expressions.parse(text), {k: Decimal(v) for k, v in values.items()})


def _error(text: str, known: set[str] = KNOWN) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        expressions.validate(text, known)
    return caught.value


def test_multiplication_binds_tighter_than_addition() -> None:
    tree = expressions.parse("a + b * c")
    assert tree == Binary("+", Item("a", 1), Binary("*", Item("b", 5), Item("c", 9), 7), 3)
    assert _value("a + b * c", a=1, b=2, c=3) == 7  # 1 + (2 × 3)
    assert _value("(a + b) * c", a=1, b=2, c=3) == 9  # (1 + 2) × 3


def test_operators_of_one_level_associate_left() -> None:
    assert _value("a - b - c", a=10, b=3, c=2) == 5  # (10 − 3) − 2, not 10 − (3 − 2)
    assert _value("a / b / c", a=12, b=3, c=2) == 2  # (12 ÷ 3) ÷ 2


def test_unary_minus() -> None:
    assert expressions.parse("-a") == Negative(Item("a", 2))
    assert _value("-a * b", a=2, b=3) == -6
    assert _value("a - -b", a=2, b=3) == 5
    assert _value("-(a + b)", a=2, b=3) == -5
    assert expressions.parse("--2") == Negative(Negative(Number(Decimal(2))))


def test_missing_items_count_as_zero_and_division_by_zero_is_none() -> None:
    assert _value("a + b", a=4) == 4
    assert _value("a / b", a=4) is None
    assert _value("a / (b - c)", a=4, b=2, c=2) is None


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("(a + b", 7, "缺少右括号"),  # the end of the text, where ")" was expected
        ("((a + b) * c", 13, "缺少右括号"),
        ("a + b)", 6, "多余的右括号"),
        (")a", 1, "多余的右括号"),
        ("a + ", 5, "公式不完整"),
        ("a b", 3, "缺少运算符"),
        ("a + * b", 5, "此处应为数据项"),
    ],
)
def test_unbalanced_brackets_and_broken_syntax_report_the_position(
    text: str, position: int, message: str
) -> None:
    error = _error(text)
    assert error.position == position
    assert message in error.message
    assert f"第 {position} 个字符处" in str(error)


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_formula_is_an_error(text: str) -> None:
    error = _error(text)
    assert error.position == 1
    assert "公式为空" in error.message


@pytest.mark.parametrize(
    ("text", "position", "char"), [("a + b; c", 6, ";"), ("a × b", 3, "×"), ("a + 'x'", 5, "'")]
)
def test_bad_characters_are_rejected_where_they_stand(text: str, position: int, char: str) -> None:
    error = _error(text)
    assert error.position == position
    assert char in error.message


def test_an_unknown_item_is_named_with_its_position() -> None:
    error = _error("referrals_up / encounter_visits")
    assert error.position == 16
    assert "encounter_visits" in error.message


def test_upper_case_names_are_not_items() -> None:
    assert _error("A + b").position == 1


@pytest.mark.parametrize(
    ("text", "position"),
    [("a / 0", 3), ("a / (2 - 2)", 3), ("a / (0 * b) / 0", 13), ("a / 0.0", 3), ("(a + b) / (1 - 1) * c", 9)],
)
def test_division_by_a_constant_zero_is_refused(text: str, position: int) -> None:
    error = _error(text)
    assert error.position == position
    assert "除数恒为零" in error.message


def test_division_by_an_item_or_a_nonzero_constant_is_accepted() -> None:
    expressions.validate("a / b", KNOWN)
    expressions.validate("a / (2 - 1)", KNOWN)
    expressions.validate(
        "a / (b - b)", KNOWN
    )  # zero only for some data: a value of None, not a formula error


def test_item_codes_in_order_of_first_appearance() -> None:
    assert expressions.item_codes(expressions.parse("b + a * b - c / a")) == ["b", "a", "c"]


def _sql_value(text: str, values: dict[str, int]) -> Any:
    tree = expressions.parse(text)
    sql = expressions.to_sql(tree, lambda code: f"({values.get(code, 0)})")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}")
        return cursor.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "a + b * c",
        "(a + b) * c",
        "a - b - c",
        "a / b",
        "a / b / c",
        "-a * b + 100",
        "a - -b",
        "a * 100 / (b + c)",
        "(a - b) / b",
        "a / (b - 7)",
        "1.5 * a",
    ],
)
def test_to_sql_computes_what_evaluate_computes(text: str) -> None:
    values = {"a": 12, "b": 7, "c": 3}
    expected = expressions.evaluate(expressions.parse(text), {k: Decimal(v) for k, v in values.items()})
    got = _sql_value(text, values)
    if expected is None:
        assert got is None
    else:
        # Integer division must not truncate: 12 / 7 is 1.714…, not 1.
        assert Decimal(str(got)).quantize(Decimal("0.000001")) == expected.quantize(Decimal("0.000001"))
