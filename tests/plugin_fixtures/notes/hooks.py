"""The notes plugin's hook implementations."""

from __future__ import annotations

from kehu_notes.models import items

from kehu_core import hookimpl


@hookimpl
def kehu_interactions_recorded(session, batch):
    # Set-based: one insert for the whole batch.
    rows = [{"customer_id": r["customer_id"], "body": f"recorded {r['kind']}"} for r in batch.rows]
    if rows:
        session.execute(items.insert(), rows)
