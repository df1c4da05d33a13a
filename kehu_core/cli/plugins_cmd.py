"""``kehu plugins``, ``kehu hooks`` and ``kehu jobs``: the framework itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from kehu_core import installer
from kehu_core.cli.context import act, current_app, ensure_schema, require_permission, state
from kehu_core.cli.help import TranslatedCommand, TranslatedGroup
from kehu_core.cli.output import emit_json, emit_table, json_option
from kehu_core.errors import KehuError, PluginError
from kehu_core.hookdoc import hook_reference, markdown
from kehu_core.i18n import N_, messages
from kehu_core.installer import installed_versions
from kehu_core.jobs import job_statuses
from kehu_core.jobs import run_due as run_due_jobs

_, ngettext = messages("kehu_core").functions()

#: A plugin's state in ``kehu plugins list``: code → what people read.
STATES = {
    "ERROR": N_("ERROR"),
    "available": N_("available"),
    "installed": N_("installed"),
    "upgrade": N_("upgrade"),
}
#: A job run's status: code (kept in --json) → what people read.
JOB_STATUSES = {"ok": N_("ok"), "failed": N_("failed"), "busy": N_("busy"), "running": N_("running")}
#: A job's interval in ``kehu jobs list``: (seconds in the unit, how it is written).
UNITS = ((86400, N_("{n}d")), (3600, N_("{n}h")), (60, N_("{n}m")))


@click.group(cls=TranslatedGroup, name="plugins")
def plugins() -> None:
    """Plugins: available (pip-installed) and installed (in this database).

    \b
    Example:
      kehu plugins list && kehu plugins install tiering
    """


@plugins.command("list")
@click.option("-v", "--verbose", is_flag=True, help="Show the traceback of each plugin that failed to load.")
@json_option
def list_(verbose: bool, as_json: bool) -> None:
    """Every available plugin: version, installed here or not, dependencies, hooks, load errors.

    \b
    state: available   pip-installed, not installed in this database
           installed   installed here, at the available version
           upgrade     installed here at an older version: run `kehu db upgrade`
           ERROR       failed to load (see the summary column, -v, or --json)

    \b
    Example:
      kehu plugins list
      kehu plugins list -v --json
    """
    st = state()
    st.plugins.pm  # noqa: B018 - loads every plugin's hooks, so their hooks and load errors show
    installed: dict[str, str] = {}
    db_error = db_reason = None
    try:
        installed = installed_versions(current_app())
    except Exception as exc:  # list must work even when the database cannot be opened
        db_error = f"{type(exc).__name__}: {exc}"  # for --json: the kind of error too
        db_reason = str(exc) if isinstance(exc, KehuError) else db_error
    rows: list[dict[str, Any]] = []
    for name, info in sorted(st.plugins.infos.items()):
        manifest = info.manifest
        rows.append(
            {
                "name": name,
                "version": info.version,
                "distribution": info.distribution,
                "summary": manifest.summary if manifest else None,
                "available": info.loaded,
                "installed": name in installed,
                "installed_version": installed.get(name),
                "depends": list(manifest.depends) if manifest else [],
                "auto_install": manifest.auto_install if manifest else False,
                "hooks": info.hooks,
                "error": info.error,
                "error_detail": info.error_detail,
            }
        )
    for name in sorted(set(installed) - set(st.plugins.infos)):
        rows.append(
            {
                "name": name,
                "version": None,
                "distribution": None,
                "summary": None,
                "available": False,
                "installed": True,
                "installed_version": installed[name],
                "depends": [],
                "auto_install": False,
                "hooks": [],
                "error": _(
                    "installed in this database but not available: pip install it again, "
                    "or `kehu plugins uninstall {name} --forget`"
                ).format(name=name),
                "error_detail": None,
            }
        )
    if as_json:
        emit_json({"plugins": rows, "database_error": db_error})
        return
    if not rows:
        click.echo(
            _(
                "no plugins available; pip install kehu-tiering (for example), "
                "then kehu plugins install tiering"
            )
        )
        return
    emit_table(
        (_("name"), _("version"), _("installed"), _("state"), _("depends"), _("summary")),
        [
            (
                r["name"],
                r["version"],
                r["installed_version"],
                _(STATES[_state(r)]),
                ",".join(r["depends"]) or "-",
                r["error"] or _summary(r["name"], r["summary"]),
            )
            for r in rows
        ],
    )
    if verbose:
        for r in rows:
            if r["error_detail"]:
                click.echo(f"\n{r['name']}: {r['error']}\n{r['error_detail']}", err=True)
    if db_error:
        click.echo(_("(could not read the database: {error})").format(error=db_reason), err=True)


def _summary(name: str, summary: str | None) -> str | None:
    """A plugin's summary in the user's language, from the plugin's own catalog (its manifest
    marks it ``N_``); as written when the plugin has no translation of it."""
    info = state().plugins.infos.get(name)
    if not summary or info is None:
        return summary
    package = info.entry_point.split(":")[0].strip().partition(".")[0]
    try:
        return messages(package).gettext(summary)
    except LookupError:  # the package cannot be found any more: nothing to translate with
        return summary


def _state(row: Mapping[str, object]) -> str:
    if row["error"]:
        return "ERROR"
    if not row["installed"]:
        return "available"
    return "installed" if row["installed_version"] == row["version"] else "upgrade"


@plugins.command("install")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Install every available plugin.")
@json_option
def install(names: tuple[str, ...], all_: bool, as_json: bool) -> None:
    """Install plugins into this database: their dependencies first, then their tables and default data.

    \b
    Example:
      kehu plugins install tiering loyalty
      kehu plugins install --all
    """
    app = current_app()
    if all_:
        # Everything that can be installed; a missing or cyclic dependency skips that plugin.
        wanted = []
        for name in sorted(app.plugins.loaded):
            try:
                installer.install_order(app, [name])
                wanted.append(name)
            except PluginError as exc:
                click.echo(_("warning: skipped {name}: {error}").format(name=name, error=exc), err=True)
    else:
        wanted = list(names)
    if not wanted:
        raise click.UsageError(_("name at least one plugin, or --all"))
    with app.session() as session:
        act(app, session)
        newly = installer.install(app, session, wanted)
    if as_json:
        emit_json({"installed": newly})
    elif newly:
        click.echo(_("installed: {names}").format(names=", ".join(newly)))
    else:
        click.echo(_("already installed: {names}").format(names=", ".join(wanted)))


@plugins.command("uninstall")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--forget",
    is_flag=True,
    help="For a plugin whose package is gone or broken: forget it here, leaving its tables.",
)
def uninstall(name: str, yes: bool, forget: bool) -> None:
    """Uninstall plugin NAME from this database: its tables and data are dropped; core data stays.

    Refused while an installed plugin depends on NAME.

    \b
    Example:
      kehu plugins uninstall loyalty          # asks first
      kehu plugins uninstall loyalty --yes
    """
    app = current_app()
    only_forget = forget and not installer.can_drop_tables(app, name)
    if not yes:
        question = (
            _("Forget plugin {name!r} in this database, leaving its tables?")
            if only_forget
            else _("Drop every table and all data of plugin {name!r}? This cannot be undone")
        )
        click.confirm(question.format(name=name), abort=True)
    with app.session() as session:
        act(app, session)
        done = installer.uninstall(app, session, name, forget=forget)
    click.echo(
        (
            _("forgot {name}; its tables are left in the database")
            if only_forget
            else _("uninstalled {name}")
        ).format(name=name)
    )
    if done.kept_rows:
        kept = len(done.kept_rows)
        click.echo(
            ngettext(
                "kept {n} row(s) of its default data in other tables:",
                "kept {n} row(s) of its default data in other tables:",
                kept,
            ).format(n=kept)
        )
        for row in done.kept_rows:
            key = ", ".join(f"{k}={v}" for k, v in row.key.items())
            click.echo(f"  {row.table} ({key}): {row.why}")


@click.command(cls=TranslatedCommand, name="hooks")
@click.argument("name", required=False)
@json_option
@click.option("--markdown", "as_markdown", is_flag=True, help="Print Markdown (for a plugin's docs).")
def hooks(name: str | None, as_json: bool, as_markdown: bool) -> None:
    """Every hook spec: its signature, its documentation, and the plugins implementing it.

    \b
    Example:
      kehu hooks kehu_profile_sections
      kehu hooks --markdown > hooks.md
    """
    refs = hook_reference(state().plugins)
    if name:
        refs = [r for r in refs if r.name == name]
        if not refs:
            raise click.BadParameter(_("no hook named {name!r}").format(name=name), param_hint="NAME")
    if as_json:
        emit_json(
            [
                {
                    "name": r.name,
                    "signature": r.signature,
                    "doc": r.doc,
                    "firstresult": r.firstresult,
                    "historic": r.historic,
                    "implemented_by": r.implemented_by,
                }
                for r in refs
            ]
        )
        return
    if as_markdown:
        click.echo(markdown(refs), nl=False)
        return
    for ref in refs:
        click.secho(f"{ref.name}{ref.signature}", bold=True)
        flags = [f for f, on in (("firstresult", ref.firstresult), ("historic", ref.historic)) if on]
        if flags:
            click.echo(f"  ({', '.join(flags)})")
        for line in ref.doc.splitlines():
            click.echo(f"  {line}" if line.strip() else "")
        click.echo("  " + _("implemented by: {plugins}").format(plugins=", ".join(ref.implemented_by) or "-"))
        click.echo()


@click.group(cls=TranslatedGroup, name="jobs")
def jobs() -> None:
    """Scheduled jobs (like Odoo's ir.cron). Run `kehu jobs run-due` from cron.

    \b
    Example:
      kehu jobs list
      kehu --as boss jobs run-due
    """


@jobs.command("list")
@json_option
def jobs_list(as_json: bool) -> None:
    """Every job, its interval, last run and whether it is due.

    \b
    Example:
      kehu jobs list --json
    """
    app = current_app()
    ensure_schema(app)
    rows = job_statuses(app)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo(_("no scheduled jobs (installed plugins declare them)"))
        return
    emit_table(
        (_("job"), _("plugin"), _("every"), _("last run"), _("status"), _("due")),
        [
            (
                r.name,
                r.plugin,
                _every(r.interval_seconds),
                r.last_run,
                _(JOB_STATUSES.get(r.last_status, r.last_status)) if r.last_status else None,
                r.due,
            )
            for r in rows
        ],
    )


@jobs.command("run-due")
@click.argument("names", nargs=-1)
@click.option("--force", is_flag=True, help="Run the named jobs even if they are not due.")
@json_option
def run_due(names: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Run every job that is due (or the named ones). Idempotent; a failing job does not stop the others.

    Needs permission jobs.run once the database has users: from cron, run it as one
    (`KEHU_USER=boss kehu jobs run-due`). The jobs themselves work on every customer.

    \b
    Example:
      kehu jobs run-due
      kehu jobs run-due tiering.retier --force
    """
    app = current_app()
    ensure_schema(app)
    require_permission(app, "jobs.run", _("run scheduled jobs"))
    outcomes = run_due_jobs(app, names=names, force=force)
    if as_json:
        emit_json(outcomes)
    else:
        if not outcomes:
            click.echo(_("nothing due"))
        for o in outcomes:
            status = _(JOB_STATUSES.get(o.status, o.status))
            if o.message:
                click.echo(
                    _("{job}: {status} - {message}").format(
                        job=o.name, status=status, message=o.message.splitlines()[0]
                    )
                )
            else:
                click.echo(_("{job}: {status}").format(job=o.name, status=status))
    if any(o.status == "failed" for o in outcomes):
        raise SystemExit(1)  # cron mails it; "busy" (running elsewhere) is not a failure


def _every(seconds: int) -> str:
    for size, unit in UNITS:
        if seconds % size == 0:
            return _(unit).format(n=seconds // size)
    return _("{n}s").format(n=seconds)
