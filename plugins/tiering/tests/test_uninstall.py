"""A plugin whose rules set flags is uninstalled: tiering derives the flags again without it."""

from __future__ import annotations

from typing import Any

import pytest
from tiering_helpers import add_customers, current, local, purchase, record, run

from kehu_core import installer
from kehu_core.plugins import Plugins

WATCHER = """
from kehu_core import Manifest, hookimpl
from kehu_tiering.api import STATS, TierRule

MANIFEST = Manifest(depends=("tiering",))


@hookimpl
def kehu_tier_rules():
    return [TierRule(name="watch.big", flag="watched", when=STATS.c.revenue_window >= 1000, priority=70)]
"""

QUIET = """
from kehu_core import Manifest

MANIFEST = Manifest(depends=("tiering",))
"""


@pytest.fixture
def kehu_plugins(kehu_distributions: Any) -> Plugins:
    kehu_distributions.add("watcher", WATCHER)
    kehu_distributions.add("quiet", QUIET)
    plugins: Plugins = kehu_distributions.discover("tiering", "watcher", "quiet")
    return plugins


def test_flags_set_by_an_uninstalled_plugins_rules_go(kehu_app: Any, kehu_install: Any) -> None:
    kehu_install("tiering", "watcher", "quiet")
    ids = add_customers(kehu_app, ["BIG", "EDGE", "SMALL"])
    record(
        kehu_app,
        [
            purchase(ids["BIG"], local(2026, 5, 1, 10), "5000"),
            purchase(ids["EDGE"], local(2026, 5, 2, 10), "1000"),  # exactly on the rule's edge
            purchase(ids["SMALL"], local(2026, 5, 3, 10), "999.99"),
        ],
    )
    run(kehu_app)
    assert set(current(kehu_app, "flag:watched")) == {ids["BIG"], ids["EDGE"]}

    with kehu_app.session() as session:  # a plugin without tier rules: nothing runs again
        installer.uninstall(kehu_app, session, "quiet")
    assert set(current(kehu_app, "flag:watched")) == {ids["BIG"], ids["EDGE"]}

    with kehu_app.session() as session:
        installer.uninstall(kehu_app, session, "watcher")
    assert set(current(kehu_app, "flag:watched")) == set()
    assert len(current(kehu_app, "pyramid")) == 3  # the classes are still there
