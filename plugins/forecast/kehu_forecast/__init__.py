"""kehu forecast plugin (销售预测): bottom-up and top-down sales forecasts, reconciled into SMART targets.

This package is imported for every ``kehu`` command, even ``kehu --help``, so it holds only
the manifest. The manifest names everything else by import path; kehu imports those modules
when it needs them.
"""

from __future__ import annotations

from kehu_core import Manifest
from kehu_core.i18n import N_

MANIFEST = Manifest(
    summary=N_(
        "Sales forecasts bottom-up and top-down, gap report, reconciliation, SMART targets (销售预测)"
    ),
    min_core_version="0.1.0",
    hooks="kehu_forecast.hooks",
    commands={
        "forecast": (
            "kehu_forecast.cli:forecast",
            "Sales forecasts (销售预测): bottom-up, top-down, the gap, targets.",
        )
    },
    demo="kehu_forecast.demo:load_demo",
    models="kehu_forecast.models:metadata",
    migrations="migrations",
    hookspecs="kehu_forecast.hookspecs",
    security="kehu_forecast.security",
)
