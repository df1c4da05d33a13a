"""Every hook the core offers. Each docstring here is the reference for plugin authors.

Implement a hook by decorating a function of the same name with ``kehu_core.hookimpl``
in your plugin module. Hooks take batches, never one row per call: a pluggy call costs
microseconds, and per-row calls over a million rows cost seconds.

Hooks marked *own plugin only* are called for the plugin being installed, upgraded or
uninstalled, not for every plugin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from sqlalchemy.orm import Session

    from kehu_core.hooktypes import (
        CustomerChange,
        DefaultRecord,
        DemoContext,
        InteractionBatch,
        Job,
        ListColumn,
        ListFilter,
        ProfileSection,
        Schema,
        TierChange,
    )
    from kehu_core.models import Customer

PROJECT = "kehu"
hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec(historic=True)
def kehu_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Add hook specs of your own, for other plugins to implement.

    Parameters:
        pluginmanager: call ``pluginmanager.add_hookspecs(your_hookspec_module)``.

    Returns: nothing. Historic: called for every plugin as it registers, before kehu checks
    that every hook implemented has a spec, so plugins loaded earlier may implement your specs.
    Your specs are listed by ``kehu hooks``; document them like the core's.
    """


@hookspec
def kehu_register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the ``kehu`` command line.

    Parameters:
        cli: the root ``kehu`` group; call ``cli.add_command(your_group)``.

    Returns: nothing. Called for every *available* plugin, installed in the database or not,
    so wrap commands that touch your tables with ``kehu_core.cli.requires_plugin("name")``:
    where your plugin is not installed they say how to install it instead of failing in SQL.
    """


@hookspec
def kehu_schema() -> Schema | None:
    """Declare your tables and the folder of your Alembic revisions.

    Returns: a :class:`~kehu_core.hooktypes.Schema` (plugin name, ``MetaData``, folder of
    revisions), or ``None`` if the plugin has no tables. The installer runs the revisions
    on the plugin's own Alembic branch (first revision: ``branch_labels = ("<name>",)``,
    ``depends_on = "c0001"``); uninstall downgrades that branch to base.
    """


@hookspec
def kehu_interaction_kinds() -> Sequence[str]:
    """Add interaction kinds beyond the core's (visit, call, ..., complaint, other).

    Returns: the kind names, lower case. Imports and ``interaction log`` accept them.
    """


@hookspec
def kehu_profile_sections(session: Session, customer: Customer) -> Sequence[ProfileSection]:
    """Contribute sections to the customer profile card (``kehu customer show``).

    Parameters:
        session: the open session (read only here).
        customer: the customer being shown.

    Returns: zero or more :class:`~kehu_core.hooktypes.ProfileSection`. The core's own
    sections (fields, visit history, 6W1H1S) are ``trylast`` implementations of this hook.
    """


@hookspec
def kehu_customer_list_columns() -> Sequence[ListColumn]:
    """Add columns to ``kehu customer list``.

    Returns: :class:`~kehu_core.hooktypes.ListColumn` values, each a SQL expression over
    ``customers.id``, so the list stays one query and can sort on the column.
    """


@hookspec
def kehu_customer_list_filters() -> Sequence[ListFilter]:
    """Add filter options to ``kehu customer list`` (``--tier A``).

    Returns: :class:`~kehu_core.hooktypes.ListFilter` values; each becomes an option.
    """


@hookspec
def kehu_interactions_recorded(session: Session, batch: InteractionBatch) -> None:
    """React to interactions just written, in the same transaction.

    Parameters:
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
def kehu_interactions_done(session: Session, source: str) -> None:
    """The write that fired ``kehu_interactions_recorded`` is complete, in the same transaction.

    Called once per write: after an import's last chunk, or right after the one batch of
    ``kehu interaction log`` and of other single writes. A plugin that gathers batches to
    work on bigger sets (loyalty earns up to 50,000 interactions at a time) finishes here,
    so that when the write returns, every plugin's work on it is done.

    Parameters:
        session: the session that wrote them.
        source: as in the batches (``import``, ``log`` ...).

    Returns: nothing. Raising rolls the whole command back and names your plugin.
    """


@hookspec
def kehu_customers_changed(session: Session, changes: Sequence[CustomerChange]) -> None:
    """React to customers created, updated, archived, restored or forgotten.

    Parameters:
        session: the session that made the change.
        changes: one :class:`~kehu_core.hooktypes.CustomerChange` per customer.

    Returns: nothing. Called in the same transaction, after the change is flushed.
    """


@hookspec
def kehu_scheduled_jobs() -> Sequence[Job]:
    """Declare scheduled jobs (Odoo's ``ir.cron``).

    Returns: :class:`~kehu_core.hooktypes.Job` values. ``kehu jobs run-due`` runs each one
    whose interval has passed since its last successful run, each in its own transaction.
    """


@hookspec
def kehu_erase_customer(session: Session, customer_ids: Sequence[int]) -> None:
    """Erase personal data you keep about these customers (``kehu customer forget``).

    Parameters:
        session: the session of the erasure.
        customer_ids: the customers being forgotten.

    Returns: nothing. Keep anonymous aggregates (amounts, dates, counts); erase names,
    contact details and free text.
    """


@hookspec
def kehu_export_customer(session: Session, customer: Customer) -> Mapping[str, Any] | None:
    """Give everything you keep about one customer (``kehu customer export``).

    Returns: a JSON-serialisable mapping of ``{section: data}``, or ``None``.
    """


@hookspec(firstresult=True)
def kehu_customer_tiers(session: Session, customer_ids: Sequence[int]) -> Mapping[int, str] | None:
    """Look up the current tier of customers, for plugins that adapt to it.

    Implemented by a tiering plugin; loyalty multipliers and complaint SLAs call it, so
    they work whether or not a tiering plugin is installed.

    Parameters:
        customer_ids: the customers to look up.

    Returns: ``{customer_id: tier}`` for the customers that have a tier, or ``None`` when
    no plugin classifies customers. ``firstresult``: the first non-``None`` answer wins.
    """


@hookspec
def kehu_tier_changed(session: Session, changes: Sequence[TierChange]) -> None:
    """React to customers whose tier moved (fired by a tiering plugin, in its transaction).

    Parameters:
        changes: one :class:`~kehu_core.hooktypes.TierChange` per customer that moved.

    Returns: nothing.
    """


@hookspec
def kehu_default_data() -> Sequence[DefaultRecord]:
    """Default rows loaded when your plugin is installed, and refreshed on upgrade.

    *Own plugin only.* A row the user changed or deleted since it was loaded is left alone
    (Odoo's ``noupdate``); rows new in a version are inserted by ``kehu db upgrade``.

    Returns: :class:`~kehu_core.hooktypes.DefaultRecord` values.
    """


@hookspec
def kehu_before_install(session: Session, name: str) -> None:
    """*Own plugin only.* Called before your tables are created. Raise to refuse the install.

    Runs in the install's transaction: if it (or anything later) raises, nothing is installed.
    """


@hookspec
def kehu_after_install(session: Session, name: str) -> None:
    """*Own plugin only.* Called after your tables exist and default data is loaded."""


@hookspec
def kehu_after_upgrade(session: Session, name: str, from_version: str, to_version: str) -> None:
    """*Own plugin only.* Called after ``kehu db upgrade`` brought your schema to head.

    Called once per version change: when the version recorded in the database differs from
    your manifest's, after your migrations ran and your default data was refreshed.

    Parameters:
        from_version: the version recorded before; ``to_version``: the one now installed.
    """


@hookspec
def kehu_before_uninstall(session: Session, name: str) -> None:
    """*Own plugin only.* Called before your tables are dropped. Raise to refuse the uninstall."""


@hookspec
def kehu_demo_data(session: Session, context: DemoContext) -> None:
    """Add demo rows for ``kehu demo`` after the core's customers and interactions exist.

    Parameters:
        context: the seeded random generator, the demo size, and ``summary``, a list to
            which you append lines for the summary ``make demo`` prints.
    """
