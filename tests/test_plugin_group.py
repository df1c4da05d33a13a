"""PluginGroup: every command of a plugin, however deeply nested, checks the installation."""

from __future__ import annotations

import sys

import click

from kehu_core.cli.context import PluginGroup


def test_nested_groups_belong_to_the_plugin_whichever_was_built_first():
    inner = PluginGroup("inner")  # built before its parent joins the root
    deeper = PluginGroup("deeper")
    inner.add_command(deeper)
    middle = PluginGroup("middle")
    middle.add_command(inner)
    root = PluginGroup("root", plugin="shop")
    root.add_command(middle)
    late = middle.group("late")(lambda: None)  # added after the parent joined
    assert [g.plugin for g in (middle, inner, deeper, late)] == ["shop"] * 4


def test_an_explicit_plugin_name_is_kept():
    own = PluginGroup("own", plugin="other")
    PluginGroup("root", plugin="shop").add_command(own)
    assert own.plugin == "other"


def test_commands_are_guarded_and_groups_are_not():
    root = PluginGroup("root", plugin="shop")

    @root.command("do")
    def do() -> None:
        """Do."""

    assert root.commands["do"].callback is not do and isinstance(root, click.Group)


def test_a_lazy_command_loads_on_use_and_is_guarded_like_the_others(tmp_path, monkeypatch):
    (tmp_path / "lazy_shop_cli.py").write_text(
        "import click\n\n@click.command()\ndef hello():\n    'Say hello.'\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    root = PluginGroup("root", plugin="shop")
    root.add_lazy_command("hello", "lazy_shop_cli:hello", "Say hello.")
    assert "lazy_shop_cli" not in sys.modules and root.list_commands(click.Context(root)) == ["hello"]
    command = root.get_command(click.Context(root), "hello")
    assert "lazy_shop_cli" in sys.modules
    assert command is root.commands["hello"]
    assert command.callback.__wrapped__.__name__ == "hello"  # wrapped by the installation guard
    monkeypatch.delitem(sys.modules, "lazy_shop_cli")
