"""A tiny, safe expression language for rules in TOML files: parsed, never evaluated.

Grammar (Python-like syntax, parsed with :mod:`ast` and translated node by node into a
SQLAlchemy expression; anything not listed is refused)::

    expr    := expr "or" expr | expr "and" expr | "not" expr | "(" expr ")" | compare
    compare := operand (("<" | "<=" | ">" | ">=" | "==" | "!=") operand)+
             | operand ("in" | "not in") "[" literal ("," literal)* "]"
             | operand "is" "None" | operand "is not" "None"
             | call
    operand := COLUMN | NUMBER | STRING | "True" | "False" | operand ("+" | "-" | "*" | "/") operand
    call    := has_tag(STRING) | has_attribute(STRING) | attribute_contains(STRING, STRING)

COLUMN is any column of :data:`kehu_tiering.stats.STATS`. Example::

    revenue_window >= 1000000 and tenure_months >= 12 or has_tag("战略客户")
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, literal, not_, or_
from sqlalchemy.sql import ColumnElement

from kehu_core.i18n import messages
from kehu_tiering import stats

_ = messages("kehu_tiering").gettext

_COMPARE = {
    ast.Lt: "__lt__",
    ast.LtE: "__le__",
    ast.Gt: "__gt__",
    ast.GtE: "__ge__",
    ast.Eq: "__eq__",
    ast.NotEq: "__ne__",
}
_ARITH = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__"}
_CALLS: dict[str, tuple[Callable[..., ColumnElement[bool]], int]] = {
    "has_tag": (stats.has_tag, 1),
    "has_attribute": (stats.has_attribute, 1),
    "attribute_contains": (stats.attribute_contains, 2),
}
MAX_LENGTH = 2000


class ExpressionError(ValueError):
    """The text is not a valid rule condition; the message says where and why."""


def _fail(node: ast.AST | None, reason: str) -> ExpressionError:
    where = f" at column {node.col_offset + 1}" if node is not None and hasattr(node, "col_offset") else ""
    return ExpressionError(f"{reason}{where}")


def _constant(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    raise _fail(node, "expected a number, a string, True or False")


def _operand(node: ast.AST) -> Any:
    if isinstance(node, ast.Name):
        if node.id not in stats.COLUMN_NAMES:
            raise _fail(node, f"unknown column {node.id!r}; columns: {', '.join(stats.COLUMN_NAMES)}")
        return stats.STATS.c[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return getattr(_operand(node.left), _ARITH[type(node.op)])(_operand(node.right))
    return literal(_constant(node))


def _condition(node: ast.AST) -> ColumnElement[bool]:
    if isinstance(node, ast.BoolOp):
        parts = [_condition(v) for v in node.values]
        return and_(*parts) if isinstance(node.op, ast.And) else or_(*parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not_(_condition(node.operand))
    if isinstance(node, ast.Compare):
        return _compare(node)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _CALLS or node.keywords:
            raise _fail(node, f"only these functions exist: {', '.join(_CALLS)}")
        func, arity = _CALLS[node.func.id]
        args = [_constant(a) for a in node.args]
        if len(args) != arity or not all(isinstance(a, str) for a in args):
            raise _fail(node, f"{node.func.id} takes {arity} string argument(s)")
        return func(*args)
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return literal(node.value)
    raise _fail(node, "expected a comparison such as revenue_window >= 100000, or and/or/not")


def _compare(node: ast.Compare) -> ColumnElement[bool]:
    parts = []
    left = _operand(node.left)
    for op, right_node in zip(node.ops, node.comparators):
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right_node, (ast.List, ast.Tuple)) or not right_node.elts:
                raise _fail(right_node, '\'in\' needs a list of values: ["A", "B"]')
            values = [_constant(e) for e in right_node.elts]
            parts.append(left.in_(values) if isinstance(op, ast.In) else left.not_in(values))
            continue
        if isinstance(op, (ast.Is, ast.IsNot)):
            if not (isinstance(right_node, ast.Constant) and right_node.value is None):
                raise _fail(right_node, "'is' only compares with None")
            parts.append(left.is_(None) if isinstance(op, ast.Is) else left.is_not(None))
            continue
        if type(op) not in _COMPARE:
            raise _fail(node, "unsupported comparison")
        right = _operand(right_node)
        parts.append(getattr(left, _COMPARE[type(op)])(right))
        left = right
    return and_(*parts) if len(parts) > 1 else parts[0]


def parse_condition(text: str) -> ColumnElement[bool]:
    """Translate a condition into a SQLAlchemy expression over ``STATS``; raises :class:`ExpressionError`."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(_("the condition is empty"))
    if len(text) > MAX_LENGTH:
        raise ExpressionError(_("the condition is longer than {n} characters").format(n=MAX_LENGTH))
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            _("syntax error at column {column}: {error}").format(column=exc.offset or 0, error=exc.msg)
        ) from None
    return _condition(tree.body)
