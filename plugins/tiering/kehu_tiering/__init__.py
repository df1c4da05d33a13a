"""kehu-tiering: classify customers (客户分级) and keep the history of why.

Methods: ABC by cumulative revenue share (the 80/20 rule, 二八法则), the customer pyramid
(客户金字塔: VIP, 主要客户, 普通客户, 小客户), RFM scores and segments, key accounts (大客户),
and the flags poor-quality (劣质客户) and upgrade potential. Companies add rules through the
``kehu_tier_rules`` hook or a TOML file. See ``docs/tiering.md``.

This package is imported for every ``kehu`` command, so it holds only the manifest; kehu
imports the modules it names when it needs them.
"""

from __future__ import annotations

from kehu_core import Manifest
from kehu_core.i18n import N_

MANIFEST = Manifest(
    summary=N_(
        "Customer tiering: 80/20 ABC, the customer pyramid, RFM, key accounts (大客户), company rules"
    ),
    depends=(),
    min_core_version="0.1.0",
    hooks="kehu_tiering.hooks",
    commands={
        "tier": (
            "kehu_tiering.cli:tier",
            "Customer tiering (客户分级): ABC/80-20, the pyramid, RFM, key accounts (大客户), flags.",
        )
    },
    demo="kehu_tiering.demo:add_demo",
    models="kehu_tiering.models:metadata",
    migrations="migrations",
    hookspecs="kehu_tiering.hookspecs",
    post_init_hook="kehu_tiering.aggregates:build_on_install",
    security="kehu_tiering.security",
)
