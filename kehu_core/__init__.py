"""kehu (客户): customer management as a small core plus pluggable plugins.

The public API. Names are loaded on first use, because every plugin's package imports
``Manifest`` from here while ``kehu --help`` runs, and that must not import SQLAlchemy::

    from kehu_core import Kehu, Manifest, hookimpl
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the same names, for type checkers and IDEs; at run time __getattr__ loads them
    from kehu_core.app import Kehu
    from kehu_core.errors import Conflict, KehuError, NotFound, Problem, ValidationError
    from kehu_core.hooktypes import (
        CustomerChange,
        DefaultRecord,
        DemoContext,
        InteractionBatch,
        Job,
        ListColumn,
        ListFilter,
        ProfileSection,
        RecordedInteraction,
        RecordedRows,
        Schema,
        TierChange,
    )
    from kehu_core.manifest import Manifest
    from kehu_core.markers import hookimpl

_EXPORTS = {
    "Kehu": "kehu_core.app",
    "Manifest": "kehu_core.manifest",
    "hookimpl": "kehu_core.markers",
    "KehuError": "kehu_core.errors",
    "ValidationError": "kehu_core.errors",
    "NotFound": "kehu_core.errors",
    "Conflict": "kehu_core.errors",
    "Problem": "kehu_core.errors",
    "Schema": "kehu_core.hooktypes",
    "ProfileSection": "kehu_core.hooktypes",
    "ListColumn": "kehu_core.hooktypes",
    "ListFilter": "kehu_core.hooktypes",
    "InteractionBatch": "kehu_core.hooktypes",
    "RecordedRows": "kehu_core.hooktypes",
    "RecordedInteraction": "kehu_core.hooktypes",
    "CustomerChange": "kehu_core.hooktypes",
    "TierChange": "kehu_core.hooktypes",
    "Job": "kehu_core.hooktypes",
    "DefaultRecord": "kehu_core.hooktypes",
    "DemoContext": "kehu_core.hooktypes",
}

# Spelled out (not built from _EXPORTS) so linters and type checkers see the re-exports.
__all__ = [
    "__version__",
    "Kehu",
    "Manifest",
    "hookimpl",
    "KehuError",
    "ValidationError",
    "NotFound",
    "Conflict",
    "Problem",
    "Schema",
    "ProfileSection",
    "ListColumn",
    "ListFilter",
    "InteractionBatch",
    "RecordedRows",
    "RecordedInteraction",
    "CustomerChange",
    "TierChange",
    "Job",
    "DefaultRecord",
    "DemoContext",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        # untranslated: Python's own wording, for programmers
        raise AttributeError(f"module 'kehu_core' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
