"""A small plugin with its own tables, used by the plugin-system tests."""

from __future__ import annotations

from pathlib import Path

import click

from kehu_core import Manifest, hookimpl

MANIFEST = Manifest(name="notes", version="1.0", summary="Free notes on customers", min_core_version="0.1.0")

#: Default categories: (code, label). Version 2 changes the labels and adds one.
CATEGORIES = (("general", "General 一般"), ("followup", "Follow-up 跟进"))


def tables():
    """The plugin's tables (imported lazily, like a real plugin keeps SQLAlchemy off --help)."""
    from kehu_notes import models

    return models


@hookimpl
def kehu_schema():
    from kehu_core import Schema

    return Schema(plugin="notes", metadata=tables().metadata, versions=Path(__file__).parent / "migrations")


@hookimpl
def kehu_default_data():
    from kehu_core import DefaultRecord

    table = tables().categories
    return [
        DefaultRecord(table=table, key={"code": code}, values={"label": label}) for code, label in CATEGORIES
    ]


def _log(session, event: str, detail: str = "") -> None:
    session.execute(tables().lifecycle.insert().values(event=event, detail=detail))


@hookimpl
def kehu_after_install(session, name):
    _log(session, "after_install", name)


@hookimpl
def kehu_after_upgrade(session, name, from_version, to_version):
    _log(session, "after_upgrade", f"{from_version}->{to_version}")


@hookimpl
def kehu_interactions_recorded(session, batch):
    # Set-based: one insert for the whole batch.
    rows = [{"customer_id": r["customer_id"], "body": f"recorded {r['kind']}"} for r in batch.rows]
    if rows:
        session.execute(tables().items.insert(), rows)


@hookimpl
def kehu_register_commands(cli):
    from kehu_core.cli import requires_plugin, transaction
    from kehu_core.cli.output import emit_json, json_option

    @click.group("notes")
    def notes():
        """Notes on customers (test plugin)."""

    @notes.command("add")
    @click.argument("code")
    @click.argument("text")
    @requires_plugin("notes")
    def add(code, text):
        """Add a note to customer CODE."""
        from kehu_core.customers import get_customer

        with transaction() as (app, session):
            customer = get_customer(session, code)
            session.execute(tables().items.insert().values(customer_id=customer.id, body=text))
        click.echo("noted")

    @notes.command("list")
    @json_option
    @requires_plugin("notes")
    def list_(as_json):
        """Every note."""
        from sqlalchemy import select

        items = tables().items
        with transaction() as (app, session):
            rows = [
                dict(r)
                for r in session.execute(
                    select(items.c.customer_id, items.c.body).order_by(items.c.id)
                ).mappings()
            ]
        emit_json(rows)

    cli.add_command(notes)
