"""The key-account judgement: which flags exist, setting them, and reading them set-based.

A tiering rule for key accounts reads :func:`key_account_customers` (a SELECT of customer ids)
or :func:`is_judged_key_account` (a SQL condition over ``customers.id``), so it runs in the
database for every customer at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from random import Random
from typing import Any

from attrs import frozen
from sqlalchemy import Select, exists, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from kehu_acme_rules.criteria import FLAG_NAMES, FLAGS, Flag  # noqa: F401  (re-exported)
from kehu_acme_rules.models import customer_flags
from kehu_core import audit, sql
from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.customers import get_customer
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.models import Customer
from kehu_core.privacy import require_not_forgotten
from kehu_core.types import utcnow

_ = messages("kehu_acme_rules").gettext

MAX_NOTE = 2000
#: Who may record a judgement (declared in :mod:`kehu_acme_rules.security`).
JUDGE = "acme_rules.judge"


@frozen
class Judgement:
    """A customer's flags, who judged and when."""

    code: str
    flags: Mapping[str, bool]
    judged_by: str | None
    note: str | None
    updated_at: datetime

    @property
    def key_account(self) -> bool:
        """True when any flag is set: one criterion is enough (the course material: 至少包含以下元素之一)."""
        return any(self.flags.values())

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {
            "code": self.code,
            **self.flags,
            "key_account": self.key_account,
            "judged_by": self.judged_by,
            "note": self.note,
            "updated_at": self.updated_at,
        }


def _check(changes: Mapping[str, bool], note: str | None) -> None:
    problems = [
        Problem(name, _("not a key-account flag; one of {flags}").format(flags=", ".join(FLAG_NAMES)))
        for name in changes
        if name not in FLAG_NAMES
    ]
    if note is not None and len(note) > MAX_NOTE:
        problems.append(Problem("note", _("too long (at most {n} characters)").format(n=MAX_NOTE)))
    if not changes and note is None and not problems:
        problems.append(Problem("flags", _("nothing to change: set at least one flag or a note")))
    if problems:
        raise ValidationError(problems, _("key-account judgement refused:"))


def set_judgement(
    app: Kehu,
    session: Session,
    code: str,
    changes: Mapping[str, bool],
    *,
    note: str | None = None,
) -> Judgement:
    """Set some flags (others keep their value) of customer ``code``; returns the whole judgement.

    The acting user is who judged. Needs permission ``acme_rules.judge``; a customer the user
    does not see is "not found". Audited under the customer (the note's text is not kept there).
    """
    _check(changes, note)
    judged_by = require(session, JUDGE, _("record key-account judgements")).login
    customer = get_customer(session, code)
    if note is not None:
        require_not_forgotten(customer, _("it accepts no new personal data (the judgement's note)"))
    before = judgement_of(session, customer.id)
    now = utcnow()
    fresh = {name: bool(changes.get(name, False)) for name in FLAG_NAMES}
    stmt = sql.insert(customer_flags, app.dialect).values(
        customer_id=customer.id, **fresh, judged_by=judged_by, note=note, updated_at=now
    )
    # One statement: a concurrent writer cannot slip between read and write.
    changed: dict[str, Any] = {name: bool(value) for name, value in changes.items()}
    changed["judged_by"] = judged_by
    if note is not None:
        changed["note"] = note
    session.execute(
        stmt.on_conflict_do_update(index_elements=["customer_id"], set_={**changed, "updated_at": now})
    )
    found = judgement_of(session, customer.id)
    assert found is not None
    old = {**dict(before.flags), "note": before.note} if before else {name: False for name in FLAG_NAMES}
    audit.record(
        session,
        "customer",
        customer.code,
        "acme_judgement",
        audit.changes_of(old, {**dict(found.flags), "note": found.note}, personal=("note",)),
        customer_id=customer.id,
    )
    return found


def judgement_of(session: Session, customer_id: int) -> Judgement | None:
    """The judgement of one customer, or ``None`` if nobody judged it yet."""
    row = (
        session.execute(
            select(customer_flags, Customer.code)
            .join(Customer, Customer.id == customer_flags.c.customer_id)
            .where(customer_flags.c.customer_id == customer_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return Judgement(
        code=row["code"],
        flags={n: bool(row[n]) for n in FLAG_NAMES},
        judged_by=row["judged_by"],
        note=row["note"],
        updated_at=row["updated_at"],
    )


def any_flag() -> ColumnElement[bool]:
    """The condition "at least one flag is set" on ``acme_rules_customer_flags``."""
    return or_(*(customer_flags.c[name].is_(True) for name in FLAG_NAMES))


def key_account_customers() -> Select[Any]:
    """SELECT of the ids of customers judged key accounts (for set-based rules)."""
    return select(customer_flags.c.customer_id).where(any_flag())


def is_judged_key_account(customer_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL condition over ``customers.id``: this customer is judged a key account."""
    return exists().where(customer_flags.c.customer_id == customer_id, any_flag())


def erase_notes(session: Session, customer_ids: Sequence[int]) -> None:
    """Erase the free-text notes of these customers (set-based)."""
    session.execute(
        update(customer_flags).where(customer_flags.c.customer_id.in_(list(customer_ids))).values(note=None)
    )


def add_demo_judgements(session: Session, rng: Random, share: float = 0.05) -> int:
    """Judge about ``share`` of the demo customers (at least one flag each); returns how many."""
    ids = list(session.scalars(select(Customer.id).order_by(Customer.id)))
    chosen = rng.sample(ids, max(1, int(len(ids) * share))) if ids else []
    now = utcnow()
    rows = []
    for cid in chosen:
        flags = {name: rng.random() < 0.4 for name in FLAG_NAMES}
        if not any(flags.values()):
            flags[rng.choice(FLAG_NAMES)] = True
        rows.append(
            {
                "customer_id": cid,
                **flags,
                "judged_by": rng.choice(["王芳", "李强", "张伟"]),
                "note": None,
                "updated_at": now,
            }
        )
    if rows:
        session.execute(customer_flags.insert(), rows)
    return len(rows)
