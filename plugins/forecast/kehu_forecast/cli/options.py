"""Options shared by several ``kehu forecast`` commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def plot_option(what: str) -> Callable[[Any], Any]:
    """``--plot FILE`` (the parameter ``plot_path``): write a PNG of ``what``."""
    return click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help=f"Write a PNG: {what}.")
