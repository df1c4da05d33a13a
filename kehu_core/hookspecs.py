"""Every hook the core offers. Each docstring here is the reference for plugin authors.

Implement a hook by decorating a function of the same name with ``kehu_core.hookimpl`` in
your plugin's ``hooks.py``. Every spec receives ``app``, the :class:`~kehu_core.Kehu`
application (as datasette passes ``datasette``); like any argument, leave it out of your
implementation when you don't use it.

Hooks take batches, never one row per call: a pluggy call costs microseconds, and per-row
calls over a million rows cost seconds. Implementations run in dependency order: a plugin's
run after those of the plugins its manifest ``depends`` on.

What a plugin *is* (its commands, tables, default data, hook specs, install and upgrade
callbacks) is declared in its :class:`~kehu_core.Manifest`, not through hooks. Hooks react
to events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

# Annotations only: kehu_core.plugins imports this module while `kehu --help` runs, which must
# not import SQLAlchemy or the app.
if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.orm import Session

    from kehu_core.app import Kehu
    from kehu_core.choices import Vocabulary
    from kehu_core.hooktypes import (
        CustomerChange,
        InteractionBatch,
        Job,
        ListColumn,
        ListFilter,
        ProfileSection,
        TierChange,
    )
    from kehu_core.models import Customer
    from kehu_core.profit import ProfitLine

PROJECT = "kehu"
hookspec = pluggy.HookspecMarker(PROJECT)


# -- interactions and customers -------------------------------------------------------------


@hookspec
def kehu_interaction_kinds(app: Kehu) -> Sequence[str]:
    """Add interaction kinds beyond the core's (visit, call, ..., complaint, other).

    Returns: the kind names, lower case. Imports and ``interaction log`` accept them.
    """


@hookspec
def kehu_interactions_recorded(app: Kehu, session: Session, batch: InteractionBatch) -> None:
    """React to interactions just written, in the same transaction.

    Parameters:
        app: the application.
        session: the session that wrote them; write your rows through it.
        batch: the interactions (with their new ids); a whole import chunk at a time.
            ``batch.rows`` are mappings with id, customer_id, kind, status, occurred_at,
            amount, quantity, product, category, channel, salesperson, satisfaction, note,
            external_ref, due_at, paid_at and cost; iterating gives typed values. A mapping
            is built only for a row you read: set-based code should take ``batch.ids`` and
            ``batch.column("kind")`` (lists in row order), and ``batch.of_kind(...)`` or
            ``batch.where(field, test)`` for the few rows it needs whole.

    Returns: nothing. Raising rolls the whole command back and names your plugin.
    """


@hookspec
def kehu_interactions_done(app: Kehu, session: Session, source: str) -> None:
    """The write that fired ``kehu_interactions_recorded`` is complete, in the same transaction.

    Called once per write: after an import's last chunk, or right after the one batch of
    ``kehu interaction log`` and of other single writes. A plugin that gathers batches to
    work on bigger sets (loyalty earns up to 50,000 interactions at a time) finishes here,
    so that when the write returns, every plugin's work on it is done.

    Parameters:
        app: the application.
        session: the session that wrote them.
        source: as in the batches (``import``, ``log`` ...).

    Returns: nothing. Raising rolls the whole command back and names your plugin.
    """


@hookspec
def kehu_customers_changed(app: Kehu, session: Session, changes: Sequence[CustomerChange]) -> None:
    """React to customers created, updated, archived, restored or forgotten.

    Parameters:
        app: the application.
        session: the session that made the change.
        changes: one :class:`~kehu_core.hooktypes.CustomerChange` per customer.

    Returns: nothing. Called in the same transaction, after the change is flushed; raising
    rolls the change back and names your plugin.
    """


# -- the profile card and the customer list ---------------------------------------------------


@hookspec
def kehu_profile_sections(app: Kehu, session: Session, customer: Customer) -> Sequence[ProfileSection]:
    """Contribute sections to the customer profile card (客户资料卡, ``kehu customer show``).

    Parameters:
        app: the application.
        session: the open session (read only here).
        customer: the customer being shown.

    Returns: zero or more :class:`~kehu_core.hooktypes.ProfileSection`. The core's own
    sections (fields, visit history, 6W1H1S) are ``trylast`` implementations of this hook.
    """


@hookspec
def kehu_customer_list_columns(app: Kehu | None, session: Session | None) -> Sequence[ListColumn]:
    """Add columns to ``kehu customer list``.

    ``session`` is the list's: a column that counts or sums the plugin's records counts only
    those its acting user may see (:func:`kehu_core.access.condition`); the customers
    themselves are filtered by the list. ``app`` and ``session`` are ``None`` when kehu only
    lists the columns for ``customer list --help``, which opens no database.

    Returns: :class:`~kehu_core.hooktypes.ListColumn` values, each a SQL expression over
    ``customers.id``, so the list stays one query and can sort on the column.
    """


@hookspec
def kehu_customer_list_filters(app: Kehu | None) -> Sequence[ListFilter]:
    """Add filters to ``kehu customer list --filter NAME=VALUE`` (``--filter tier=VIP``).

    ``app`` is ``None`` when kehu only lists the filters for ``customer list --help``.

    Returns: :class:`~kehu_core.hooktypes.ListFilter` values.
    """


# -- tiers, read by any plugin ----------------------------------------------------------------


@hookspec(firstresult=True)
def kehu_customer_tiers(
    app: Kehu, session: Session, customer_ids: Sequence[int], method: str | None
) -> Mapping[int, str] | None:
    """The current tier of customers, or their segment by a named method.

    Implemented by a tiering plugin. Loyalty multipliers and complaint SLAs call it, so
    they work whether or not a tiering plugin is installed.

    Parameters:
        app: the application.
        customer_ids: the customers to look up.
        method: ``None`` for *the* tier (the method the tiering plugin names as the
            customer's tier, by default the pyramid), or a method's name for that segment
            (``"rfm"``, ``"abc"``).

    Returns: ``{customer_id: code}`` for the customers that have one, or ``None`` when no
    plugin classifies customers. ``firstresult``: the first non-``None`` answer wins.
    """


@hookspec(firstresult=True)
def kehu_tier_names(app: Kehu, method: str | None) -> Vocabulary | None:
    """The tiers ``kehu_customer_tiers`` answers for ``method``, by every name people type.

    Implemented by a tiering plugin beside ``kehu_customer_tiers``, so that a plugin which
    keys its own settings by tier reads a tier typed in any language as its code: loyalty's
    ``tier_multiplier.主要客户`` and ``tier_multiplier.major`` are the same key, and an
    unknown name is refused listing the accepted ones.

    Parameters:
        app: the application.
        method: ``None`` for the values *the* tier may take (every tier method's classes),
            or a method's name (``"rfm"``, ``"abc"``) for its segments.

    Returns: a :class:`~kehu_core.choices.Vocabulary` (codes, labels in the user's language,
    Chinese names), or ``None`` when no plugin classifies customers or knows the method.
    ``firstresult``: the first non-``None`` answer wins.
    """


@hookspec
def kehu_tier_changed(app: Kehu, session: Session, changes: Sequence[TierChange]) -> None:
    """React to customers whose tier or segment moved (fired by a tiering plugin, in its transaction).

    Parameters:
        app: the application.
        changes: one :class:`~kehu_core.hooktypes.TierChange` per customer and method that
            moved. ``change.is_tier`` is true for the method that is the customer's tier;
            the other methods are segments.

    Returns: nothing.
    """


# -- jobs and privacy ----------------------------------------------------------------------


@hookspec
def kehu_scheduled_jobs(app: Kehu) -> Sequence[Job]:
    """Declare scheduled jobs (Odoo's ``ir.cron``).

    Returns: :class:`~kehu_core.hooktypes.Job` values. ``kehu jobs run-due`` runs each one
    whose interval has passed since its last successful run, each in its own transaction.
    """


@hookspec
def kehu_erase_customer(app: Kehu, session: Session, customer_ids: Sequence[int]) -> None:
    """Erase personal data you keep about these customers (``kehu customer forget``).

    Parameters:
        app: the application.
        session: the session of the erasure.
        customer_ids: the customers being forgotten.

    Returns: nothing. Keep anonymous aggregates (amounts, dates, counts); erase names,
    contact details and free text.
    """


@hookspec
def kehu_export_customer(app: Kehu, session: Session, customer: Customer) -> Mapping[str, Any] | None:
    """Give everything you keep about one customer (``kehu customer export``).

    Returns: a JSON-serialisable mapping of ``{section: data}``, or ``None``.
    """


# -- plugins --------------------------------------------------------------------------------


@hookspec
def kehu_plugin_uninstalled(app: Kehu, session: Session, name: str) -> None:
    """Plugin ``name`` was just uninstalled from this database: undo what it left in yours.

    Called inside the uninstall's transaction, after its tables were dropped (or, with
    ``--forget``, left), its default rows elsewhere deleted and its job history cleared. It
    is no longer installed: its hooks are not called any more, so results its hooks gave
    (tier rules, earn rules) can be derived again without it.

    Parameters:
        app: the application.
        session: the uninstall's session; write through it.
        name: the plugin uninstalled.

    Returns: nothing. Raising rolls the whole uninstall back and names your plugin.
    """


# -- customer profit --------------------------------------------------------------------------


@hookspec
def kehu_customer_profit_lines(
    app: Kehu,
    session: Session,
    customer_ids: Sequence[int] | None,
    since: date | None,
    until: date | None,
) -> Sequence[ProfitLine]:
    """Contribute lines to customers' profit statements (客户利润, ``kehu customer profit``).

    A distributor's rebates (返利) are operating profit (经营利润); support you pay for is
    expense support (费用支持); costs the customer bears is their outlay (费用支出).

    Parameters:
        app: the application.
        session: the open session (read only here); count only the customers the acting user
            may see (:func:`kehu_core.access.visible_customers`).
        customer_ids: the customers asked about, or ``None`` for every customer.
        since: the period's first local day, or ``None`` for no lower bound.
        until: the period's last local day (included), or ``None`` for no upper bound.

    Returns: :class:`~kehu_core.profit.ProfitLine` values (``section`` ``operating``,
    ``support`` or ``outlay``; positive amounts), one per customer and item.
    """
