"""Plugin discovery: entry points, manifests, the allow-list, and load-error isolation.

A plugin that fails to import, has a bad manifest, or implements a hook nobody specified
is recorded with its error and skipped; everything else keeps working. With
``KEHU_STRICT_PLUGINS=1`` such a plugin is fatal instead.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy
from attrs import define, field

from kehu_core import hookspecs
from kehu_core.errors import PluginError
from kehu_core.manifest import Manifest, version_tuple

ENTRY_POINT_GROUP = "kehu.plugins"
ENV_ALLOW = "KEHU_PLUGINS"
ENV_STRICT = "KEHU_STRICT_PLUGINS"

#: The core's own default behaviour, registered like plugins (and ``trylast``).
BUILTIN_MODULES = ("kehu_core.builtin.profile", "kehu_core.builtin.schema")
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

    @property
    def loaded(self) -> bool:
        """True when the plugin is registered with the hook manager."""
        return self.error is None and self.module is not None

    @property
    def version(self) -> str | None:
        """The manifest's version, else the distribution's."""
        return self.manifest.version if self.manifest else self.dist_version


def core_version() -> str:
    """The installed ``kehu-core`` version."""
    from kehu_core import __version__

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

    pm: pluggy.PluginManager
    infos: dict[str, PluginInfo] = field(factory=dict)

    @property
    def loaded(self) -> dict[str, PluginInfo]:
        """The plugins that loaded without error, by name."""
        return {name: info for name, info in self.infos.items() if info.loaded}

    @property
    def errors(self) -> list[PluginInfo]:
        """The plugins that failed to load."""
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
        """Register a plugin object by hand (tests, embedding); validated like discovered ones."""
        info = PluginInfo(name=name, entry_point=f"<registered {name}>", manifest=manifest, module=module)
        self.infos[name] = info
        self._register(info)
        self._validate([info])
        return info

    def unregister(self, name: str) -> None:
        """Remove a plugin registered by :meth:`register`."""
        info = self.infos.pop(name, None)
        if info and self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)

    def _register(self, info: PluginInfo) -> None:
        try:
            # Registering also runs the plugin's historic ``kehu_add_hookspecs``.
            self.pm.register(info.module, name=info.name)
        except Exception as exc:  # pluggy validates signatures; kehu_add_hookspecs may raise
            if self.pm.get_plugin(info.name) is not None:
                self.pm.unregister(name=info.name)
            info.error = f"registration failed: {type(exc).__name__}: {exc}"
            info.error_detail = _traceback()

    def _validate(self, infos: Iterable[PluginInfo]) -> None:
        """Unregister plugins implementing hooks that no spec declares (typos, stale names)."""
        for info in infos:
            if not info.loaded:
                continue
            unknown, hooks = [], []
            for caller in self.pm.get_hookcallers(info.module) or []:
                impls = [i for i in caller.get_hookimpls() if i.plugin is info.module]
                if caller.spec is None and not any(i.optionalhook for i in impls):
                    unknown.append(caller.name)
                else:
                    hooks.append(caller.name)
            if unknown:
                self.pm.unregister(info.module)
                info.error = "implements unknown hook(s): " + ", ".join(sorted(unknown))
            info.hooks = sorted(hooks)


def _traceback() -> str:
    import traceback  # only on a load error: keeps it off every `kehu` start

    return traceback.format_exc()


def new_plugin_manager() -> pluggy.PluginManager:
    """A pluggy manager with the core's hook specs and built-in implementations."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for module_name in BUILTIN_MODULES:
        pm.register(importlib.import_module(module_name), name=module_name)
    # Historic: every plugin registered from now on may add its own specs as it registers,
    # before the unknown-hook check runs over all of them.
    pm.hook.kehu_add_hookspecs.call_historic(kwargs={"pluginmanager": pm})
    return pm


def _load_entry_point(ep: Any, info: PluginInfo) -> None:
    try:
        module = ep.load()
    except Exception as exc:
        info.error = f"import failed: {type(exc).__name__}: {exc}"
        info.error_detail = _traceback()
        return
    manifest = getattr(module, "MANIFEST", None)
    if not isinstance(manifest, Manifest):
        info.error = "bad manifest: the module has no MANIFEST = kehu_core.Manifest(...)"
        return
    if manifest.name != ep.name:
        info.error = f"bad manifest: name {manifest.name!r} differs from entry point {ep.name!r}"
        return
    if version_tuple(core_version()) < version_tuple(manifest.min_core_version):
        info.error = f"needs kehu-core >= {manifest.min_core_version}, this is {core_version()}"
        return
    info.module, info.manifest = module, manifest


def discover(strict: bool | None = None, allow: set[str] | None | bool = True) -> Plugins:
    """Find, load and register every ``kehu.plugins`` entry point.

    Parameters:
        strict: make a broken plugin fatal (default: ``KEHU_STRICT_PLUGINS``).
        allow: names to load; ``True`` reads ``KEHU_PLUGINS``; ``None`` loads all.

    Returns: the :class:`Plugins` facade, with load errors recorded per plugin.
    """
    strict = strict_mode() if strict is None else strict
    allowed = allow_list() if allow is True else allow
    plugins = Plugins(pm=new_plugin_manager())
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
        if info.module is not None:
            plugins._register(info)
    plugins._validate(plugins.infos.values())
    broken = plugins.errors
    if strict and broken:
        raise PluginError(
            "KEHU_STRICT_PLUGINS is set and these plugins failed to load:\n"
            + "\n".join(f"  {info.name}: {info.error}" for info in broken)
        )
    return plugins
