"""End to end through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update

from kehu_core.customers import get_customer
from kehu_core.interactions import write_interactions
from kehu_core.jobs import run_due
from kehu_forecast.history import load_history, purchase_totals
from kehu_forecast.hooks import kehu_profile_sections
from kehu_forecast.models import market_inputs, opportunities, runs


def _count(app, table) -> int:

    with app.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def _import(kehu_cli, tmp_path, what: str, text: str, encoding: str = "utf-8"):
    """``kehu forecast WHAT import`` of a CSV file holding ``text``."""
    csv = tmp_path / f"{what}.csv"
    csv.write_text(text, encoding=encoding)
    return kehu_cli("forecast", what, "import", str(csv))


def test_history_is_net_of_refunds_per_month_and_category(fc, company):

    with company.session() as session:
        history = load_history(session, "month", as_of=date(2026, 1, 15))
        by_cat = purchase_totals(session, "month", date(2025, 12, 1), date(2026, 1, 1), by_category=True)
        weekly = load_history(session, "week", as_of=date(2026, 1, 15))
    assert history.periods[0] == date(2024, 1, 1) and history.periods[-1] == date(2025, 12, 1)
    rows = dict(zip(history.customers["code"], history.values))
    for code, amounts in fc.series().items():
        assert rows[code].tolist() == [float(a) for a in amounts]
    assert rows["C5"][-1] == -100.0  # the refund reduces its month
    assert set(by_cat["category"]) == {"耗材"}
    assert weekly.values.sum() == history.values.sum()  # the same purchases, in weeks


def test_run_adds_up_at_every_level_and_plots(fc, company, kehu_cli, tmp_path):
    plot = tmp_path / "run.png"
    result = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3", "--plot", str(plot), "--json")
    assert result.exit_code == 0, result.output
    data = result.json
    assert data["first_period"] == "2026-01-01" and len(data["periods"]) == 3
    assert data["classes"]["intermittent"] == 1  # C3
    assert plot.stat().st_size > 10_000
    with company.session() as session:
        fc.check_coherent(session, data["run_id"])
    regions = {r["region"]: Decimal(r["total"]) for r in data["regions"]}
    assert sum(regions.values()) == Decimal(data["total"])


def test_series_too_short_for_a_method_is_refused(fc, company, kehu_cli):

    result = kehu_cli("forecast", "run", "--as-of", "2024-05-15", "--method", "theta")
    assert result.exit_code == 1
    assert "history: too short for method theta: 4 month(s)" in result.output
    assert _count(company, runs) == 0


def test_opportunities_weighted_in_their_close_month(fc, company, kehu_cli):
    add = kehu_cli(
        "forecast",
        "opportunity",
        "add",
        "C1",
        "100000",
        "--probability",
        "60%",
        "--close",
        "2026-02-20",
        "--stage",
        "方案报价",
        "--json",
    )
    assert add.exit_code == 0, add.output
    assert add.json["salesperson"] == "张伟" and add.json["weighted"] == "60000.00"
    # 0% and 100% are probabilities, not outcomes (odoo#127470): both stay open.
    zero = kehu_cli(
        "forecast",
        "opportunity",
        "add",
        "C4",
        "5000",
        "--probability",
        "0",
        "--close",
        "2026-02-01",
        "--json",
    )
    full = kehu_cli(
        "forecast",
        "opportunity",
        "add",
        "C4",
        "7000",
        "--probability",
        "1",
        "--close",
        "2026-03-01",
        "--json",
    )
    assert zero.json["status"] == "open" and full.json["status"] == "open"
    lost = kehu_cli("forecast", "opportunity", "move", full.json["ref"], "--status", "lost", "--json")
    assert (
        lost.json["status"] == "lost"
        and lost.json["probability"] == "1.0000"
        and lost.json["weighted"] == "0.00"
    )
    listed = kehu_cli("forecast", "opportunity", "list", "--status", "open", "--json").json
    assert [o["customer"] for o in listed] == ["C4", "C1"]

    # A run as of a past day knows only the opportunities recorded by then: date them before it.
    with company.session() as session:
        session.execute(update(opportunities).values(created_at=datetime(2026, 1, 10, tzinfo=UTC)))
    with_pipe = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3", "--json").json
    without = kehu_cli(
        "forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3", "--no-pipeline", "--json"
    ).json
    feb = [
        Decimal(a["value"]) - Decimal(b["value"]) for a, b in zip(with_pipe["periods"], without["periods"])
    ]
    assert feb == [Decimal("0.00"), Decimal("60000.00"), Decimal("0.00")]


def test_bad_opportunities_change_nothing(fc, company, kehu_cli, tmp_path):

    bad_prob = kehu_cli(
        "forecast", "opportunity", "add", "C1", "1000", "--probability", "1.5", "--close", "2026-02-01"
    )
    assert bad_prob.exit_code == 1 and "probability: must be between 0 and 1" in bad_prob.output
    unknown = kehu_cli(
        "forecast",
        "opportunity",
        "add",
        "C1",
        "1000",
        "--probability",
        "0.5",
        "--close",
        "2026-02-01",
        "--salesperson",
        "赵六",
    )
    assert (
        unknown.exit_code == 1
        and "salesperson: unknown salesperson" in unknown.output
        and "赵六" in unknown.output
    )
    imported = _import(
        kehu_cli,
        tmp_path,
        "opportunity",
        "customer,amount,probability,close_date,salesperson\n"
        "C1,1000,0.5,2026-02-01,\n"
        "C2,2000,150%,2026-03-01,\n"
        "C9,3000,0.2,2026-03-01,\n",
        encoding="utf-8-sig",
    )
    assert imported.exit_code == 1
    assert "row 3, probability" in imported.output and "row 4, customer: no customer" in imported.output
    assert _count(company, opportunities) == 0
    good = "customer,amount,probability,close_date\nC1,1000,0.5,2026-02-01\nC2,2000,50%,2026-03-01\n"
    assert _import(kehu_cli, tmp_path, "opportunity", good).exit_code == 0
    assert _count(company, opportunities) == 2


def test_import_mixes_rows_with_and_without_a_ref(fc, company, kehu_cli, tmp_path):
    imported = _import(
        kehu_cli,
        tmp_path,
        "opportunity",
        "ref,customer,amount,probability,close_date\n"
        "DEAL-7,C1,1000,0.5,2026-02-01\n"
        ",C2,2000,50%,2026-03-01\n"
        "DEAL-9,C1,3000,0.2,2026-03-01\n"
        ",C2,4000,0.1,2026-04-01\n",
    )
    assert imported.exit_code == 0, imported.output
    listed = kehu_cli("forecast", "opportunity", "list", "--json").json
    refs = {o["amount"]: o["ref"] for o in listed}
    assert len(listed) == 4 and len(set(refs.values())) == 4
    assert refs["1000.00"] == "DEAL-7" and refs["3000.00"] == "DEAL-9"
    assert all(refs[a].startswith("OPP-") for a in ("2000.00", "4000.00"))


def test_negative_market_potential_is_refused(fc, company, kehu_cli, tmp_path):

    result = kehu_cli(
        "forecast", "market", "set", "2026-01", "region", "华东", "--potential", "-5000", "--share", "0.1"
    )
    # MONEY refuses it while parsing the option: a usage error (exit 2) naming the option.
    assert (
        result.exit_code == 2 and "'--potential'" in result.output and "must not be negative" in result.output
    )
    imported = _import(
        kehu_cli,
        tmp_path,
        "market",
        "period,dimension,key,potential,share\n2026-01,region,华东,100000,0.1\n2026-02,region,华东,-1,0.1\n",
    )
    assert imported.exit_code == 1 and "row 3, potential" in imported.output
    assert _count(company, market_inputs) == 0
    good = tmp_path / "good.csv"
    good.write_text(
        "period,dimension,key,potential,share\n2026-01,region,华东,100000,0.1\n", encoding="utf-8"
    )
    assert kehu_cli("forecast", "market", "import", str(good), "--json").json == {"imported": 1}
    assert _count(company, market_inputs) == 1


def test_top_down_gap_reconcile_targets_track(fc, company, kehu_cli, tmp_path):

    fc.set_market(kehu_cli)
    bu = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3", "--json").json
    td = kehu_cli(
        "forecast",
        "topdown",
        "--as-of",
        fc.AS_OF,
        "--horizon",
        "3",
        "--allocation",
        "proportion_averages",
        "--json",
    )
    assert td.exit_code == 0, td.output
    regions = {r["region"]: r["total"] for r in td.json["regions"]}
    assert regions == {"华东": "30000.00", "华北": "6000.00"}  # potential × share, exactly, over 3 months
    with company.session() as session:
        fc.check_coherent(session, td.json["run_id"])

    plot = tmp_path / "gap.png"
    gap = kehu_cli("forecast", "gap", "--threshold", "10", "--plot", str(plot), "--json")
    assert gap.exit_code == 0, gap.output
    rows = {(r["level"], r["node"]): r for r in gap.json["rows"]}
    total = rows[("company", "公司合计")]
    assert Decimal(total["gap"]) == Decimal(total["top_down"]) - Decimal(total["bottom_up"])
    assert total["flagged"] == (abs(total["percent"]) >= 10)
    assert ("salesperson", "华东/张伟") in rows and plot.exists()

    for method in ("bottom-up", "top-down", "middle-out", "mint-ols", "mint-wls"):
        rec = kehu_cli("forecast", "reconcile", "--method", method, "--json")
        assert rec.exit_code == 0, (method, rec.output)
        with company.session() as session:
            fc.check_coherent(session, rec.json["run_id"])
        if method == "bottom-up":
            assert rec.json["total"] == bu["total"]
        if method == "top-down":
            assert rec.json["total"] == "36000.00"
        if method == "middle-out":
            assert {r["region"]: r["total"] for r in rec.json["regions"]} == regions

    targets = kehu_cli("forecast", "targets", "--period", "month", "--json")
    assert targets.exit_code == 0, targets.output
    jan = [t for t in targets.json if t["period_start"] == "2026-01-01"]
    assert {t["salesperson"] for t in jan} >= {"张伟", "李娜"}
    zhang = next(t for t in jan if t["salesperson"] == "张伟")
    assert "S: 张伟" in zhang["note"] and "T: by 2026-01-31" in zhang["note"] and zhang["customers"] == 2

    with company.session() as session:
        write_interactions(
            company, session, fc.month_rows(company.ids["C1"], "C1", [1500.0], start=(2026, 1)), source="test"
        )
    track = kehu_cli(
        "forecast", "track", "--as-of", "2026-01-15", "--plot", str(tmp_path / "track.png"), "--json"
    )
    assert track.exit_code == 0, track.output
    row = next(r for r in track.json if r["salesperson"] == "张伟" and r["period_start"] == "2026-01-01")
    assert row["actual"] == "1500.00"
    assert row["elapsed_pct"] == round(15 / 31 * 100, 1)
    assert row["status"] in ("on track", "behind")
    assert (tmp_path / "track.png").exists()


def test_profile_section_and_refresh_job(fc, company, kehu_cli):

    empty = kehu_cli("customer", "show", "C1", "--json")
    assert empty.exit_code == 0, empty.output
    now = datetime(2026, 1, 15, 2, tzinfo=UTC)
    first = run_due(company, now=now, names=["forecast.refresh"], force=True)
    assert first[0].status == "ok", first[0].message
    again = run_due(company, now=now, names=["forecast.refresh"], force=True)
    assert "already covers" in again[0].message
    assert _count(company, runs) == 1
    with company.session() as session:
        section = kehu_profile_sections(session, get_customer(session, "C1"))[0]
    assert section.data["run_id"] is not None and section.key == "forecast"
