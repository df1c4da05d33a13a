"""``customer list``'s tier column: the label in the user's language in the table, the code in
``--csv`` and ``--json`` (the same in both languages)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from tiering_helpers import add_customers, purchase, record

from kehu_core import customers

ZH = {"KEHU_LANG": "zh_CN"}
EN = {"KEHU_LANG": "en"}
COLUMNS = ("customer", "list", "--columns", "code,tier")

#: The codes the run of the fixture gives (pyramid: the top 5% VIP, the next 50% ordinary ...).
CODES = {
    "K00": "小客户",
    "K08": "小客户",
    "K09": "普通客户",
    "K17": "普通客户",
    "K18": "VIP",
    "K19": "小客户",
}


@pytest.fixture
def tiered(tiering_app: Any, kehu_cli: Any) -> Any:
    """20 customers, K00 buying least ... K18 most, K19 never; tiered on 2026-06-15; NEW is
    added after the run and has no tier yet."""
    ids = add_customers(tiering_app, [f"K{i:02d}" for i in range(20)])
    when = datetime(2026, 4, 1, tzinfo=UTC)
    record(tiering_app, [purchase(ids[f"K{i:02d}"], when, 100 * (i + 1) ** 2) for i in range(19)])
    assert kehu_cli("tier", "run", "--as-of", "2026-06-15").exit_code == 0
    with tiering_app.session() as session:
        customers.add_customer(tiering_app, session, {"code": "NEW", "name": "新客户"})
    return tiering_app


def _table(output: str) -> dict[str, str]:
    """code -> the tier cell of a text table (``-`` or empty for none)."""
    rows = {}
    for line in output.splitlines()[2:-1]:
        code, _, cell = line.partition(" ")
        rows[code] = cell.strip()
    return rows


def test_the_table_shows_the_tier_label_in_english(tiered: Any, kehu_cli: Any) -> None:
    shown = _table(kehu_cli(*COLUMNS, env=EN).output)
    assert {c: shown[c] for c in (*CODES, "NEW")} == {
        "K00": "small customer",
        "K08": "small customer",
        "K09": "ordinary customer",
        "K17": "ordinary customer",
        "K18": "VIP customer",
        "K19": "small customer",
        "NEW": "-",
    }


def test_the_table_shows_the_tier_label_in_chinese(tiered: Any, kehu_cli: Any) -> None:
    result = kehu_cli(*COLUMNS, env=ZH)
    assert result.output.splitlines()[0].split() == ["编号", "分级"]
    shown = _table(result.output)
    assert {c: shown[c] for c in (*CODES, "NEW")} == {
        "K00": "小客户",
        "K08": "小客户",
        "K09": "普通客户",
        "K17": "普通客户",
        "K18": "VIP客户",
        "K19": "小客户",
        "NEW": "-",
    }


@pytest.mark.parametrize("env", [EN, ZH])
def test_json_and_csv_keep_the_code_in_both_languages(
    tiered: Any, kehu_cli: Any, env: dict[str, str]
) -> None:
    as_json = {r["code"]: r["tier"] for r in kehu_cli(*COLUMNS, "--json", env=env).json}
    assert {c: as_json[c] for c in CODES} == CODES and as_json["NEW"] is None
    lines = kehu_cli(*COLUMNS, "--csv", env=env).output
    as_csv = {r["code"]: r["tier"] for r in csv.DictReader(io.StringIO(lines))}
    assert {c: as_csv[c] for c in CODES} == CODES and as_csv["NEW"] == ""


def test_the_abc_class_is_labelled_too(tiered: Any, kehu_cli: Any) -> None:
    """Tiered by ABC, the column holds A/B/C: ``class A`` / A类客户 in the table, ``A`` in --json."""
    assert kehu_cli("tier", "run", "--as-of", "2026-06-15", "--tier-method", "abc").exit_code == 0
    codes = {r["code"]: r["tier"] for r in kehu_cli(*COLUMNS, "--json").json}
    assert (codes["K18"], codes["K00"]) == ("A", "C")
    assert (
        _table(kehu_cli(*COLUMNS, env=EN).output)["K18"],
        _table(kehu_cli(*COLUMNS, env=ZH).output)["K18"],
    ) == (
        "class A",
        "A类客户",
    )
    assert _table(kehu_cli(*COLUMNS, env=ZH).output)["K00"] == "C类客户"


def test_sorting_by_the_tier_sorts_by_the_code(tiered: Any, kehu_cli: Any) -> None:
    """The label is only what the table shows: the order is the code's, the same in both languages."""
    en = list(_table(kehu_cli(*COLUMNS, "--sort", "tier", env=EN).output))
    zh = list(_table(kehu_cli(*COLUMNS, "--sort", "tier", env=ZH).output))
    assert en == zh == [r["code"] for r in kehu_cli(*COLUMNS, "--sort", "tier", "--json").json]
