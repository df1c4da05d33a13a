"""``kehu loyalty rewards``: the rewards catalogue."""

from __future__ import annotations

from datetime import datetime

import click
from attrs import asdict

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import emit_result, emit_rows, json_option, list_output_options
from kehu_core.cli.params import TIMESTAMP
from kehu_core.i18n import messages
from kehu_loyalty import api

_ = messages("kehu_loyalty").gettext


@click.group("rewards", cls=PluginGroup, plugin="loyalty")
def rewards() -> None:
    """The rewards catalogue."""


@rewards.command("list")
@click.option("--all", "include_inactive", is_flag=True, help="Include rewards no longer offered.")
@list_output_options
def rewards_list(include_inactive: bool, as_json: bool, as_csv: bool) -> None:
    """Rewards, cheapest first.

    \b
    Example:
      kehu loyalty rewards list --json
    """
    with transaction() as (_app, session):
        rows = [asdict(r) for r in api.list_rewards(session, include_inactive)]
    keys = ("code", "name", "cost_points", "stock", "valid_from", "valid_until", "active")
    emit_rows(
        (
            _("code"),
            _("name"),
            _("cost in points"),
            _("stock"),
            _("offered from"),
            _("offered until"),
            _("offered"),
        ),
        rows,
        keys,
        as_json=as_json,
        as_csv=as_csv,
    )


@rewards.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--cost", "cost_points", type=int, required=True, help="Cost in points.")
@click.option("--stock", type=int, default=None, help="Units available (default: unlimited).")
@click.option("--from", "valid_from", type=TIMESTAMP, default=None, help="Offered from (date or time).")
@click.option("--until", "valid_until", type=TIMESTAMP, default=None, help="Offered until (exclusive).")
@json_option
def rewards_add(
    code: str,
    name: str,
    cost_points: int,
    stock: int | None,
    valid_from: datetime | None,
    valid_until: datetime | None,
    as_json: bool,
) -> None:
    """Add a reward.

    \b
    Example:
      kehu loyalty rewards add MUG 定制马克杯 --cost 800 --stock 100 --until 2026-12-31
    """
    with transaction() as (_app, session):
        reward = api.add_reward(session, code, name, cost_points, stock, valid_from, valid_until)
    emit_result(
        reward,
        as_json,
        _("reward {code} ({name}) added: {points} point(s)").format(code=code, name=name, points=cost_points),
    )


@rewards.command("restock")
@click.argument("code")
@click.option("--stock", type=int, default=None, help="New stock (omit for unlimited).")
@click.option("--active/--inactive", default=None, help="Offer or withdraw the reward.")
@json_option
def rewards_restock(code: str, stock: int | None, active: bool | None, as_json: bool) -> None:
    """Set a reward's stock, or withdraw it.

    \b
    Example:
      kehu loyalty rewards restock MUG --stock 50
    """
    with transaction() as (_app, session):
        reward = api.restock(session, code, stock, active)
    stock_text = reward.stock if reward.stock is not None else _("unlimited")
    message = (
        _("reward {code}: stock {stock}, offered")
        if reward.active
        else _("reward {code}: stock {stock}, withdrawn")
    )
    emit_result(reward, as_json, message.format(code=code, stock=stock_text))
