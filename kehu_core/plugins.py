"""Plugin discovery: entry points, manifests, the allow-list, and load-error isolation.

A plugin that fails to import, has a bad manifest, or implements a hook nobody specified
is recorded with its error and skipped; everything else keeps working. With
``KEHU_STRICT_PLUGINS=1`` such a plugin is fatal instead.

Plugins are registered so that a plugin's hook implementations run after those of the
plugins it depends on (pluggy calls the last registered first). ``KEHU_TRACE_HOOKS=1``
prints every hook call and its result to standard error.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import attrs
import pluggy
from attrs import define, field

from kehu_core import __version__, hookspecs
from kehu_core.errors import PluginError
from kehu_core.i18n import messages
from kehu_core.manifest import Manifest, load_reference, version_tuple

_ = messages("kehu_core").gettext

ENTRY_POINT_GROUP = "kehu.plugins"
ENV_ALLOW = "KEHU_PLUGINS"
ENV_STRICT = "KEHU_STRICT_PLUGINS"
ENV_TRACE = "KEHU_TRACE_HOOKS"

#: The core's own default behaviour, registered like plugins (and ``trylast``).
BUILTIN_MODULES = ("kehu_core.builtin.profile",)
BUILTIN = "core"


@define
class PluginInfo:
    """What kehu knows about one available plugin, loaded or not."""

    name: str
    entry_point: str
    distribution: str | None = None
    dist_version: str | None = None
    manifest: Manifest | None = None
    module: ModuleType | None = None
    error: str | None = None
    error_detail: str | None = None
    hooks: list[str] = field(factory=list)
    #: The object registered with pluggy: the module the manifest's ``hooks`` names, else
    #: the plugin's package itself. Imported when the hook manager is first needed.
    hooks_object: Any = None

    @property
    def loaded(self) -> bool:
        """True when the plugin is registered with the hook manager."""
        return self.error is None and self.module is not None

    @property
    def version(self) -> str | None:
        """The manifest's version, else the distribution's."""
        return self.manifest.version if self.manifest else self.dist_version

    @property
    def package_dir(self) -> Path | None:
        """The folder of the plugin's package (where its ``migrations`` folder lives)."""
        module = (
            self.module
            if isinstance(self.module, ModuleType)
            else sys.modules.get(type(self.module).__module__)
        )
        filename = getattr(module, "__file__", None)
        return Path(filename).parent if filename else None


def core_version() -> str:
    """The installed ``kehu-core`` version."""
    return __version__


def allow_list() -> set[str] | None:
    """Plugin names from ``KEHU_PLUGINS`` (empty string: none), or ``None`` for all."""
    raw = os.environ.get(ENV_ALLOW)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def strict_mode() -> bool:
    """True when ``KEHU_STRICT_PLUGINS`` asks for broken plugins to be fatal."""
    return os.environ.get(ENV_STRICT, "").strip().lower() in {"1", "true", "yes", "on"}


@define
class Plugins:
    """The plugin manager and what was found: a typed facade over ``pluggy``."""

    infos: dict[str, PluginInfo] = field(factory=dict)
    strict: bool = False
    spec_modules: set[str] = field(factory=set)
    _pm: pluggy.PluginManager | None = None

    @property
    def pm(self) -> pluggy.PluginManager:
        """The pluggy manager, built on first use: the hook specs, the core's built-in hooks and
        every loaded plugin's hook module, registered in dependency order.

        Building it imports the plugins' hook modules; ``kehu --help`` never does.
        """
        if self._pm is None:
            self._pm = new_plugin_manager()
            for info in self.infos.values():
                self._add_hookspecs(info)
            self._register_in_order()
            self._validate(self.infos.values())
            broken = self.errors
            if self.strict and broken:
                raise PluginError(_strict_failure(broken))
        return self._pm

    @property
    def available(self) -> dict[str, PluginInfo]:
        """The plugins whose manifest was read without error, by name; their hooks are not
        loaded yet (this is what ``kehu --help`` needs, and it stays cheap)."""
        return {name: info for name, info in self.infos.items() if info.loaded}

    @property
    def loaded(self) -> dict[str, PluginInfo]:
        """The plugins that loaded without error, hooks included, by name."""
        self.pm  # noqa: B018 - loading the hooks may find more errors
        return {name: info for name, info in self.infos.items() if info.loaded}

    @property
    def errors(self) -> list[PluginInfo]:
        """The plugins that failed to load, hooks included."""
        self.pm  # noqa: B018 - loading the hooks may find more errors
        return [info for info in self.infos.values() if info.error]

    def with_dependencies(self) -> set[str]:
        """Loaded plugins whose dependencies are all loaded too (transitively)."""
        usable = set(self.loaded)
        changed = True
        while changed:
            changed = False
            for name in list(usable):
                manifest = self.infos[name].manifest
                if manifest and any(dep not in usable for dep in manifest.depends):
                    usable.discard(name)
                    changed = True
        return usable

    def plugin_of_module(self, module_name: str) -> str | None:
        """The plugin whose package contains ``module_name`` (for naming a hook's culprit)."""
        for name, info in self.loaded.items():
            # A plugin may be a module or an object (registered by hand): use its module.
            module = (
                getattr(info.module, "__name__", None)
                if isinstance(info.module, ModuleType)
                else type(info.module).__module__
            )
            package = module.split(".")[0] if module else None
            if package and (module_name == package or module_name.startswith(package + ".")):
                return name
        if module_name.startswith("kehu_core."):
            return BUILTIN
        return None

    def register(self, module: Any, name: str, manifest: Manifest | None = None) -> PluginInfo:
        """Register a plugin object by hand (tests, embedding); validated like discovered ones.

        A manifest without a version gets ``0.0.0``; its name is ``name``.
        """
        manifest = attrs.evolve(
            manifest or Manifest(), name=name, version=(manifest and manifest.version) or "0.0.0"
        )
        info = PluginInfo(name=name, entry_point=f"<registered {name}>", manifest=manifest, module=module)
        self.infos[name] = info
        if self._pm is not None:
            self._add_hookspecs(info)
            self._register_in_order()
            self._validate([info])
        return info

    def unregister(self, name: str) -> None:
        """Remove a plugin registered by :meth:`register`."""
        info = self.infos.pop(name, None)
        if info and self._pm is not None and self._pm.get_plugin(name) is not None:
            self._pm.unregister(name=name)

    def dependency_order(self) -> list[str]:
        """Loaded plugins, each after the plugins it depends on or runs ``after`` (then by name)."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str, path: tuple[str, ...]) -> None:
            info = self.infos.get(name)
            if name in seen or name in path or info is None or info.module is None:
                return
            for dep in (*info.manifest.depends, *info.manifest.after) if info.manifest else ():
                visit(dep, (*path, name))
            seen.add(name)
            order.append(name)

        for name in sorted(self.infos):
            visit(name, ())
        return order

    def _add_hookspecs(self, info: PluginInfo) -> None:
        """Add the hook specs the plugin's manifest declares, once, before any plugin registers."""
        if info.module is None or info.manifest is None or info.manifest.hookspecs is None:
            return
        try:
            module = load_reference(info.manifest.hookspecs)
            if module.__name__ not in self.spec_modules:
                self.pm.add_hookspecs(module)
                self.spec_modules.add(module.__name__)
        except Exception as exc:
            info.error = _("hook specs failed: {error_type}: {error}").format(
                error_type=type(exc).__name__, error=exc
            )
            info.error_detail = traceback.format_exc()

    def _register_in_order(self) -> None:
        """(Re-)register every loaded plugin so that dependencies' hooks run first.

        pluggy calls the implementation registered last first, so plugins are registered
        in reverse dependency order.
        """
        pm = self.pm
        order = self.dependency_order()
        for name in order:
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)
        for name in reversed(order):
            info = self.infos[name]
            if info.error is not None:
                continue
            try:
                if info.hooks_object is None:
                    manifest = info.manifest
                    hooks = manifest.hooks if manifest is not None else None
                    info.hooks_object = load_reference(hooks) if hooks is not None else info.module
                pm.register(info.hooks_object, name=info.name)
            except Exception as exc:  # an import error, or pluggy refusing a signature
                if pm.get_plugin(info.name) is not None:
                    pm.unregister(name=info.name)
                info.error = _("hooks failed to load: {error_type}: {error}").format(
                    error_type=type(exc).__name__, error=exc
                )
                info.error_detail = traceback.format_exc()

    def _validate(self, infos: Iterable[PluginInfo]) -> None:
        """Unregister plugins implementing hooks that no spec declares (typos, stale names)."""
        for info in infos:
            if not info.loaded:
                continue
            unknown, hooks = [], []
            for caller in self.pm.get_hookcallers(info.hooks_object) or []:
                impls = [i for i in caller.get_hookimpls() if i.plugin is info.hooks_object]
                if caller.spec is None and not any(i.optionalhook for i in impls):
                    unknown.append(caller.name)
                else:
                    hooks.append(caller.name)
            if unknown:
                self.pm.unregister(info.hooks_object)
                info.error = _("implements unknown hook(s): {hooks}").format(hooks=", ".join(sorted(unknown)))
            info.hooks = sorted(hooks)


def _strict_failure(broken: Iterable[PluginInfo]) -> str:
    """The refusal to go on when ``KEHU_STRICT_PLUGINS`` is set and plugins failed to load."""
    lines = "\n".join(f"  {info.name}: {info.error}" for info in broken)
    return _("KEHU_STRICT_PLUGINS is set and these plugins failed to load:\n{plugins}").format(plugins=lines)


def new_plugin_manager() -> pluggy.PluginManager:
    """A pluggy manager with the core's hook specs and built-in implementations.

    With ``KEHU_TRACE_HOOKS=1`` every hook call and its result are printed to standard error.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for module_name in BUILTIN_MODULES:
        pm.register(importlib.import_module(module_name), name=module_name)
    if os.environ.get(ENV_TRACE, "").strip().lower() in {"1", "true", "yes", "on"}:
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return pm


def _load_entry_point(ep: Any, info: PluginInfo) -> None:
    try:
        module = ep.load()
    except Exception as exc:
        info.error = _("import failed: {error_type}: {error}").format(
            error_type=type(exc).__name__, error=exc
        )
        info.error_detail = traceback.format_exc()
        return
    manifest = getattr(module, "MANIFEST", None)
    if not isinstance(manifest, Manifest):
        info.error = _("bad manifest: the module has no MANIFEST = kehu_core.Manifest(...)")
        return
    if manifest.name is not None and manifest.name != ep.name:
        info.error = _("bad manifest: name {name!r} differs from entry point {entry_point!r}").format(
            name=manifest.name, entry_point=ep.name
        )
        return
    version = manifest.version or info.dist_version
    if version is None:
        info.error = _("bad manifest: no version, and no installed distribution to read it from")
        return
    manifest = attrs.evolve(manifest, name=ep.name, version=version)
    if version_tuple(core_version()) < version_tuple(manifest.min_core_version):
        info.error = _("needs kehu-core >= {needed}, this is {version}").format(
            needed=manifest.min_core_version, version=core_version()
        )
        return
    info.module, info.manifest = module, manifest


def discover(strict: bool | None = None, allow: set[str] | None | Literal[True] = True) -> Plugins:
    """Find every ``kehu.plugins`` entry point and read its manifest.

    Only the plugins' packages are imported (their manifests); their hook modules are
    imported when :attr:`Plugins.pm` is first used.

    Parameters:
        strict: make a broken plugin fatal (default: ``KEHU_STRICT_PLUGINS``).
        allow: names to load; ``True`` reads ``KEHU_PLUGINS``; ``None`` loads all.

    Returns: the :class:`Plugins` facade, with load errors recorded per plugin.
    """
    strict = strict_mode() if strict is None else strict
    allowed = allow_list() if allow is True else allow
    plugins = Plugins(strict=strict)
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if allowed is not None and ep.name not in allowed:
            continue
        if ep.name in plugins.infos:
            continue  # the same plugin installed twice (e.g. editable and wheel): first wins
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            entry_point=ep.value,
            distribution=dist.metadata["Name"] if dist else None,
            dist_version=dist.version if dist else None,
        )
        plugins.infos[ep.name] = info
        _load_entry_point(ep, info)
    # Only strict mode loads the hooks here, to find every error now: otherwise they load on
    # first use, so `kehu --help` imports no plugin's hook module.
    broken = plugins.errors if strict else []
    if broken:
        raise PluginError(_strict_failure(broken))
    return plugins
