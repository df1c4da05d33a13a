"""What the complaint commands share: the version option, and local times for people.

Who acts is the root ``kehu --as LOGIN`` (or ``$KEHU_USER``, or the OS login): the services
read it from the session.
"""

from __future__ import annotations

from datetime import datetime

import click

from kehu_core.calendar import format_time


def when(moment: datetime | None) -> str:
    """A stored time as the company's local ``YYYY-MM-DD HH:MM`` (``-`` for none)."""
    return format_time(moment)


version_option = click.option(
    "--expect-version",
    type=int,
    metavar="N",
    help="Refuse (conflict) unless the complaint is still at version N, as shown by `complaint show`.",
)
