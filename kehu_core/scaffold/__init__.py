"""``kehu plugin new``: write a pip-installable rule plugin from the templates in ``templates/``.

Templates are plain text with ``{{placeholder}}`` markers (no template engine: the files are
Python and TOML full of braces of their own). ``templates/package`` becomes the import
package ``kehu_<name>``; a ``.tmpl`` suffix is dropped; ``gitignore`` becomes ``.gitignore``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from attrs import frozen

from kehu_core import __version__
from kehu_core.errors import KehuError, Problem, ValidationError

TEMPLATES = Path(__file__).parent / "templates"
#: Revision ids are "<name>0001" and Alembic keeps them in a VARCHAR(32).
MAX_NAME = 28
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MARKER = re.compile(r"\{\{(\w+)\}\}")


@frozen
class Scaffold:
    """What :func:`new_plugin` wrote: the plugin's names and the files, relative to ``directory``."""

    name: str
    distribution: str
    package: str
    directory: Path
    files: tuple[str, ...]


def plugin_name(raw: str) -> str:
    """The plugin name for ``raw`` (``acme-rules`` → ``acme_rules``), or a clear error."""
    name = raw.strip().lower().replace("-", "_")
    if name.startswith("kehu_"):
        name = name[len("kehu_") :]
    problems = []
    if not _NAME.match(name):
        problems.append(
            Problem("NAME", "must start with a letter and use only letters, digits, - and _", value=raw)
        )
    elif len(name) > MAX_NAME:
        problems.append(
            Problem("NAME", f"must be at most {MAX_NAME} characters (revision ids are <name>0001)", value=raw)
        )
    if problems:
        raise ValidationError(problems, "cannot create the plugin:")
    return name


def variables(name: str) -> dict[str, str]:
    """The placeholders of the templates for plugin ``name``."""
    return {
        "name": name,
        "package": f"kehu_{name}",
        "distribution": f"kehu-{name.replace('_', '-')}",
        "command": name.replace("_", "-"),
        "title": " ".join(part.capitalize() for part in name.split("_")),
        "core_version": __version__,
    }


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace every ``{{key}}``; an unknown key is a bug in the template, so it raises."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"template placeholder {{{{{key}}}}} has no value")
        return values[key]

    return _MARKER.sub(replace, text)


def _target(relative: Path, values: Mapping[str, str]) -> Path:
    parts = [values["package"] if p == "package" else p for p in relative.parts]
    parts[-1] = render(parts[-1].removesuffix(".tmpl"), values)
    if parts[-1] == "gitignore":
        parts[-1] = ".gitignore"
    return Path(*parts)


def new_plugin(raw_name: str, directory: Path | None = None, *, force: bool = False) -> Scaffold:
    """Write plugin ``raw_name`` into ``directory`` (default: ``./kehu-<name>``).

    Refuses a directory that exists and is not empty, unless ``force`` (then files are
    overwritten, others left alone). Returns what was written.
    """
    name = plugin_name(raw_name)
    values = variables(name)
    target = Path(directory) if directory is not None else Path.cwd() / values["distribution"]
    if target.exists() and not target.is_dir():
        raise KehuError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise KehuError(
            f"{target} already exists and is not empty; choose another --directory, or --force to overwrite"
        )
    written = []
    for template in sorted(p for p in TEMPLATES.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        relative = _target(template.relative_to(TEMPLATES), values)
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(template.read_text(encoding="utf-8"), values), encoding="utf-8")
        written.append(relative.as_posix())
    return Scaffold(
        name=name,
        distribution=values["distribution"],
        package=values["package"],
        directory=target,
        files=tuple(written),
    )
