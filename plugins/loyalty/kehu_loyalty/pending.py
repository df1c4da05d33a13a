"""Recorded batches gathered so that earning runs on bigger sets.

The core hands an import to ``kehu_interactions_recorded`` 10,000 rows at a time (its memory
bound). Earning costs less per row on bigger sets: each of its statements walks the ledger's
customer index and the accounts once per batch, whatever the batch's size. So loyalty gathers
the batches of one write, keeping the rows' values as the core wrote them, and
earns them together once :data:`EARN_GROUP_ROWS` are waiting. ``kehu_interactions_done``, fired
when the write ends, earns what is left; a ``before_commit`` listener does the same for a write
whose end was never announced, so nothing recorded is ever committed unearned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from attrs import define
from sqlalchemy import event
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.hooktypes import InteractionBatch, RecordedRows
from kehu_loyalty.earning import forget_awarded

#: Interactions earned together at most (about 25 MB of rows kept alive on an import).
EARN_GROUP_ROWS = 50_000
_KEY = "kehu_loyalty.pending"

#: How gathered rows are earned: ``earn(app, session, batch)`` (:func:`kehu_loyalty.earning.earn_batch`).
Earn = Callable[[Kehu, Session, InteractionBatch], Any]


@define
class Pending:
    """The batches of one write not earned yet."""

    source: str
    keys: tuple[str, ...]
    ids: list[int]
    values: list[Sequence[Any]]


def gather(app: Kehu, session: Session, batch: InteractionBatch, earn: Earn) -> None:
    """Add ``batch`` to the session's pending rows; earn them all with ``earn`` once there are enough.

    A batch of plain mappings (not :class:`~kehu_core.hooktypes.RecordedRows`) is earned at
    once, after anything pending.
    """
    rows = batch.rows
    if not isinstance(rows, RecordedRows):
        flush(app, session, earn)
        earn(app, session, batch)
        return
    pending = session.info.get(_KEY)
    if pending is not None and (pending.keys != rows.keys or pending.source != batch.source):
        flush(app, session, earn)
        pending = None
    if pending is None:
        pending = session.info[_KEY] = Pending(batch.source, rows.keys, [], [])
        event.listen(session, "before_commit", lambda s: finish(app, s, earn), once=True)
        # Rolled back, the gathered rows are gone from the database (and SQLite may hand their
        # ids to the next rows written): they must not be earned by a later flush.
        event.listen(session, "after_soft_rollback", lambda s, previous: s.info.pop(_KEY, None), once=True)
    pending.ids.extend(rows.ids)
    # As tuples: Python's collector stops walking a tuple of plain values after one look,
    # where it walks a list every time it runs while the rows are kept.
    pending.values.extend(map(tuple, rows.values))
    if len(pending.ids) >= EARN_GROUP_ROWS:
        flush(app, session, earn)


def flush(app: Kehu, session: Session, earn: Earn) -> None:
    """Earn the session's pending rows, if any, as one batch."""
    pending = session.info.pop(_KEY, None)
    if pending is not None and pending.ids:
        earn(
            app,
            session,
            InteractionBatch(
                rows=RecordedRows(pending.keys, pending.ids, pending.values), source=pending.source
            ),
        )


def finish(app: Kehu, session: Session, earn: Earn) -> None:
    """The write is over: earn what is pending and forget what earning remembered during it."""
    flush(app, session, earn)
    forget_awarded(session)
