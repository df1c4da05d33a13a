"""Teams: members, a lead (escalations go to the lead), and the assignment rule."""

from __future__ import annotations

from attrs import frozen
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu_complaints.assignment import ASSIGNMENT_RULES, open_counts
from kehu_complaints.models import Team, TeamMember
from kehu_core.errors import NotFound, Problem, ValidationError


@frozen
class TeamRecord:
    """A team as the API returns it; ``members`` maps each active member to their open complaints."""

    name: str
    lead: str | None
    assignment: str
    members: dict[str, int]


def _name(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 100:
        raise ValidationError(
            [Problem(field, "1 to 100 characters", value=value)],
            headline="team refused; nothing was changed:",
        )
    return value


def _rule(value: str | None) -> str | None:
    if value is not None and value not in ASSIGNMENT_RULES:
        raise ValidationError(
            [Problem("assignment", f"must be one of {', '.join(ASSIGNMENT_RULES)}", value=value)],
            headline="team refused; nothing was changed:",
        )
    return value


def team_named(session: Session, name: str | None) -> Team | None:
    """The team called ``name`` (``None`` for no name); an unknown name is a validation error."""
    if not name:
        return None
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise ValidationError(
            [Problem("team", "no such team; see `kehu complaint team list`", value=name)],
            headline="complaint refused; nothing was changed:",
        )
    return team


def get_team(session: Session, name: str) -> Team:
    """The team called ``name`` or :class:`NotFound`."""
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise NotFound(f"no team {name!r}; see `kehu complaint team list`")
    return team


def save_team(
    session: Session,
    name: str,
    *,
    lead: str | None = None,
    assignment: str | None = None,
    members: list[str] | None = None,
) -> TeamRecord:
    """Create a team or change its lead and rule; ``members`` are added (in order) if given."""
    name = _name("name", name) or ""
    lead, assignment = _name("lead", lead), _rule(assignment)
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name, lead=lead, assignment=assignment or "manual")
        session.add(team)
        session.flush()
    else:
        if lead is not None:
            team.lead = lead
        if assignment is not None:
            team.assignment = assignment
    for member in members or []:
        add_member(session, name, member)
    session.flush()
    return team_record(session, team)


def add_member(session: Session, team_name: str, member: str) -> TeamRecord:
    """Add a member at the end of the round robin (or reactivate one)."""
    team = get_team(session, team_name)
    member = _name("member", member) or ""
    row = session.get(TeamMember, (team.id, member))
    if row is None:
        last = session.scalar(select(func.max(TeamMember.position)).where(TeamMember.team_id == team.id))
        session.add(TeamMember(team_id=team.id, member=member, position=(last or 0) + 1, active=True))
    else:
        row.active = True
    session.flush()
    return team_record(session, team)


def remove_member(session: Session, team_name: str, member: str) -> TeamRecord:
    """Take a member out of assignment (their open complaints stay theirs until reassigned)."""
    team = get_team(session, team_name)
    row = session.get(TeamMember, (team.id, member))
    if row is None:
        raise NotFound(f"{member!r} is not a member of team {team_name!r}")
    row.active = False
    session.flush()
    return team_record(session, team)


def team_record(session: Session, team: Team) -> TeamRecord:
    """The team with its active members and their open complaints."""
    members = list(
        session.scalars(
            select(TeamMember.member)
            .where(TeamMember.team_id == team.id, TeamMember.active.is_(True))
            .order_by(TeamMember.position, TeamMember.member)
        )
    )
    return TeamRecord(team.name, team.lead, team.assignment, open_counts(session, members))


def list_teams(session: Session) -> list[TeamRecord]:
    """Every team, by name."""
    return [team_record(session, t) for t in session.scalars(select(Team).order_by(Team.name))]
