"""``kehu loyalty levels``: member levels (银卡, 金卡, 钻石卡 ...) and their review."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import click
from attrs import asdict

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import emit_result, emit_rows, json_option, list_output_options
from kehu_core.cli.params import MONEY, TIMESTAMP
from kehu_core.i18n import messages
from kehu_loyalty import api

_ = messages("kehu_loyalty").gettext


@click.group("levels", cls=PluginGroup, plugin="loyalty")
def levels_group() -> None:
    """Member levels (银卡, 金卡, 钻石卡 ...) and their review."""


@levels_group.command("list")
@list_output_options
def levels_list(as_json: bool, as_csv: bool) -> None:
    """Levels, lowest first.

    \b
    Example:
      kehu loyalty levels list
    """
    with transaction() as (_app, session):
        rows = [asdict(lv) for lv in api.list_levels(session)]
    emit_rows(
        (_("level"), _("rank"), _("min points"), _("min spend")),
        rows,
        ("name", "rank", "min_points", "min_spend"),
        as_json=as_json,
        as_csv=as_csv,
    )


@levels_group.command("set")
@click.argument("name")
@click.option("--rank", type=int, required=True, help="Higher is better.")
@click.option(
    "--min-points", type=int, default=None, help="Points earned in the window that reach the level."
)
@click.option("--min-spend", type=MONEY, default=None, help="Or money spent in the window.")
@json_option
def levels_set(
    name: str, rank: int, min_points: int | None, min_spend: Decimal | None, as_json: bool
) -> None:
    """Add or change a level.

    \b
    Example:
      kehu loyalty levels set 金卡 --rank 2 --min-points 20000 --min-spend 20000
    """
    with transaction() as (_app, session):
        level = api.set_level(session, name, rank, min_points, min_spend)
    emit_result(
        level,
        as_json,
        _("level {name}: rank {rank}, min points {points}, min spend {spend}").format(
            name=name,
            rank=rank,
            points="-" if min_points is None else min_points,
            spend="-" if min_spend is None else min_spend,
        ),
    )


@levels_group.command("review")
@click.option("--as-of", type=TIMESTAMP, default=None, help="Review as of this time (default: now).")
@json_option
def levels_review(as_of: datetime | None, as_json: bool) -> None:
    """Move members up or down (also run daily by the expiry job).

    \b
    Example:
      kehu loyalty levels review --as-of 2025-12-31
    """
    with transaction() as (app, session):
        result = api.review_levels(app, session, as_of)
    emit_result(
        result,
        as_json,
        _("{reviewed} member(s): {up} up, {down} down, {kept} kept in grace").format(
            reviewed=result.reviewed, up=result.upgraded, down=result.downgraded, kept=result.kept_in_grace
        ),
    )
