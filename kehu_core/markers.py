"""The decorator plugins use to implement hooks: ``@kehu_core.hookimpl``."""

from __future__ import annotations

import pluggy

from kehu_core.hookspecs import PROJECT

hookimpl = pluggy.HookimplMarker(PROJECT)
