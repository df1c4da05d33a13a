"""``kehu hooks``: every spec with signature, doc and implementers, including plugins' own specs."""

from __future__ import annotations

import inspect

import pytest

from kehu_core import hookspecs
from kehu_core.hookdoc import signature_of

HEADER = "from kehu_core import Manifest, hookimpl\n"

MAKER_SPECS = '''"""Hook specs the maker plugin offers to other plugins."""
from __future__ import annotations

from collections.abc import Sequence

from kehu_core.hookspecs import hookspec


@hookspec
def kehu_maker_greetings(customer_ids: Sequence[int]) -> list[str]:
    """Greetings for these customers, one list per plugin.

    Parameters:
        customer_ids: the customers to greet.
    """
'''

MAKER = HEADER + 'MANIFEST = Manifest(hookspecs="kehu_maker.hookspecs")\n'


def greeter(name: str, greeting: str) -> str:
    """A plugin's source implementing maker's hook: it greets every customer with ``greeting``."""
    return (
        HEADER
        + f"""MANIFEST = Manifest(name="{name}", version="1.0")

@hookimpl
def kehu_maker_greetings(customer_ids):
    return [f"{greeting} {{i}}" for i in customer_ids]
"""
    )


# "early" sorts before "maker"; every manifest's specs are added before any plugin registers,
# so its implementation of maker's hook never counts as an unknown hook.
EARLY = greeter("early", "早上好")
USER = greeter("user", "hello")


@pytest.fixture
def kehu_plugins(kehu_distributions):
    kehu_distributions.add("maker", MAKER, files={"hookspecs.py": MAKER_SPECS})
    kehu_distributions.add("early", EARLY)
    kehu_distributions.add("user", USER)
    return kehu_distributions.discover()


def core_specs() -> dict[str, object]:
    return {
        name: fn
        for name, fn in vars(hookspecs).items()
        if name.startswith("kehu_") and callable(fn) and hasattr(fn, "kehu_spec")
    }


def test_hooks_json_matches_every_core_spec(kehu_cli):
    result = kehu_cli("hooks", "--json")
    assert result.exit_code == 0, result
    by_name = {h["name"]: h for h in result.json}
    specs = core_specs()
    assert len(specs) >= 12 and set(specs) <= set(by_name)
    for name, function in specs.items():
        entry = by_name[name]
        assert entry["signature"] == signature_of(function)
        assert entry["doc"] == inspect.cleandoc(function.__doc__) != ""
        assert entry["firstresult"] == bool(function.kehu_spec.get("firstresult"))
        assert entry["historic"] == bool(function.kehu_spec.get("historic"))
    assert "core" in by_name["kehu_profile_sections"]["implemented_by"]
    assert all(by_name[name]["signature"].startswith("(app: Kehu") for name in specs)


def test_plugin_specs_show_up_with_their_implementers(kehu_app, kehu_cli):
    assert all(info.error is None for info in kehu_app.plugins.infos.values()), kehu_app.plugins.errors
    entry = {h["name"]: h for h in kehu_cli("hooks", "--json").json}["kehu_maker_greetings"]
    assert entry["signature"] == "(customer_ids: Sequence[int]) -> list[str]"
    assert entry["doc"].startswith("Greetings for these customers")
    assert entry["implemented_by"] == ["early", "user"]

    text = kehu_cli("hooks", "kehu_maker_greetings")
    assert text.exit_code == 0
    assert "kehu_maker_greetings(customer_ids: Sequence[int]) -> list[str]" in text.output
    assert "implemented by: early, user" in text.output


def test_plugin_spec_is_called_on_installed_plugins_only(kehu_app, kehu_install):
    kehu_install("maker", "user")
    assert kehu_app.hook.kehu_maker_greetings(customer_ids=[1, 2]) == [["hello 1", "hello 2"]]
    kehu_install("early")
    assert sorted(kehu_app.hook.kehu_maker_greetings(customer_ids=[3])) == [["hello 3"], ["早上好 3"]]


def test_hooks_text_and_unknown_name(kehu_cli):
    text = kehu_cli("hooks")
    assert text.exit_code == 0
    assert (
        "kehu_customer_tiers(app: Kehu, session: Session, customer_ids: Sequence[int], method: str | None)"
        " -> Mapping[int, str] | None" in text.output
    )
    assert "(firstresult)" in text.output
    missing = kehu_cli("hooks", "kehu_nope")
    assert missing.exit_code == 2 and "no hook named 'kehu_nope'" in missing.output


def test_hooks_markdown_documents_plugin_specs_too(kehu_cli):
    result = kehu_cli("hooks", "--markdown")
    assert result.exit_code == 0
    section = result.stdout.split("### `kehu_maker_greetings`", 1)[1].split("### ", 1)[0]
    assert "def kehu_maker_greetings(customer_ids: Sequence[int]) -> list[str]" in section
    assert "- `customer_ids`: the customers to greet." in section
