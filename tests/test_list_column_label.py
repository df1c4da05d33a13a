"""``ListColumn.label``: a plugin column's value as people read it in ``customer list``'s text
table, the value itself in ``--csv`` and ``--json``, in every language."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import case, literal

from kehu_core import ListColumn, customers, hookimpl
from kehu_core.i18n import language

ZH = {"KEHU_LANG": "zh_CN"}
EN = {"KEHU_LANG": "en"}
COLUMNS = ("customer", "list", "--columns", "code,grade")

#: What the plugin's column gives for each customer: a code, nothing, an empty text, zero.
VALUES = {"C1": "gold", "C2": None, "C3": "", "C4": "silver"}
#: The plugin's labels, by language (its own catalog would give them; a table keeps the test short).
LABELS = {"en": {"gold": "gold member"}, "zh_CN": {"gold": "金卡会员"}}
calls: list[Any] = []


def grade_label(value: Any) -> str:
    calls.append(value)
    return LABELS[language()].get(value, f"<{value}>")


class Grades:
    @hookimpl
    def kehu_customer_list_columns(self) -> list[ListColumn]:
        def expression(customer_id: Any) -> Any:
            return case(
                *(
                    (customers.Customer.code == code, literal(v))
                    for code, v in VALUES.items()
                    if v is not None
                ),
                else_=None,
            )

        return [
            ListColumn(name="grade", header="grade", expression=expression, default=False, label=grade_label)
        ]


@pytest.fixture
def graded(kehu_app: Any, kehu_register_plugin: Any) -> Any:
    with kehu_app.session() as session:
        for code in VALUES:
            customers.add_customer(kehu_app, session, {"code": code, "name": f"客户{code}"})
    kehu_register_plugin(Grades(), "grades")
    calls.clear()
    return kehu_app


def _cells(output: str) -> dict[str, str]:
    return {line.split()[0]: line[len(line.split()[0]) :].strip() for line in output.splitlines()[2:-1]}


@pytest.mark.parametrize(("env", "gold"), [(EN, "gold member"), (ZH, "金卡会员")])
def test_the_table_shows_the_label_and_leaves_empty_cells_alone(graded, kehu_cli, env, gold):
    result = kehu_cli(*COLUMNS, env=env)
    assert result.exit_code == 0, result.output
    assert _cells(result.output) == {"C1": gold, "C2": "-", "C3": "-", "C4": "<silver>"}
    assert sorted(calls) == ["gold", "silver"]  # never called for None or ""


@pytest.mark.parametrize("env", [EN, ZH])
def test_csv_and_json_keep_the_value(graded, kehu_cli, env):
    as_json = {r["code"]: r["grade"] for r in kehu_cli(*COLUMNS, "--json", env=env).json}
    assert as_json == VALUES
    text = kehu_cli(*COLUMNS, "--csv", env=env).output
    as_csv = {r["code"]: r["grade"] for r in csv.DictReader(io.StringIO(text))}
    assert as_csv == {"C1": "gold", "C2": "", "C3": "", "C4": "silver"}
    assert calls == []


def test_a_column_without_label_shows_its_value(kehu_app, kehu_register_plugin, kehu_cli):
    class Plain:
        @hookimpl
        def kehu_customer_list_columns(self) -> list[ListColumn]:
            return [ListColumn(name="grade", header="grade", expression=lambda _id: literal("gold"))]

    with kehu_app.session() as session:
        customers.add_customer(kehu_app, session, {"code": "C1", "name": "客户"})
    kehu_register_plugin(Plain(), "plain")
    assert ListColumn("x", "x", lambda _id: literal(1)).label is None
    assert _cells(kehu_cli(*COLUMNS, env=ZH).output) == {"C1": "gold"}
