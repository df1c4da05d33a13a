"""Who gets a complaint: manual, round robin, or balanced (fewest open complaints) within a team."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, update
from sqlalchemy.orm import Session

from kehu_complaints.fields import ASSIGNMENT
from kehu_complaints.models import COMPLAINTS, MEMBERS, TEAMS

ASSIGNMENT_RULES = ASSIGNMENT.codes


def active_members(session: Session, team_id: int) -> list[str]:
    """The active members of team ``team_id`` in round-robin order."""
    m = MEMBERS.c
    return list(
        session.scalars(
            select(m.member).where(m.team_id == team_id, m.active.is_(True)).order_by(m.position, m.member)
        )
    )


def open_counts(
    session: Session, members: list[str], conditions: Sequence[ColumnElement[bool]] = ()
) -> dict[str, int]:
    """How many open (unresolved, unclosed) complaints each member handles (of those meeting
    ``conditions``: the balanced rule counts all, a user's team list those they see)."""
    c = COMPLAINTS.c
    rows = session.execute(
        select(c.handler, func.count())
        .where(c.handler.in_(members), c.closed_at.is_(None), c.resolved_at.is_(None), *conditions)
        .group_by(c.handler)
    )
    counts = dict.fromkeys(members, 0)
    counts.update({handler: count for handler, count in rows if handler is not None})
    return counts


def pick_handler(session: Session, team: Row[Any]) -> str | None:
    """The next handler by the team's rule, or ``None`` for manual teams and empty ones.

    The team row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's write lock is already held)
    and read again under the lock, so two complaints opened at once do not both go to the same
    "next" member.
    """
    if team.assignment == "manual":
        return None
    team = session.execute(select(TEAMS).where(TEAMS.c.id == team.id).with_for_update()).one()
    members = active_members(session, team.id)
    if not members:
        return None
    if team.assignment == "round_robin":
        chosen = members[0]
        if team.last_assigned in members:
            chosen = members[(members.index(team.last_assigned) + 1) % len(members)]
    else:
        counts = open_counts(session, members)
        chosen = min(members, key=lambda m: (counts[m], members.index(m)))
    session.execute(update(TEAMS).where(TEAMS.c.id == team.id).values(last_assigned=chosen))
    return chosen
