"""The loyalty ladder (the course material): every customer's stage, computed set-based in the database.

The rungs are stages of buying behaviour (客户关系管理, 客户的形成: "企业希望把合格预期顾客转变成首次购买客户,
然后再把满意的首次购买客户转变为重复购买客户 ... 把重复购买客户转化为忠诚的客户 ... 把客户转化为成员 ...
最终再把成员转化为拥护者"). A customer is on the highest rung whose rule holds at the date; "bought"
counts purchases made before the date:

* ``prospect``    合格预期顾客: on file and has not bought (enrolment or referrals alone do not lift
  a customer off this rung);
* ``first_time``  首次购买客户: exactly one purchase;
* ``repeat``      重复购买客户: two or more purchases;
* ``loyal``       忠诚客户: two or more purchases, in at least ``loyal_quarters`` (default 3) of the
  four 91-day quarters before the date. The course material defines loyal as "buys only from us in
  the category" (在相关的产品类目中只购买本企业的产品者); we cannot see purchases made from
  competitors, so steady buying all year round is the observable proxy;
* ``member``      成员 ("为其提供一套利益相关的成员计划方案"): enrolled in the points programme before the
  date **and** at least one purchase;
* ``advocate``    拥护者 ("会称赞企业的产品并鼓励其他人也参与购买"): at least one purchase **and**
  referred, before the date, at least one customer who bought before the date.

Setting ``ladder_mode legacy`` gives the earlier ranking instead, in which enrolment and
referrals alone put a customer on the member and advocate rungs, bought or not.

A purchase is a done interaction of kind ``purchase`` with a positive amount. Forgotten
customers are not counted, nor customers created after the date who had not bought before it
(imported customers with older purchases count from their first purchase). Both dates of a period are computed
in one pass over the interactions, so movements between stages come from the same query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import frozen
from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from kehu_core.access import customer_condition, require
from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer, Interaction
from kehu_core.types import UTCDateTime
from kehu_loyalty.models import ACCOUNTS, REFERRALS
from kehu_loyalty.settings import LADDER_MODES, load_settings

_ = messages("kehu_loyalty").gettext

#: The rungs, lowest first, with the course material's names (合格预期顾客 ... 拥护者).
STAGE = Vocabulary(
    "kehu_loyalty",
    N_("ladder stage"),
    [
        Choice("prospect", N_("prospect"), aliases=("合格预期顾客", "预期顾客", "潜在客户")),
        Choice("first_time", N_("first-time buyer"), aliases=("首次购买客户", "首次购买", "新客户")),
        Choice("repeat", N_("repeat buyer"), aliases=("重复购买客户", "重复购买", "回头客")),
        Choice("loyal", N_("loyal customer"), aliases=("忠诚客户", "忠诚")),
        Choice("member", N_("member"), aliases=("成员", "会员")),
        Choice("advocate", N_("advocate"), aliases=("拥护者", "推荐者")),
    ],
)
STAGES = STAGE.codes
QUARTER = timedelta(days=91)
DEFAULT_LOYAL_QUARTERS = 3
#: The ladder's rules: ``buying`` (member and advocate require a purchase) or ``legacy``.
BUYING, LEGACY = LADDER_MODES


@frozen
class StageCount:
    """One rung: customers on it at the start and end of the period, and how many moved."""

    stage: str
    start: int
    end: int
    moved_in: int
    moved_out: int


@frozen
class LadderReport:
    """The ladder at ``as_of`` and its movements since ``since``."""

    since: datetime
    as_of: datetime
    stages: tuple[StageCount, ...]
    transitions: tuple[tuple[str | None, str, int], ...]  # (from stage or None for new, to, customers)
    moved: int
    new: int


def _dt(value: datetime) -> Any:
    return literal(value, UTCDateTime())


def _purchases(dates: Sequence[datetime], only: int | None, dialect: str = "") -> Any:
    """A per-customer aggregate over purchases: count and quarters bought in, for each date."""
    i = Interaction.__table__
    # SQLite would group along the (customer_id, occurred_at) index and fetch every row's kind
    # and amount by random reads; "+ 0" makes it scan the table in order and sort instead,
    # which is about twice as fast on a table larger than the cache. PostgreSQL hashes anyway.
    key = i.c.customer_id + 0 if dialect == "sqlite" and only is None else i.c.customer_id
    columns = [i.c.customer_id]  # SQLite: the group's own value (every row of the group has it)
    for n, d in enumerate(dates):
        columns.append(func.sum(case((i.c.occurred_at < _dt(d), 1), else_=0)).label(f"n{n}"))
        quarters = [
            func.max(
                case(
                    (
                        and_(
                            i.c.occurred_at >= _dt(d - QUARTER * (k + 1)),
                            i.c.occurred_at < _dt(d - QUARTER * k),
                        ),
                        1,
                    ),
                    else_=0,
                )
            )
            for k in range(4)
        ]
        columns.append((quarters[0] + quarters[1] + quarters[2] + quarters[3]).label(f"q{n}"))
    stmt = select(*columns).where(i.c.kind == "purchase", i.c.status == "done", i.c.amount > 0)
    if only is not None:
        stmt = stmt.where(
            i.c.customer_id.in_(
                select(REFERRALS.c.referred_id)
                .where(REFERRALS.c.referrer_id == only)
                .union(select(literal(only)))
            )
        )
    # A CTE: used twice (the customer's own stage, and advocacy through those they referred),
    # computed once (SQLite and PostgreSQL materialise a CTE referenced more than once).
    return stmt.group_by(key).cte("purchases")


def stage_query(
    dates: Sequence[datetime],
    loyal_quarters: int = DEFAULT_LOYAL_QUARTERS,
    only: int | None = None,
    dialect: str = "",
    visible: ColumnElement[bool] | None = None,
    mode: str = BUYING,
) -> Any:
    """SELECT customer_id, stage0, stage1 ... (one stage column per date; NULL: not yet a customer).

    ``mode``: ``buying`` (the rungs of the module docstring) or ``legacy`` (enrolment and
    referrals rank a customer whether they bought or not).
    ``only``: restrict to one customer (and the purchases of those they referred).
    ``visible``: a condition on ``customers`` (the acting user's record rules): only those
    customers get a row (an advocate's stage still counts the purchases of whomever they referred).
    """
    purchases = _purchases(dates, only, dialect)
    c = Customer.__table__
    referred = purchases.alias("referred")
    advocacy = (
        select(
            REFERRALS.c.referrer_id.label("customer_id"),
            *[
                func.max(
                    case((and_(referred.c[f"n{n}"] > 0, REFERRALS.c.recorded_at < _dt(d)), 1), else_=0)
                ).label(f"a{n}")
                for n, d in enumerate(dates)
            ],
        )
        .join(referred, referred.c.customer_id == REFERRALS.c.referred_id)
        .group_by(REFERRALS.c.referrer_id)
        .subquery("advocacy")
    )
    stages = []
    for n, d in enumerate(dates):
        count = func.coalesce(purchases.c[f"n{n}"], 0)
        advocate = func.coalesce(advocacy.c[f"a{n}"], 0) > 0
        member = ACCOUNTS.c.enrolled_at < _dt(d)
        if mode == BUYING:
            # Membership and advocacy come on top of buying: a non-buyer stays a prospect.
            advocate = and_(count >= 1, advocate)
            member = and_(count >= 1, member)
        stage = case(
            (and_(c.c.created_at >= _dt(d), count == 0), None),  # not on file yet, and no purchase before
            (advocate, "advocate"),
            (member, "member"),
            (and_(count >= 2, func.coalesce(purchases.c[f"q{n}"], 0) >= loyal_quarters), "loyal"),
            (count >= 2, "repeat"),
            (count == 1, "first_time"),
            else_="prospect",
        )
        stages.append(stage.label(f"stage{n}"))
    stmt = (
        select(c.c.id.label("customer_id"), *stages)
        .select_from(
            c.outerjoin(purchases, purchases.c.customer_id == c.c.id)
            .outerjoin(advocacy, advocacy.c.customer_id == c.c.id)
            .outerjoin(ACCOUNTS, ACCOUNTS.c.customer_id == c.c.id)
        )
        .where(c.c.forgotten_at.is_(None))
    )
    if visible is not None:
        stmt = stmt.where(visible)
    return stmt if only is None else stmt.where(c.c.id == only)


def ladder_mode(session: Session) -> str:
    """The ladder's rules as set (``kehu loyalty settings set ladder_mode buying|legacy``)."""
    return load_settings(session).ladder_mode


def ladder(
    session: Session,
    since: datetime,
    as_of: datetime,
    loyal_quarters: int = DEFAULT_LOYAL_QUARTERS,
    mode: str | None = None,
) -> LadderReport:
    """Counts per stage at ``since`` and ``as_of`` and the moves between them, in one query,
    over the customers the acting user sees; ``mode`` defaults to the ``ladder_mode`` setting."""
    require(session, "customer.read", _("see the loyalty ladder"))
    inner = stage_query(
        [since, as_of],
        loyal_quarters,
        dialect=session.get_bind().dialect.name,
        visible=customer_condition(session),
        mode=mode or ladder_mode(session),
    ).subquery("stages")
    rows = session.execute(
        select(inner.c.stage0, inner.c.stage1, func.count())
        .where(inner.c.stage1.is_not(None))
        .group_by(inner.c.stage0, inner.c.stage1)
    ).all()
    start = dict.fromkeys(STAGES, 0)
    end = dict.fromkeys(STAGES, 0)
    moved_in = dict.fromkeys(STAGES, 0)
    moved_out = dict.fromkeys(STAGES, 0)
    transitions = []
    new = moved = 0
    for before, after, n in rows:
        end[after] += n
        if before is None:
            new += n
            transitions.append((None, after, n))
            continue
        start[before] += n
        if before != after:
            moved += n
            moved_out[before] += n
            moved_in[after] += n
            transitions.append((before, after, n))
    transitions.sort(key=lambda t: (-t[2], t[0] or "", t[1]))
    stages = tuple(StageCount(s, start[s], end[s], moved_in[s], moved_out[s]) for s in STAGES)
    return LadderReport(since, as_of, stages, tuple(transitions), moved, new)


def stage_of(
    session: Session,
    customer_id: int,
    as_of: datetime,
    loyal_quarters: int = DEFAULT_LOYAL_QUARTERS,
    mode: str | None = None,
) -> str | None:
    """One customer's stage at ``as_of`` (the profile card); ``mode`` defaults to the setting."""
    inner = stage_query(
        [as_of], loyal_quarters, only=customer_id, mode=mode or ladder_mode(session)
    ).subquery()
    return session.scalar(select(inner.c.stage0))
