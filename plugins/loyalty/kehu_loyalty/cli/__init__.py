"""``kehu loyalty``: the root group, built from the commands of the sibling modules.

Commands parse options, call :mod:`kehu_loyalty.api` in one transaction and print through
``kehu_core.cli.output``; the rules live in the services. :class:`PluginGroup` makes every
command refuse, with install instructions, where loyalty is not installed.
"""

from __future__ import annotations

import click

from kehu_core.cli.context import PluginGroup
from kehu_loyalty.cli.levels import levels_group
from kehu_loyalty.cli.points import (
    backfill_cmd,
    balance_cmd,
    earn_cmd,
    enroll_cmd,
    expire_cmd,
    redeem_cmd,
    refer_cmd,
    rules_cmd,
    statement_cmd,
)
from kehu_loyalty.cli.rebate import rebate
from kehu_loyalty.cli.reports import ladder_cmd, satisfaction_cmd
from kehu_loyalty.cli.rewards import rewards
from kehu_loyalty.cli.settings import settings_group

__all__ = ["loyalty"]


@click.group("loyalty", cls=PluginGroup, plugin="loyalty")
def loyalty() -> None:
    """Loyalty (客户忠诚): points, rewards, member levels, the loyalty ladder, rebates (返利).

    \b
    Start:
      kehu loyalty enroll C0001 C0002 --since 2025-01-01
      kehu loyalty balance C0001
      kehu loyalty ladder --since 2025-01-01
    """


for _command in (
    enroll_cmd,
    backfill_cmd,
    refer_cmd,
    balance_cmd,
    statement_cmd,
    earn_cmd,
    redeem_cmd,
    expire_cmd,
    rules_cmd,
    ladder_cmd,
    satisfaction_cmd,
    rewards,
    settings_group,
    levels_group,
    rebate,
):
    loyalty.add_command(_command)
