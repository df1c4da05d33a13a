"""``kehu plugin new``: write a pip-installable rule plugin from the templates in ``templates/``.

Templates are plain text with ``{{placeholder}}`` markers (no template engine: the files are
Python and TOML full of braces of their own). ``templates/package`` becomes the import
package ``kehu_<name>``; a ``.tmpl`` suffix is dropped; ``gitignore`` becomes ``.gitignore``.

A name must not break the installation it joins: the core's names (``core``, ``kehu``, the
``c0001`` style of the core's revision ids) and the name or revision ids of any plugin kehu
can see are refused. The plugin's revision ids are ``<name>_0001``, ``<name>_0002``, ...: the
full name, ``_`` and four digits, so two scaffolded plugins can never share one (the name is
the id less its last five characters), and none can equal the core's ``c0001`` or the
first-party plugins' ``tiering0001``-style ids (no ``_`` before their digits).

The plugin has its own translation catalog from the start
(``<package>/locale/zh_CN/LC_MESSAGES/<package>.po`` and ``.mo``): :func:`kehu_core.catalogs.refresh`
extracts the written package's messages, and :data:`TRANSLATIONS` fills them, so the new
plugin's ``kehu plugin catalog --check`` passes until its author adds text.

Files are written without following symbolic links: a link in the target directory (or the
directory itself being one) is refused before anything is written, and each file is written
to a temporary name and renamed into place, so not even a hard link carries the write out.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from attrs import frozen
from babel.messages.pofile import read_po, write_po

from kehu_core import __version__
from kehu_core.catalogs import compile_catalog, languages, locked, po_path, refresh
from kehu_core.errors import KehuError, Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.plugins import PluginInfo, Plugins, discover
from kehu_core.schema import SCRIPT_LOCATION

_ = messages("kehu_core").gettext

TEMPLATES = Path(__file__).parent / "templates"
#: The separator and digits after the name in a revision id: ``<name>_0001``.
REVISION_SUFFIX = "_0001"
#: Alembic keeps revision ids in a VARCHAR(32).
MAX_NAME = 32 - len(REVISION_SUFFIX)
#: The core's own names: its branch, its package and distribution.
RESERVED = frozenset({"core", "kehu", "kehu_core"})
#: kehu's own plugins, refused even where they are not installed: a plugin of that name
#: would shadow the real one (or be shadowed by it) once both are.
FIRST_PARTY = frozenset({"tiering", "loyalty", "complaints", "forecast"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Names in the style of the core's revision ids (``c``, ``c0001``, ...).
_CORE_STYLE = re.compile(r"^c\d*$")
_MARKER = re.compile(r"\{\{(\w+)\}\}")
_REVISION_LINE = re.compile(r"""^revision\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", re.MULTILINE)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW

#: The translations of the templates' messages, per language: {msgid: msgstr}, both with the
#: templates' ``{{placeholders}}``. Every message the templates mark must be here (a test checks).
TRANSLATIONS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "{{title}}: a label per customer.": "{{title}}：每个客户一个标签。",
        "Example:\n  kehu {{command}} set C001 战略客户": "示例：\n  kehu {{command}} set C001 战略客户",
        "Set the label of customer CODE.": "设置客户 CODE 的标签。",
        "customer {code} is labelled {label}": "客户 {code} 的标签已设为「{label}」",
        "set labels": "设置标签",
        "must not be empty": "不能为空",
        "too long (at most {n} characters)": "太长（最多 {n} 个字符）",
        "Customer label": "客户标签",
        "Label": "标签",
        "Only customers with this label.": "只列出带有此标签的客户。",
        "set a customer's label": "设置客户的标签",
    }
}


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
            Problem("NAME", _("must start with a letter and use only letters, digits, - and _"), value=raw)
        )
    elif len(name) > MAX_NAME:
        problems.append(
            Problem(
                "NAME",
                _("must be at most {n} characters (revision ids are <name>_0001)").format(n=MAX_NAME),
                value=raw,
            )
        )
    elif name in RESERVED or _CORE_STYLE.match(name):
        problems.append(
            Problem("NAME", _("is reserved for kehu's core; choose another plugin name"), value=raw)
        )
    elif name in FIRST_PARTY:
        problems.append(
            Problem(
                "NAME", _("is kehu's own {name} plugin; choose another name").format(name=name), value=raw
            )
        )
    if problems:
        raise ValidationError(problems)  # one line: "NAME: <why> (got ...)"
    return name


def revision_files(folder: Path) -> dict[str, Path]:
    """The revision ids declared by the Alembic scripts in ``folder``, by id."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.py")):
        match = _REVISION_LINE.search(path.read_text(encoding="utf-8", errors="replace"))
        if match:
            found[match.group(1)] = path
    return found


def taken_revisions(plugins: Plugins | None = None) -> dict[str, str]:
    """Every revision id kehu can see, with its owner: the core's and each available plugin's."""
    owners = dict.fromkeys(revision_files(SCRIPT_LOCATION / "versions"), "kehu's core")
    plugins = plugins if plugins is not None else discover(strict=False, allow=None)
    for info in plugins.infos.values():
        for revision in revision_files(_migrations_of(info)):
            owners.setdefault(revision, f"plugin {info.name}")
    return owners


def _migrations_of(info: PluginInfo) -> Path:
    """A plugin's migrations folder; for one that failed to import, found without importing it."""
    if info.package_dir is not None and info.manifest is not None:
        return info.package_dir / info.manifest.migrations
    try:
        spec = importlib.util.find_spec(info.entry_point.split(":")[0].strip())
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]) / "migrations" if locations else Path(os.devnull)


def check_free(name: str, raw: str) -> None:
    """Refuse ``name`` when an available plugin has it, or owns an id ``<name>_NNNN``."""
    problems = []
    plugins = discover(strict=False, allow=None)
    available = plugins.infos
    if name in available:
        info = available[name]
        reason = (
            _("is the name of an installed plugin ({distribution}); choose another name").format(
                distribution=info.distribution
            )
            if info.distribution
            else _("is the name of an installed plugin; choose another name")
        )
        problems.append(Problem("NAME", reason, value=raw))
    else:
        own = re.compile(rf"^{re.escape(name)}_\d{{4}}$")
        for revision, owner in sorted(taken_revisions(plugins).items()):
            if own.match(revision):
                problems.append(
                    Problem(
                        "NAME",
                        _clash(owner, revision),
                        value=raw,
                    )
                )
                break
    if problems:
        raise ValidationError(problems)  # one line: "NAME: <why> (got ...)"


def _clash(owner: str, revision: str) -> str:
    """Why a name is refused: ``owner`` (as :func:`taken_revisions` names it) has ``revision``."""
    if owner.startswith("plugin "):
        return _(
            "its revision ids would clash with plugin {plugin}'s {revision}; choose another plugin name"
        ).format(plugin=owner.removeprefix("plugin "), revision=revision)
    return _("its revision ids would clash with kehu's core's {revision}; choose another plugin name").format(
        revision=revision
    )


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


def _link_error(path: Path) -> KehuError:
    return KehuError(
        _(
            "{path} is a symbolic link; kehu plugin new does not write through links: "
            "remove it or choose another --directory"
        ).format(path=path)
    )


def _check_paths(target: Path, files: Iterable[Path]) -> None:
    """Refuse, before anything is written, a link or a non-directory where the files go."""
    if target.is_symlink():
        raise _link_error(target)
    if target.exists() and not target.is_dir():
        raise KehuError(_("{path} exists and is not a directory").format(path=target))
    for relative in files:
        path = target
        for index, part in enumerate(relative.parts):
            path = path / part
            if path.is_symlink():
                raise _link_error(path)
            last = index == len(relative.parts) - 1
            if path.exists() and (not path.is_file() if last else not path.is_dir()):
                message = (
                    _("{path} exists and is not a file; remove it or choose another --directory")
                    if last
                    else _("{path} exists and is not a directory; remove it or choose another --directory")
                )
                raise KehuError(message.format(path=path))


def _write(target: Path, relative: Path, text: str) -> None:
    """Write ``target/relative`` through directory descriptors opened without following links.

    The checks of :func:`_check_paths` ran before; this makes a link swapped in since then
    an error (ELOOP, ENOTDIR) instead of a write elsewhere. The file is written under a
    temporary name and renamed over the old one: a rename replaces the directory entry, so
    the write never reaches another name of the old file.
    """
    target.mkdir(parents=True, exist_ok=True)
    fds = [os.open(target, _DIR_FLAGS)]
    try:
        for part in relative.parts[:-1]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, dir_fd=fds[-1])
            fds.append(os.open(part, _DIR_FLAGS, dir_fd=fds[-1]))
        name = relative.parts[-1]
        temporary = f".{name}.kehu-new-{os.getpid()}"
        fd = os.open(temporary, _NEW_FILE_FLAGS, 0o644, dir_fd=fds[-1])
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, name, src_dir_fd=fds[-1], dst_dir_fd=fds[-1])
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=fds[-1])
            raise
    finally:
        for fd in reversed(fds):
            os.close(fd)


def _catalog_files(values: Mapping[str, str]) -> list[Path]:
    """The catalog files of the plugin, relative to its directory: each language's .po, .mo, and lock."""
    package = Path(values["package"])
    files = []
    for lang in languages():
        po = po_path(package, lang)
        files += [po, po.with_suffix(".mo"), po.with_suffix(".lock")]
    return files


def _catalogs(target: Path, values: Mapping[str, str]) -> list[str]:
    """Create the plugin's catalogs from the files just written and fill in :data:`TRANSLATIONS`."""
    package_dir = target / values["package"]
    refresh(package_dir)
    made = []
    for lang in languages():
        given = {render(k, values): render(v, values) for k, v in TRANSLATIONS.get(lang, {}).items()}
        po = po_path(package_dir, lang)
        with locked(po):
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=lang, domain=values["package"])
            for message in catalog:
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                if key and key in given:
                    translated = given[key]
                    message.string = (translated,) if isinstance(message.id, tuple) else translated
            with po.open("wb") as handle:
                write_po(handle, catalog, width=100, no_location=True, include_previous=False)
            compile_catalog(po, lang, values["package"])
        po.with_suffix(".lock").unlink(missing_ok=True)  # the new plugin's own: nobody else holds it
        made += [po.relative_to(target).as_posix(), po.with_suffix(".mo").relative_to(target).as_posix()]
    return made


def new_plugin(raw_name: str, directory: Path | None = None, *, force: bool = False) -> Scaffold:
    """Write plugin ``raw_name`` into ``directory`` (default: ``./kehu-<name>``).

    Refuses a name that clashes with the core or with an available plugin (its name or its
    revision ids), and a directory that exists and is not empty, unless ``force`` (then files
    are overwritten, others left alone). Never writes through a symbolic link. Returns what
    was written.
    """
    name = plugin_name(raw_name)
    check_free(name, raw_name)
    values = variables(name)
    target = Path(directory) if directory is not None else Path.cwd() / values["distribution"]
    templates = sorted(p for p in TEMPLATES.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    files = {_target(template.relative_to(TEMPLATES), values): template for template in templates}
    _check_paths(target, [*files, *_catalog_files(values)])
    if target.is_dir() and any(target.iterdir()) and not force:
        raise KehuError(
            _(
                "{path} already exists and is not empty; choose another --directory, or --force to overwrite"
            ).format(path=target)
        )
    written: list[str] = []
    for relative, template in files.items():
        text = render(template.read_text(encoding="utf-8"), values)
        try:
            _write(target, relative, text)
        except OSError as exc:
            raise KehuError(
                _("cannot write {path}: {reason}; {done} of the plugin's {total} files were written").format(
                    path=target / relative, reason=exc.strerror or exc, done=len(written), total=len(files)
                )
            ) from exc
        written.append(relative.as_posix())
    written += _catalogs(target, values)
    return Scaffold(
        name=name,
        distribution=values["distribution"],
        package=values["package"],
        directory=target,
        files=tuple(written),
    )
