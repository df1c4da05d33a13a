"""Who may run and change the tiering, and whose tiers each user reads.

Two salespeople (li and wang) own one customer each; zhao is a manager; ops is a company role
granted ``tiering.run`` only. A sales user is refused every write with the one-line message
and exit code 1, nothing changed; reads show only their own customer, the other's code is
"not found", and the report's counts and shares are over their customers alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from tiering_helpers import add_customers, purchase, record

from kehu_core import roles, users
from kehu_core.access import Forbidden
from kehu_core.audit import trail
from kehu_core.errors import NotFound
from kehu_core.models import Customer
from kehu_tiering import api
from kehu_tiering.models import runs

AS_OF = "2026-06-15"


@pytest.fixture
def world(tiering_app: Any) -> dict[str, int]:
    """L1 (li's, big buyer), W1 (wang's, small buyer), M1 (nobody's); tiered once by kehu itself."""
    ids = add_customers(tiering_app, ["L1", "W1", "M1"])
    with tiering_app.session() as s:
        users.add_user(tiering_app, s, "boss", roles=["admin"])
        users.add_user(tiering_app, s, "li", roles=["sales"], team="east")
        users.add_user(tiering_app, s, "wang", roles=["sales"], team="west")
        users.add_user(tiering_app, s, "zhao", roles=["manager"])
        roles.add_role(tiering_app, s, "ops", "runs the nightly work")
        roles.grant(tiering_app, s, "ops", "tiering.run")
        users.add_user(tiering_app, s, "ops1", roles=["ops"])
        for code, owner in (("L1", "li"), ("W1", "wang")):
            s.execute(update(Customer).where(Customer.code == code).values(owner=owner))
    when = datetime(2026, 4, 1, tzinfo=UTC)
    record(
        tiering_app,
        [purchase(ids["L1"], when, 9000), purchase(ids["W1"], when, 100), purchase(ids["M1"], when, 500)],
    )
    with tiering_app.session() as s:
        api.run_tiers(tiering_app, s, datetime(2026, 6, 15).date())
    return ids


def _runs(app: Any) -> int:
    with app.session() as s:
        return int(s.scalar(select(func.count()).select_from(runs)) or 0)


def _refused(result: Any, words: str) -> None:
    assert result.exit_code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "nothing was done" in lines[0], result


# -- tiering.run ------------------------------------------------------------------------------


def test_manager_runs_and_sales_is_refused_on_the_cli(tiering_app: Any, world: Any, kehu_cli: Any) -> None:
    before = _runs(tiering_app)
    refused = kehu_cli("--as", "li", "tier", "run", "--as-of", AS_OF)
    _refused(refused, "li (sales) may not run the tiering: it needs permission tiering.run")
    assert _runs(tiering_app) == before
    done = kehu_cli("--as", "zhao", "tier", "run", "--as-of", AS_OF, "--json")
    assert done.exit_code == 0, done
    assert done.json["customers"] == 3 and _runs(tiering_app) == before + 1


def test_sales_is_refused_through_the_api(tiering_app: Any, world: Any) -> None:
    before = _runs(tiering_app)
    li, wang = tiering_app.session(as_user="li"), tiering_app.session(as_user="wang")
    with pytest.raises(Forbidden, match="li \\(sales\\) may not run the tiering"), li as s:
        api.run_tiers(tiering_app, s, datetime(2026, 6, 15).date())
    with pytest.raises(Forbidden, match="may not rebuild the tiering aggregates"), wang as s:
        api.rebuild_aggregates(s)
    assert _runs(tiering_app) == before
    with tiering_app.session(as_user="zhao") as s:
        result = api.run_tiers(tiering_app, s, datetime(2026, 6, 15).date())
        assert result.customers == 3
        assert api.rebuild_aggregates(s) > 0


def test_a_restricted_user_granted_run_is_still_refused(tiering_app: Any, world: Any, kehu_cli: Any) -> None:
    """A run classifies every customer: li, granted tiering.run, still sees only hers."""
    with tiering_app.session() as s:
        roles.grant(tiering_app, s, "sales", "tiering.run")
    before = _runs(tiering_app)
    _refused(kehu_cli("--as", "li", "tier", "run", "--as-of", AS_OF), "record rules hide some")
    _refused(kehu_cli("--as", "li", "tier", "rebuild"), "record rules hide some")
    with pytest.raises(Forbidden, match="record rules hide some"), tiering_app.session(as_user="li") as s:
        api.run_tiers(tiering_app, s, datetime(2026, 6, 15).date())
    assert _runs(tiering_app) == before


def test_rebuild_needs_run(tiering_app: Any, world: Any, kehu_cli: Any) -> None:
    _refused(kehu_cli("--as", "wang", "tier", "rebuild"), "needs permission tiering.run")
    assert kehu_cli("--as", "ops1", "tier", "rebuild").exit_code == 0


# -- tiering.manage: the remembered settings --------------------------------------------------


def test_changing_settings_needs_manage_and_is_audited(tiering_app: Any, world: Any, kehu_cli: Any) -> None:
    # ops holds tiering.run only: the remembered settings, yes; others, no.
    assert kehu_cli("--as", "ops1", "tier", "run", "--as-of", AS_OF).exit_code == 0
    before = _runs(tiering_app)
    refused = kehu_cli("--as", "ops1", "tier", "run", "--as-of", AS_OF, "--window", "6")
    _refused(
        refused, "ops1 (ops) may not change the tiering settings (window): it needs permission tiering.manage"
    )
    assert _runs(tiering_app) == before
    ops = tiering_app.session(as_user="ops1")
    with pytest.raises(Forbidden, match="needs permission tiering.manage"), ops as s:
        api.run_tiers(tiering_app, s, datetime(2026, 6, 15).date(), pyramid_cuts="1,5,20")
    with pytest.raises(Forbidden, match="rules of its own"), tiering_app.session(as_user="ops1") as s:
        api.run_tiers(tiering_app, s, datetime(2026, 6, 15).date(), rules=[])
    assert _runs(tiering_app) == before

    done = kehu_cli("--as", "zhao", "tier", "run", "--as-of", AS_OF, "--window", "6", "--measure", "margin")
    assert done.exit_code == 0, done
    with tiering_app.session() as s:
        window = trail(s, entity="setting", key="tiering.window")
        measure = trail(s, entity="setting", key="tiering.measure")
        assert not trail(s, entity="setting", key="tiering.abc_cuts")
    assert [(e.actor, e.action, e.changes) for e in window] == [("zhao", "set", {"window": [12, 6]})]
    assert measure[0].changes == {"measure": ["revenue", "margin"]}
    # Remembered: the same values again change nothing and need only tiering.run.
    assert kehu_cli("--as", "ops1", "tier", "run", "--as-of", AS_OF).exit_code == 0
    with tiering_app.session() as s:
        assert len(trail(s, entity="setting", key="tiering.window")) == 1


def test_the_daily_job_runs_as_kehu(tiering_app: Any, world: Any) -> None:
    with tiering_app.session() as s:
        assert "tiered 3 customers" in api.retier(tiering_app, s, datetime(2026, 6, 16, tzinfo=UTC))


# -- reads: only the customers the user sees --------------------------------------------------


@pytest.mark.parametrize("command", ["show", "explain", "history", "stats"])
def test_another_owners_customer_is_not_found(
    tiering_app: Any, world: Any, kehu_cli: Any, command: str
) -> None:
    other = kehu_cli("--as", "li", "tier", command, "W1", "--json")
    assert other.exit_code == 1 and "no customer with code 'W1'" in other.stderr, other
    assert "forbidden" not in other.stderr.lower() and "may not" not in other.stderr
    own = kehu_cli("--as", "li", "tier", command, "L1", "--json")
    assert own.exit_code == 0, own
    assert kehu_cli("--as", "zhao", "tier", command, "W1", "--json").exit_code == 0


def test_reads_through_the_api(tiering_app: Any, world: Any) -> None:
    with tiering_app.session(as_user="li") as s:
        for read in (api.customer_tiers, api.tier_history):
            with pytest.raises(NotFound):
                read(s, "W1")
        with pytest.raises(NotFound):
            api.explain_customer(tiering_app, s, "W1")
        assert api.customer_tiers(s, "L1").tier is not None
        ids = list(world.values())
        assert set(api.current_tiers(tiering_app, s, ids)) == {world["L1"]}
        hooked = tiering_app.hook.kehu_customer_tiers(session=s, customer_ids=ids, method="abc")
        assert set(hooked) == {world["L1"]}
    with tiering_app.session(as_user="zhao") as s:
        assert set(api.current_tiers(tiering_app, s, list(world.values()))) == set(world.values())


def test_report_counts_only_visible_customers(
    tiering_app: Any, world: Any, kehu_cli: Any, tmp_path: Path
) -> None:
    mine = kehu_cli("--as", "li", "tier", "report", "--json")
    assert mine.exit_code == 0, mine
    pyramid = [t for t in mine.json["tiers"] if t["method"] == "pyramid"]
    assert sum(t["customers"] for t in pyramid) == 1 and pyramid[0]["customer_pct"] == "100.0"
    assert mine.json["pareto"]["customers"] == 1 and mine.json["pareto"]["total_revenue"] == "9000.00"
    everyone = kehu_cli("--as", "zhao", "tier", "report", "--json").json
    assert everyone["pareto"]["customers"] == 3 and everyone["pareto"]["total_revenue"] == "9600.00"
    with tiering_app.session(as_user="wang") as s:
        report = api.tier_report(tiering_app, s)
        assert report.pareto is not None and report.pareto.total_revenue == 100
        assert api.pareto_curve(tiering_app, s, report) == [10000]
    plot = tmp_path / "li.png"
    assert kehu_cli("--as", "li", "tier", "report", "--plot", str(plot)).exit_code == 0
    assert plot.stat().st_size > 0


def test_moves_in_the_report_are_of_visible_customers(tiering_app: Any, world: Any, kehu_cli: Any) -> None:
    """W1 passes M1 (普通客户 <-> 小客户); L1 stays where it is, so li sees no move."""
    record(tiering_app, [purchase(world["W1"], datetime(2026, 6, 20, tzinfo=UTC), 500)])
    assert kehu_cli("--as", "zhao", "tier", "run", "--as-of", "2026-06-30").exit_code == 0
    moves = kehu_cli("--as", "zhao", "tier", "report", "--json").json["movements"]
    assert {"method": "pyramid", "old_tier": "小客户", "new_tier": "普通客户", "customers": 1} in moves
    assert kehu_cli("--as", "li", "tier", "report", "--json").json["movements"] == []
    wang = kehu_cli("--as", "wang", "tier", "report", "--json").json["movements"]
    assert {"method": "pyramid", "old_tier": "小客户", "new_tier": "普通客户", "customers": 1} in wang
    assert not [m for m in wang if m["old_tier"] == "普通客户" and m["method"] == "pyramid"]


def test_customer_list_tier_column_and_filter(tiering_app: Any, world: Any, kehu_cli: Any) -> None:
    listed = kehu_cli("--as", "li", "customer", "list", "--json")
    assert listed.exit_code == 0, listed
    assert [r["code"] for r in listed.json] == ["L1"] and listed.json[0]["tier"]
    for tier in ("VIP", "小客户", "A", "C"):
        rows = kehu_cli("--as", "wang", "customer", "list", "--filter", f"tier={tier}", "--json").json
        assert {r["code"] for r in rows} <= {"W1"}


def test_profile_card_and_export_of_an_invisible_customer(
    tiering_app: Any, world: Any, kehu_cli: Any
) -> None:
    assert kehu_cli("--as", "li", "customer", "show", "W1").exit_code == 1
    card = kehu_cli("--as", "li", "customer", "show", "L1")
    assert card.exit_code == 0 and "客户分级" in card.output, card


def test_without_users_everyone_is_the_administrator(tiering_app: Any, kehu_cli: Any) -> None:
    add_customers(tiering_app, ["A1"])
    assert kehu_cli("tier", "run", "--as-of", AS_OF, "--window", "6").exit_code == 0
    assert kehu_cli("--as", "anyone", "tier", "run", "--as-of", AS_OF, "--window", "3").exit_code == 0
    assert kehu_cli("tier", "show", "A1").exit_code == 0
    with tiering_app.session() as s:
        assert [e.actor for e in trail(s, entity="setting", key="tiering.window")][-1] == "anyone"
