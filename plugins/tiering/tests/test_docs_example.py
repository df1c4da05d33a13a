"""docs/tiering.md stays true: its worked example runs, and its column table is the relation's."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from tiering_helpers import AS_OF, add_customers, current, local, payment, purchase, record, run

from kehu_core.customers import add_customer
from kehu_tiering.api import COLUMNS

DOC = Path(__file__).resolve().parents[3] / "docs" / "tiering.md"
pytestmark = pytest.mark.usefixtures("shanghai")


def worked_example() -> types.ModuleType:
    """The Python block after ``<!-- worked-example -->`` in docs/tiering.md, as a module."""
    text = DOC.read_text(encoding="utf-8").split("<!-- worked-example -->", 1)[1]
    source = text.split("```python\n", 1)[1].split("\n```", 1)[0]
    module = types.ModuleType("kehu_shop_rules.hooks")
    exec(compile(source, f"{DOC}:worked-example", "exec"), module.__dict__)  # noqa: S102 -- our own docs
    return module


def test_the_worked_example_runs(tiering_app: Any, kehu_register_plugin: Any, kehu_cli: Any) -> None:
    shop = worked_example()
    kehu_register_plugin(shop, "shop_rules")
    with tiering_app.session() as session:
        east = add_customer(tiering_app, session, {"code": "EAST", "name": "华东建材", "region": "华东"}).id
    ids = add_customers(tiering_app, ["OLD", "LATE", "VIS1", "VIS2"])
    visit = dict(kind="visit", status="done")
    record(
        tiering_app,
        [
            purchase(east, local(2026, 5, 16, 9, 0), 1_000_000),  # 30 days before: a recent buyer
            purchase(ids["OLD"], local(2026, 5, 15, 23, 0), 10),  # 31 days before: not
            payment(
                ids["LATE"], local(2026, 5, 1, 12, 0), local(2026, 6, 1, 9, 0), amount="50.00"
            ),  # 31 days late
            {
                **visit,
                "customer_id": ids["VIS1"],
                "occurred_at": local(2026, 5, 16, 10, 0),
            },  # 30 days: outside
            {**visit, "customer_id": ids["VIS1"], "occurred_at": local(2026, 6, 15, 10, 0)},
            {
                **visit,
                "customer_id": ids["VIS2"],
                "occurred_at": local(2026, 5, 17, 10, 0),
            },  # 29 days: inside
            {**visit, "customer_id": ids["VIS2"], "occurred_at": local(2026, 6, 15, 10, 0)},
        ],
    )
    first = run(tiering_app, as_of=AS_OF)
    assert current(tiering_app, "flag:recent_buyer") == {east: "recent_buyer"}
    assert current(tiering_app, "flag:late_payer") == {ids["LATE"]: "late_payer"}
    assert current(tiering_app, "flag:visited_often") == {ids["VIS2"]: "visited_often"}
    assert current(tiering_app, "pyramid")[east] == "VIP"
    assert (
        kehu_cli("tier", "show", "EAST", "--json").json["tiers"]["pyramid"]["decided_by"] == "shop.east_vip"
    )
    run(tiering_app, as_of=AS_OF)
    assert [("2026-06-15", first.moved), ("2026-06-15", 0)] == shop.RUNS and first.moved > 0
    listed = kehu_cli("tier", "rules", "--json")
    assert listed.exit_code == 0, listed.output
    assert [r["name"] for r in listed.json][:1] == ["shop.east_vip"]  # priority 20


def test_the_column_table_is_the_relation() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name, _, meaning in COLUMNS if f"| `{name}` | {meaning} |" not in text]
    assert not missing, f"docs/tiering.md's column table differs for {missing}"
