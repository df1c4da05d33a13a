"""``kehu plugin new``: scaffold a pip-installable rule plugin (see ``kehu_core.scaffold``)."""

from __future__ import annotations

from pathlib import Path

import click

from kehu_core.cli.output import emit_json, json_option
from kehu_core.scaffold import new_plugin


@click.group("plugin")
def plugin() -> None:
    """Write your own plugin (see `kehu plugins` for installing plugins)."""


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
    click.echo(f"wrote plugin {made.name} ({made.distribution}) in {made.directory}:")
    for file in made.files:
        click.echo(f"  {file}")
    click.echo(
        "\nNext:\n"
        f"  cd {made.directory}\n"
        "  pip install -e '.[test]'\n"
        "  pytest\n"
        f"  kehu plugins install {made.name}"
    )
