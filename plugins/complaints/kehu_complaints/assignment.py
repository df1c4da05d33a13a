"""Who gets a complaint: manual, round robin, or balanced (fewest open complaints) within a team."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu_complaints.models import Complaint, Team, TeamMember

ASSIGNMENT_RULES = ("manual", "round_robin", "balanced")


def active_members(session: Session, team: Team) -> list[str]:
    """The team's active members in round-robin order."""
    return list(
        session.scalars(
            select(TeamMember.member)
            .where(TeamMember.team_id == team.id, TeamMember.active.is_(True))
            .order_by(TeamMember.position, TeamMember.member)
        )
    )


def open_counts(session: Session, members: list[str]) -> dict[str, int]:
    """How many open (unresolved, unclosed) complaints each member handles."""
    rows = session.execute(
        select(Complaint.handler, func.count())
        .where(Complaint.handler.in_(members), Complaint.closed_at.is_(None), Complaint.resolved_at.is_(None))
        .group_by(Complaint.handler)
    )
    counts = dict.fromkeys(members, 0)
    counts.update({handler: count for handler, count in rows if handler is not None})
    return counts


def pick_handler(session: Session, team: Team) -> str | None:
    """The next handler by the team's rule, or ``None`` for manual teams and empty ones.

    The team row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's write lock is already held)
    so two complaints opened at once do not both go to the same "next" member.
    """
    if team.assignment == "manual":
        return None
    session.execute(select(Team.id).where(Team.id == team.id).with_for_update())
    session.refresh(team)
    members = active_members(session, team)
    if not members:
        return None
    if team.assignment == "round_robin":
        chosen = members[0]
        if team.last_assigned in members:
            chosen = members[(members.index(team.last_assigned) + 1) % len(members)]
    else:
        counts = open_counts(session, members)
        chosen = min(members, key=lambda m: (counts[m], members.index(m)))
    team.last_assigned = chosen
    session.flush()
    return chosen
