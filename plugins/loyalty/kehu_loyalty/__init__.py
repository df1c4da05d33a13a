"""kehu loyalty (客户忠诚): points, rewards, member levels, the loyalty ladder and distributor rebates.

This package is imported for every ``kehu`` command, even ``kehu --help``, so it holds only
the manifest. The manifest names everything else by import path; kehu imports those modules
when it needs them.
"""

from __future__ import annotations

from kehu_core import Manifest
from kehu_core.i18n import N_

MANIFEST = Manifest(
    summary=N_(
        "Points with FIFO expiry, rewards, member levels, the loyalty ladder and distributor rebates (返利)"
    ),
    depends=(),
    min_core_version="0.1.0",
    hooks="kehu_loyalty.hooks",
    commands={
        "loyalty": (
            "kehu_loyalty.cli:loyalty",
            "Loyalty (客户忠诚): points, rewards, member levels, the loyalty ladder, rebates (返利).",
        )
    },
    demo="kehu_loyalty.demo:load_demo",
    models="kehu_loyalty.models:metadata",
    migrations="migrations",
    hookspecs="kehu_loyalty.hookspecs",
    data="kehu_loyalty.data:default_records",
    security="kehu_loyalty.security",
)
