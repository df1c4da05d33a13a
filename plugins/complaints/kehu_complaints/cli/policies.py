"""``kehu complaint sla ...``: SLA policies."""

from __future__ import annotations

from typing import Any

import click
from attrs import asdict

from kehu_complaints import api
from kehu_complaints.sla import load_policies, policy_names_in_use
from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import emit_json, emit_rows, json_option, list_output_options


@click.group("sla", cls=PluginGroup)
def sla_group() -> None:
    """SLA policies: first response and resolution targets in business minutes, tried by priority.

    \b
    Example:
      kehu complaint sla list
    """


@sla_group.command("list")
@list_output_options
def sla_list(as_json: bool, as_csv: bool) -> None:
    """List SLA policies in the order they are tried, with the open complaints each governs.

    \b
    Example:
      kehu complaint sla list --csv > sla.csv
    """
    with transaction() as (_app, session):
        policies, in_use = load_policies(session), policy_names_in_use(session)
    rows = [
        {
            **asdict(p),
            "open": in_use.get(p.name, 0),
            "severities": ",".join(p.severities) or "any",
            "tiers": ",".join(p.tiers) or "any",
            "kinds": ",".join(p.kinds) or "any",
            "paused_stages": ",".join(p.paused_stages),
        }
        for p in policies
    ]
    keys = (
        "priority",
        "name",
        "severities",
        "tiers",
        "kinds",
        "first_response_minutes",
        "resolution_minutes",
        "paused_stages",
        "open",
    )
    emit_rows(
        ("prio", "name", "severity", "tier", "kind", "response min", "resolution min", "paused in", "open"),
        rows,
        keys,
        as_json=as_json,
        as_csv=as_csv,
    )


@sla_group.command("set")
@click.argument("name")
@click.option("--priority", type=int, help="Lower is tried first.")
@click.option("--severities", help="Comma-separated severities it matches (empty: any).")
@click.option("--tiers", help="Comma-separated customer tiers it matches (empty: any).")
@click.option("--kinds", help="grievance and/or complaint (empty: any).")
@click.option(
    "--first-response", "first_response_minutes", type=int, help="Business minutes to the first response."
)
@click.option("--resolution", "resolution_minutes", type=int, help="Business minutes to resolution.")
@click.option("--paused-stages", help="Comma-separated stages in which the clock stops.")
@click.option("--active/--inactive", default=None, help="Use the policy or not.")
@json_option
def sla_set(name: str, as_json: bool, **values: Any) -> None:
    """Create or change a policy; due times of open complaints are recomputed (pauses kept).

    \b
    Example:
      kehu complaint sla set vip --priority 5 --tiers VIP --first-response 30 --resolution 240
    """
    given = {k: v for k, v in values.items() if v is not None}
    with transaction() as (app, session):
        policy, changed = api.save_sla_policy(app, session, name, given)
    if as_json:
        emit_json({"policy": policy, "recomputed": changed})
    else:
        click.echo(f"policy {policy.name} saved; due times of {changed} open complaint(s) recomputed")


@sla_group.command("delete")
@click.argument("name")
@json_option
def sla_delete(name: str, as_json: bool) -> None:
    """Delete a policy (not the default); open complaints are re-matched.

    \b
    Example:
      kehu complaint sla delete vip
    """
    with transaction() as (app, session):
        changed = api.delete_sla_policy(app, session, name)
    if as_json:
        emit_json({"deleted": name, "recomputed": changed})
    else:
        click.echo(f"policy {name} deleted; due times of {changed} open complaint(s) recomputed")


@sla_group.command("recompute")
@json_option
def sla_recompute(as_json: bool) -> None:
    """Re-match policies and tiers and recompute due times of every open complaint.

    \b
    Example:
      kehu complaint sla recompute --json
    """
    with transaction() as (app, session):
        changed = api.recompute_sla(app, session)
    if as_json:
        emit_json({"recomputed": changed})
    else:
        click.echo(f"due times of {changed} open complaint(s) changed")
