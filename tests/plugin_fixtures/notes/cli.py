"""``kehu notes``: the test plugin's commands."""

from __future__ import annotations

import click
from kehu_notes.models import items
from sqlalchemy import select

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import emit_json, json_option
from kehu_core.customers import get_customer


@click.group("notes", cls=PluginGroup, plugin="notes")
def notes():
    """Notes on customers (test plugin)."""


@notes.command("add")
@click.argument("code")
@click.argument("text")
def add(code, text):
    """Add a note to customer CODE."""
    with transaction() as (app, session):
        customer = get_customer(session, code)
        session.execute(items.insert().values(customer_id=customer.id, body=text))
    click.echo("noted")


@notes.command("list")
@json_option
def list_(as_json):
    """Every note."""
    with transaction() as (app, session):
        rows = [
            dict(r)
            for r in session.execute(
                select(items.c.customer_id, items.c.body).order_by(items.c.id)
            ).mappings()
        ]
    emit_json(rows)
