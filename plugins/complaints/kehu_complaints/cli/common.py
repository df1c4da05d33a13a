"""What the complaint commands share: who acts, the version option, and local times for people."""

from __future__ import annotations

import getpass
import os
from datetime import datetime

import click

from kehu_core.calendar import format_time


def actor_of(value: str | None) -> str:
    """The actor named by ``--by``, else ``$KEHU_USER``, else the login name."""
    if value:
        return value
    try:
        return os.environ.get("KEHU_USER") or getpass.getuser()
    except Exception:  # no user name on this system (containers)
        return "unknown"


def when(moment: datetime | None) -> str:
    """A stored time as the company's local ``YYYY-MM-DD HH:MM`` (``-`` for none)."""
    return format_time(moment)


by_option = click.option(
    "--by", "actor", metavar="NAME", help="Who does this (default: $KEHU_USER, then your login)."
)
version_option = click.option(
    "--expect-version",
    type=int,
    metavar="N",
    help="Refuse (conflict) unless the complaint is still at version N, as shown by `complaint show`.",
)
