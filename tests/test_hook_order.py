"""Hook implementations run in dependency order: a plugin's after those of the plugins it
``depends`` on or comes ``after``, whatever their names, with no tryfirst/trylast."""

from __future__ import annotations

import pytest

from kehu_core import Manifest, hookimpl
from kehu_core.profit import PROFIT_KINDS

#: Kinds the core's built-in plugin declares: its hook runs after every plugin's.
CORE_KINDS = set(PROFIT_KINDS)


def plugin(name: str, manifest_args: str = "") -> str:
    return (
        "from kehu_core import Manifest, hookimpl\n"
        f"MANIFEST = Manifest({manifest_args})\n"
        "@hookimpl\n"
        f"def kehu_interaction_kinds():\n    return [{name!r}]\n"
    )


@pytest.fixture
def kehu_plugins(kehu_distributions):
    # By name, "aa" and "ab" would come first; their manifests say otherwise.
    kehu_distributions.add("zz", plugin("zz"))
    kehu_distributions.add("aa", plugin("aa", "depends=['zz']"))
    kehu_distributions.add("ab", plugin("ab", "after=['zz', 'aa']"))
    kehu_distributions.add("mm", plugin("mm", "after=['absent']"))  # an absent plugin orders nothing
    return kehu_distributions.discover()


def called(app):
    """The first kind each plugin's hook gave, in call order; the core's built-in kinds left out."""
    return [kinds[0] for kinds in app.hook.kehu_interaction_kinds() if kinds[0] not in CORE_KINDS]


def test_dependencies_and_after_run_first(kehu_app, kehu_install):
    kehu_install("zz", "aa", "ab", "mm")
    assert kehu_app.plugins.dependency_order() == ["zz", "aa", "ab", "mm"]
    assert called(kehu_app) == ["zz", "aa", "ab", "mm"]


def test_after_installs_nothing(kehu_app, kehu_install):
    assert kehu_install("ab") == ["ab"]
    assert called(kehu_app) == ["ab"]


def test_a_plugin_registered_later_still_runs_after_its_dependency(
    kehu_app, kehu_install, kehu_register_plugin
):
    class Late:
        @hookimpl
        def kehu_interaction_kinds(self):
            return ["late"]

    kehu_install("zz")
    kehu_register_plugin(Late(), "late", manifest=Manifest(depends=("zz",)))
    assert called(kehu_app) == ["zz", "late"]
