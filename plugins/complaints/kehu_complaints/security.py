"""Who may handle, approve and exempt complaints, and which complaints a user sees.

Permissions (the roles holding them by default; ``admin`` holds all):

* ``complaints.handle`` (manager, service, sales): open a complaint, move it through the
  workflow (close, reject, withdraw, reopen), assign it, re-grade it, add a note.
* ``complaints.approve`` (manager): approve a solution or compensation (主管批示: the move to
  ``approved``). The approver is neither the complaint's handler nor the person who proposed
  the solution (who moved it to ``solution_proposed``).
* ``complaints.exempt`` (manager): close a formal complaint (投诉) without the procedure's
  follow-up step (回访); a reason must be stated too.
* ``complaints.manage`` (manager): teams, SLA policies (and recomputing them), the company
  calendar.

The plugin's settings (``kehu complaint settings KEY VALUE``) need the core's
``settings.manage``; each change is audited as setting ``complaints.<key>``.

Record rule: a ``service`` user sees the complaints of their team (the complaint's team is
named as the user's core team) and the complaints they handle. Every user sees only the
complaints of customers they may see. A complaint outside is "no complaint #N".

Who acts is the session's user (:func:`~kehu_core.access.acting`); a real user may not name
someone else as the actor. Where no real user acts (kehu itself, or a database without
users) the name given is recorded as it is.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from kehu_complaints.models import COMPLAINTS, TEAMS
from kehu_core.access import Actor, Forbidden, acting, condition, visible_customers
from kehu_core.i18n import N_, messages
from kehu_core.security import Permission, RecordRule

_ = messages("kehu_complaints").gettext

HANDLE = "complaints.handle"
APPROVE = "complaints.approve"
EXEMPT = "complaints.exempt"
MANAGE = "complaints.manage"
#: The core's permission for every plugin's settings.
SETTINGS_PERMISSION = "settings.manage"

PERMISSIONS = (
    Permission(
        HANDLE,
        N_("open complaints, move, close, assign and re-grade them, add notes"),
        ("manager", "service", "sales"),
    ),
    Permission(APPROVE, N_("approve a complaint's solution or compensation (主管批示)"), ("manager",)),
    Permission(
        EXEMPT,
        N_("close a formal complaint (投诉) without the follow-up step, with a stated reason"),
        ("manager",),
    ),
    Permission(MANAGE, N_("manage complaint teams, SLA policies and the business calendar"), ("manager",)),
)

#: Fields of a complaint whose values are free text: the audit trail names them, not their values.
FREE_TEXT = frozenset(
    {
        "description",
        "solution",
        "responsible_party",
        "responsible_department",
        "root_cause",
        "corrective_action",
        "penalty_note",
        "close_reason",
    }
)


def team_complaints(_session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """The complaints of the user's team (the complaint team named as their core team), and
    those they handle."""
    c = COMPLAINTS.c
    mine = c.handler == actor.login
    if not actor.team:
        return mine
    teams = select(TEAMS.c.id).where(TEAMS.c.name == actor.team)
    return or_(c.team_id.in_(teams), mine)


RULES = (RecordRule("complaints", "service", N_("their team's complaints"), team_complaints),)


def visible(session: Session) -> list[ColumnElement[bool]]:
    """The conditions on ``complaints_complaints`` rows the acting user may see: the record
    rules on complaints and the customers they may see."""
    found = [visible_customers(session, COMPLAINTS.c.customer_id)]
    rule = condition(session, "complaints")
    if rule is not None:
        found.append(rule)
    return found


def actor_name(session: Session, actor: str | None) -> str:
    """Who acts: ``actor`` if given, else the session's user.

    A real user may not act in someone else's name (:class:`~kehu_core.access.Forbidden`);
    kehu itself and the administrator of a database without users may name anyone.
    """
    user = acting(session)
    if actor is None or actor == user.login:
        return user.login
    if user.user_id is not None:
        raise Forbidden(
            _(
                "{login} may not act as '{actor}': a complaint's actor is the user acting "
                "(`kehu --as LOGIN`); nothing was done"
            ).format(login=user.login, actor=actor)
        )
    return actor


def check_approver(complaint_id: int, approver: str, handler: str | None, proposer: str | None) -> None:
    """Refuse an approval by the complaint's handler or by whoever proposed its solution."""
    if approver == handler:
        message = _(
            "{approver} may not approve complaint #{id}: they handle it; another person "
            "with permission {permission} approves; nothing was done"
        )
    elif approver == proposer:
        message = _(
            "{approver} may not approve complaint #{id}: they proposed its solution; another person "
            "with permission {permission} approves; nothing was done"
        )
    else:
        return
    raise Forbidden(message.format(approver=approver, id=complaint_id, permission=APPROVE))
