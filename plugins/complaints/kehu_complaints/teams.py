"""Teams: members, a lead (escalations go to the lead), and the assignment rule."""

from __future__ import annotations

from typing import Any, cast

from attrs import frozen
from sqlalchemy import CursorResult, Row, func, insert, select, update
from sqlalchemy.orm import Session

from kehu_complaints.assignment import active_members, open_counts
from kehu_complaints.fields import ASSIGNMENT, DOMAIN
from kehu_complaints.models import MEMBERS, TEAMS
from kehu_complaints.security import MANAGE, visible
from kehu_core.access import require
from kehu_core.errors import NotFound, Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.validation import FieldError

_ = messages(DOMAIN).gettext


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
            [Problem(field, _("1 to 100 characters"), value=value)],
            headline=_("team refused; nothing was changed:"),
        )
    return value


def _rule(value: str | None) -> str | None:
    """The assignment rule's code (``manual``, ``round_robin``, ``balanced``; 轮流, 均衡 too)."""
    if value is None:
        return None
    try:
        return ASSIGNMENT.parse(value)
    except FieldError as exc:
        raise ValidationError(
            [Problem("assignment", str(exc), value=value)],
            headline=_("team refused; nothing was changed:"),
        ) from None


def team_by_id(session: Session, team_id: int) -> Row[Any] | None:
    """The row of team ``team_id`` (every column of ``complaints_teams``), or ``None``."""
    return session.execute(select(TEAMS).where(TEAMS.c.id == team_id)).one_or_none()


def _by_name(session: Session, name: str) -> Row[Any] | None:
    return session.execute(select(TEAMS).where(TEAMS.c.name == name)).one_or_none()


def team_named(session: Session, name: str | None) -> Row[Any] | None:
    """The team called ``name`` (``None`` for no name); an unknown name is a validation error."""
    if not name:
        return None
    team = _by_name(session, name)
    if team is None:
        raise ValidationError(
            [Problem("team", _("no such team; see `kehu complaint team list`"), value=name)],
            headline=_("complaint refused; nothing was changed:"),
        )
    return team


def get_team(session: Session, name: str) -> Row[Any]:
    """The team called ``name`` or :class:`NotFound`."""
    team = _by_name(session, name)
    if team is None:
        raise NotFound(_("no team '{name}'; see `kehu complaint team list`").format(name=name))
    return team


def save_team(
    session: Session,
    name: str,
    *,
    lead: str | None = None,
    assignment: str | None = None,
    members: list[str] | None = None,
) -> TeamRecord:
    """Create a team or change its lead and rule; ``members`` are added (in order) if given.

    Needs permission ``complaints.manage``."""
    require(session, MANAGE, _("manage complaint teams"))
    name = _name("name", name) or ""
    lead, assignment = _name("lead", lead), _rule(assignment)
    team = _by_name(session, name)
    if team is None:
        session.execute(insert(TEAMS).values(name=name, lead=lead, assignment=assignment or "manual"))
    else:
        changes = {"lead": lead, "assignment": assignment}
        changes = {key: value for key, value in changes.items() if value is not None}
        if changes:
            session.execute(update(TEAMS).where(TEAMS.c.id == team.id).values(**changes))
    for member in members or []:
        add_member(session, name, member)
    return team_record(session, get_team(session, name))


def add_member(session: Session, team_name: str, member: str) -> TeamRecord:
    """Add a member at the end of the round robin (or reactivate one); needs ``complaints.manage``."""
    require(session, MANAGE, _("manage complaint teams"))
    team = get_team(session, team_name)
    member = _name("member", member) or ""
    m = MEMBERS.c
    here = (m.team_id == team.id) & (m.member == member)
    if session.scalar(select(m.member).where(here)) is None:
        last = session.scalar(select(func.max(m.position)).where(m.team_id == team.id))
        session.execute(
            insert(MEMBERS).values(team_id=team.id, member=member, position=(last or 0) + 1, active=True)
        )
    else:
        session.execute(update(MEMBERS).where(here).values(active=True))
    return team_record(session, team)


def remove_member(session: Session, team_name: str, member: str) -> TeamRecord:
    """Take a member out of assignment (their open complaints stay theirs until reassigned);
    needs ``complaints.manage``."""
    require(session, MANAGE, _("manage complaint teams"))
    team = get_team(session, team_name)
    m = MEMBERS.c
    result = cast(
        CursorResult[Any],
        session.execute(update(MEMBERS).where(m.team_id == team.id, m.member == member).values(active=False)),
    )
    if result.rowcount != 1:
        raise NotFound(_("'{member}' is not a member of team '{team}'").format(member=member, team=team_name))
    return team_record(session, team)


def team_record(session: Session, team: Row[Any]) -> TeamRecord:
    """The team with its active members and their open complaints (those the acting user sees)."""
    members = active_members(session, team.id)
    return TeamRecord(team.name, team.lead, team.assignment, open_counts(session, members, visible(session)))


def list_teams(session: Session) -> list[TeamRecord]:
    """Every team, by name."""
    return [team_record(session, t) for t in session.execute(select(TEAMS).order_by(TEAMS.c.name))]
