"""A small plugin with its own tables, used by the plugin-system tests (the scaffold's layout)."""

from __future__ import annotations

from kehu_core import Manifest

MANIFEST = Manifest(
    summary="Free notes on customers",
    min_core_version="0.1.0",
    hooks="kehu_notes.hooks",
    commands={"notes": ("kehu_notes.cli:notes", "Notes on customers (test plugin).")},
    models="kehu_notes.models:metadata",
    data="kehu_notes.data:default_records",
    post_init_hook="kehu_notes.lifecycle:after_install",
    post_upgrade_hook="kehu_notes.lifecycle:after_upgrade",
)
