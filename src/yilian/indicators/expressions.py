"""Indicator expressions: parse, validate and compile numerator and denominator formulas.

An expression combines data item codes, decimal constants, ``+ - * /`` and
brackets, e.g. ``(encounters_outpatient + encounters_emergency) * 2``. The
parser is a small recursive descent over tokens; every error carries the
1-based column where it was found so the form can point at it. The compiled
form is SQL over the evaluation cube, where each data item becomes the sum
of that item's values in the group (see ``evaluation``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

ITEM_CODE = re.compile(r"[a-z][a-z0-9_]*\Z")
_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/()])|(?P<bad>\S))"
)


class ExpressionError(ValueError):
    """A formula that cannot be used: ``message`` in the user's language, ``position`` the 1-based column."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return _("第 %(position)s 个字符处：%(message)s") % {
            "position": self.position,
            "message": self.message,
        }


@dataclass(frozen=True)
class Number:
    """A decimal constant."""

    value: Decimal


@dataclass(frozen=True)
class Item:
    """A reference to a data item by code."""

    code: str
    position: int


@dataclass(frozen=True)
class Negative:
    """Unary minus."""

    operand: Node


@dataclass(frozen=True)
class Binary:
    """``left op right`` with op one of + - * /."""

    op: str
    left: Node
    right: Node
    position: int


Node = Number | Item | Negative | Binary


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        match = _TOKEN.match(text, index)
        if match is None:  # only trailing whitespace is left
            break
        kind = match.lastgroup or "bad"
        start = match.start(kind)
        if kind == "bad":
            raise ExpressionError(_("无法识别的字符“%(char)s”") % {"char": match.group(kind)}, start + 1)
        tokens.append(_Token(kind, match.group(kind), start + 1))
        index = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expression(self) -> Node:
        node = self.term()
        while self.peek().kind == "op" and self.peek().text in "+-":
            token = self.take()
            node = Binary(token.text, node, self.term(), token.position)
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.peek().kind == "op" and self.peek().text in "*/":
            token = self.take()
            node = Binary(token.text, node, self.factor(), token.position)
        return node

    def factor(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text == "-":
            self.take()
            return Negative(self.factor())
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            try:
                return Number(Decimal(token.text))
            except InvalidOperation as error:  # pragma: no cover - the token pattern admits only decimals
                raise ExpressionError(_("数字格式不正确"), token.position) from error
        if token.kind == "name":
            return Item(token.text, token.position)
        if token.kind == "op" and token.text == "(":
            node = self.expression()
            closing = self.take()
            if closing.kind != "op" or closing.text != ")":
                raise ExpressionError(_("缺少右括号“)”"), closing.position)
            return node
        if token.kind == "end":
            raise ExpressionError(_("公式不完整"), token.position)
        if token.text == ")":
            raise ExpressionError(_("多余的右括号“)”"), token.position)
        raise ExpressionError(_("此处应为数据项、数字或左括号"), token.position)


def parse(text: str) -> Node:
    """The syntax tree of ``text``; raises ExpressionError (empty, unknown character, unbalanced brackets…)."""
    if not text.strip():
        raise ExpressionError(_("公式为空"), 1)
    parser = _Parser(text)
    node = parser.expression()
    trailing = parser.peek()
    if trailing.kind != "end":
        if trailing.text == ")":
            raise ExpressionError(_("多余的右括号“)”"), trailing.position)
        raise ExpressionError(_("缺少运算符"), trailing.position)
    return node


def constant_value(node: Node) -> Decimal | None:
    """The value of a sub-expression made only of constants, else None."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Negative):
        value = constant_value(node.operand)
        return None if value is None else -value
    if isinstance(node, Binary):
        left, right = constant_value(node.left), constant_value(node.right)
        if left is None or right is None:
            return None
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        return None if right == 0 else left / right
    return None


def item_codes(node: Node) -> list[str]:
    """Data item codes the expression names, in order of first appearance."""
    found: list[str] = []

    def walk(current: Node) -> None:
        if isinstance(current, Item):
            if current.code not in found:
                found.append(current.code)
        elif isinstance(current, Negative):
            walk(current.operand)
        elif isinstance(current, Binary):
            walk(current.left)
            walk(current.right)

    walk(node)
    return found


def validate(text: str, known_items: Iterable[str]) -> Node:
    """Parse and check ``text``: every data item known, no division by a constant zero.

    Returns the tree; raises ExpressionError with the position of the first problem.
    """
    node = parse(text)
    known = set(known_items)

    def walk(current: Node) -> None:
        if isinstance(current, Item):
            if current.code not in known:
                raise ExpressionError(_("未知的数据项“%(code)s”") % {"code": current.code}, current.position)
        elif isinstance(current, Negative):
            walk(current.operand)
        elif isinstance(current, Binary):
            walk(current.left)
            walk(current.right)
            if current.op == "/" and constant_value(current.right) == 0:
                raise ExpressionError(_("除数恒为零"), current.position)

    walk(node)
    return node


def evaluate(node: Node, values: dict[str, Decimal]) -> Decimal | None:
    """The expression's value for item values ``values`` (missing items count 0); None on division by zero."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Item):
        return values.get(node.code, Decimal(0))
    if isinstance(node, Negative):
        value = evaluate(node.operand, values)
        return None if value is None else -value
    left, right = evaluate(node.left, values), evaluate(node.right, values)
    if left is None or right is None:
        return None
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    return None if right == 0 else left / right


def to_sql(node: Node, item_sql: Callable[[str], str]) -> str:
    """SQL text of the expression; ``item_sql(code)`` gives the SQL of one item (codes are validated identifiers).

    Division yields NULL when the divisor is zero, as the evaluated value does.
    """
    if isinstance(node, Number):
        return f"({node.value})"
    if isinstance(node, Item):
        if not ITEM_CODE.match(node.code):
            raise ExpressionError(_("未知的数据项“%(code)s”") % {"code": node.code}, node.position)
        return item_sql(node.code)
    if isinstance(node, Negative):
        return f"(-{to_sql(node.operand, item_sql)})"
    left, right = to_sql(node.left, item_sql), to_sql(node.right, item_sql)
    if node.op == "/":
        return f"({left} * 1.0 / NULLIF({right}, 0))"
    return f"({left} {node.op} {right})"
