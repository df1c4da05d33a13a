"""The plugin manifest: what a plugin is, what it declares, and which core it supports.

Like Odoo's ``__manifest__.py``, the manifest *declares* a plugin's schema, default data,
hook specs and lifecycle callbacks. They are named by import path (``"pkg.module:attr"``), so
reading a manifest imports nothing heavy and ``kehu --help`` stays fast; tests may pass the
objects themselves instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

from attrs import field, frozen, validators

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_VERSION = re.compile(r"^\d+(\.\d+){0,3}([.-]?[a-z0-9]+)*$")


def _check_name(_instance: object, attribute: object, value: str | None) -> None:
    if value is not None and not _NAME.match(value):
        raise ValueError(f"plugin name {value!r} must be lower-case letters, digits and _")


def _check_version(_instance: object, attribute: object, value: str | None) -> None:
    if value is not None and not _VERSION.match(value):
        raise ValueError(f"version {value!r} is not a version number like 1.2.0")


def _commands(value: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    return {name: (str(path), str(help_text)) for name, (path, help_text) in dict(value).items()}


def _names(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("depends must be a list of plugin names, not a string")
    return tuple(value)


@frozen
class Manifest:
    """A plugin's identity card, exported by its package as ``MANIFEST``.

    Attributes:
        name: The plugin's name in this database (``tiering``). Default: its entry point's name.
        version: The plugin's version; an upgrade is recorded when it changes. Default: the
            version of the distribution that ships it (``pyproject.toml``), so it is written once.
        summary: One line for ``kehu plugins list``.
        depends: Plugins whose tables or API this one needs. They are installed first, and
            their hook implementations run before this plugin's.
        after: Plugins this one does not need, but whose hooks and demo data should come first
            when they are there (complaints come *after* tiering, so the demo's complaints open
            with their customers' tiers). Unlike ``depends``, nothing is installed for it.
        min_core_version: The oldest ``kehu-core`` this plugin works with.
        auto_install: Install automatically once every dependency is installed (glue plugins).
        hooks: ``"pkg.hooks"``: the module of the plugin's hook implementations. Default: the
            package itself. It is imported when the application first calls a hook.
        commands: ``{"tier": ("pkg.cli:tier", "one line of help")}``: command groups added to
            ``kehu``, each imported only when it runs or shows its own help.
        models: ``"pkg.models:metadata"``: the SQLAlchemy ``MetaData`` of the plugin's tables.
        migrations: The folder of the plugin's Alembic revisions, relative to its package.
        hookspecs: ``"pkg.hookspecs"``: a module of hook specs the plugin offers to others.
        data: ``"pkg.data:default_records"``: a function returning the rows loaded at install
            and refreshed on upgrade (:class:`~kehu_core.hooktypes.DefaultRecord`).
        demo: ``"pkg.demo:load_demo"``: ``f(app, session, context)`` adds demo rows for
            ``kehu demo`` (Odoo's ``demo`` data), after the core's and those of the plugins it
            depends on; ``context`` is a :class:`~kehu_core.hooktypes.DemoContext`.
        pre_init_hook: ``f(app, session)`` before the tables are created; raise to refuse.
        post_init_hook: ``f(app, session)`` after the tables exist and the data is loaded.
        post_upgrade_hook: ``f(app, session, from_version, to_version)`` after an upgrade.
        uninstall_hook: ``f(app, session)`` before the tables are dropped; raise to refuse.
        security: ``"pkg.security"``: a module declaring the plugin's ``PERMISSIONS`` (with the
            roles holding each by default), ``ROLES`` it adds and record ``RULES`` (Odoo's
            ``security/``); see :mod:`kehu_core.security`.
    """

    name: str | None = field(default=None, validator=_check_name)
    version: str | None = field(default=None, validator=_check_version)
    summary: str = field(default="", validator=validators.instance_of(str))
    depends: tuple[str, ...] = field(default=(), converter=_names)
    after: tuple[str, ...] = field(default=(), converter=_names)
    min_core_version: str = field(default="0.1.0", validator=_check_version)
    auto_install: bool = field(default=False, validator=validators.instance_of(bool))
    hooks: Any = None
    commands: Mapping[str, tuple[str, str]] = field(factory=dict, converter=_commands)
    models: Any = None
    migrations: str | Path = "migrations"
    hookspecs: Any = None
    data: Any = None
    demo: Any = None
    pre_init_hook: Any = None
    post_init_hook: Any = None
    post_upgrade_hook: Any = None
    uninstall_hook: Any = None
    security: Any = None


def load_reference(reference: Any) -> Any:
    """The object a manifest names: ``"pkg.module:attr"`` or ``"pkg.module"`` is imported;
    anything else (an object given directly, or ``None``) is returned as it is."""
    if not isinstance(reference, str):
        return reference
    module_name, _, attribute = reference.partition(":")
    module = import_module(module_name)
    return getattr(module, attribute) if attribute else module


def version_tuple(version: str) -> tuple[int, ...]:
    """The numeric part of a version, for comparisons (``"1.10.0" > "1.9"``)."""
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)
