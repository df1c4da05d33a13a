"""Who may do and see what in the forecast plugin, through the CLI and the Python API.

Two salespeople own two customers each (zhangwei: C1, C2; lina: C4, C5); C3 belongs to a
salesperson who is not a user; mgr is a manager, boss the administrator.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select, update

from kehu_core import audit
from kehu_core.access import Forbidden, acting
from kehu_core.customers import get_customer
from kehu_core.errors import NotFound, ValidationError
from kehu_core.jobs import run_due
from kehu_core.models import AuditEntry, Customer
from kehu_core.users import add_user
from kehu_forecast import api
from kehu_forecast.models import market_inputs, opportunities, runs, targets

AS_OF = date(2026, 1, 15)
#: Names that must never appear in what zhangwei is shown.
OTHERS = ("C3", "C4", "C5", "lina", "王芳", "北京", "天津", "华北")
MINE = {"C1", "C2"}
FORBIDDEN_COMPANY = (
    "zhangwei (sales) may not see forecasts above the salesperson (regions, the company): "
    "it needs permission forecast.company"
)


def _count(app, table) -> int:
    with app.session() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def _audit_count(app) -> int:
    with app.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _refused(result, message: str) -> None:
    """Exit code 1 and one line naming what was refused."""
    assert result.exit_code == 1, result.output
    text = result.output.strip()
    assert message in text, text
    assert len(text.splitlines()) == 1, text


@pytest.fixture
def people(company):
    """Users, and the customers' owners set to them."""
    with company.session() as session:
        add_user(company, session, "boss", roles=["admin"])
        add_user(company, session, "mgr", roles=["manager"])
        add_user(company, session, "zhangwei", roles=["sales"], team="east")
        add_user(company, session, "lina", roles=["sales"], team="north")
        add_user(company, session, "kefu", roles=["service"])
        session.execute(update(Customer).where(Customer.code.in_(["C1", "C2"])).values(owner="zhangwei"))
        session.execute(update(Customer).where(Customer.code.in_(["C4", "C5"])).values(owner="lina"))
    return company


@pytest.fixture
def planned(people):
    """A bottom-up run, market inputs, a top-down run, a reconciled run, targets and one
    opportunity per salesperson, all made by the manager."""
    with people.session(as_user="mgr") as session:
        api.run_forecast(people, session, api.Options(as_of=AS_OF, horizon=3))
        for region, potential, share in (("华东", "100000", "0.10"), ("华北", "40000", "0.05")):
            values = {"dimension": "region", "key": region, "potential": potential, "share": share}
            api.set_market_inputs(session, "2026-01", values, months=3)
        api.top_down(people, session, dimension="region", horizon=3, as_of=AS_OF)
        api.reconcile(people, session, "bottom-up")
        api.set_targets(people, session, grouping="month")
        for code, ref in (("C1", "OPP-Z"), ("C4", "OPP-L"), ("C3", "OPP-W")):
            api.add_opportunity(
                session,
                {
                    "customer": code,
                    "amount": "10000",
                    "probability": "0.5",
                    "close_date": "2026-02-10",
                    "ref": ref,
                },
            )
    return people


def test_the_permissions_are_declared_with_their_default_roles(people, kehu_cli):
    result = kehu_cli("--as", "boss", "roles", "--json")
    assert result.exit_code == 0, result.output
    text = json.dumps(result.json, ensure_ascii=False)
    for name in ("forecast.run", "forecast.plan", "forecast.opportunity", "forecast.company"):
        assert name in text
    with people.session(as_user="mgr") as session:
        manager = acting(session)
    with people.session(as_user="zhangwei") as session:
        sales = acting(session)
    for name in ("forecast.run", "forecast.plan", "forecast.opportunity", "forecast.company"):
        assert manager.can(name)
    assert sales.can("forecast.opportunity")
    assert not any(sales.can(n) for n in ("forecast.run", "forecast.plan", "forecast.company"))


def test_forecast_runs_need_forecast_run(people, kehu_cli):
    before = (_count(people, runs), _audit_count(people))
    as_of = AS_OF.isoformat()
    for args in (
        ("run", "--as-of", as_of, "--horizon", "2"),
        ("topdown", "--dimension", "region", "--as-of", as_of),
        ("reconcile",),
    ):
        _refused(
            kehu_cli("--as", "zhangwei", "forecast", *args),
            "zhangwei (sales) may not make forecast runs: it needs permission forecast.run",
        )
    with people.session(as_user="zhangwei") as session, pytest.raises(Forbidden, match="forecast.run"):
        api.run_forecast(people, session, api.Options(as_of=AS_OF, horizon=2))
    with people.session(as_user="kefu") as session, pytest.raises(Forbidden, match="forecast.run"):
        api.reconcile(people, session)
    assert (_count(people, runs), _audit_count(people)) == before

    made = kehu_cli("--as", "mgr", "forecast", "run", "--as-of", as_of, "--horizon", "2", "--json")
    assert made.exit_code == 0, made.output
    listed = kehu_cli("--as", "mgr", "forecast", "runs", "--json").json
    assert listed[0]["by"] == "mgr" and listed[0]["source"] == "cli"


def test_targets_and_market_figures_need_forecast_plan_and_are_audited(planned, kehu_cli, tmp_path):
    before = (_count(planned, market_inputs), _count(planned, targets), _audit_count(planned))
    _refused(
        kehu_cli(
            "--as",
            "zhangwei",
            "forecast",
            "market",
            "set",
            "2026-01",
            "region",
            "华东",
            "--potential",
            "1",
            "--share",
            "0.1",
        ),
        "zhangwei (sales) may not change market figures: it needs permission forecast.plan",
    )
    csv = tmp_path / "market.csv"
    csv.write_text("period,dimension,key,potential,share\n2026-01,region,华东,1,0.1\n", encoding="utf-8")
    _refused(
        kehu_cli("--as", "zhangwei", "forecast", "market", "import", str(csv)),
        "zhangwei (sales) may not change market figures",
    )
    _refused(
        kehu_cli("--as", "zhangwei", "forecast", "targets", "--period", "month"),
        "zhangwei (sales) may not set sales targets: it needs permission forecast.plan",
    )
    with planned.session(as_user="zhangwei") as session:
        with pytest.raises(Forbidden, match="forecast.plan"):
            api.set_market_inputs(session, "2026-01", {"dimension": "company", "growth": "0.1"})
        with pytest.raises(Forbidden, match="forecast.plan"):
            api.set_targets(planned, session)
    assert (_count(planned, market_inputs), _count(planned, targets), _audit_count(planned)) == before

    changed = kehu_cli(
        "--as",
        "mgr",
        "forecast",
        "market",
        "set",
        "2026-01",
        "region",
        "华东",
        "--potential",
        "120000",
        "--share",
        "0.1",
    )
    assert changed.exit_code == 0, changed.output
    assert kehu_cli("--as", "mgr", "forecast", "targets", "--period", "month").exit_code == 0
    with planned.session(as_user="mgr") as session:
        market = audit.trail(session, entity="forecast.market", key="2026-01/region/华东")
        target = audit.trail(session, entity="forecast.target")
    assert [(e.actor, e.action) for e in market] == [("mgr", "set"), ("mgr", "changed")]
    assert market[-1].changes == {"potential": ["100000.00", "120000.00"]}
    assert {e.action for e in target} == {"set", "replaced"}
    assert all(e.actor == "mgr" for e in target)
    assert any(k.startswith("zhangwei/2026-") for k in (e.key for e in target))
    assert "amount" in target[0].changes and "note" not in target[0].changes


def test_sales_work_the_pipeline_of_their_own_customers_only(planned, kehu_cli, tmp_path):
    before = _count(planned, opportunities)
    added = kehu_cli(
        "--as",
        "zhangwei",
        "forecast",
        "opportunity",
        "add",
        "C2",
        "5000",
        "--close",
        "2026-03-01",
        "--probability",
        "40%",
        "--json",
    )
    assert added.exit_code == 0, added.output
    assert added.json["salesperson"] == "zhangwei"
    moved = kehu_cli("--as", "zhangwei", "forecast", "opportunity", "move", "OPP-Z", "--status", "won")
    assert moved.exit_code == 0, moved.output
    assert _count(planned, opportunities) == before + 1

    other = kehu_cli(
        "--as",
        "zhangwei",
        "forecast",
        "opportunity",
        "add",
        "C4",
        "5000",
        "--close",
        "2026-03-01",
        "--probability",
        "40%",
    )
    assert other.exit_code == 1 and "no customer with this code" in other.output
    missing = kehu_cli("--as", "zhangwei", "forecast", "opportunity", "move", "OPP-L", "--status", "won")
    assert missing.exit_code == 1 and "no opportunity 'OPP-L'" in missing.output
    csv = tmp_path / "opps.csv"
    csv.write_text("customer,amount,probability,close_date\nC1,100,0.5,2026-03-01\nC5,100,0.5,2026-03-01\n")
    imported = kehu_cli("--as", "zhangwei", "forecast", "opportunity", "import", str(csv))
    assert imported.exit_code == 1 and "no customer with this code" in imported.output
    _refused(
        kehu_cli("--as", "kefu", "forecast", "opportunity", "move", "OPP-Z", "--status", "lost"),
        "kefu (service) may not change opportunities: it needs permission forecast.opportunity",
    )
    with planned.session(as_user="zhangwei") as session:
        with pytest.raises(ValidationError, match="no customer with this code"):
            api.add_opportunity(
                session, {"customer": "C4", "amount": "1", "probability": "0.1", "close_date": "2026-03-01"}
            )
        with pytest.raises(NotFound):
            api.move_opportunity(session, "OPP-W", {"status": "lost"})
    with planned.session(as_user="kefu") as session, pytest.raises(Forbidden, match="forecast.opportunity"):
        api.add_opportunity(
            session, {"customer": "C1", "amount": "1", "probability": "0.1", "close_date": "2026-03-01"}
        )
    assert _count(planned, opportunities) == before + 1
    with planned.session() as session:
        status = dict(session.execute(select(opportunities.c.ref, opportunities.c.status)).all())
    assert status["OPP-L"] == "open" and status["OPP-W"] == "open" and status["OPP-Z"] == "won"


def test_levels_above_the_salesperson_need_forecast_company(planned, kehu_cli):
    for args in (
        ("show",),
        ("show", "--level", "company"),
        ("gap",),
        ("gap", "--level", "customer", "--level", "region"),
        ("history",),
        ("history", "--level", "company", "--csv"),
        ("backtest", "--level", "region"),
        ("market", "list"),
    ):
        result = kehu_cli("--as", "zhangwei", "forecast", *args)
        message = (
            FORBIDDEN_COMPANY if args[0] != "market" else "zhangwei (sales) may not see the market figures"
        )
        _refused(result, message)
    with planned.session(as_user="zhangwei") as session:
        for call in (
            lambda: api.gap(session),
            lambda: api.run_rows(session, "region"),
            lambda: api.history_rows(session, level="company"),
            lambda: api.list_market_inputs(session),
            lambda: api.company_history(session),
        ):
            with pytest.raises(Forbidden, match="forecast.company"):
                call()
    manager = kehu_cli("--as", "mgr", "forecast", "gap", "--json")
    assert manager.exit_code == 0, manager.output
    assert {r["level"] for r in manager.json["rows"]} == {"company", "region", "salesperson"}
    assert kehu_cli("--as", "mgr", "forecast", "show", "--level", "company").exit_code == 0


def _clean(text: str) -> None:
    for name in OTHERS:
        assert name not in text, (name, text)


def test_a_salesperson_sees_only_their_own_customers_on_every_read_path(planned, kehu_cli, tmp_path):
    with planned.session() as session:
        everyone = api.newest_run(session, kind="bottomup")
    mine = {
        code: int(everyone.value[i].sum())
        for i, code in zip(everyone.hierarchy.levels["customer"], everyone.hierarchy.keys[-5:])
        if code in MINE
    }
    sales = ("--as", "zhangwei", "forecast")
    outputs = {}
    for args in (
        ("runs", "--json"),
        ("runs", "--csv"),
        ("show", "--level", "customer", "--json"),
        ("show", "--level", "customer", "--csv"),
        ("show", "--level", "salesperson", "--json"),
        ("history", "--level", "customer", "--json"),
        ("history", "--level", "salesperson", "--by-category", "--csv"),
        ("gap", "--level", "customer", "--level", "salesperson", "--json"),
        ("gap", "--level", "customer", "--csv"),
        ("targets", "--list", "--json"),
        ("track", "--as-of", "2026-02-15", "--json", "--plot", str(tmp_path / "track.png")),
        ("opportunity", "list", "--json"),
        ("opportunity", "list", "--customer", "C4", "--json"),
        (
            "backtest",
            "--level",
            "customer",
            "--horizon",
            "1",
            "--folds",
            "1",
            "--methods",
            "average",
            "--json",
        ),
    ):
        result = kehu_cli(*sales, *args)
        assert result.exit_code == 0, (args, result.output)
        _clean(result.output)
        outputs[args] = result
    nodes = {r["node"] for r in outputs[("show", "--level", "customer", "--json")].json}
    assert nodes == MINE
    people_nodes = outputs[("show", "--level", "salesperson", "--json")].json
    assert [r["node"] for r in people_nodes] == ["华东/zhangwei"]
    assert int(round(float(people_nodes[0]["total"]) * 100)) == sum(mine.values())
    run = outputs[("runs", "--json")].json
    bottomup = next(r for r in run if r["kind"] == "bottomup")
    assert int(round(float(bottomup["total"]) * 100)) == sum(mine.values())
    assert {r["node"] for r in outputs[("history", "--level", "customer", "--json")].json} == MINE
    gap = outputs[("gap", "--level", "customer", "--level", "salesperson", "--json")].json
    assert {r["node"] for r in gap["rows"]} == MINE | {"华东/zhangwei"}
    assert {r["salesperson"] for r in outputs[("targets", "--list", "--json")].json} == {"zhangwei"}
    assert {
        r["salesperson"]
        for r in outputs[
            ("track", "--as-of", "2026-02-15", "--json", "--plot", str(tmp_path / "track.png"))
        ].json
    } == {"zhangwei"}
    assert [o["ref"] for o in outputs[("opportunity", "list", "--json")].json] == ["OPP-Z"]
    assert outputs[("opportunity", "list", "--customer", "C4", "--json")].json == []
    assert (
        outputs[
            (
                "backtest",
                "--level",
                "customer",
                "--horizon",
                "1",
                "--folds",
                "1",
                "--methods",
                "average",
                "--json",
            )
        ].json[0]["series"]
        == 2
    )

    card = kehu_cli("--as", "zhangwei", "customer", "show", "C1", "--json")
    assert card.exit_code == 0, card.output
    assert "销售预测" in card.output or "forecast" in card.output
    hidden = kehu_cli("--as", "zhangwei", "customer", "show", "C4")
    assert hidden.exit_code == 1 and "no customer with code 'C4'" in hidden.output

    with planned.session(as_user="zhangwei") as session:
        plan = api.newest_run(session)
        assert set(plan.hierarchy.customers["code"]) == MINE
        assert int(plan.value[0].sum()) == sum(mine.values()) or plan.kind != "bottomup"
        assert {o.customer for o in api.list_opportunities(session)} == {"C1"}
        assert {t["salesperson"] for t in api.list_targets(session)} == {"zhangwei"}
        assert {p.salesperson for p in api.track(session, as_of=date(2026, 2, 15))} == {"zhangwei"}
        _, rows = api.history_rows(session, level="customer")
        assert {r["node"] for r in rows} == MINE
        assert set(api.load_history(session, as_of=AS_OF).customers["code"]) == MINE
        assert {r.node for r in api.gap(session, levels=("customer",)).rows} == MINE
        with pytest.raises(NotFound, match="no customer with code 'C5'"):
            get_customer(session, "C5")
    with planned.session(as_user="mgr") as session:
        assert len(api.list_opportunities(session)) == 3
        assert {t["salesperson"] for t in api.list_targets(session)} == {"zhangwei", "lina", "王芳"}


def test_scheduled_jobs_run_as_kehu_itself_with_users(planned):
    with planned.session() as session:
        session.execute(update(runs).values(history_end=date(2020, 1, 1)))
    outcomes = {
        o.name: o for o in run_due(planned, names=["forecast.refresh", "forecast.targets"], force=True)
    }
    assert outcomes["forecast.refresh"].status == "ok", outcomes["forecast.refresh"].message
    assert outcomes["forecast.targets"].status == "ok", outcomes["forecast.targets"].message
    with planned.session(as_user="zhangwei") as session, pytest.raises(Forbidden, match="forecast.run"):
        api.update_target_statuses(planned, session)
