"""``kehu complaint team ...``: complaint-handling teams."""

from __future__ import annotations

import click

from kehu_complaints.fields import ASSIGNMENT, DOMAIN
from kehu_complaints.teams import TeamRecord, list_teams, remove_member, save_team
from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import emit_json, emit_rows, json_option, list_output_options
from kehu_core.cli.params import VocabularyType
from kehu_core.i18n import messages

_ = messages(DOMAIN).gettext


@click.group("team", cls=PluginGroup)
def team() -> None:
    """Complaint-handling teams: members, lead (receives escalations), assignment rule.

    \b
    Example:
      kehu complaint team list
    """


def _emit_team(record: TeamRecord, as_json: bool) -> None:
    if as_json:
        emit_json(record)
    else:
        members = (
            ", ".join(_("{member} ({n} open)").format(member=m, n=n) for m, n in record.members.items())
            or "-"
        )
        click.echo(
            _("team {name}: lead {lead}, {assignment}; members: {members}").format(
                name=record.name,
                lead=record.lead or "-",
                assignment=ASSIGNMENT.label(record.assignment),
                members=members,
            )
        )


@team.command("add")
@click.argument("name")
@click.option("--lead", help="The team lead; SLA breaches escalate to them.")
@click.option(
    "--assignment",
    type=VocabularyType(ASSIGNMENT),
    help="How new complaints are assigned (手动, 轮流, 均衡 too).",
)
@click.option(
    "--member", "members", multiple=True, help="A member (repeat for several, in round-robin order)."
)
@json_option
def team_add(
    name: str, lead: str | None, assignment: str | None, members: tuple[str, ...], as_json: bool
) -> None:
    """Create a team, or change its lead and rule and add members.

    \b
    Example:
      kehu complaint team add 客服一组 --lead 李娜 --assignment balanced --member 王芳 --member 刘洋
    """
    with transaction() as (_app, session):
        record = save_team(session, name, lead=lead, assignment=assignment, members=list(members))
    _emit_team(record, as_json)


@team.command("remove-member")
@click.argument("name")
@click.argument("member")
@json_option
def team_remove_member(name: str, member: str, as_json: bool) -> None:
    """Take a member out of the team's assignment (their open complaints stay theirs).

    \b
    Example:
      kehu complaint team remove-member 客服一组 刘洋
    """
    with transaction() as (_app, session):
        record = remove_member(session, name, member)
    _emit_team(record, as_json)


@team.command("list")
@list_output_options
def team_list(as_json: bool, as_csv: bool) -> None:
    """List teams with their members' open complaints.

    \b
    Example:
      kehu complaint team list --json
    """
    with transaction() as (_app, session):
        records = list_teams(session)
    if as_json:
        emit_json(records)
        return
    rows = [
        {
            "name": r.name,
            "lead": r.lead,
            "assignment": r.assignment if as_csv else ASSIGNMENT.label(r.assignment),
            "members": ", ".join(f"{m}:{n}" for m, n in r.members.items()),
        }
        for r in records
    ]
    emit_rows(
        [_("team"), _("lead"), _("assignment"), _("members (open)")],
        rows,
        ("name", "lead", "assignment", "members"),
        as_json=False,
        as_csv=as_csv,
    )
