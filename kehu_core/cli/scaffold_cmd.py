"""``kehu plugin new``: scaffold a pip-installable rule plugin (see ``kehu_core.scaffold``)."""

from __future__ import annotations

from pathlib import Path

import click

from kehu_core.catalogs import languages, refresh
from kehu_core.cli.help import TranslatedGroup
from kehu_core.cli.output import emit_json, emit_table, json_option
from kehu_core.errors import KehuError
from kehu_core.i18n import N_, messages
from kehu_core.scaffold import new_plugin

_ = messages("kehu_core").gettext

#: The columns of ``kehu plugin catalog``: (key in --json, header people read).
CATALOG_COLUMNS = (
    ("domain", N_("domain")),
    ("lang", N_("language")),
    ("missing", N_("missing")),
    ("untranslated", N_("untranslated")),
    ("fuzzy", N_("fuzzy")),
    ("mo_up_to_date", N_(".mo up to date")),
    ("complete", N_("complete")),
)


@click.group(cls=TranslatedGroup, name="plugin")
def plugin() -> None:
    """Write your own plugin (see `kehu plugins` for installing plugins).

    \b
    Example:
      kehu plugin new shop-rules
    """


@plugin.command("new")
@click.argument("name")
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write it (default: ./kehu-NAME).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a directory that is not empty, overwriting the plugin's files (never through a link).",
)
@json_option
def new(name: str, directory: Path | None, force: bool, as_json: bool) -> None:
    """Scaffold plugin NAME: pyproject, entry point, manifest, example hooks, a migration, tests, README.

    NAME must be free: not the core's (core, kehu), not one of kehu's plugins or an installed
    one, and no plugin may own its revision ids (NAME_0001, NAME_0002, ...).

    \b
    Example:
      kehu plugin new shop-rules && cd kehu-shop-rules
      pip install -e '.[test]' && pytest && kehu plugins install shop_rules
    """
    made = new_plugin(name, directory, force=force)
    if as_json:
        emit_json(
            {
                "name": made.name,
                "distribution": made.distribution,
                "package": made.package,
                "directory": str(made.directory),
                "files": list(made.files),
            }
        )
        return
    click.echo(
        _("wrote plugin {name} ({distribution}) in {directory}:").format(
            name=made.name, distribution=made.distribution, directory=made.directory
        )
    )
    for file in made.files:
        click.echo(f"  {file}")
    click.echo("\n" + _("Next:"))
    click.echo(
        f"  cd {made.directory}\n"
        "  pip install -e '.[test]'\n"
        "  pytest\n"
        f"  kehu plugins install {made.name}"  # untranslated: command lines
    )


@plugin.command("catalog")
@click.argument(
    "packages", nargs=-1, required=True, type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--lang", "langs", multiple=True, type=click.Choice(languages()), help="Only this language (repeatable)."
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 when a message is missing, untranslated or fuzzy."
)
@json_option
def catalog(packages: tuple[Path, ...], langs: tuple[str, ...], check: bool, as_json: bool) -> None:
    """Update the translation catalogs of PACKAGES (their locale/<lang>/LC_MESSAGES/*.po and .mo).

    Extracts every message the package marks with _(), ngettext() and N_(), its commands'
    docstrings and help= texts; adds new ones untranslated to each language's .po, drops the
    ones gone from the source, and compiles the .mo shipped in the wheel. Translate the empty
    msgstr entries in the .po, then run it again.

    \b
    Example:
      kehu plugin catalog kehu_shop_rules
      kehu plugin catalog kehu_shop_rules --check    # in CI: fails on an untranslated message
    """
    try:
        states = [s for package in packages for s in refresh(package, langs or None, write=not check)]
    except ValueError as exc:
        raise KehuError(str(exc)) from None
    rows = [
        {
            "domain": s.domain,
            "lang": s.lang,
            "missing": len(s.missing),
            "untranslated": len(s.untranslated),
            "fuzzy": len(s.fuzzy),
            "mo_up_to_date": not s.stale_mo,
            "complete": s.complete,
        }
        for s in states
    ]
    if as_json:
        emit_json(rows)
    else:
        keys = [key for key, _header in CATALOG_COLUMNS]
        emit_table([_(h) for _k, h in CATALOG_COLUMNS], [[r[k] for k in keys] for r in rows])
    if check and not all(s.complete for s in states):
        raise KehuError(
            _("a catalog is incomplete; run `kehu plugin catalog` and translate the empty entries")
        )
