"""The plugin manifest: what a plugin is, what it needs, and which core it supports."""

from __future__ import annotations

import re

from attrs import field, frozen, validators

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_VERSION = re.compile(r"^\d+(\.\d+){0,3}([.-]?[a-z0-9]+)*$")


def _check_name(_instance: object, attribute: object, value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(f"plugin name {value!r} must be lower-case letters, digits and _")


def _check_version(_instance: object, attribute: object, value: str) -> None:
    if not _VERSION.match(value):
        raise ValueError(f"version {value!r} is not a version number like 1.2.0")


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("depends must be a list of plugin names, not a string")
    return tuple(value)  # type: ignore[arg-type]


@frozen
class Manifest:
    """A plugin's identity card, exported by its module as ``MANIFEST``.

    Attributes:
        name: The plugin's name in this database (``tiering``), lower case.
        version: The plugin's version; an upgrade is recorded when it changes.
        summary: One line for ``kehu plugins list``.
        depends: Plugins whose tables this one needs; installed first, in order.
        min_core_version: The oldest ``kehu-core`` this plugin works with.
        auto_install: Install automatically once every dependency is installed (glue plugins).
    """

    name: str = field(validator=_check_name)
    version: str = field(validator=_check_version)
    summary: str = field(default="", validator=validators.instance_of(str))
    depends: tuple[str, ...] = field(default=(), converter=_names)
    min_core_version: str = field(default="0.1.0", validator=_check_version)
    auto_install: bool = field(default=False, validator=validators.instance_of(bool))


def version_tuple(version: str) -> tuple[int, ...]:
    """The numeric part of a version, for comparisons (``"1.10.0" > "1.9"``)."""
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)
