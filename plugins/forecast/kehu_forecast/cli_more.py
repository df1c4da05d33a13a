"""``kehu forecast`` subcommands beyond ``run``: pipeline, market inputs, top-down, gap,
reconcile, targets, track, backtest. Parsing and printing only; the rules live in the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import click

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.params import DAY, MONEY
from kehu_core.cli.output import emit_json, emit_pairs, emit_rows, json_option, list_output_options
from kehu_forecast.cli import _emit_plan_summary, forecast

OPP_KEYS = [
    "ref",
    "customer",
    "customer_name",
    "salesperson",
    "amount",
    "stage",
    "probability",
    "weighted",
    "close_date",
    "status",
]


def _opp_rows(opps: list[Any]) -> list[dict[str, Any]]:
    from attrs import asdict

    return [asdict(o) for o in opps]


@forecast.group("opportunity")
def opportunity() -> None:
    """The sales pipeline: opportunities with stage, probability and close date.

    \b
    kehu forecast opportunity add C0001 120000 --probability 60% --close 2026-12-20
    kehu forecast opportunity move OPP-00001 --stage 商务谈判 --probability 0.75
    kehu forecast opportunity move OPP-00001 --status won
    """


@opportunity.command("add")
@click.argument("customer")
@click.argument("amount", type=MONEY)
@click.option("--close", "close_date", required=True, type=DAY, help="Expected close date.")
@click.option("--probability", help="0.6 or 60% (default: the stage's).")
@click.option("--stage", help="Stage name (线索, 需求确认, 方案报价, 商务谈判, 签约中, or your own).")
@click.option("--salesperson", help="Default: the customer's owner.")
@click.option("--ref", help="Your reference (default OPP-nnnnn).")
@click.option("--note")
@json_option
def opp_add(
    customer: str,
    amount: Decimal,
    close_date: date,
    probability: str | None,
    stage: str | None,
    salesperson: str | None,
    ref: str | None,
    note: str | None,
    as_json: bool,
) -> None:
    """Add an open opportunity for CUSTOMER (code) worth AMOUNT."""
    from kehu_forecast.pipeline import add_opportunity

    values = {
        "customer": customer,
        "amount": amount,
        "close_date": close_date,
        "probability": probability,
        "stage": stage,
        "salesperson": salesperson,
        "ref": ref,
        "note": note,
    }
    with transaction() as (_app, session):
        opp = add_opportunity(session, {k: v for k, v in values.items() if v is not None})
    _emit_opp(opp, as_json)


def _emit_opp(opp: Any, as_json: bool) -> None:
    from attrs import asdict

    if as_json:
        emit_json(asdict(opp))
    else:
        emit_pairs(f"opportunity {opp.ref}", [(k, v) for k, v in asdict(opp).items() if k != "ref"])


@opportunity.command("move")
@click.argument("ref")
@click.option("--stage")
@click.option("--probability", help="0.6 or 60%.")
@click.option("--status", type=click.Choice(["open", "won", "lost"]), help="Only this says won or lost.")
@click.option("--close", "close_date", type=DAY)
@click.option("--amount", type=MONEY)
@click.option("--salesperson")
@json_option
def opp_move(
    ref: str,
    stage: str | None,
    probability: str | None,
    status: str | None,
    close_date: date | None,
    amount: Decimal | None,
    salesperson: str | None,
    as_json: bool,
) -> None:
    """Move opportunity REF to another stage, probability, close date or status."""
    from kehu_forecast.pipeline import move_opportunity

    values = {
        "stage": stage,
        "probability": probability,
        "status": status,
        "close_date": close_date,
        "amount": amount,
        "salesperson": salesperson,
    }
    with transaction() as (_app, session):
        opp = move_opportunity(session, ref, {k: v for k, v in values.items() if v is not None})
    _emit_opp(opp, as_json)


@opportunity.command("list")
@click.option("--status", type=click.Choice(["open", "won", "lost"]))
@click.option("--salesperson")
@click.option("--customer", metavar="CODE")
@list_output_options
def opp_list(
    status: str | None, salesperson: str | None, customer: str | None, as_json: bool, as_csv: bool
) -> None:
    """Opportunities by close date; ``weighted`` is amount × probability for open ones."""
    from kehu_forecast.pipeline import list_opportunities

    with transaction() as (_app, session):
        rows = _opp_rows(
            list_opportunities(session, status=status, salesperson=salesperson, customer=customer)
        )
    emit_rows(OPP_KEYS, rows, OPP_KEYS, as_json=as_json, as_csv=as_csv)


@opportunity.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--encoding", default="utf-8-sig", show_default=True, help="gbk for files from Chinese Excel.")
@json_option
def opp_import(file: str, encoding: str, as_json: bool) -> None:
    """Import opportunities from CSV (ref, customer, salesperson, amount, stage, probability,
    close_date, status, note). Any bad row: nothing is written, and every problem is named."""
    from kehu_forecast.pipeline import import_opportunities

    with transaction() as (_app, session):
        count = import_opportunities(session, file, encoding)
    emit_json({"imported": count}) if as_json else click.echo(
        f"imported {count} opportunit{'y' if count == 1 else 'ies'}"
    )


@forecast.group("market")
def market() -> None:
    """Top-down inputs: market potential and expected share (or growth) per month.

    \b
    kehu forecast market set 2026-12 region 华东 --potential 2000000 --share 12%
    kehu forecast market set 2026-12 company - --growth 0.08 --months 12
    kehu forecast market import market.csv
    """


@market.command("set")
@click.argument("period")
@click.argument("dimension", type=click.Choice(["company", "region", "industry"]))
@click.argument("key")
@click.option("--potential", type=MONEY, help="Market potential in yuan for the period.")
@click.option("--share", help="Expected market share: 0.12 or 12%.")
@click.option(
    "--growth", help="Instead of potential × share: growth over the same month last year, 0.08 or 8%."
)
@click.option(
    "--months", type=int, default=1, show_default=True, help="Apply to this many months from PERIOD."
)
def market_set(
    period: str,
    dimension: str,
    key: str,
    potential: Decimal | None,
    share: str | None,
    growth: str | None,
    months: int,
) -> None:
    """Set the market input for PERIOD (YYYY-MM), DIMENSION and KEY (the region or industry)."""
    from kehu_forecast.topdown import set_market_months

    with transaction() as (_app, session):
        count = set_market_months(
            session,
            period,
            {"dimension": dimension, "key": key, "potential": potential, "share": share, "growth": growth},
            months=months,
        )
    click.echo(f"set {count} market input(s)")


@market.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--encoding", default="utf-8-sig", show_default=True)
def market_import(file: str, encoding: str) -> None:
    """Import market inputs from CSV (period, dimension, key, potential, share, growth); all or nothing."""
    from kehu_forecast.topdown import import_market_inputs

    with transaction() as (_app, session):
        count = import_market_inputs(session, file, encoding)
    click.echo(f"imported {count} market input(s)")


@market.command("list")
@list_output_options
def market_list(as_json: bool, as_csv: bool) -> None:
    """Market inputs and the top-down figure each gives."""
    from kehu_forecast.topdown import list_market_inputs

    with transaction() as (_app, session):
        rows = list_market_inputs(session)
    keys = ["period", "dimension", "key", "potential", "share", "growth", "figure"]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)


@forecast.command("topdown")
@click.option(
    "--dimension",
    type=click.Choice(["company", "region", "industry"]),
    help="Which market inputs to use (default: the only dimension that has some).",
)
@click.option(
    "--allocation",
    type=click.Choice(["average_proportions", "proportion_averages", "bottomup"]),
    default="average_proportions",
    show_default=True,
    help="How group figures are split to customers.",
)
@click.option("--horizon", type=int, default=12, show_default=True)
@click.option(
    "--window", type=int, default=12, show_default=True, help="Months of history for the proportions."
)
@click.option("--as-of", "as_of", type=DAY)
@json_option
def topdown_cmd(
    dimension: str | None, allocation: str, horizon: int, window: int, as_of: date | None, as_json: bool
) -> None:
    """Top-down forecast (由上而下): market potential × share, allocated down, saved as a run.

    \b
    Example: kehu forecast topdown --dimension region --allocation proportion_averages
    """
    from kehu_forecast.plan import store
    from kehu_forecast.topdown import top_down

    with transaction() as (_app, session):
        plan = top_down(
            session,
            dimension=dimension,
            allocation=allocation,
            horizon=horizon,
            as_of=as_of,
            window=window,
        )
        store(session, plan)
    _emit_plan_summary(plan, as_json)


@forecast.command("gap")
@click.option("--bottomup", "bu_run", type=int, help="Bottom-up run id (default: newest).")
@click.option("--topdown", "td_run", type=int, help="Top-down run id (default: newest).")
@click.option(
    "--threshold", type=float, default=10.0, show_default=True, help="Flag gaps of at least this percent."
)
@click.option(
    "--level",
    "levels",
    multiple=True,
    type=click.Choice(["company", "region", "salesperson", "customer"]),
    help="Levels to show (default company, region, salesperson).",
)
@click.option("--flagged", is_flag=True, help="Only the flagged nodes.")
@click.option(
    "--plot", type=click.Path(dir_okay=False), help="Write a PNG: top-down against bottom-up per region."
)
@list_output_options
def gap_cmd(
    bu_run: int | None,
    td_run: int | None,
    threshold: float,
    levels: tuple[str, ...],
    flagged: bool,
    plot: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Gap report: top-down against bottom-up at every level, absolute and percent, flagged above a threshold.

    Not balancing the two is the first classic mistake of forecasting (未能平衡由上而下与由下而上).
    """
    from kehu_forecast.gap import as_dict, gap_report

    with transaction() as (_app, session):
        bu, td, rows = gap_report(
            session,
            bu_run=bu_run,
            td_run=td_run,
            threshold=threshold,
            levels=levels or ("company", "region", "salesperson"),
        )
    data = [as_dict(r) for r in rows if r.flagged or not flagged]
    if plot:
        from kehu_forecast import plot as plotting

        regions = [r for r in rows if r.level == "region"]
        plotting.plot_bars(
            f"Top-down vs bottom-up by region (runs {td.run_id} / {bu.run_id})",
            [r.node for r in regions],
            {
                "top-down": [float(r.top_down) for r in regions],
                "bottom-up": [float(r.bottom_up) for r in regions],
            },
            plot,
        )
    keys = ["level", "node", "bottom_up", "top_down", "gap", "percent", "flagged"]
    if as_json:
        emit_json(
            {
                "bottomup_run": bu.run_id,
                "topdown_run": td.run_id,
                "threshold": threshold,
                "flagged": sum(1 for r in rows if r.flagged),
                "rows": data,
            }
        )
    else:
        emit_rows(keys, data, keys, as_json=False, as_csv=as_csv)


@forecast.command("reconcile")
@click.option(
    "--method",
    type=click.Choice(["bottom-up", "top-down", "middle-out", "mint-ols", "mint-wls"]),
    default="mint-wls",
    show_default=True,
)
@click.option(
    "--proportions",
    type=click.Choice(["average_proportions", "proportion_averages", "forecast_proportions"]),
    default="average_proportions",
    show_default=True,
    help="For top-down and middle-out.",
)
@click.option(
    "--middle-level", type=click.Choice(["region", "salesperson"]), default="region", show_default=True
)
@click.option("--bottomup", "bu_run", type=int, help="Bottom-up run id (default: newest).")
@click.option("--topdown", "td_run", type=int, help="Top-down run id (default: newest, if any).")
@json_option
def reconcile_cmd(
    method: str, proportions: str, middle_level: str, bu_run: int | None, td_run: int | None, as_json: bool
) -> None:
    """One plan from bottom-up and top-down that adds up at every level, saved as a run.

    \b
    Example: kehu forecast reconcile --method middle-out --middle-level region
    """
    from kehu_forecast.plan import store
    from kehu_forecast.reconcile import reconcile

    with transaction() as (_app, session):
        plan = reconcile(
            session, method, proportions=proportions, middle_level=middle_level, bu_run=bu_run, td_run=td_run
        )
        store(session, plan)
    _emit_plan_summary(
        plan,
        as_json,
        {"bottomup_run": plan.params.get("bottomup_run"), "topdown_run": plan.params.get("topdown_run")},
    )


@forecast.command("targets")
@click.option(
    "--run", "run_id", type=int, help="The plan to set targets from (default: newest reconciled run)."
)
@click.option(
    "--period", "grouping", type=click.Choice(["month", "quarter"]), default="quarter", show_default=True
)
@click.option("--list", "only_list", is_flag=True, help="Only list the saved targets.")
@list_output_options
def targets_cmd(run_id: int | None, grouping: str, only_list: bool, as_json: bool, as_csv: bool) -> None:
    """SMART targets per salesperson and period from a reconciled plan: who, which customers, how much, by when."""
    from kehu_forecast.targets import list_targets, save_targets

    with transaction() as (_app, session):
        if not only_list:
            save_targets(session, run_id=run_id, grouping=grouping)
        rows = list_targets(session)
    keys = ["salesperson", "period_start", "period_end", "amount", "baseline", "customers", "note"]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)


@forecast.command("track")
@click.option("--as-of", "as_of", type=DAY, help="Default: today.")
@click.option("--salesperson")
@click.option(
    "--plot", type=click.Path(dir_okay=False), help="Write a PNG: target against actual per salesperson."
)
@list_output_options
def track_cmd(
    as_of: date | None, salesperson: str | None, plot: str | None, as_json: bool, as_csv: bool
) -> None:
    """Targets against actual purchases so far: achieved, expected by now, on track or behind."""
    from attrs import asdict

    from kehu_forecast.targets import track

    with transaction() as (_app, session):
        rows = [asdict(p) for p in track(session, as_of=as_of, salesperson=salesperson)]
    if plot:
        from kehu_forecast import plot as plotting

        labels = [f"{r['salesperson']} {r['period_start']:%Y-%m}" for r in rows]
        plotting.plot_bars(
            "Targets against actuals",
            labels,
            {
                "target": [float(r["amount"]) for r in rows],
                "expected by now": [float(r["expected_to_date"]) for r in rows],
                "actual": [float(r["actual"]) for r in rows],
            },
            plot,
        )
    keys = [
        "salesperson",
        "period_start",
        "period_end",
        "amount",
        "expected_to_date",
        "actual",
        "achieved_pct",
        "elapsed_pct",
        "status",
    ]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)


@forecast.command("backtest")
@click.option(
    "--level",
    type=click.Choice(["company", "region", "salesperson", "customer"]),
    default="salesperson",
    show_default=True,
)
@click.option("--freq", type=click.Choice(["month", "week"]), default="month", show_default=True)
@click.option("--horizon", type=int, default=3, show_default=True)
@click.option("--folds", type=int, default=3, show_default=True)
@click.option("--methods", default="auto,theta,ets,croston,snaive", show_default=True)
@click.option("--as-of", "as_of", type=DAY)
@list_output_options
def backtest_cmd(
    level: str,
    freq: str,
    horizon: int,
    folds: int,
    methods: str,
    as_of: date | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Rolling-origin backtest: MASE and sMAPE per method, and MASE relative to seasonal naive."""
    from attrs import asdict

    from kehu_forecast.backtest import backtest_history

    chosen = tuple(m.strip() for m in methods.split(",") if m.strip())
    if "snaive" not in chosen:
        chosen = (*chosen, "snaive")
    with transaction() as (_app, session):
        scores = backtest_history(
            session,
            level=level,
            freq=freq,
            horizon=horizon,
            folds=folds,
            methods=chosen,
            as_of=as_of,
        )
    rows = [asdict(s) for s in scores]
    keys = ["method", "mase", "smape", "relative_mase", "series"]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)
