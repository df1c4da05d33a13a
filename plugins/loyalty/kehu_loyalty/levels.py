"""Member levels (银卡, 金卡, 钻石卡 ...): reached by points earned or money spent in a window.

The review (a scheduled job, or ``kehu loyalty levels review``):

* qualifying points = points earned (``earn``, ``bonus``, ``adjust``) minus points taken back
  by refunds, over the last ``level_window_months``; qualifying spend = the net amount of
  done purchases in the same window;
* a member qualifies for the highest level whose ``min_points`` or ``min_spend`` is met;
* upgrades take effect at once; a member who still qualifies has the level confirmed
  (``level_since`` moves to the review date);
* **downgrade rule:** a level is kept for ``level_grace_months`` after it was last reached or
  confirmed; only after that does a review move the member down, straight to the level the
  window earns (possibly none).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from attrs import frozen
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.errors import Conflict, NotFound, Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.models import Interaction
from kehu_core.types import to_money, utcnow
from kehu_core.validation import FieldError, money
from kehu_loyalty import events
from kehu_loyalty.ledger import add_months
from kehu_loyalty.models import ACCOUNTS, LEDGER, LEVELS, MAX_POINTS
from kehu_loyalty.records import LevelChange, codes_of
from kehu_loyalty.security import MANAGE, require_programme
from kehu_loyalty.settings import load_settings

_ = messages("kehu_loyalty").gettext

DEFAULT_LEVELS = (("银卡", 1, 5000, None), ("金卡", 2, 20000, None), ("钻石卡", 3, 100000, None))


@frozen
class LevelRecord:
    """A level definition."""

    name: str
    rank: int
    min_points: int | None
    min_spend: Decimal | None


@frozen
class LevelReview:
    """What a review changed."""

    as_of: datetime
    reviewed: int
    upgraded: int
    downgraded: int
    kept_in_grace: int


def list_levels(session: Session) -> list[LevelRecord]:
    """Levels, lowest first."""
    rows = session.execute(select(LEVELS).order_by(LEVELS.c.rank)).mappings()
    return [LevelRecord(r["name"], r["rank"], r["min_points"], r["min_spend"]) for r in rows]


def set_level(
    session: Session, name: str, rank: int, min_points: int | None, min_spend: Decimal | None
) -> LevelRecord:
    """Add or change a level; it needs a points or a spend threshold. Needs ``loyalty.manage``."""
    require(session, MANAGE, _("change member levels"))
    problems = []
    if not name.strip():
        problems.append(Problem(_("name"), _("required")))
    if min_points is None and min_spend is None:
        problems.append(Problem("min_points", _("give --min-points or --min-spend (or both)")))
    if min_points is not None and not 0 <= min_points <= MAX_POINTS:
        reason = _("must be between 0 and {high}").format(high=MAX_POINTS)
        problems.append(Problem("min_points", reason, value=str(min_points)))
    if min_spend is not None:
        try:
            min_spend = money(min_spend)
        except FieldError as exc:
            problems.append(Problem("min_spend", str(exc), value=str(min_spend)))
    if problems:
        raise ValidationError(problems, headline=_("level refused; nothing was changed:"))
    clash = session.scalar(select(LEVELS.c.name).where(LEVELS.c.rank == rank, LEVELS.c.name != name))
    if clash:
        raise Conflict(_("level {name!r} already has rank {rank}").format(name=clash, rank=rank))
    values = {"rank": rank, "min_points": min_points, "min_spend": min_spend}
    if not _changed(session, LEVELS.update().where(LEVELS.c.name == name).values(**values)):
        session.execute(LEVELS.insert().values(name=name, **values))
    return LevelRecord(name, rank, min_points, min_spend)


def remove_level(session: Session, name: str) -> None:
    """Remove a level; members holding it lose it at once. Needs ``loyalty.manage``."""
    require(session, MANAGE, _("remove member levels"))
    if not _changed(session, LEVELS.delete().where(LEVELS.c.name == name)):
        raise NotFound(_("no level named {name!r}").format(name=name))
    session.execute(ACCOUNTS.update().where(ACCOUNTS.c.level == name).values(level=None, level_since=None))


def qualifying(session: Session, as_of: datetime, window_months: int) -> dict[int, tuple[int, Decimal]]:
    """Per member: (qualifying points, qualifying spend) over the window ending at ``as_of``."""
    start = add_months(as_of, -window_months)
    earned = (
        select(LEDGER.c.customer_id, func.sum(LEDGER.c.points))
        .where(
            LEDGER.c.kind.in_(("earn", "bonus", "adjust", "refund")),
            LEDGER.c.occurred_at > start,
            LEDGER.c.occurred_at <= as_of,
        )
        .group_by(LEDGER.c.customer_id)
    )
    i = Interaction.__table__
    spent = (
        select(i.c.customer_id, func.sum(i.c.amount))
        .join(ACCOUNTS, ACCOUNTS.c.customer_id == i.c.customer_id)
        .where(
            i.c.kind == "purchase", i.c.status == "done", i.c.occurred_at > start, i.c.occurred_at <= as_of
        )
        .group_by(i.c.customer_id)
    )
    result: dict[int, tuple[int, Decimal]] = {
        cid: (0, Decimal(0)) for cid in session.scalars(select(ACCOUNTS.c.customer_id))
    }
    for cid, pts in session.execute(earned):
        if cid in result:
            result[cid] = (int(pts or 0), result[cid][1])
    for cid, amount in session.execute(spent):
        result[cid] = (result[cid][0], to_money(amount))
    return result


def _earned_level(levels: list[LevelRecord], points: int, spend: Decimal) -> LevelRecord | None:
    for level in reversed(levels):
        if (level.min_points is not None and points >= level.min_points) or (
            level.min_spend is not None and spend >= level.min_spend
        ):
            return level
    return None


def review_levels(app: Kehu, session: Session, as_of: datetime | None = None) -> LevelReview:
    """Apply the level rules to every member (see the module docstring).

    Fires ``kehu_level_changed`` once with every upgrade and downgrade (a confirmation is no
    change), in the session's transaction, after the levels are written.

    Needs ``loyalty.manage`` and a user who sees every customer (the daily job runs as kehu
    itself)."""
    require_programme(session, _("review member levels"))
    as_of = as_of or utcnow()
    settings = load_settings(session)
    levels = list_levels(session)
    ranks = {lv.name: lv.rank for lv in levels}
    stats = qualifying(session, as_of, settings.level_window_months)
    accounts = session.execute(select(ACCOUNTS.c.customer_id, ACCOUNTS.c.level, ACCOUNTS.c.level_since)).all()
    updates: list[dict[str, Any]] = []
    moves: list[tuple[int, str | None, str | None, bool]] = []
    up = down = grace = 0
    for cid, current, since in accounts:
        earned = _earned_level(levels, *stats.get(cid, (0, Decimal(0))))
        new_rank = earned.rank if earned else 0
        cur_rank = ranks.get(current, 0) if current else 0
        if new_rank > cur_rank:
            up += 1
            updates.append({"cid": cid, "new_level": earned.name if earned else None, "new_since": as_of})
            moves.append((cid, current, earned.name if earned else None, True))
        elif new_rank == cur_rank and earned is not None:
            updates.append(
                {"cid": cid, "new_level": earned.name, "new_since": as_of}
            )  # confirmed: grace restarts
        elif new_rank < cur_rank:
            if since is not None and as_of < add_months(since, settings.level_grace_months):
                grace += 1
            else:
                down += 1
                moves.append((cid, current, earned.name if earned else None, False))
                updates.append(
                    {
                        "cid": cid,
                        "new_level": earned.name if earned else None,
                        "new_since": as_of if earned else None,
                    }
                )
    if updates:
        stmt = (
            ACCOUNTS.update()
            .where(ACCOUNTS.c.customer_id == bindparam("cid"))
            .values(level=bindparam("new_level"), level_since=bindparam("new_since"))
        )
        session.execute(stmt, updates)
    if moves and events.listened(app, events.LEVEL_CHANGED):
        codes = codes_of(session, [m[0] for m in moves])
        events.level_changed(
            app,
            session,
            [LevelChange(cid, codes[cid], old, new, upgraded, as_of) for cid, old, new, upgraded in moves],
        )
    return LevelReview(as_of, len(accounts), up, down, grace)


def _changed(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE changed."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount
