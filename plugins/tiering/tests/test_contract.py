"""What a company plugin writes its rules with, from kehu_tiering.api alone.

The run's context (as-of date and window), the customer's own fields and the days late of
payments in the statistics, columns contributed by other plugins, the functions that mean
the same on both databases, a rule the database cannot run refused in one line, and the
``kehu_tier_run_finished`` event. Every expected value is written by hand; boundaries are
tested exactly on the edge and one day either side.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from tiering_helpers import AS_OF, add_customers, current, local, only_oracle, payment, purchase, record, run

from kehu_core import hookimpl
from kehu_core.customers import add_customer
from kehu_core.hooktypes import TierChange
from kehu_core.models import Interaction
from kehu_tiering.api import (
    STATS,
    RuleContext,
    RunResult,
    StatColumn,
    TierRule,
    coalesce,
    customer_stats,
    days_between,
    greatest,
    least,
    stat,
    tier_settings,
)
from kehu_tiering.models import runs

pytestmark = pytest.mark.usefixtures("shanghai")


def stats_of(app: Any, code: str, as_of: date = AS_OF, window: Any = 12) -> dict[str, Any]:
    with app.session() as session:
        return customer_stats(app, session, code, tier_settings(session, as_of, defaults=True, window=window))


# 1. The run's as-of date and window reach the rules.


class RecentBuyers:
    """Flags customers who bought within 30 days before the run's as-of date."""

    def __init__(self) -> None:
        self.contexts: list[RuleContext] = []

    @hookimpl
    def kehu_tier_rules(self, context: RuleContext) -> list[TierRule]:
        self.contexts.append(context)
        return [
            TierRule(
                name="test.recent_buyer",
                flag="recent_buyer",
                when=days_between(STATS.c.last_purchase_at, context.as_of) <= 30,
                description="bought within 30 days before the as-of date",
            )
        ]


def test_a_rule_reads_the_as_of_date_at_the_30_day_boundary(
    tiering_app: Any, kehu_register_plugin: Any
) -> None:
    """As of 2026-06-15: May 16 is 30 days before (flagged), May 15 is 31 (not), May 17 is 29."""
    plugin = RecentBuyers()
    kehu_register_plugin(plugin, "recent")
    ids = add_customers(tiering_app, ["D29", "D30", "D30EARLY", "D31", "D31LATE"])
    record(
        tiering_app,
        [
            purchase(ids["D29"], local(2026, 5, 17, 12, 0), 10),
            purchase(ids["D30"], local(2026, 5, 16, 12, 0), 10),
            purchase(
                ids["D30EARLY"], local(2026, 5, 16, 0, 10), 10
            ),  # 2026-05-15 16:10 UTC: still 30 local days
            purchase(ids["D31"], local(2026, 5, 15, 12, 0), 10),
            purchase(ids["D31LATE"], local(2026, 5, 15, 23, 50), 10),  # the last minutes of the 31st day
        ],
    )
    run(tiering_app, as_of=AS_OF, window=12)
    assert current(tiering_app, "flag:recent_buyer") == {
        ids["D29"]: "recent_buyer",
        ids["D30"]: "recent_buyer",
        ids["D30EARLY"]: "recent_buyer",
    }
    context = plugin.contexts[-1]
    assert (context.as_of, context.window_start, context.window_end) == (
        date(2026, 6, 15),
        date(2025, 7, 1),  # 12 calendar months ending with June 2026
        date(2026, 6, 15),
    )
    assert context.settings.window == 12


def test_the_context_of_a_window_over_all_history_has_no_start(
    tiering_app: Any, kehu_register_plugin: Any, kehu_cli: Any
) -> None:
    plugin = RecentBuyers()
    kehu_register_plugin(plugin, "recent")
    run(tiering_app, as_of=date(2026, 3, 31), window="all")
    assert (plugin.contexts[-1].window_start, plugin.contexts[-1].window_end) == (None, date(2026, 3, 31))
    listed = kehu_cli("tier", "rules", "--json")  # the next run's context: the last settings, as of today
    assert listed.exit_code == 0, listed.output
    assert plugin.contexts[-1].settings.window is None


# 2. The customer's own fields and the days late of payments.


@pytest.fixture
def payers(tiering_app: Any) -> dict[str, int]:
    ids: dict[str, int] = {}
    with tiering_app.session() as session:
        for code, region, industry, owner in (
            ("L29", "华东", "建材", "王芳"),
            ("L30", "华北", None, "李明"),
            ("L31", None, "零售", None),
            ("OPEN30", None, None, None),
            ("OPEN31", None, None, None),
            ("ONTIME", None, None, None),
        ):
            values = {
                "code": code,
                "name": f"客户{code}",
                "region": region,
                "industry": industry,
                "owner": owner,
            }
            ids[code] = add_customer(tiering_app, session, {k: v for k, v in values.items() if v}).id
    due = local(2026, 5, 1, 12, 0)
    record(
        tiering_app,
        [
            payment(ids["L29"], due, local(2026, 5, 30, 9, 0)),
            payment(ids["L30"], due, local(2026, 5, 31, 23, 50)),  # May 31 local: 30 days late
            payment(ids["L30"], due, local(2026, 5, 11, 9, 0)),  # 10 days late: the average is 20
            payment(ids["L31"], due, local(2026, 6, 1, 0, 10)),  # June 1 local (May 31 UTC): 31 days
            # Purchases on credit, unpaid: late until the as-of day (June 15).
            payment(ids["OPEN30"], local(2026, 5, 16, 12, 0), None, kind="purchase"),
            payment(ids["OPEN31"], local(2026, 5, 15, 12, 0), None, kind="purchase"),
            payment(ids["ONTIME"], due, local(2026, 5, 1, 18, 0)),
        ],
    )
    return ids


def test_days_late_columns_at_the_30_day_boundary(tiering_app: Any, payers: dict[str, int]) -> None:
    expected = {
        "L29": (1, 29, 29.0),
        "L30": (2, 30, 20.0),
        "L31": (1, 31, 31.0),
        "OPEN30": (1, 30, 30.0),
        "OPEN31": (1, 31, 31.0),
        "ONTIME": (0, None, None),
    }
    for code, (overdue, longest, average) in expected.items():
        row = stats_of(tiering_app, code)
        assert (row["overdue_payments"], row["max_days_late"], row["avg_days_late"]) == (
            overdue,
            longest,
            average,
        ), code


def test_any_payment_over_30_days_late(
    tiering_app: Any, payers: dict[str, int], kehu_register_plugin: Any
) -> None:
    """``max_days_late > 30``: 30 days late is not flagged, 31 is, paid or still unpaid."""

    class LatePayers:
        @hookimpl
        def kehu_tier_rules(self) -> list[TierRule]:
            return [TierRule(name="test.late", flag="late_payer", when=STATS.c.max_days_late > 30)]

    kehu_register_plugin(LatePayers(), "late")
    run(tiering_app, as_of=AS_OF)
    assert set(current(tiering_app, "flag:late_payer")) == {payers["L31"], payers["OPEN31"]}


def test_the_customer_s_own_fields(
    tiering_app: Any, payers: dict[str, int], kehu_register_plugin: Any
) -> None:
    row = stats_of(tiering_app, "L29")
    assert (row["kind"], row["region"], row["industry"], row["owner"]) == ("company", "华东", "建材", "王芳")
    assert stats_of(tiering_app, "L31")["region"] is None

    class EastBuilders:
        @hookimpl
        def kehu_tier_rules(self) -> list[TierRule]:
            return [
                TierRule(
                    name="test.east",
                    flag="east",
                    when=(STATS.c.region == "华东") | (STATS.c.owner == "李明"),
                )
            ]

    kehu_register_plugin(EastBuilders(), "east")
    run(tiering_app, as_of=AS_OF)
    assert set(current(tiering_app, "flag:east")) == {payers["L29"], payers["L30"]}


# 3. Statistics columns from other plugins.


class Visits:
    """Contributes ``visits_total`` (done visits up to now) and a rule reading it."""

    visits = StatColumn(
        name="visits_total",
        expression=lambda customer_id: (
            select(func.count())
            .where(Interaction.customer_id == customer_id, Interaction.kind == "visit")
            .scalar_subquery()
        ),
        description="visits recorded for the customer",
    )

    @hookimpl
    def kehu_tier_statistics(self) -> list[StatColumn]:
        return [self.visits]

    @hookimpl
    def kehu_tier_rules(self) -> list[TierRule]:
        return [TierRule(name="visits.often", flag="visited_often", when=self.visits.column >= 2)]


def test_a_plugin_contributes_a_column_and_a_rule_reads_it(
    tiering_app: Any, kehu_register_plugin: Any, kehu_cli: Any
) -> None:
    kehu_register_plugin(Visits(), "visits")
    ids = add_customers(tiering_app, ["V1", "V2", "V3"])
    visit = dict(kind="visit", status="done", occurred_at=local(2026, 6, 1, 10, 0))
    record(
        tiering_app,
        [
            {**visit, "customer_id": ids["V1"]},
            {**visit, "customer_id": ids["V2"]},
            {**visit, "customer_id": ids["V2"]},
            {**visit, "customer_id": ids["V3"]},
            {**visit, "customer_id": ids["V3"]},
            {**visit, "customer_id": ids["V3"]},
        ],
    )
    run(tiering_app, as_of=AS_OF)
    assert set(current(tiering_app, "flag:visited_often")) == {ids["V2"], ids["V3"]}  # 2 and 3; not 1
    shown = kehu_cli("tier", "show", "V2", "--json")
    assert [f["decided_by"] for f in shown.json["flags"]] == ["visits.often"]
    explained = kehu_cli("tier", "explain", "V3", "--json").json["explanations"]
    assert [e["metrics"] for e in explained if e["method"] == "flag:visited_often"] == [{"visits_total": 3}]
    assert stats_of(tiering_app, "V1")["visits_total"] == 1  # kehu tier stats shows it too
    assert stat("visits_total").table is STATS


def test_a_column_name_taken_twice_names_the_plugin(
    tiering_app: Any, kehu_register_plugin: Any, kehu_cli: Any
) -> None:
    class Again:
        @hookimpl
        def kehu_tier_statistics(self) -> list[StatColumn]:
            return [Visits.visits]

    kehu_register_plugin(Visits(), "visits")
    kehu_register_plugin(Again(), "again")
    result = kehu_cli("tier", "run")
    assert result.exit_code == 1
    assert "again" in result.output and "visits_total" in result.output and "Traceback" not in result.output
    with pytest.raises(ValueError, match="already a column"):
        StatColumn(name="revenue_window", expression=lambda customer_id: customer_id)


# 4. Functions that work on both databases; a rule the database cannot run.


def test_rule_functions_on_this_database(tiering_app: Any, kehu_register_plugin: Any) -> None:
    """least/greatest ignore NULLs (the never-bought customer has no recency); coalesce fills them."""

    class Functions:
        @hookimpl
        def kehu_tier_rules(self, context: RuleContext) -> list[TierRule]:
            s = STATS.c
            return [
                TierRule(name="f.least", flag="least_le_5", when=least(s.recency_days, 5) <= 5),
                TierRule(name="f.greatest", flag="greatest_ge_20", when=greatest(s.recency_days, 20) >= 21),
                TierRule(name="f.coalesce", flag="never", when=coalesce(s.recency_days, -1) == -1),
                TierRule(
                    name="f.window",
                    flag="in_last_window_day",
                    when=days_between(s.last_purchase_at, context.window_end) == 0,
                ),
            ]

    kehu_register_plugin(Functions(), "functions")
    ids = add_customers(tiering_app, ["F0", "F30", "NEVER"])
    record(
        tiering_app,
        [
            purchase(ids["F0"], local(2026, 6, 15, 20, 0), 10),
            purchase(ids["F30"], local(2026, 5, 16, 9, 0), 10),
        ],
    )
    run(tiering_app, as_of=AS_OF)
    assert set(current(tiering_app, "flag:least_le_5")) == {ids["F0"], ids["F30"], ids["NEVER"]}
    assert set(current(tiering_app, "flag:greatest_ge_20")) == {ids["F30"]}  # 30; 0 -> 20; NULL -> 20
    assert set(current(tiering_app, "flag:never")) == {ids["NEVER"]}
    assert set(current(tiering_app, "flag:in_last_window_day")) == {ids["F0"]}


class OwnFunction:
    """A rule calling a SQL function of its own that no database has."""

    @hookimpl
    def kehu_tier_rules(self) -> list[TierRule]:
        return [TierRule(name="own.score", flag="scored", when=func.acme_score(STATS.c.revenue_window) > 3)]


def test_a_rule_with_an_unknown_function_is_one_line_naming_it(
    tiering_app: Any, kehu_register_plugin: Any, kehu_cli: Any
) -> None:
    kehu_register_plugin(OwnFunction(), "own")
    for command in (("tier", "rules"), ("tier", "run")):
        result = kehu_cli(*command)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1, result.output
        assert "rule own.score (own)" in lines[0] and "acme_score" in lines[0]
        assert "days_between" in lines[0]  # what rules may use instead
    assert kehu_cli("tier", "show", "NOBODY").exit_code == 1  # the session is still usable


def test_a_construct_without_sql_for_this_database_is_one_line(
    tiering_app: Any, kehu_register_plugin: Any, kehu_cli: Any
) -> None:
    class Oracle:
        @hookimpl
        def kehu_tier_rules(self) -> list[TierRule]:
            return [TierRule(name="own.oracle", flag="o", when=only_oracle(STATS.c.measure) > 1)]

    kehu_register_plugin(Oracle(), "oracle")
    result = kehu_cli("tier", "rules")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert [line for line in result.output.splitlines() if line.strip()][0].startswith(
        "Error: rule own.oracle (oracle)"
    )


# 5. The run-finished event.


class Listener:
    def __init__(self) -> None:
        self.calls: list[tuple[RunResult, list[TierChange]]] = []

    @hookimpl
    def kehu_tier_run_finished(self, session: Any, run: RunResult, changes: list[TierChange]) -> None:
        assert session.in_transaction()
        self.calls.append((run, list(changes)))


def test_run_finished_gets_the_moves_then_an_empty_list(tiering_app: Any, kehu_register_plugin: Any) -> None:
    listener = Listener()
    kehu_register_plugin(listener, "listener")
    ids = add_customers(tiering_app, ["M1", "M2"])
    record(tiering_app, [purchase(ids["M1"], local(2026, 6, 1, 10, 0), 100)])
    first = run(tiering_app, as_of=AS_OF, methods="abc")
    run_result, changes = listener.calls[-1]
    assert run_result == first and run_result.as_of == AS_OF and run_result.customers == 2
    assert changes == [
        TierChange(ids["M1"], "abc", None, "A", is_tier=False),
        TierChange(ids["M2"], "abc", None, "C", is_tier=False),
    ]
    # M2 buys 500 more: M2 holds 500 of 600 (A); M1 holds the other 100, 83% ahead of it (B).
    record(tiering_app, [purchase(ids["M2"], local(2026, 6, 16, 10, 0), 500)])
    run(tiering_app, as_of=date(2026, 6, 16), methods="abc")
    assert listener.calls[-1][1] == [
        TierChange(ids["M1"], "abc", "A", "B", is_tier=False),
        TierChange(ids["M2"], "abc", "C", "A", is_tier=False),
    ]
    again = run(tiering_app, as_of=date(2026, 6, 16), methods="abc")
    assert listener.calls[-1] == (again, [])  # unchanged: fired, with no change
    assert again.moved == 0 and len(listener.calls) == 3


def test_a_failing_listener_rolls_the_run_back(
    tiering_app: Any, kehu_register_plugin: Any, kehu_cli: Any
) -> None:
    class Refuses:
        @hookimpl
        def kehu_tier_run_finished(self, run: RunResult) -> None:
            raise RuntimeError("the warehouse is closed")

    kehu_register_plugin(Refuses(), "refuses")
    add_customers(tiering_app, ["X1"])
    result = kehu_cli("tier", "run")
    assert result.exit_code == 1 and "refuses" in result.output and "warehouse" in result.output
    with tiering_app.session() as session:
        assert session.scalar(select(func.count()).select_from(runs)) == 0  # no run was kept
