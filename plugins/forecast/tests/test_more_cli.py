"""More of the CLI: weekly runs, stated scenarios, history by category, growth and industry
top-down inputs, bottom-up shares, backtest, runs and show."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from kehu_core.customers import edit_customer
from kehu_core.demo import load_demo
from kehu_core.interactions import write_interactions
from kehu_core.models import Customer
from kehu_forecast.models import opportunities as T


def test_weekly_run_with_stated_scenarios(fc, company, kehu_cli):
    result = kehu_cli(
        "forecast",
        "run",
        "--freq",
        "week",
        "--as-of",
        fc.AS_OF,
        "--horizon",
        "4",
        "--optimistic",
        "0.15",
        "--pessimistic",
        "-0.2",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = result.json
    assert data["freq"] == "week" and data["first_period"] == "2026-01-12"  # the Monday of the as-of week
    total = Decimal(data["total"])
    assert abs(Decimal(data["high"]) - total * Decimal("1.15")) <= Decimal("0.05")
    assert abs(Decimal(data["low"]) - total * Decimal("0.80")) <= Decimal("0.05")
    with company.session() as session:
        fc.check_coherent(session, data["run_id"])
    bad = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--pessimistic", "0.3")
    assert bad.exit_code == 1 and "pessimistic: must be between -1 and 0" in bad.output


def test_history_by_category(fc, company, kehu_cli):

    with company.session() as session:
        write_interactions(
            company,
            session,
            fc.month_rows(company.ids["C4"], "C4x", [250.0], start=(2025, 12), category="服务"),
            source="test",
        )
    result = kehu_cli(
        "forecast",
        "history",
        "--level",
        "salesperson",
        "--by-category",
        "--periods",
        "2",
        "--as-of",
        fc.AS_OF,
        "--json",
    )
    assert result.exit_code == 0, result.output
    rows = {(r["node"], r["category"]): r for r in result.json}
    assert rows[("华北/李娜", "服务")]["2025-12-01"] == "250.00"
    # 李娜's customers in December: C4 1540 and C5's refund of -100.
    assert rows[("华北/李娜", "耗材")]["2025-12-01"] == "1440.00"


def test_top_down_from_growth_by_hand(fc, company, kehu_cli):
    r = kehu_cli("forecast", "market", "set", "2026-01", "company", "-", "--growth", "10%", "--months", "3")
    assert r.exit_code == 0, r.output
    td = kehu_cli("forecast", "topdown", "--as-of", fc.AS_OF, "--horizon", "3", "--json")
    assert td.exit_code == 0, td.output
    last_year = [sum(Decimal(str(s[12 + k])) for s in fc.series().values()) for k in range(3)]
    expected = [(v * Decimal("1.1")).quantize(Decimal("0.01")) for v in last_year]
    assert [Decimal(p["value"]) for p in td.json["periods"]] == expected


def test_top_down_by_industry_and_by_bottom_up_shares(fc, company, kehu_cli):

    with company.session() as session:
        for code, industry in (
            ("C1", "零售"),
            ("C2", "零售"),
            ("C3", "制造"),
            ("C4", "制造"),
            ("C5", "医药"),
        ):
            edit_customer(company, session, code, {"industry": industry})
    for industry, potential in (("零售", "20000"), ("制造", "30000"), ("医药", "1000")):
        r = kehu_cli(
            "forecast",
            "market",
            "set",
            "2026-01",
            "industry",
            industry,
            "--potential",
            potential,
            "--share",
            "0.5",
            "--months",
            "2",
        )
        assert r.exit_code == 0, r.output
    missing = kehu_cli("forecast", "topdown", "--as-of", fc.AS_OF, "--horizon", "3")
    assert (
        missing.exit_code == 1
        and "market input: missing for industry" in missing.output
        and "2026-03" in missing.output
    )
    bu = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "2", "--no-pipeline", "--json").json
    td = kehu_cli(
        "forecast", "topdown", "--as-of", fc.AS_OF, "--horizon", "2", "--allocation", "bottomup", "--json"
    )
    assert td.exit_code == 0, td.output
    assert td.json["total"] == str(Decimal("51000.00") * 2 / 2)  # (20000 + 30000 + 1000) × 0.5 × 2 months
    show = kehu_cli("forecast", "show", str(td.json["run_id"]), "--level", "customer", "--json").json
    bu_show = kehu_cli("forecast", "show", str(bu["run_id"]), "--level", "customer", "--json").json
    c1, c2 = (next(r for r in show if r["node"] == c) for c in ("C1", "C2"))
    b1, b2 = (next(r for r in bu_show if r["node"] == c) for c in ("C1", "C2"))
    # 零售 (C1 + C2) gets 10,000.00 a month, split in the bottom-up proportion of C1 and C2.
    assert Decimal(c1["2026-01-01"]) + Decimal(c2["2026-01-01"]) == Decimal("10000.00")
    share = Decimal(b1["2026-01-01"]) / (Decimal(b1["2026-01-01"]) + Decimal(b2["2026-01-01"]))
    assert abs(Decimal(c1["2026-01-01"]) - share * 10000) <= Decimal("0.01")
    runs = kehu_cli("forecast", "runs", "--json").json
    assert [r["kind"] for r in runs] == ["topdown", "bottomup"]


def test_backtest_command(fc, company, kehu_cli):
    result = kehu_cli(
        "forecast",
        "backtest",
        "--level",
        "customer",
        "--horizon",
        "3",
        "--folds",
        "2",
        "--methods",
        "auto,croston",
        "--as-of",
        fc.AS_OF,
        "--json",
    )
    assert result.exit_code == 0, result.output
    scores = {r["method"]: r for r in result.json}
    assert set(scores) == {"auto", "croston", "snaive"} and scores["snaive"]["relative_mase"] == 1.0
    # C3 repeats its year exactly and C5 is flat: no in-sample error to scale by, not scored.
    assert all(r["series"] == 3 and r["mase"] is not None for r in result.json)
    short = kehu_cli("forecast", "backtest", "--as-of", "2024-12-15", "--methods", "theta")
    assert short.exit_code == 1 and "history: too short for 3 fold(s) of 3 month(s): 11" in short.output


def test_opportunity_move_refusals(fc, company, kehu_cli):
    added = kehu_cli(
        "forecast",
        "opportunity",
        "add",
        "C2",
        "8000",
        "--stage",
        "商务谈判",
        "--close",
        "2026-03-01",
        "--json",
    )
    assert added.exit_code == 0 and added.json["probability"] == "0.7500"  # the stage's default
    ref = added.json["ref"]
    assert (
        "no opportunity 'OPP-99999'"
        in kehu_cli("forecast", "opportunity", "move", "OPP-99999", "--stage", "线索").output
    )
    bad = kehu_cli("forecast", "opportunity", "move", ref, "--probability", "-0.1", "--salesperson", "无名氏")
    assert (
        bad.exit_code == 1
        and "probability: must be between 0 and 1" in bad.output
        and "salesperson: unknown" in bad.output
    )
    after = kehu_cli("forecast", "opportunity", "list", "--json").json
    assert after[0]["probability"] == "0.7500" and after[0]["salesperson"] == "张伟"


def test_demo_shows_a_gap_and_forget_erases_notes(kehu_app, kehu_install, kehu_cli):

    kehu_install("forecast")
    with kehu_app.session() as session:
        summary = load_demo(kehu_app, session, customers=40)
    line = next(x for x in summary.lines if x.startswith("forecast:"))
    assert "bottom-up" in line and "top-down" in line and "flagged" in line
    gap = kehu_cli("forecast", "gap", "--level", "company", "--json").json
    assert gap["rows"][0]["gap"] != "0.00"
    opp = kehu_cli("forecast", "opportunity", "list", "--json").json[0]
    kehu_cli("forecast", "opportunity", "move", opp["ref"], "--stage", "线索")
    with kehu_app.session() as session:
        session.execute(T.update().values(note="联系人 王先生 13800000000"))
    forgot = kehu_cli("customer", "forget", opp["customer"], "--yes")
    assert forgot.exit_code == 0, forgot.output

    with kehu_app.session() as session:
        cid = session.scalar(select(Customer.id).where(Customer.code == opp["customer"]))
        notes = dict(session.execute(select(T.c.customer_id, T.c.note)).all())
    assert notes[cid] is None
    assert all(n for c, n in notes.items() if c != cid)


def test_region_and_salesperson_names_with_a_slash(fc, company, kehu_cli):

    with company.session() as session:
        edit_customer(company, session, "C3", {"region": "华南/广州", "owner": "王/芳"})
    bu = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "2", "--json")
    assert bu.exit_code == 0, bu.output
    rec = kehu_cli(
        "forecast", "reconcile", "--method", "middle-out", "--middle-level", "salesperson", "--json"
    )
    assert rec.exit_code == 0, rec.output
    shown = kehu_cli("forecast", "show", str(rec.json["run_id"]), "--level", "salesperson", "--json").json
    assert {"node": "华南/广州/王/芳", "parent": "华南/广州"}.items() <= next(
        r for r in shown if r["node"] == "华南/广州/王/芳"
    ).items()
    with company.session() as session:
        fc.check_coherent(session, rec.json["run_id"])
