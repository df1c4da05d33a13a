"""``kehu init``, ``kehu db``, ``kehu demo``: the database and its demo data."""

from __future__ import annotations

import click

from kehu_core import schema
from kehu_core.cli.context import current_app, require_permission, transaction
from kehu_core.cli.help import TranslatedCommand, TranslatedGroup
from kehu_core.cli.maintenance import vacuum
from kehu_core.cli.output import emit_json, emit_table, json_option
from kehu_core.db import describe
from kehu_core.demo import load_demo
from kehu_core.i18n import messages
from kehu_core.installer import unavailable_installed
from kehu_core.plugins import BUILTIN

_, ngettext = messages("kehu_core").functions()


@click.command(cls=TranslatedCommand, name="init")
@json_option
def init(as_json: bool) -> None:
    """Create the database schema, or bring it up to date. Safe to run again.

    \b
    Example:
      kehu --db postgresql://kehu@localhost/kehu init
    """
    app = current_app(create=True)
    require_permission(app, "plugins.manage", _("upgrade the database schema"))
    branches = app.init()
    if as_json:
        emit_json({"database": describe(app.engine), "upgraded": branches})
    else:
        plugins = len(branches) - 1
        click.echo(
            ngettext(
                "database {database} is ready (core and {n} plugin(s) at head)",
                "database {database} is ready (core and {n} plugin(s) at head)",
                plugins,
            ).format(database=describe(app.engine), n=plugins)
        )


@click.group(cls=TranslatedGroup, name="db")
def db() -> None:
    """The database schema: status and upgrades.

    \b
    Example:
      kehu db status
    """


db.add_command(vacuum)


@db.command("upgrade")
@json_option
def upgrade(as_json: bool) -> None:
    """Bring the core and every installed plugin to their newest schema (runs migrations).

    \b
    Example:
      pip install -U kehu-core kehu-tiering && kehu db upgrade
    """
    app = current_app(create=True)
    require_permission(app, "plugins.manage", _("upgrade the database schema"))
    branches = app.init()
    with app.session() as session:
        skipped = unavailable_installed(app, session)
    if as_json:
        emit_json({"upgraded": branches, "skipped": skipped} if skipped else {"upgraded": branches})
        return
    click.echo(_("upgraded: {branches}").format(branches=", ".join(branches)))
    for name in skipped:
        click.echo(
            _(
                "warning: plugin {name!r} is installed in this database but cannot be loaded here; "
                "it was not upgraded (see `kehu plugins list`)"
            ).format(name=name),
            err=True,
        )


@db.command("status")
@json_option
def status(as_json: bool) -> None:
    """Show each branch's applied and newest revision (core and installed plugins).

    \b
    Example:
      kehu db status --json
    """
    app = current_app()
    with app.engine.connect() as conn:
        installed = sorted(app.installed())
        with_schema = {s.plugin for s in app.schemas()}
        branches = [BUILTIN, *[n for n in installed if n in with_schema]]
        rows = schema.status(conn, app.schemas(), branches)
    data = [
        {"branch": r.branch, "current": r.current, "head": r.head, "up_to_date": r.up_to_date} for r in rows
    ]
    if as_json:
        emit_json({"database": describe(app.engine), "branches": data})
        return
    click.echo(_("database: {database}").format(database=describe(app.engine)))
    emit_table(
        (_("branch"), _("current"), _("head"), _("state")),
        [
            (
                r.branch,
                r.current or _("(none)"),
                r.head,
                _("up to date") if r.up_to_date else _("needs `kehu db upgrade`"),
            )
            for r in rows
        ],
    )


@click.command(cls=TranslatedCommand, name="demo")
@click.option(
    "--customers",
    type=click.IntRange(min=10, max=1_000_000),
    default=300,
    show_default=True,
    help="How many customers.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed (same seed, same data).")
@json_option
def demo(customers: int, seed: int, as_json: bool) -> None:
    """Load a generated, realistic demo data set into an empty database, and print a summary.

    Run `kehu init` and `kehu plugins install ...` first: installed plugins add their demo data.

    \b
    Example:
      kehu init && kehu plugins install --all && kehu demo --customers 500
    """
    with transaction() as (app, session):
        summary = load_demo(app, session, customers=customers, seed=seed)
    if as_json:
        emit_json(
            {
                "customers": summary.customers,
                "interactions": summary.interactions,
                "revenue": summary.revenue,
                "top20_share": summary.top20_share,
                "lines": summary.lines,
            }
        )
        return
    click.secho(_("kehu demo data loaded"), bold=True)
    for line in summary.lines:
        click.echo(f"  {line}")
