"""The values that hooks take and return. Plugins import these from ``kehu_core``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from random import Random
from typing import TYPE_CHECKING, Any, overload

import attrs
from attrs import field, frozen
from sqlalchemy import MetaData, Select, Table
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

if TYPE_CHECKING:  # kehu_core.app imports this module: the app is only an annotation here
    from kehu_core.app import Kehu


@frozen
class Schema:
    """A plugin's tables and the folder of its Alembic revisions.

    ``versions`` holds revisions on the plugin's own branch: the first one has
    ``down_revision = None``, ``branch_labels = ("<plugin name>",)`` and
    ``depends_on = "c0001"`` (the core's first revision) plus any plugin it needs, so
    ``kehu plugins install`` can run it and ``uninstall`` can take it back to base.
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

    ``label``, when given, turns a value into what people read in the text table, in their
    language (a tier code ``key_account`` -> 大客户 under ``KEHU_LANG=zh_CN``); it is not
    called for an empty value. ``--csv`` and ``--json`` keep the value as the expression
    gives it (the code), whatever the language.
    """

    name: str
    header: str
    expression: Callable[[ColumnElement[int]], ColumnElement[Any]]
    default: bool = True
    label: Callable[[Any], str] | None = None


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


class RecordedRows(Sequence[Mapping[str, Any]]):
    """The rows of an :class:`InteractionBatch` as the core wrote them: an id and a list of
    values per row, each mapping built only when it is read.

    A 10,000-row import chunk costs a dict of 18 keys per row when every row is read; a
    plugin that works set-based needs only the ids and a column or two
    (:meth:`InteractionBatch.column`), and pays for nothing else.
    """

    __slots__ = ("_keys", "_ids", "_values", "_index")

    def __init__(self, keys: Sequence[str], ids: Sequence[int], values: Sequence[Sequence[Any]]) -> None:
        """``keys``: ``"id"`` then the names of ``values``' items; ``ids[n]`` is the id of ``values[n]``."""
        if len(ids) != len(values):
            raise ValueError(f"RecordedRows: {len(ids)} ids for {len(values)} rows")
        self._keys = tuple(keys)
        self._ids = ids
        self._values = values
        self._index = {name: n for n, name in enumerate(self._keys[1:])}

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, n: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, n: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, n: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(n, slice):
            return [self._row(i) for i in range(*n.indices(len(self)))]
        if n < 0:
            n += len(self)
        if not 0 <= n < len(self):
            raise IndexError(n)
        return self._row(n)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        keys = self._keys
        for iid, values in zip(self._ids, self._values):
            yield dict(zip(keys, (iid, *values)))

    def _row(self, n: int) -> dict[str, Any]:
        return dict(zip(self._keys, (self._ids[n], *self._values[n])))

    @property
    def keys(self) -> tuple[str, ...]:
        """``"id"`` then the names of each row's values."""
        return self._keys

    @property
    def ids(self) -> Sequence[int]:
        """The rows' ids, in row order."""
        return self._ids

    @property
    def values(self) -> Sequence[Sequence[Any]]:
        """Each row's values (in ``keys[1:]`` order) as the core wrote them; do not change them."""
        return self._values

    def column(self, name: str) -> list[Any]:
        """One column's values, in row order (``None`` for a name the rows do not have)."""
        if name == "id":
            return list(self._ids)
        index = self._index.get(name)
        if index is None:
            return [None] * len(self._ids)
        return [values[index] for values in self._values]


@frozen
class InteractionBatch:
    """A batch of interactions written in the current transaction.

    ``source`` says where they came from (``import``, ``log``, ``demo`` ...). Iterating a
    batch yields :class:`RecordedInteraction` values; ``rows`` are the same as mappings
    (``id`` and the interaction's columns). For set-based work on big imports, read only
    what you need: :attr:`ids` and :meth:`column` do not build a mapping per row, and
    :meth:`of_kind` builds them only for the rows it returns.
    """

    rows: Sequence[Mapping[str, Any]]
    source: str = "api"

    def __iter__(self) -> Iterator[RecordedInteraction]:
        names = [f.name for f in attrs.fields(RecordedInteraction)]
        for row in self.rows:
            values: dict[str, Any] = {n: row.get(n) for n in names}
            yield RecordedInteraction(**values)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def ids(self) -> Sequence[int]:
        """The interactions' ids, in row order."""
        if isinstance(self.rows, RecordedRows):
            return self.rows.ids
        return [r["id"] for r in self.rows]

    def column(self, name: str) -> list[Any]:
        """The values of one field (``"kind"``, ``"amount"`` ...), in row order; ``None`` where a
        row lacks it."""
        if isinstance(self.rows, RecordedRows):
            return self.rows.column(name)
        return [r.get(name) for r in self.rows]

    def where(self, name: str, test: Callable[[Any], bool]) -> list[Mapping[str, Any]]:
        """The rows whose ``name`` field passes ``test``; only those rows are built as mappings."""
        rows = self.rows
        return [rows[n] for n, value in enumerate(self.column(name)) if test(value)]

    def of_kind(self, *kinds: str) -> list[Mapping[str, Any]]:
        """The rows whose kind is one of ``kinds``."""
        wanted = set(kinds)
        return self.where("kind", wanted.__contains__)


@frozen
class CustomerChange:
    """A customer created, updated, archived or forgotten in the current transaction."""

    customer_id: int
    code: str
    action: str  # "created" | "updated" | "archived" | "restored" | "forgotten"
    changed_fields: tuple[str, ...] = ()


@frozen
class TierChange:
    """A customer whose tier or segment moved, as fired by a tiering plugin in ``kehu_tier_changed``.

    ``is_tier`` is true when ``method`` is the one the tiering plugin names as the customer's
    tier (by default the pyramid); the other methods are segments.
    """

    customer_id: int
    method: str
    old_tier: str | None
    new_tier: str | None
    is_tier: bool = False


@frozen
class Job:
    """A scheduled job (Odoo's ``ir.cron``): ``kehu jobs run-due`` runs it every ``interval``.

    ``run(app, session, now)`` does the work inside its own transaction and returns a short
    message for the run log. It must be idempotent: running it twice does nothing new.
    ``run`` may be the function or its import path (``"kehu_forecast.jobs:refresh"``), which
    is imported only when the job runs, so declaring a job costs nothing.
    """

    name: str
    interval: timedelta
    run: Callable[[Kehu, Session, datetime], str | None] | str
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
    """What a plugin's demo loader (the manifest's ``demo``) receives: the reproducible random
    generator, the number of customers asked for, the demo's "today", and ``summary``, a list
    to which it appends lines for the summary ``kehu demo`` prints."""

    rng: Random
    customers: int
    today: datetime
    summary: list[str] = field(factory=list)
