"""The values that hooks take and return. Plugins import these from ``kehu_core``."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from random import Random
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Select, Table
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import ColumnElement


@frozen
class Schema:
    """A plugin's tables and the folder of its Alembic revisions.

    ``versions`` holds revisions on the plugin's own branch: the first one has
    ``down_revision = None``, ``branch_labels = ("<plugin name>",)`` and
    ``depends_on = "c0001"`` (the core's first revision) plus any plugin it needs, so ``kehu plugins install`` can run
    it and ``uninstall`` can take it back to base.
    """

    plugin: str
    metadata: MetaData
    versions: Path


@frozen
class ProfileSection:
    """A section of the customer profile card (``kehu customer show``).

    ``rows`` are (label, value) pairs for people; ``data`` is the same for ``--json``.
    Sections are shown by ``order``, lower first; the core's own use 0-99.
    """

    title: str
    rows: Sequence[tuple[str, str]]
    data: Mapping[str, Any]
    key: str
    order: int = 500


@frozen
class ListColumn:
    """A column a plugin adds to ``kehu customer list`` (view inheritance for the CLI).

    ``expression`` receives the ``customers.id`` column and returns a SQL expression,
    typically a correlated scalar subquery; the list can sort on it.
    """

    name: str
    header: str
    expression: Callable[[ColumnElement[int]], ColumnElement[Any]]
    default: bool = True


@frozen
class ListFilter:
    """A filter option a plugin adds to ``kehu customer list``, e.g. ``--tier A``.

    ``apply`` receives the select over customers and the option's value, and returns
    the narrowed select.
    """

    name: str
    help: str
    apply: Callable[[Select[Any], str], Select[Any]]
    metavar: str = "VALUE"


@frozen
class RecordedInteraction:
    """An interaction just written, as handed to ``kehu_interactions_recorded``."""

    id: int
    customer_id: int
    kind: str
    status: str
    occurred_at: datetime
    amount: Any = None
    quantity: Any = None
    product: str | None = None
    category: str | None = None
    channel: str | None = None
    salesperson: str | None = None
    satisfaction: int | None = None
    note: str | None = None
    external_ref: str | None = None
    cost: Any = None
    due_at: datetime | None = None
    paid_at: datetime | None = None


@frozen
class InteractionBatch:
    """A batch of interactions written in the current transaction.

    ``source`` says where they came from (``import``, ``log``, ``demo`` ...). Iterating a
    batch yields :class:`RecordedInteraction` values; ``rows`` are the same as mappings
    for set-based work (``insert().values(...)``), which is cheaper on big imports.
    """

    rows: Sequence[Mapping[str, Any]]
    source: str = "api"

    def __iter__(self):  # type: ignore[no-untyped-def]
        fields = RecordedInteraction.__attrs_attrs__  # type: ignore[attr-defined]
        names = [f.name for f in fields]
        for row in self.rows:
            yield RecordedInteraction(**{n: row.get(n) for n in names})

    def __len__(self) -> int:
        return len(self.rows)

    def of_kind(self, *kinds: str) -> list[Mapping[str, Any]]:
        """The rows whose kind is one of ``kinds``."""
        return [r for r in self.rows if r["kind"] in kinds]


@frozen
class CustomerChange:
    """A customer created, updated, archived or forgotten in the current transaction."""

    customer_id: int
    code: str
    action: str  # "created" | "updated" | "archived" | "restored" | "forgotten"
    changed_fields: tuple[str, ...] = ()


@frozen
class TierChange:
    """A customer whose tier moved, as fired by a tiering plugin in ``kehu_tier_changed``."""

    customer_id: int
    method: str
    old_tier: str | None
    new_tier: str | None


@frozen
class Job:
    """A scheduled job (Odoo's ``ir.cron``): ``kehu jobs run-due`` runs it every ``interval``.

    ``run(session, now)`` does the work inside its own transaction and returns a short
    message for the run log. It must be idempotent: running it twice does nothing new.
    """

    name: str
    interval: timedelta
    run: Callable[[Session, datetime], str | None]
    plugin: str
    description: str = ""


@frozen
class DefaultRecord:
    """A row of default data a plugin loads at install.

    ``key`` names the row by its natural key (column values). An upgrade writes
    ``values`` again only if the user has not changed the row since (Odoo's ``noupdate``).
    """

    table: Table
    key: Mapping[str, Any]
    values: Mapping[str, Any]


@frozen
class DemoContext:
    """What ``kehu_demo_data`` receives: the random generator and the size asked for."""

    rng: Random
    customers: int
    today: datetime
    summary: list[str] = field(factory=list)
