"""``kehu complaint sla ...``: SLA policies."""

from __future__ import annotations

from typing import Any

import click
from attrs import asdict

from kehu_complaints import api
from kehu_complaints.fields import DOMAIN, KIND, SEVERITY, policy_label
from kehu_complaints.sla import load_policies, policy_names_in_use
from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import emit_json, emit_rows, json_option, list_output_options
from kehu_core.i18n import messages

_ = messages(DOMAIN).gettext


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
    with transaction() as (app, session):
        policies, in_use = load_policies(session), policy_names_in_use(session)
        workflow = api.workflow(app)
    text = not (as_json or as_csv)
    anything = _("any") if text else "any"

    def shown(codes: tuple[str, ...], label: Any) -> str:
        return ",".join(label(c) if text else c for c in codes)

    rows = [
        {
            **asdict(p),
            "open": in_use.get(p.name, 0),
            "severities": shown(p.severities, SEVERITY.label) or anything,
            "tiers": ",".join(p.tiers) or anything,
            "kinds": shown(p.kinds, KIND.label) or anything,
            "paused_stages": shown(p.paused_stages, workflow.label),
            "name": _("{key} ({label})").format(key=p.name, label=policy_label(p.name))
            if text and policy_label(p.name) != p.name
            else p.name,
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
        [
            _("prio"),
            _("name"),
            _("severity"),
            _("tier"),
            _("kind"),
            _("response min"),
            _("resolution min"),
            _("paused in"),
            _("open"),
        ],
        rows,
        keys,
        as_json=as_json,
        as_csv=as_csv,
    )


@sla_group.command("set")
@click.argument("name")
@click.option("--priority", type=int, help="Lower is tried first.")
@click.option("--severities", help="Comma-separated severities it matches (紧急, 高 ... too; empty: any).")
@click.option(
    "--tiers",
    help="Comma-separated customer tiers it matches, as the tiering plugin codes them (empty: any).",
)
@click.option("--kinds", help="grievance and/or complaint (抱怨, 投诉; empty: any).")
@click.option(
    "--first-response", "first_response_minutes", type=int, help="Business minutes to the first response."
)
@click.option("--resolution", "resolution_minutes", type=int, help="Business minutes to resolution.")
@click.option("--paused-stages", help="Comma-separated stages in which the clock stops (等待客户 ... too).")
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
        click.echo(
            _("policy {name} saved; due times of {n} open complaint(s) recomputed").format(
                name=policy_label(policy.name), n=changed
            )
        )


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
        click.echo(
            _("policy {name} deleted; due times of {n} open complaint(s) recomputed").format(
                name=name, n=changed
            )
        )


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
        click.echo(_("due times of {n} open complaint(s) changed").format(n=changed))
